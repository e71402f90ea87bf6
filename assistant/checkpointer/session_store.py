"""The I/O engine behind both checkpointers: checkpoints and writes in Bedrock session steps.

One engine, written once with blocking boto3 calls (boto3 has no async API; upstream's async
saver also runs boto3 in an executor). The sync checkpointer calls it directly; the async one
runs each operation in an executor. Independent calls of one operation (the bodies and writes of
a history page) go out concurrently through the engine's own thread pool.

Calls per operation, steady state (``N`` = new writes steps of other processes, usually 0):

- ``put``: 1 (PutInvocationStep); +1 CreateInvocation the first time a namespace is seen.
- ``put_writes``: 2 on a checkpoint's first task (CreateInvocation + PutInvocationStep; the
  invocation is new, so known empty: no List), 1 for the next tasks of the same checkpoint.
- ``get_tuple`` latest: ListInvocationSteps(maxResults=1) on the checkpoint invocation (the
  service, never memory, says which checkpoint is the latest) then, concurrently, the body
  (0 calls when this process wrote or read it) and ListInvocationSteps of its writes (+N Gets).
- ``list``: 1 ListInvocationSteps per page, then the page's bodies and writes concurrently.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
)
from langgraph.checkpoint.serde.base import SerializerProtocol
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.models import SessionCheckpoint
from langgraph_checkpoint_aws.checkpoint.bedrock_sessions.utils import (
    generate_checkpoint_id,
    generate_write_id,
)

from assistant.checkpointer.cache import InvocationRegistry, StepCache, WritesLedger
from assistant.checkpointer.envelope import (
    RawWrite,
    WriteKey,
    add_task_writes,
    checkpoint_text,
    encode_checkpoint,
    merge_write_steps,
    metadata_matches,
    parse_step_texts,
    retarget_checkpoint,
    retarget_write,
    to_checkpoint_tuple,
    write_text,
)

T = TypeVar("T")

#: the service's largest page (MaxResults 1..1000)
MAX_PAGE = 1000
#: bodies fetched together while iterating a history with no limit (bounds wasted work when
#: the caller stops early, e.g. a UI showing the first screen of a long history)
UNBOUNDED_CHUNK = 50
#: below this limit a page lists the checkpoint invocation and each checkpoint's writes
#: (a few small concurrent calls) rather than the whole session (one call, all summaries)
SWEEP_MIN_LIMIT = 100


_in_pool = threading.local()


def _run_in_pool(call: Callable[[], T]) -> T:
    _in_pool.active = True
    return call()


def error_code(error: ClientError) -> str | None:
    """The AWS error code of a botocore ClientError (``ResourceNotFoundException``...)."""
    return error.response.get("Error", {}).get("Code")


class CheckpointSessionStore:
    """Reads and writes LangGraph checkpoints as Bedrock session steps, remembering what it can.

    Args:
        client: a boto3 ``bedrock-agent-runtime`` client.
        serde: the saver's serializer (values inside envelopes).
        slim_checkpoints: store the nested ``checkpoint`` without its channel values (upstream
            reads them from the separate ``channel_values`` field anyway).
        eager_writes_invocation: create a checkpoint's writes invocation concurrently with the
            checkpoint's put. Saves one round trip of wall time on the first ``put_writes`` of
            each checkpoint, costs one extra call for checkpoints that never get writes (the
            last of each run).
        max_workers: threads for concurrent reads (size the client's
            ``max_pool_connections`` to at least this).
        step_cache_size: bodies kept in the LRU step cache.
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
        self.slim_checkpoints = slim_checkpoints
        self.eager_writes_invocation = eager_writes_invocation
        self.steps = StepCache(step_cache_size)
        self.invocations = InvocationRegistry()
        self.writes_ledger = WritesLedger()
        self._max_workers = max_workers
        self._large_sessions: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------------ concurrency

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The engine's own thread pool (created on first use)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=self._max_workers, thread_name_prefix="bedrock-checkpointer"
            )
        return self._pool

    def _all(self, calls: Sequence[Callable[[], T]]) -> list[T]:
        """Run independent calls concurrently (inline when only one, or inside a pool thread).

        A pool thread never waits on the pool: with every worker waiting for queued subtasks
        the pool would deadlock, so nested fan-outs run inline in that thread.
        """
        if len(calls) <= 1 or getattr(_in_pool, "active", False):
            return [call() for call in calls]
        futures: list[Future[T]] = [self.pool.submit(_run_in_pool, call) for call in calls]
        return [future.result() for future in futures]

    def close(self) -> None:
        """Stop the thread pool (the checkpointer stays usable: a new pool starts on demand)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # ------------------------------------------------------------------ API primitives

    def ensure_invocation(self, session_id: str, invocation_id: str) -> bool:
        """Make sure the invocation exists; True when this call created it (so it is empty)."""
        if self.invocations.knows(session_id, invocation_id):
            return False
        try:
            self.client.create_invocation(sessionIdentifier=session_id, invocationId=invocation_id)
            created = True
        except ClientError as error:
            if error_code(error) != "ConflictException":
                raise
            created = False
        self.invocations.remember(session_id, invocation_id)
        return created

    def put_step(
        self,
        session_id: str,
        invocation_id: str,
        step_id: str | None,
        texts: Sequence[str],
        *,
        step_time: datetime.datetime | None = None,
    ) -> str:
        """Store a step of text blocks; return its id. The body goes to the cache."""
        request: dict[str, Any] = {
            "sessionIdentifier": session_id,
            "invocationIdentifier": invocation_id,
            "invocationStepTime": step_time or datetime.datetime.now(datetime.UTC),
            "payload": {"contentBlocks": [{"text": text} for text in texts]},
        }
        if step_id is not None:
            request["invocationStepId"] = step_id
        stored_id = self.client.put_invocation_step(**request)["invocationStepId"]
        self.steps.put((session_id, invocation_id, stored_id), tuple(texts))
        return stored_id

    def step_texts(self, session_id: str, invocation_id: str, step_id: str) -> tuple[str, ...]:
        """Text blocks of a step, from the cache or GetInvocationStep; () when it is absent."""
        key = (session_id, invocation_id, step_id)
        cached = self.steps.get(key)
        if cached is not None:
            return cached
        try:
            step = self.client.get_invocation_step(
                sessionIdentifier=session_id,
                invocationIdentifier=invocation_id,
                invocationStepId=step_id,
            )["invocationStep"]
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return ()
            raise
        texts = tuple(
            block["text"] for block in step["payload"].get("contentBlocks", []) if "text" in block
        )
        self.steps.put(key, texts)
        return texts

    def list_steps(
        self,
        session_id: str,
        invocation_id: str | None,
        *,
        max_results: int = MAX_PAGE,
        next_token: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of step summaries, newest first; ([], None) for a missing session."""
        request: dict[str, Any] = {"sessionIdentifier": session_id, "maxResults": max_results}
        if invocation_id is not None:
            request["invocationIdentifier"] = invocation_id
        if next_token:
            request["nextToken"] = next_token
        try:
            response = self.client.list_invocation_steps(**request)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return [], None
            raise
        summaries = response.get("invocationStepSummaries", [])
        # a listed step proves its invocation exists: no CreateInvocation needed later
        for summary in summaries:
            self.invocations.remember(session_id, summary["invocationId"])
        return summaries, response.get("nextToken")

    def all_step_summaries(
        self, session_id: str, invocation_id: str | None
    ) -> list[dict[str, Any]]:
        """Every step summary of an invocation (or of the session), newest first."""
        summaries: list[dict[str, Any]] = []
        next_token: str | None = None
        while True:
            page, next_token = self.list_steps(session_id, invocation_id, next_token=next_token)
            summaries.extend(page)
            if not next_token:
                return summaries

    # ------------------------------------------------------------------ writes

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
            summaries = self.all_step_summaries(session_id, invocation_id)
        bodies = self._all(
            [
                (lambda s=s: self.step_texts(session_id, invocation_id, s["invocationStepId"]))
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

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Store a task's writes as a new *cumulative* step of the checkpoint's writes.

        The step holds every write known for the checkpoint, so upstream's reader (newest
        step only) sees sibling tasks too.
        """
        configurable = config["configurable"]
        session_id = configurable["thread_id"]
        checkpoint_ns = configurable.get("checkpoint_ns", "")
        checkpoint_id = configurable["checkpoint_id"]
        invocation_id = generate_write_id(checkpoint_ns, checkpoint_id)
        with self.writes_ledger.lock_for(session_id, invocation_id):
            known = self.writes_ledger.get(session_id, invocation_id)
            if known is None:
                if self.ensure_invocation(session_id, invocation_id):
                    known = {}  # created just now: empty, no need to list it
                else:
                    known = self.read_writes(session_id, checkpoint_ns, checkpoint_id)
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
                self.put_step(
                    session_id, invocation_id, None, [write_text(w) for w in merged.values()]
                )
            self.writes_ledger.put(session_id, invocation_id, merged)

    # ------------------------------------------------------------------ checkpoints

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Store a checkpoint step (with its parent id) and return its config."""
        envelope = encode_checkpoint(
            checkpoint, config, metadata, new_versions, self.serde, slim=self.slim_checkpoints
        )
        session_id = envelope.thread_id
        invocation_id = generate_checkpoint_id(envelope.checkpoint_ns)

        def store_checkpoint() -> None:
            self.ensure_invocation(session_id, invocation_id)
            self.put_step(
                session_id, invocation_id, envelope.checkpoint_id, [checkpoint_text(envelope)]
            )

        calls: list[Callable[[], Any]] = [store_checkpoint]
        if self.eager_writes_invocation:
            writes_id = generate_write_id(envelope.checkpoint_ns, envelope.checkpoint_id)

            def prepare_writes() -> None:
                with self.writes_ledger.lock_for(session_id, writes_id):
                    if self.ensure_invocation(session_id, writes_id):
                        self.writes_ledger.put(session_id, writes_id, {})

            calls.append(prepare_writes)
        self._all(calls)
        return {
            "configurable": {
                "thread_id": session_id,
                "checkpoint_ns": envelope.checkpoint_ns,
                "checkpoint_id": envelope.checkpoint_id,
            }
        }

    def _envelope(
        self, session_id: str, invocation_id: str, checkpoint_id: str
    ) -> SessionCheckpoint | None:
        parsed = parse_step_texts(self.step_texts(session_id, invocation_id, checkpoint_id))
        return parsed if isinstance(parsed, SessionCheckpoint) else None

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint named by ``config`` (or the latest of its namespace) with its writes."""
        configurable = config.get("configurable", {})
        session_id = configurable["thread_id"]
        checkpoint_ns = configurable.get("checkpoint_ns", "")
        invocation_id = generate_checkpoint_id(checkpoint_ns)
        checkpoint_id = get_checkpoint_id(config)
        if checkpoint_id is None:
            # always ask the service: another process may have written a newer checkpoint
            summaries, _ = self.list_steps(session_id, invocation_id, max_results=1)
            if not summaries:
                return None
            checkpoint_id = summaries[0]["invocationStepId"]
        envelope, writes = self._all(
            [
                lambda: self._envelope(session_id, invocation_id, checkpoint_id),
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
            sweep, token = self.list_steps(session_id, None, max_results=MAX_PAGE)
            if not token:
                yield from self._list_from_sweep(
                    session_id, checkpoint_ns, invocation_id, sweep, filter, before_id, limit
                )
                return
            self._large_sessions.add(session_id)  # sessions only grow: go straight on next time
        remaining = limit
        next_token: str | None = None
        while True:
            summaries, next_token = self.list_steps(
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
            self._all(
                [
                    (lambda inv=inv, step=step: self.step_texts(session_id, inv, step))
                    for inv, step in wanted
                ]
            )
            for checkpoint_id in chunk:  # every body is cached now: no further call
                envelope = self._envelope(session_id, invocation_id, checkpoint_id)
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
        bodies = self._all(
            [
                (lambda s=s: self._envelope(session_id, s["invocationId"], s["invocationStepId"]))
                for s in summaries
            ]
        )
        matching = [b for b in bodies if b is not None and metadata_matches(b, filter)]
        writes = self._all(
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
            calls.append(lambda step_id=step_id: self._envelope(session_id, invocation_id, step_id))
            calls.append(
                lambda step_id=step_id: self.read_writes(session_id, checkpoint_ns, step_id)
            )
        results = self._all(calls)
        tuples = []
        for body, writes in zip(results[0::2], results[1::2], strict=True):
            if body is not None:
                tuples.append(to_checkpoint_tuple(session_id, body, writes.values(), self.serde))
        return tuples

    # ------------------------------------------------------------------ threads

    def delete_thread(self, thread_id: str) -> None:
        """End then delete the session; a missing or already ended session is fine."""
        try:
            self.client.end_session(sessionIdentifier=thread_id)
        except ClientError as error:
            code = error_code(error)
            if code == "ResourceNotFoundException":
                self._forget(thread_id)
                return
            # ending an ENDED session: AWS does not document the code (reference §3.1)
            if code not in ("ConflictException", "ValidationException"):
                raise
        try:
            self.client.delete_session(sessionIdentifier=thread_id)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
        self._forget(thread_id)

    def _forget(self, session_id: str) -> None:
        self._large_sessions.discard(session_id)
        self.steps.forget_session(session_id)
        self.invocations.forget_session(session_id)
        self.writes_ledger.forget_session(session_id)

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and writes step of a session into another, existing session.

        Same invocation ids, same checkpoint ids, same step times, oldest first, so that the
        target lists exactly like the source; ``thread_id`` inside envelopes is rewritten.
        Steps that are not checkpoint envelopes (other software's) are not copied. A missing
        source copies nothing.
        """
        summaries = list(reversed(self.all_step_summaries(source_thread_id, None)))
        bodies = self._all(
            [
                (
                    lambda s=s: self.step_texts(
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
        self._all(
            [
                (lambda inv=inv: self.ensure_invocation(target_thread_id, inv))
                for inv in dict.fromkeys(s["invocationId"] for s, _, _ in plan)
            ]
        )
        # one at a time, in order: the service lists newest first by insertion
        for summary, texts, is_checkpoint in plan:
            self.put_step(
                target_thread_id,
                summary["invocationId"],
                summary["invocationStepId"] if is_checkpoint else None,
                texts,
                step_time=summary.get("invocationStepTime"),
            )
