"""`CheckpointSessionStore`: the one engine behind both checkpointers.

Written once with blocking boto3 calls (boto3 has no async API; upstream's async saver also
runs boto3 in an executor). The sync checkpointer calls it directly; the async one runs each
operation in an executor. Inside one operation, independent calls go out concurrently through
the store's ``FanOut``.

The store assembles its parts and does what spans them, the thread operations:

- ``SessionApi`` (``session_api``): every boto3 call, with the step body cache; every write
  safe to retry;
- ``CheckpointReader`` (``checkpoint_reader``): ``get_tuple`` and the lazy ``list``;
- ``CheckpointWriter`` (``checkpoint_writer``): ``put`` and cumulative ``put_writes``;
- ``delete_thread`` and ``copy_thread``, here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.models import SessionCheckpoint

from langgraph_checkpoint_bedrock_sessions.checkpoint_reader import CheckpointReader
from langgraph_checkpoint_bedrock_sessions.checkpoint_writer import CheckpointWriter
from langgraph_checkpoint_bedrock_sessions.envelope import (
    checkpoint_text,
    parse_step_texts,
    retarget_checkpoint,
    retarget_write,
    write_text,
)
from langgraph_checkpoint_bedrock_sessions.fan_out import FanOut
from langgraph_checkpoint_bedrock_sessions.session_api import SessionApi


class CheckpointSessionStore:
    """Reads and writes LangGraph checkpoints as Bedrock session steps, remembering what it can.

    Args:
        client: a boto3 ``bedrock-agent-runtime`` client.
        serde: the saver's serializer (values inside envelopes).
        slim_checkpoints: store the nested ``checkpoint`` without its channel values (upstream
            reads them from the separate ``channel_values`` field anyway).
        eager_writes_invocation: create a checkpoint's writes invocation concurrently with the
            checkpoint's put (see ``CheckpointWriter``).
        max_workers: threads for concurrent reads (size the client's
            ``max_pool_connections`` to at least this).
        step_cache_size: bodies kept in the LRU step cache.

    Example (``client`` is a boto3 ``bedrock-agent-runtime`` client)::

        from langgraph.checkpoint.base import empty_checkpoint
        from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

        store = CheckpointSessionStore(client, JsonPlusSerializer())
        thread = {"configurable": {"thread_id": client.create_session()["sessionId"]}}
        stored = store.put(thread, empty_checkpoint(), {}, {})
        store.get_tuple(thread).config == stored  # True
        store.delete_thread(thread["configurable"]["thread_id"])
    """

    def __init__(
        self,
        client: Any,
        serde: SerializerProtocol,
        *,
        slim_checkpoints: bool = True,
        eager_writes_invocation: bool = False,
        max_workers: int = 32,
        step_cache_size: int = 4096,
    ) -> None:
        self.client = client
        self.serde = serde
        self.api = SessionApi(client, step_cache_size=step_cache_size)
        self.fan_out = FanOut(max_workers)
        self.reader = CheckpointReader(self.api, self.fan_out, serde)
        self.writer = CheckpointWriter(
            self.api,
            self.fan_out,
            self.reader,
            serde,
            slim_checkpoints=slim_checkpoints,
            eager_writes_invocation=eager_writes_invocation,
        )

    # ------------------------------------------------------------------ checkpoints

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint step (with its parent id) and return its config."""
        return self.writer.put(config, checkpoint, metadata, new_versions)

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes without losing the writes of other tasks."""
        self.writer.put_writes(config, writes, task_id, task_path)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint named by ``config`` (or the latest of its namespace) with its writes."""
        return self.reader.get_tuple(config)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints of a thread, newest first, fetched lazily (see ``CheckpointReader``)."""
        return self.reader.list(config, filter=filter, before=before, limit=limit)

    # ------------------------------------------------------------------ threads

    def delete_thread(self, thread_id: str) -> None:
        """End then delete the session; a missing or already ended session is fine.

        Raises:
            botocore.exceptions.ClientError: any other error of EndSession or DeleteSession.
        """
        self.api.end_and_delete_session(thread_id)
        self.reader.forget_session(thread_id)
        self.writer.forget_session(thread_id)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and writes step of a session into another, existing session.

        Same invocation ids, same checkpoint ids, same step times, oldest first, so that the
        target lists exactly like the source; ``thread_id`` inside envelopes is rewritten.
        Steps that are not checkpoint envelopes (other software's) are not copied. A missing
        source copies nothing.

        Raises:
            botocore.exceptions.ClientError: the target session does not exist, or another
                refusal of the service.
        """
        api = self.api
        summaries = list(reversed(api.all_step_summaries(source_thread_id, None)))
        bodies = self.fan_out.run(
            [
                (
                    lambda s=s: api.step_texts(
                        source_thread_id, s["invocationId"], s["invocationStepId"]
                    )
                )
                for s in summaries
            ]
        )
        plan: list[tuple[dict[str, Any], list[str], bool]] = []
        for summary, texts in zip(summaries, bodies, strict=True):
            parsed = parse_step_texts(texts)
            if isinstance(parsed, SessionCheckpoint):
                texts = [checkpoint_text(retarget_checkpoint(parsed, target_thread_id))]
                plan.append((summary, texts, True))
            elif isinstance(parsed, list):
                texts = [write_text(retarget_write(w, target_thread_id)) for w in parsed]
                plan.append((summary, texts, False))
        self.fan_out.run(
            [
                (lambda inv=inv: api.ensure_invocation(target_thread_id, inv))
                for inv in dict.fromkeys(s["invocationId"] for s, _, _ in plan)
            ]
        )
        # one at a time, in order: the service lists newest first by insertion
        for summary, texts, is_checkpoint in plan:
            api.put_step(
                target_thread_id,
                summary["invocationId"],
                summary["invocationStepId"] if is_checkpoint else None,
                texts,
                step_time=summary.get("invocationStepTime"),
            )

    def close(self) -> None:
        """Stop the thread pool (the store stays usable: a new pool starts on demand)."""
        self.fan_out.close()
