"""The WAL checkpointer thread (engine.py): under steady writes the SQLite write-ahead log
restarts and stays bounded without losing a step, and its thread lives exactly as long as a
file backend."""

from __future__ import annotations

import struct
import threading
import time
from pathlib import Path

from bedrock_sessions_local.config import ServiceKnobs
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.testing import running_service
from sessions_local_backend_support import new_session, put_step
from sessions_local_support import make_client

CHECKPOINT_THREAD = "bedrock-sessions-local:wal-checkpoint"
#: WALCheckpointer's restart threshold (pages) and the page size SQLite uses here
RESTART_FRAMES = 4096
PAGE_SIZE = 4096
WAL_HEADER_BYTES, WAL_FRAME_HEADER_BYTES = 32, 24


def checkpoint_threads() -> list[threading.Thread]:
    """Return the live WAL checkpoint threads."""
    return [t for t in threading.enumerate() if t.name == CHECKPOINT_THREAD]


def wal_restarts(wal_path: Path) -> int:
    """Return the WAL header's checkpoint sequence number (SQLite adds 1 at every restart)."""
    with wal_path.open("rb") as wal:
        header = wal.read(WAL_HEADER_BYTES)
    return struct.unpack(">I", header[12:16])[0]


def test_steady_writes_restart_the_wal_which_stays_bounded_and_lose_nothing(
    tmp_path: Path,
) -> None:
    """Writes at a steady ~5,000 WAL pages/s (a busy service) for two WAL restarts.

    ``wal_autocheckpoint`` is off, so without the checkpoint thread the WAL would hold every
    page ever written; with it the WAL starts over past 4,096 pages and its file stays within
    twice that. All steps are then read back through a fresh backend on the same file.
    """
    db = tmp_path / "sessions.db"
    wal = tmp_path / "sessions.db-wal"
    backend = SessionBackend(str(db), knobs=ServiceKnobs())
    filler = "x" * 64 * 1024  # about 21 WAL pages per put
    puts_per_second = 250
    written: list[tuple[str, str]] = []
    try:
        sid, invocation = new_session(backend)
        first_sequence = wal_restarts(wal)
        largest_wal = 0
        started = time.perf_counter()
        while wal_restarts(wal) - first_sequence < 2:
            assert time.perf_counter() - started < 15, "the WAL never restarted twice"
            marker = f"{len(written)}:"
            written.append((put_step(backend, sid, invocation, text_value=marker + filler), marker))
            largest_wal = max(largest_wal, wal.stat().st_size)
            pause = started + len(written) / puts_per_second - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
    finally:
        backend.close()

    largest_frames = (largest_wal - WAL_HEADER_BYTES) // (PAGE_SIZE + WAL_FRAME_HEADER_BYTES)
    payload_pages = len(written) * len(filler) // PAGE_SIZE
    # the payloads alone took more pages than the WAL file ever held: its pages were reused
    assert payload_pages > largest_frames, (payload_pages, largest_frames)
    assert largest_frames <= 2 * RESTART_FRAMES, (largest_frames, len(written))
    # closing the last connection checkpointed everything and removed the WAL
    assert not wal.exists()

    reopened = SessionBackend(str(db), knobs=ServiceKnobs())
    try:
        listed: list[str] = []
        token = None
        while True:
            extra = {"next_token": token} if token else {}
            page = reopened.list_invocation_steps(sid, max_results=100, **extra)
            listed += [s["invocationStepId"] for s in page["invocationStepSummaries"]]
            token = page.get("nextToken")
            if token is None:
                break
        assert listed == [step for step, _ in reversed(written)]
        for step, marker in written:
            text_value = reopened.get_invocation_step(
                sid, invocation_identifier=invocation, invocation_step_id=step
            )["invocationStep"]["payload"]["contentBlocks"][0]["text"]
            assert text_value == marker + filler
    finally:
        reopened.close()


def test_memory_backend_starts_no_checkpoint_thread() -> None:
    before = set(checkpoint_threads())
    backend = SessionBackend(":memory:", knobs=ServiceKnobs())
    try:
        assert backend._database.checkpointer is None
        assert set(checkpoint_threads()) == before
        sid, invocation = new_session(backend)
        put_step(backend, sid, invocation)  # the fast path works without a WAL too
        assert len(backend.list_invocation_steps(sid)["invocationStepSummaries"]) == 1
        assert set(checkpoint_threads()) == before
    finally:
        backend.close()


def test_closing_a_file_backend_stops_its_checkpoint_thread(tmp_path: Path) -> None:
    before = set(checkpoint_threads())
    backend = SessionBackend(str(tmp_path / "sessions.db"), knobs=ServiceKnobs())
    started = set(checkpoint_threads()) - before
    assert len(started) == 1
    (thread,) = started
    assert thread.daemon and thread.is_alive()
    sid, invocation = new_session(backend)
    put_step(backend, sid, invocation)
    time.sleep(0.25)  # let it run at least one checkpoint
    assert thread.is_alive()

    backend.close()
    assert not thread.is_alive()
    assert set(checkpoint_threads()) == before
    backend.close()  # closing twice is harmless


def test_service_stop_leaves_no_checkpoint_thread(tmp_path: Path) -> None:
    before = set(checkpoint_threads())
    with running_service(db=tmp_path / "sessions.db") as url:
        assert len(set(checkpoint_threads()) - before) == 1
        make_client(url).create_session()
    assert set(checkpoint_threads()) == before
