"""`CheckpointWriter`: checkpoints (with their parent) and pending writes stored as steps.

Calls per write, steady state:

- ``put``: 1 (PutInvocationStep); +1 CreateInvocation the first time a namespace is seen.
- ``put_writes``: 2 on a checkpoint's first task (CreateInvocation + PutInvocationStep; the
  invocation is new, so known empty: no List), 1 for the next tasks of the same checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.utils import (
    generate_checkpoint_id,
    generate_write_id,
)

from langgraph_checkpoint_bedrock_sessions.cache import WritesLedger
from langgraph_checkpoint_bedrock_sessions.checkpoint_reader import CheckpointReader
from langgraph_checkpoint_bedrock_sessions.envelope import (
    add_task_writes,
    checkpoint_text,
    encode_checkpoint,
    write_text,
)
from langgraph_checkpoint_bedrock_sessions.fan_out import FanOut
from langgraph_checkpoint_bedrock_sessions.session_api import SessionApi


class CheckpointWriter:
    """Writes LangGraph checkpoints and pending writes as Bedrock session steps.

    Args:
        api: the session API calls (and their caches) to write through.
        fan_out: runs the independent calls of one write concurrently.
        reader: reads the writes already stored when this process does not know them all.
        serde: the saver's serializer (values inside envelopes).
        slim_checkpoints: store the nested ``checkpoint`` without its channel values (upstream
            reads them from the separate ``channel_values`` field anyway).
        eager_writes_invocation: create a checkpoint's writes invocation concurrently with the
            checkpoint's put. Saves one round trip of wall time on the first ``put_writes`` of
            each checkpoint, costs one extra call for checkpoints that never get writes (the
            last of each run).

    Example (``client`` is a boto3 ``bedrock-agent-runtime`` client)::

        from langgraph.checkpoint.base import empty_checkpoint
        from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

        api, fan_out, serde = SessionApi(client), FanOut(), JsonPlusSerializer()
        writer = CheckpointWriter(api, fan_out, CheckpointReader(api, fan_out, serde), serde)
        thread = {"configurable": {"thread_id": client.create_session()["sessionId"]}}
        stored = writer.put(thread, empty_checkpoint(), {}, {})  # config of the checkpoint
        writer.put_writes(stored, [("messages", "hi")], task_id="task-1")
    """

    def __init__(
        self,
        api: SessionApi,
        fan_out: FanOut,
        reader: CheckpointReader,
        serde: SerializerProtocol,
        *,
        slim_checkpoints: bool = True,
        eager_writes_invocation: bool = False,
    ) -> None:
        self.api = api
        self.fan_out = fan_out
        self.reader = reader
        self.serde = serde
        self.slim_checkpoints = slim_checkpoints
        self.eager_writes_invocation = eager_writes_invocation
        self.writes_ledger = WritesLedger()

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint step (with its parent id) and return its config.

        The parent is the checkpoint named by ``config`` (LangGraph passes the previous one).

        Raises:
            botocore.exceptions.ClientError: the service refused a call (missing session...).
        """
        envelope = encode_checkpoint(
            checkpoint, config, metadata, new_versions, self.serde, slim=self.slim_checkpoints
        )
        session_id = envelope.thread_id
        invocation_id = generate_checkpoint_id(envelope.checkpoint_ns)

        def store_checkpoint() -> None:
            self.api.ensure_invocation(session_id, invocation_id)
            self.api.put_step(
                session_id, invocation_id, envelope.checkpoint_id, [checkpoint_text(envelope)]
            )

        calls: list[Callable[[], Any]] = [store_checkpoint]
        if self.eager_writes_invocation:
            writes_id = generate_write_id(envelope.checkpoint_ns, envelope.checkpoint_id)

            def prepare_writes() -> None:
                with self.writes_ledger.lock_for(session_id, writes_id):
                    if self.api.ensure_invocation(session_id, writes_id):
                        self.writes_ledger.put(session_id, writes_id, {})

            calls.append(prepare_writes)
        self.fan_out.run(calls)
        return {
            "configurable": {
                "thread_id": session_id,
                "checkpoint_ns": envelope.checkpoint_ns,
                "checkpoint_id": envelope.checkpoint_id,
            }
        }

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes as a new *cumulative* step of the checkpoint's writes.

        The step holds every write known for the checkpoint, so upstream's reader (newest
        step only) sees sibling tasks too. Nothing is stored when every write is already there
        (a retry). Tasks of one checkpoint write one after the other in this process.

        Raises:
            botocore.exceptions.ClientError: the service refused a call (missing session...).
        """
        configurable = config["configurable"]
        session_id = configurable["thread_id"]
        checkpoint_ns = configurable.get("checkpoint_ns", "")
        checkpoint_id = configurable["checkpoint_id"]
        invocation_id = generate_write_id(checkpoint_ns, checkpoint_id)
        with self.writes_ledger.lock_for(session_id, invocation_id):
            known = self.writes_ledger.get(session_id, invocation_id)
            if known is None:
                if self.api.ensure_invocation(session_id, invocation_id):
                    known = {}  # created just now: empty, no need to list it
                else:
                    known = self.reader.read_writes(session_id, checkpoint_ns, checkpoint_id)
            merged, changed = add_task_writes(
                known,
                writes,
                task_id=task_id,
                task_path=task_path,
                thread_id=session_id,
                checkpoint_ns=checkpoint_ns,
                checkpoint_id=checkpoint_id,
                serde=self.serde,
            )
            if changed:
                self.api.put_step(
                    session_id, invocation_id, None, [write_text(w) for w in merged.values()]
                )
            self.writes_ledger.put(session_id, invocation_id, merged)

    def forget_session(self, session_id: str) -> None:
        """Forget the writes this writer holds for a deleted session."""
        self.writes_ledger.forget_session(session_id)
