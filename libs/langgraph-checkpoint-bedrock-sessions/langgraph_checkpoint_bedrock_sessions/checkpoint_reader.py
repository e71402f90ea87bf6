"""`CheckpointReader`: checkpoints and their writes read back from Bedrock session steps.

Calls per read, steady state (``N`` = new writes steps of other processes, usually 0):

- ``get_tuple`` latest: ListInvocationSteps(maxResults=1) on the checkpoint invocation (the
  service, never memory, says which checkpoint is the latest) then, concurrently, the body
  (0 calls when this process wrote or read it) and ListInvocationSteps of its writes (+N Gets).
- ``list``: 1 ListInvocationSteps per page, then the page's bodies and writes concurrently; a
  long read of a session of up to 1000 steps lists the whole session once instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple, get_checkpoint_id
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.models import SessionCheckpoint
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.utils import (
    generate_checkpoint_id,
    generate_write_id,
)

from langgraph_checkpoint_bedrock_sessions.envelope import (
    RawWrite,
    WriteKey,
    merge_write_steps,
    metadata_matches,
    parse_step_texts,
    to_checkpoint_tuple,
)
from langgraph_checkpoint_bedrock_sessions.fan_out import FanOut
from langgraph_checkpoint_bedrock_sessions.session_api import MAX_PAGE, SessionApi

#: bodies fetched together while iterating a history with no limit (bounds wasted work when
#: the caller stops early, e.g. a UI showing the first screen of a long history)
UNBOUNDED_CHUNK = 50
#: below this limit a page lists the checkpoint invocation and each checkpoint's writes
#: (a few small concurrent calls) rather than the whole session (one call, all summaries)
SWEEP_MIN_LIMIT = 100


class CheckpointReader:
    """Reads LangGraph checkpoints, with every pending write, from Bedrock session steps.

    Args:
        api: the session API calls (and their caches) to read through.
        fan_out: runs the independent calls of one read concurrently.
        serde: the saver's serializer (values inside envelopes).

    Example (``client`` is a boto3 ``bedrock-agent-runtime`` client, ``session_id`` a
    thread written by a checkpointer)::

        from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

        reader = CheckpointReader(SessionApi(client), FanOut(), JsonPlusSerializer())
        thread = {"configurable": {"thread_id": session_id}}
        latest = reader.get_tuple(thread)  # None for a thread with no checkpoint
        first_page = list(reader.list(thread, limit=20))  # newest first
    """

    def __init__(self, api: SessionApi, fan_out: FanOut, serde: SerializerProtocol) -> None:
        self.api = api
        self.fan_out = fan_out
        self.serde = serde
        # sessions seen with more than MAX_PAGE steps: a session-wide listing cannot hold them
        self._large_sessions: set[str] = set()

    def envelope(
        self, session_id: str, invocation_id: str, checkpoint_id: str
    ) -> SessionCheckpoint | None:
        """The checkpoint envelope stored in a step; None when absent or not a checkpoint."""
        parsed = parse_step_texts(self.api.step_texts(session_id, invocation_id, checkpoint_id))
        return parsed if isinstance(parsed, SessionCheckpoint) else None

    def read_writes(
        self,
        session_id: str,
        checkpoint_ns: str,
        checkpoint_id: str,
        summaries: Sequence[dict[str, Any]] | None = None,
    ) -> dict[WriteKey, RawWrite]:
        """Every pending write of a checkpoint: all its writes steps merged, newest wins.

        One ListInvocationSteps (none when the caller already listed the steps);
        GetInvocationStep only for steps this process has not seen.
        """
        invocation_id = generate_write_id(checkpoint_ns, checkpoint_id)
        if summaries is None:
            summaries = self.api.all_step_summaries(session_id, invocation_id)
        bodies = self.fan_out.run(
            [
                (lambda s=s: self.api.step_texts(session_id, invocation_id, s["invocationStepId"]))
                for s in summaries
            ]
        )
        return self._merge_bodies(bodies)

    @staticmethod
    def _merge_bodies(bodies_newest_first: Sequence[Sequence[str]]) -> dict[WriteKey, RawWrite]:
        steps = []
        for texts in reversed(bodies_newest_first):
            parsed = parse_step_texts(texts)
            if isinstance(parsed, list):
                steps.append(parsed)
        return merge_write_steps(steps)

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint named by ``config`` (or the latest of its namespace) with its writes.

        None when the thread, or the named checkpoint, does not exist.
        """
        configurable = config.get("configurable", {})
        session_id = configurable["thread_id"]
        checkpoint_ns = configurable.get("checkpoint_ns", "")
        invocation_id = generate_checkpoint_id(checkpoint_ns)
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id is None:
            # always ask the service: another process may have written a newer checkpoint
            summaries, _ = self.api.list_steps(session_id, invocation_id, max_results=1)
            if not summaries:
                return None
            checkpoint_id = summaries[0]["invocationStepId"]
        envelope, writes = self.fan_out.run(
            [
                lambda: self.envelope(session_id, invocation_id, checkpoint_id),
                lambda: self.read_writes(session_id, checkpoint_ns, checkpoint_id),
            ]
        )
        if envelope is None:
            return None
        return to_checkpoint_tuple(session_id, envelope, writes.values(), self.serde)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints of a thread, newest first, fetched page by page as the caller iterates.

        ``before`` skips ids >= the given checkpoint id on the summaries alone (uuid6 ids sort
        by time), ``filter`` matches metadata, ``limit`` stops the listing. Without
        ``checkpoint_ns`` in the config every namespace is listed (each step's body says what
        it is). ``config=None`` (search across threads) yields nothing, as upstream: the API
        cannot search sessions.
        """
        if config is None or (limit is not None and limit <= 0):
            return
        configurable = config.get("configurable", {})
        session_id = configurable["thread_id"]
        checkpoint_ns = configurable.get("checkpoint_ns")
        invocation_id = None if checkpoint_ns is None else generate_checkpoint_id(checkpoint_ns)
        before_id = get_checkpoint_id(before) if before else None
        # a page as large as the answer needs: limit when nothing can be skipped
        page_size = MAX_PAGE
        if limit is not None and not filter and before_id is None and invocation_id:
            page_size = min(limit, MAX_PAGE)
        sweep_pays = limit is None or limit > SWEEP_MIN_LIMIT
        if invocation_id is not None and sweep_pays and session_id not in self._large_sessions:
            # one session-wide listing holds every checkpoint AND every writes step of a
            # session of up to 1000 steps: no per-checkpoint writes listing at all. Parsing
            # up to 1000 summaries costs time, so a short page lists its checkpoints directly
            sweep, token = self.api.list_steps(session_id, None, max_results=MAX_PAGE)
            if not token:
                yield from self._list_from_sweep(
                    session_id, checkpoint_ns, invocation_id, sweep, filter, before_id, limit
                )
                return
            self._large_sessions.add(session_id)  # sessions only grow: go straight on next time
        remaining = limit
        next_token: str | None = None
        while True:
            summaries, next_token = self.api.list_steps(
                session_id, invocation_id, max_results=page_size, next_token=next_token
            )
            candidates = [
                s for s in summaries if before_id is None or s["invocationStepId"] < before_id
            ]
            while candidates:
                # exactly what is still needed, unless a filter may reject some
                size = UNBOUNDED_CHUNK if remaining is None or filter else remaining
                chunk, candidates = candidates[:size], candidates[size:]
                for item in self._load_page(session_id, chunk, checkpoint_ns, filter):
                    yield item
                    if remaining is not None:
                        remaining -= 1
                        if remaining <= 0:
                            return
            if not next_token:
                return

    def forget_session(self, session_id: str) -> None:
        """Forget what this reader learnt about a deleted session."""
        self._large_sessions.discard(session_id)

    def _list_from_sweep(
        self,
        session_id: str,
        checkpoint_ns: str,
        invocation_id: str,
        sweep: Sequence[dict[str, Any]],
        filter: dict[str, Any] | None,
        before_id: str | None,
        limit: int | None,
    ) -> Iterator[CheckpointTuple]:
        """``list`` served from a complete listing of the session's steps.

        Checkpoints keep the service's order (newest first); each checkpoint's writes steps
        are found by their invocation id, whatever their position. Bodies are fetched a chunk
        at a time, all of a chunk's Gets in one concurrent round.
        """
        by_invocation: dict[str, list[dict[str, Any]]] = {}
        for summary in sweep:
            by_invocation.setdefault(summary["invocationId"], []).append(summary)
        checkpoints = [
            s["invocationStepId"]
            for s in by_invocation.get(invocation_id, [])
            if before_id is None or s["invocationStepId"] < before_id
        ]
        remaining = limit
        while checkpoints:
            size = UNBOUNDED_CHUNK if remaining is None or filter else remaining
            chunk, checkpoints = checkpoints[:size], checkpoints[size:]
            wanted = [(invocation_id, checkpoint_id) for checkpoint_id in chunk]
            writes_steps = {}
            for checkpoint_id in chunk:
                writes_id = generate_write_id(checkpoint_ns, checkpoint_id)
                writes_steps[checkpoint_id] = by_invocation.get(writes_id, [])
                wanted += [(writes_id, w["invocationStepId"]) for w in writes_steps[checkpoint_id]]
            self.fan_out.run(
                [
                    (lambda inv=inv, step=step: self.api.step_texts(session_id, inv, step))
                    for inv, step in wanted
                ]
            )
            for checkpoint_id in chunk:  # every body is cached now: no further call
                envelope = self.envelope(session_id, invocation_id, checkpoint_id)
                if envelope is None or not metadata_matches(envelope, filter):
                    continue
                writes = self.read_writes(
                    session_id, checkpoint_ns, checkpoint_id, writes_steps[checkpoint_id]
                )
                yield to_checkpoint_tuple(session_id, envelope, writes.values(), self.serde)
                if remaining is not None:
                    remaining -= 1
                    if remaining <= 0:
                        return

    def _load_page(
        self,
        session_id: str,
        summaries: Sequence[dict[str, Any]],
        checkpoint_ns: str | None,
        filter: dict[str, Any] | None,
    ) -> list[CheckpointTuple]:
        """Bodies and writes of a page of checkpoint steps, fetched concurrently.

        With a known namespace and no filter, bodies and writes lists go out in the same
        round (the writes invocation id only needs the namespace and the step id). Otherwise
        the bodies come first: they say what each step is and whether it matches.
        """
        if not summaries:
            return []
        if checkpoint_ns is not None and not filter:
            return self._load_with_writes(session_id, summaries, checkpoint_ns)
        bodies = self.fan_out.run(
            [
                (lambda s=s: self.envelope(session_id, s["invocationId"], s["invocationStepId"]))
                for s in summaries
            ]
        )
        matching = [b for b in bodies if b is not None and metadata_matches(b, filter)]
        writes = self.fan_out.run(
            [
                (lambda b=b: self.read_writes(session_id, b.checkpoint_ns, b.checkpoint_id))
                for b in matching
            ]
        )
        return [
            to_checkpoint_tuple(session_id, body, w.values(), self.serde)
            for body, w in zip(matching, writes, strict=True)
        ]

    def _load_with_writes(
        self, session_id: str, summaries: Sequence[dict[str, Any]], checkpoint_ns: str
    ) -> list[CheckpointTuple]:
        invocation_id = summaries[0]["invocationId"]
        calls: list[Callable[[], Any]] = []
        for s in summaries:
            step_id = s["invocationStepId"]
            calls.append(lambda step_id=step_id: self.envelope(session_id, invocation_id, step_id))
            calls.append(
                lambda step_id=step_id: self.read_writes(session_id, checkpoint_ns, step_id)
            )
        results = self.fan_out.run(calls)
        tuples = []
        for body, writes in zip(results[0::2], results[1::2], strict=True):
            if body is not None:
                tuples.append(to_checkpoint_tuple(session_id, body, writes.values(), self.serde))
        return tuples
