"""What one process remembers about Bedrock sessions, so it never asks twice.

Shared by the sync and the async checkpointer; thread-safe (LangGraph calls ``put_writes`` of
parallel tasks from several threads at once).

- ``StepCache``: bodies of invocation steps, keyed by (session, invocation, step id). A step is
  immutable once stored (the API has no update or delete of a step), so a cached body is never
  stale; only the session can disappear (``delete_thread`` forgets it). Bounded LRU.
- ``InvocationRegistry``: invocations known to exist, so ``CreateInvocation`` (a 409 on every
  call after the first with upstream) is sent once per invocation and process.
- ``WritesLedger``: for writes invocations this process created, the full set of writes it has
  stored there; a new writes invocation is known empty, so the first ``put_writes`` needs no
  ``ListInvocationSteps``. Bounded LRU as well.

"Which checkpoint is the latest" is never answered from here: another process may have written.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from langgraph_checkpoint_bedrock_sessions.envelope import RawWrite, WriteKey

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: (session id or ARN as given by the thread_id, invocation id, step id)
StepKey = tuple[str, str, str]


class _LruMap(Generic[K, V]):
    """A small thread-safe LRU map; the oldest entry goes when ``max_entries`` is passed."""

    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.max_entries = max_entries
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """Return the value for ``key`` (and mark it recently used), or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        """Store ``value`` under ``key``, evicting the least recently used entries."""
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def forget_session(self, session_id: str) -> None:
        """Drop every entry whose key starts with ``session_id``."""
        with self._lock:
            for key in [k for k in self._items if k[0] == session_id]:  # type: ignore[index]
                del self._items[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class StepCache(_LruMap[StepKey, tuple[str, ...]]):
    """Read-through cache of step bodies (the text blocks), immutable by API design.

    Example::

        cache = StepCache(max_entries=2)
        cache.put(("session", "invocation", "step"), ("text block",))
        cache.get(("session", "invocation", "step"))  # ("text block",)
        cache.forget_session("session")  # after delete_thread
    """

    def __init__(self, max_entries: int = 4096) -> None:
        super().__init__(max_entries)


class InvocationRegistry:
    """Invocations known to exist, per session (learned from creates, conflicts and lists).

    Example::

        known = InvocationRegistry()
        known.remember("session", "invocation")
        known.knows("session", "invocation")  # True: no CreateInvocation needed
    """

    def __init__(self, max_entries: int = 65536) -> None:
        self._known: _LruMap[tuple[str, str], bool] = _LruMap(max_entries)

    def knows(self, session_id: str, invocation_id: str) -> bool:
        """True when the invocation is known to exist."""
        return self._known.get((session_id, invocation_id)) is not None

    def remember(self, session_id: str, invocation_id: str) -> None:
        """Record that the invocation exists."""
        self._known.put((session_id, invocation_id), True)

    def forget_session(self, session_id: str) -> None:
        """Forget every invocation of a deleted session."""
        self._known.forget_session(session_id)


class WritesLedger:
    """Complete write sets of writes invocations this process created (and so fully knows).

    Also hands out one lock per writes invocation: two tasks writing to the same checkpoint
    must build their cumulative steps one after the other, or one would miss the other.

    Example::

        ledger = WritesLedger()
        with ledger.lock_for("session", "writes-invocation"):
            known = ledger.get("session", "writes-invocation") or {}  # None: not fully known
            ledger.put("session", "writes-invocation", known)
    """

    _STRIPES = 64

    def __init__(self, max_entries: int = 4096) -> None:
        self._writes: _LruMap[tuple[str, str], dict[WriteKey, RawWrite]] = _LruMap(max_entries)
        # striped locks: bounded memory, and two invocations rarely share a stripe
        self._locks = [threading.Lock() for _ in range(self._STRIPES)]

    def lock_for(self, session_id: str, invocation_id: str) -> threading.Lock:
        """The lock that serialises writers of one writes invocation in this process."""
        return self._locks[hash((session_id, invocation_id)) % self._STRIPES]

    def get(self, session_id: str, invocation_id: str) -> dict[WriteKey, RawWrite] | None:
        """The writes stored so far, when this process holds the complete set; else None."""
        return self._writes.get((session_id, invocation_id))

    def put(self, session_id: str, invocation_id: str, writes: dict[WriteKey, RawWrite]) -> None:
        """Record the complete set of writes now stored in the invocation."""
        self._writes.put((session_id, invocation_id), writes)

    def forget_session(self, session_id: str) -> None:
        """Forget a deleted session."""
        self._writes.forget_session(session_id)
