"""Every checkpoint of a recently read conversation, kept between reads and topped up.

The History page, the Shop's ‹1/2› version switchers and the replay warnings all read a
session's whole checkpoint tree. Reading it is mostly decoding: each checkpoint holds the whole
conversation, so a 100-turn chat (~500 checkpoints) decodes some 100,000 messages, 3-4 s on a
laptop, on every page run. Checkpoints never change once written, so this keeps the snapshots of
the sessions read last and, on the next read, decodes only what is new:

* LangGraph lists checkpoints newest first (uuid6 ids, which sort by time), and every new
  checkpoint, on any branch (a replay, a fork, a branch switch), is newer than all before it;
  the listing is walked until the first checkpoint already kept and the rest is taken as kept.
  `get_state_history` decodes the whole listing it is asked for, so it is asked in pages that
  grow (4, 16, 64... checkpoints, each `before` the last): a read that finds one new checkpoint
  decodes a handful, not the session.
* Pending writes (an interrupt, a tool's result) are saved against the checkpoint a step started
  from, which is always the newest one: a replay starts by writing a `fork` checkpoint, a fork an
  `update` one (langgraph 1.2). So the newest checkpoint kept is always read again.
* A session that lists nothing (erased, or deleted) is dropped; `forget` drops one at once.

Messages the same in many checkpoints (same id, type and content) are kept once, so a session
kept costs about what its last checkpoint does, not one copy of the chat per checkpoint. The
snapshots are shared between callers: they are read, never changed.

One cache per `ShopContext`, so per tenant client; the caller has already checked that the
principal may read the session.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from langchain_core.messages import BaseMessage
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StateSnapshot

#: sessions kept (least recently read dropped first)
MAX_SESSIONS = 32
#: the first page of a listing; each next one is PAGE_GROWTH times larger, up to LARGEST_PAGE
FIRST_PAGE, PAGE_GROWTH, LARGEST_PAGE = 4, 4, 1024


def checkpoint_id_of(snapshot: StateSnapshot) -> str:
    return snapshot.config["configurable"]["checkpoint_id"]


def newest_first(graph: CompiledStateGraph, config: dict) -> Iterator[StateSnapshot]:
    """`graph.get_state_history(config)`, read in growing pages as the caller iterates."""
    before, size = None, FIRST_PAGE
    while True:
        page = list(graph.get_state_history(config, before=before, limit=size))
        yield from page
        if len(page) < size:
            return
        before, size = page[-1].config, min(size * PAGE_GROWTH, LARGEST_PAGE)


class SnapshotCache:
    """Snapshots of the sessions read last, newest first, topped up on each read."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, list[StateSnapshot]] = OrderedDict()
        self._lock = threading.Lock()
        self.decoded = 0  # snapshots read from the store since start (tests, benchmarks)

    def snapshots(self, session_id: str, listing: Iterable[StateSnapshot]) -> list[StateSnapshot]:
        """Every snapshot of the session, newest first: the new ones of `listing` (LangGraph's
        newest-first history, iterated only as far as needed) followed by those kept."""
        with self._lock:
            kept = self._sessions.get(session_id, [])
        # The newest kept may have gained pending writes: read it again, stop at the next.
        known = {checkpoint_id_of(snapshot): index for index, snapshot in enumerate(kept)}
        if kept:
            del known[checkpoint_id_of(kept[0])]
        fresh: list[StateSnapshot] = []
        rest: list[StateSnapshot] = []
        for snapshot in listing:
            index = known.get(checkpoint_id_of(snapshot))
            if index is not None:
                rest = kept[index:]
                break
            fresh.append(snapshot)
        self.decoded += len(fresh)
        share_messages(fresh, rest)
        snapshots = fresh + rest
        with self._lock:
            if snapshots:
                self._sessions[session_id] = snapshots
                self._sessions.move_to_end(session_id)
                while len(self._sessions) > self.max_sessions:
                    self._sessions.popitem(last=False)
            else:
                self._sessions.pop(session_id, None)
        return snapshots

    def forget(self, session_id: str) -> None:
        """Drop what is kept of a session (it was erased or deleted)."""
        with self._lock:
            self._sessions.pop(session_id, None)


def share_messages(fresh: list[StateSnapshot], kept: list[StateSnapshot]) -> None:
    """Make the fresh snapshots' messages the very objects of equal messages already kept."""
    canonical: dict[tuple[str, str], list[BaseMessage]] = {}

    def remember(message: BaseMessage) -> BaseMessage:
        same_id = canonical.setdefault((str(message.id), message.type), [])
        for known in same_id:
            if known is message or known == message:
                return known
        same_id.append(message)
        return message

    for snapshot in kept[:1]:  # new checkpoints mostly continue the newest kept one
        for message in (snapshot.values or {}).get("messages", []):
            remember(message)
    for snapshot in reversed(fresh):  # oldest first: later checkpoints reuse earlier messages
        values = snapshot.values
        if isinstance(values, dict) and isinstance(values.get("messages"), list):
            values["messages"] = [remember(message) for message in values["messages"]]
