"""Guards of the hot paths: the checked PutInvocationStep INSERT, the joined GetInvocationStep,
the single-lookup ListInvocationSteps, and the WAL checkpointer thread.

PutInvocationStep answers the common case with one ``INSERT ... SELECT`` and re-runs on the
step-by-step path whenever that statement inserts nothing; the two paths must agree on every
answer. The tests force the fallback by swapping the backend's prepared INSERT for one that can
never match (same SQL, a status no session has), and compare both paths' results, errors and
effects. Time is a frozen clock patched over ``models.now_us``, the only clock the backend
reads (session times and the idle-TTL check alike), so TTL boundaries are hit to the microsecond.
"""

from __future__ import annotations

import struct
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sessions_local_support import ACCOUNT, REGION, make_client
from sqlalchemy import text

import bedrock_sessions_local.models as models
from bedrock_sessions_local.config import Quotas, ServiceKnobs
from bedrock_sessions_local.exceptions import (
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
    SessionServiceError,
)
from bedrock_sessions_local.models import SessionBackend, datetime_from_us
from bedrock_sessions_local.testing import running_service

#: a fixed "now" for the frozen clock, in microseconds since the epoch (January 2027)
START_US = 1_800_000_000_000_000
TTL_SECONDS = 60.0
TTL_US = 60_000_000
#: small, so a session reaches its step quota in a few puts
STEP_QUOTA = 3
CHECKPOINT_THREAD = "bedrock-sessions-local:wal-checkpoint"
#: WALCheckpointer's restart threshold (pages) and the page size SQLite uses here
RESTART_FRAMES = 4096
PAGE_SIZE = 4096
WAL_HEADER_BYTES, WAL_FRAME_HEADER_BYTES = 32, 24


class FrozenClock:
    """Stands in for ``models.now_us``: returns ``now`` (microseconds) until moved."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, microseconds: int) -> None:
        """Move the clock forward by ``microseconds``."""
        self.now += microseconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """The backend's clock, frozen at START_US for the test."""
    frozen = FrozenClock(START_US)
    monkeypatch.setattr(models, "now_us", frozen)
    return frozen


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[SessionBackend]:
    """A file backend (WAL, checkpoint thread) with a 60 s idle TTL and a 3-step quota."""
    built = SessionBackend(
        str(tmp_path / "sessions.db"),
        knobs=ServiceKnobs(session_ttl_seconds=TTL_SECONDS),
        quotas=Quotas(max_steps_per_session=STEP_QUOTA),
    )
    yield built
    built.close()


def payload(text_value: str) -> dict[str, Any]:
    """A PutInvocationStep payload of one text block."""
    return {"contentBlocks": [{"text": text_value}]}


def new_session(backend: SessionBackend) -> tuple[str, str]:
    """Create a session with one invocation; return (session id, invocation id)."""
    sid = backend.create_session()["sessionId"]
    return sid, backend.create_invocation(sid)["invocationId"]


def put_step(
    backend: SessionBackend,
    sid: str,
    invocation: str,
    step_id: str | None = None,
    text_value: str = "step",
) -> str:
    """Put one step (with the backend's normal path choice); return its id."""
    return backend.put_invocation_step(
        sid,
        invocation_identifier=invocation,
        invocation_step_time=datetime.now(UTC),
        payload=payload(text_value),
        invocation_step_id=step_id,
    )["invocationStepId"]


# ------------------------------------------------------------------- fast path vs fallback


class _InsertThatNeverMatches:
    """The backend's prepared checked INSERT, bound with a status no session has.

    Same SQL and parameters otherwise, so the statement runs and inserts nothing, and every
    PutInvocationStep goes down the step-by-step path.
    """

    def __init__(self, prepared: Any) -> None:
        self._prepared = prepared
        self.sql = prepared.sql

    def parameters(self, values: dict[str, Any]) -> Any:
        """Return the driver parameters with an impossible ``active`` status."""
        return self._prepared.parameters({**values, "active": "NO-SUCH-STATUS"})


@contextmanager
def fallback_only(backend: SessionBackend) -> Iterator[None]:
    """Within the block, PutInvocationStep always takes the step-by-step path."""
    fast = backend._put_step
    backend._put_step = _InsertThatNeverMatches(fast)
    try:
        yield
    finally:
        backend._put_step = fast


@contextmanager
def fallback_counter(backend: SessionBackend) -> Iterator[list[int]]:
    """Count how often the step-by-step write path ran (its writable-session check)."""
    calls = [0]
    original = backend._writable_session_row

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    backend._writable_session_row = counting
    try:
        yield calls
    finally:
        del backend._writable_session_row


@dataclass(frozen=True)
class PutRequest:
    """The identifiers of one PutInvocationStep."""

    session_identifier: str
    invocation_identifier: str
    step_id: str
    session_id: str


@dataclass(frozen=True)
class PutOutcome:
    """What one PutInvocationStep did, with the request's ids replaced by placeholders.

    ``step_delta`` and ``touched`` describe the session row after the call: how many steps
    were added, and whether lastUpdatedAt moved to the clock's time.
    """

    code: str
    status: int
    message: str
    step_delta: int
    touched: bool


def session_row(backend: SessionBackend, session_id: str) -> tuple[int, int, int] | None:
    """Return (step_count, last_updated_at_us, stored steps) of a session, or None if absent."""
    with backend.engine.connect() as conn:
        row = conn.execute(
            text("SELECT seq, step_count, last_updated_at_us FROM sessions WHERE session_id = :s"),
            {"s": session_id},
        ).first()
        if row is None:
            return None
        stored = conn.execute(
            text("SELECT count(*) FROM invocation_steps WHERE session_seq = :q"), {"q": row.seq}
        ).scalar_one()
    return row.step_count, row.last_updated_at_us, stored


def run_put(
    backend: SessionBackend, clock: FrozenClock, request: PutRequest, *, fallback: bool
) -> tuple[PutOutcome, int]:
    """Run one PutInvocationStep on the chosen path; return its outcome and fallback runs."""
    before = session_row(backend, request.session_id)
    path = fallback_only(backend) if fallback else _no_change()
    with path, fallback_counter(backend) as fallback_runs:
        try:
            answer = backend.put_invocation_step(
                request.session_identifier,
                invocation_identifier=request.invocation_identifier,
                invocation_step_time=datetime(2026, 11, 24, 12, 0, tzinfo=UTC),
                payload=payload("probe"),
                invocation_step_id=request.step_id,
            )
        except SessionServiceError as error:
            code, status, message = error.code, error.status, error.message
        else:
            assert answer == {"invocationStepId": request.step_id}
            code, status, message = "OK", 200, ""
    after = session_row(backend, request.session_id)
    step_delta, touched = 0, False
    if before is not None and after is not None:
        assert after[0] - before[0] == after[2] - before[2], "step counter and rows disagree"
        step_delta = after[0] - before[0]
        touched = after[1] != before[1]
        if touched:
            assert after[1] == clock.now
    for value, placeholder in (
        (request.session_identifier, "<session>"),
        (request.session_id, "<session>"),
        (request.invocation_identifier, "<invocation>"),
        (request.step_id, "<step>"),
    ):
        message = message.replace(value, placeholder)
    return PutOutcome(code, status, message, step_delta, touched), fallback_runs[0]


@contextmanager
def _no_change() -> Iterator[None]:
    yield


def _writable(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, invocation = new_session(backend)
    clock.advance(1_000)  # so a touch shows as a moved lastUpdatedAt
    return PutRequest(sid, invocation, str(uuid.uuid4()), sid)


def _by_arn(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, invocation = new_session(backend)
    clock.advance(1_000)  # so a touch shows as a moved lastUpdatedAt
    return PutRequest(backend.session_arn(sid), invocation, str(uuid.uuid4()), sid)


def _unknown_session(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid = str(uuid.uuid4())
    return PutRequest(sid, str(uuid.uuid4()), str(uuid.uuid4()), sid)


def _arn_of_another_account(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, invocation = new_session(backend)
    arn = f"arn:aws:bedrock:{REGION}:210987654321:session/{sid}"
    clock.advance(1_000)  # so a touch shows as a moved lastUpdatedAt
    return PutRequest(arn, invocation, str(uuid.uuid4()), sid)


def _ended(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, invocation = new_session(backend)
    backend.end_session(sid)
    clock.advance(1_000)  # so a touch shows as a moved lastUpdatedAt
    return PutRequest(sid, invocation, str(uuid.uuid4()), sid)


def _idle_exactly_ttl(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, invocation = new_session(backend)
    clock.advance(TTL_US)
    return PutRequest(sid, invocation, str(uuid.uuid4()), sid)


def _idle_ttl_plus_one_microsecond(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, invocation = new_session(backend)
    clock.advance(TTL_US + 1)
    return PutRequest(sid, invocation, str(uuid.uuid4()), sid)


def _unknown_invocation(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, _ = new_session(backend)
    clock.advance(1_000)  # so a touch shows as a moved lastUpdatedAt
    return PutRequest(sid, str(uuid.uuid4()), str(uuid.uuid4()), sid)


def _invocation_of_another_session(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, _ = new_session(backend)
    _, elsewhere = new_session(backend)
    clock.advance(1_000)  # so a touch shows as a moved lastUpdatedAt
    return PutRequest(sid, elsewhere, str(uuid.uuid4()), sid)


def _duplicate_step(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, invocation = new_session(backend)
    step = put_step(backend, sid, invocation)
    clock.advance(1_000)  # a rolled-back touch would show as a moved lastUpdatedAt
    return PutRequest(sid, invocation, step, sid)


def _duplicate_step_of_another_invocation(
    backend: SessionBackend, clock: FrozenClock
) -> PutRequest:
    sid, invocation = new_session(backend)
    step = put_step(backend, sid, invocation)
    other = backend.create_invocation(sid)["invocationId"]
    clock.advance(1_000)
    return PutRequest(sid, other, step, sid)


def _step_quota_reached(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, invocation = new_session(backend)
    for _ in range(STEP_QUOTA):
        put_step(backend, sid, invocation)
    clock.advance(1_000)
    return PutRequest(sid, invocation, str(uuid.uuid4()), sid)


def _one_below_step_quota(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, invocation = new_session(backend)
    for _ in range(STEP_QUOTA - 1):
        put_step(backend, sid, invocation)
    clock.advance(1_000)
    return PutRequest(sid, invocation, str(uuid.uuid4()), sid)


def _ended_and_duplicate_step(backend: SessionBackend, clock: FrozenClock) -> PutRequest:
    sid, invocation = new_session(backend)
    step = put_step(backend, sid, invocation)
    backend.end_session(sid)
    clock.advance(1_000)  # so a touch shows as a moved lastUpdatedAt
    return PutRequest(sid, invocation, step, sid)


# (name, request builder, expected code and status)
PUT_SCENARIOS = [
    ("writable session", _writable, ("OK", 200)),
    ("session ARN as identifier", _by_arn, ("OK", 200)),
    ("idle exactly the TTL", _idle_exactly_ttl, ("OK", 200)),
    ("one below the step quota", _one_below_step_quota, ("OK", 200)),
    ("unknown session", _unknown_session, ("ResourceNotFoundException", 404)),
    ("ARN of another account", _arn_of_another_account, ("ResourceNotFoundException", 404)),
    ("ENDED session", _ended, ("ConflictException", 409)),
    ("idle TTL + 1 us (EXPIRED)", _idle_ttl_plus_one_microsecond, ("ConflictException", 409)),
    ("unknown invocation", _unknown_invocation, ("ResourceNotFoundException", 404)),
    (
        "invocation of another session",
        _invocation_of_another_session,
        ("ResourceNotFoundException", 404),
    ),
    ("duplicate step id", _duplicate_step, ("ConflictException", 409)),
    (
        "duplicate step id of another invocation",
        _duplicate_step_of_another_invocation,
        ("ConflictException", 409),
    ),
    ("ENDED session and duplicate step id", _ended_and_duplicate_step, ("ConflictException", 409)),
    ("step quota reached", _step_quota_reached, ("ServiceQuotaExceededException", 400)),
]


@pytest.mark.parametrize(
    ("build", "expected"),
    [pytest.param(build, expected, id=name) for name, build, expected in PUT_SCENARIOS],
)
def test_put_step_fast_path_and_fallback_give_the_same_answer_and_effect(
    backend: SessionBackend, clock: FrozenClock, build: Any, expected: tuple[str, int]
) -> None:
    fast, fast_fallbacks = run_put(backend, clock, build(backend, clock), fallback=False)
    slow, slow_fallbacks = run_put(backend, clock, build(backend, clock), fallback=True)

    assert (fast.code, fast.status) == expected, fast.message
    assert fast == slow
    if fast.code == "OK":
        # a successful put adds one step and moves lastUpdatedAt, without the fallback
        assert (fast.step_delta, fast.touched) == (1, True)
        assert fast_fallbacks == 0
        assert slow_fallbacks == 1  # the forcing works: the comparison is not fast vs fast
    else:
        # a refused put leaves the session exactly as it was (no step, no touch)
        assert (fast.step_delta, fast.touched) == (0, False)


def test_successful_put_moves_last_updated_at_on_both_paths(
    backend: SessionBackend, clock: FrozenClock
) -> None:
    sid, invocation = new_session(backend)
    assert backend.get_session(sid)["lastUpdatedAt"] == datetime_from_us(START_US)

    clock.advance(5_000_000)
    put_step(backend, sid, invocation)
    assert backend.get_session(sid)["lastUpdatedAt"] == datetime_from_us(START_US + 5_000_000)

    clock.advance(7)
    with fallback_only(backend):
        put_step(backend, sid, invocation)
    assert backend.get_session(sid)["lastUpdatedAt"] == datetime_from_us(START_US + 5_000_007)
    # createdAt stays where it was
    assert backend.get_session(sid)["createdAt"] == datetime_from_us(START_US)


def test_put_step_touch_keeps_a_busy_session_from_expiring(
    backend: SessionBackend, clock: FrozenClock
) -> None:
    sid, invocation = new_session(backend)
    # each put lands just inside the TTL of the previous one: the session never idles out
    for _ in range(STEP_QUOTA):
        clock.advance(TTL_US)
        put_step(backend, sid, invocation)
        assert backend.get_session(sid)["sessionStatus"] == "ACTIVE"
    clock.advance(TTL_US + 1)
    assert backend.get_session(sid)["sessionStatus"] == "EXPIRED"


@pytest.mark.parametrize(
    "ttl_seconds",
    [
        1.0,
        0.25,
        60.0,
        3600.0,
        1.001,  # 1.001 * 1e6 is 1000999.9999999999: both paths must round it the same way
        0.3,  # 0.3 * 1e6 is 300000.00000000006: a hair above, which both paths round alike
        1.005,
    ],
)
def test_put_step_is_writable_exactly_while_the_session_reads_active_at_the_ttl_boundary(
    backend: SessionBackend, clock: FrozenClock, ttl_seconds: float
) -> None:
    """At idle == TTL the session is ACTIVE and writable; 1 us later EXPIRED and refused.

    Every point is checked three ways at the same instant: GetSession's status, a put on the
    fast path and a put on the fallback, each on its own session created at the same time (a
    successful put touches its session).
    """
    backend.knobs.session_ttl_seconds = ttl_seconds
    ttl_us = round(ttl_seconds * 1_000_000)  # the TTL in the microseconds timestamps use
    for offset in (-1, 0, 1):
        clock.now = START_US
        reader, fast, slow = (new_session(backend) for _ in range(3))
        clock.now = START_US + ttl_us + offset
        expected = "ACTIVE" if offset <= 0 else "EXPIRED"

        outcomes = []
        for (sid, invocation), forced in ((fast, False), (slow, True)):
            request = PutRequest(sid, invocation, str(uuid.uuid4()), sid)
            outcome, _ = run_put(backend, clock, request, fallback=forced)
            outcomes.append(outcome)
        assert outcomes[0] == outcomes[1], offset
        assert backend.get_session(reader[0])["sessionStatus"] == expected, offset
        if expected == "ACTIVE":
            assert outcomes[0].code == "OK", (offset, outcomes[0].message)
        else:
            assert outcomes[0].code == "ConflictException", offset
            assert "it is EXPIRED" in outcomes[0].message


def test_put_step_quota_counts_steps_of_both_paths(
    backend: SessionBackend, clock: FrozenClock
) -> None:
    sid, invocation = new_session(backend)
    put_step(backend, sid, invocation)
    with fallback_only(backend):
        put_step(backend, sid, invocation)
    put_step(backend, sid, invocation)
    for forced in (False, True):
        path = fallback_only(backend) if forced else _no_change()
        with path, pytest.raises(ServiceQuotaExceededException, match="quota of 3"):
            put_step(backend, sid, invocation)
    assert session_row(backend, sid)[0] == STEP_QUOTA


# ------------------------------------------------------------------------ GetInvocationStep


def test_get_step_of_another_invocation_of_the_session_is_not_found(
    backend: SessionBackend,
) -> None:
    sid, first = new_session(backend)
    second = backend.create_invocation(sid)["invocationId"]
    step = put_step(backend, sid, first, text_value="in the first invocation")

    found = backend.get_invocation_step(sid, invocation_identifier=first, invocation_step_id=step)[
        "invocationStep"
    ]
    assert found["payload"] == payload("in the first invocation")
    assert (found["invocationId"], found["sessionId"]) == (first, sid)

    with pytest.raises(ResourceNotFoundException, match=f"step {step} not found in invocation"):
        backend.get_invocation_step(sid, invocation_identifier=second, invocation_step_id=step)
    with pytest.raises(ResourceNotFoundException, match=r"Invocation .* not found in session"):
        backend.get_invocation_step(
            sid, invocation_identifier=str(uuid.uuid4()), invocation_step_id=step
        )


def test_get_step_of_another_session_is_not_found(backend: SessionBackend) -> None:
    mine, my_invocation = new_session(backend)
    theirs, their_invocation = new_session(backend)
    their_step = put_step(backend, theirs, their_invocation, text_value="theirs")

    # their step, asked in my session, through my invocation and through theirs
    with pytest.raises(ResourceNotFoundException, match="not found in invocation"):
        backend.get_invocation_step(
            mine, invocation_identifier=my_invocation, invocation_step_id=their_step
        )
    with pytest.raises(ResourceNotFoundException, match="not found in session"):
        backend.get_invocation_step(
            mine, invocation_identifier=their_invocation, invocation_step_id=their_step
        )
    # and their session still answers it
    assert backend.get_invocation_step(
        theirs, invocation_identifier=their_invocation, invocation_step_id=their_step
    )["invocationStep"]["payload"] == payload("theirs")


def test_get_step_id_used_in_two_sessions_returns_each_sessions_own_step(
    backend: SessionBackend,
) -> None:
    # step ids are unique per session only: the join must pick the step of the named session
    shared = str(uuid.uuid4())
    first, first_invocation = new_session(backend)
    second, second_invocation = new_session(backend)
    put_step(backend, first, first_invocation, step_id=shared, text_value="first")
    put_step(backend, second, second_invocation, step_id=shared, text_value="second")
    for sid, invocation, expected in (
        (first, first_invocation, "first"),
        (second, second_invocation, "second"),
    ):
        step = backend.get_invocation_step(
            backend.session_arn(sid), invocation_identifier=invocation, invocation_step_id=shared
        )["invocationStep"]
        assert (step["payload"], step["sessionId"]) == (payload(expected), sid)


def test_get_step_of_ended_and_expired_sessions_is_readable(
    backend: SessionBackend, clock: FrozenClock
) -> None:
    ended, ended_invocation = new_session(backend)
    expired, expired_invocation = new_session(backend)
    ended_step = put_step(backend, ended, ended_invocation, text_value="ended")
    expired_step = put_step(backend, expired, expired_invocation, text_value="expired")
    backend.end_session(ended)
    clock.advance(TTL_US + 1)
    assert backend.get_session(expired)["sessionStatus"] == "EXPIRED"
    for sid, invocation, step, value in (
        (ended, ended_invocation, ended_step, "ended"),
        (expired, expired_invocation, expired_step, "expired"),
    ):
        got = backend.get_invocation_step(
            sid, invocation_identifier=invocation, invocation_step_id=step
        )
        assert got["invocationStep"]["payload"] == payload(value)


# ---------------------------------------------------------------------- ListInvocationSteps


def test_list_steps_of_an_unknown_invocation_or_session_is_not_found(
    backend: SessionBackend,
) -> None:
    sid, invocation = new_session(backend)
    _, elsewhere = new_session(backend)
    put_step(backend, sid, invocation)
    for unknown in (str(uuid.uuid4()), elsewhere):
        with pytest.raises(ResourceNotFoundException, match=f"Invocation {unknown} not found"):
            backend.list_invocation_steps(sid, invocation_identifier=unknown)
    with pytest.raises(ResourceNotFoundException, match=r"Session .* not found"):
        backend.list_invocation_steps(str(uuid.uuid4()))
    with pytest.raises(ResourceNotFoundException, match=r"Session .* not found"):
        backend.list_invocation_steps(str(uuid.uuid4()), invocation_identifier=invocation)


def test_list_steps_of_an_ended_session_stays_readable_page_by_page(
    tmp_path: Path,
) -> None:
    backend = SessionBackend(str(tmp_path / "ended.db"), knobs=ServiceKnobs())
    try:
        sid, first = new_session(backend)
        second = backend.create_invocation(sid)["invocationId"]
        written = [put_step(backend, sid, (first, second)[n % 2]) for n in range(7)]
        backend.end_session(sid)
        assert backend.get_session(sid)["sessionStatus"] == "ENDED"

        def all_pages(invocation: str | None) -> list[str]:
            steps: list[str] = []
            token = None
            while True:
                extra = {"next_token": token} if token else {}
                page = backend.list_invocation_steps(
                    sid, invocation_identifier=invocation, max_results=2, **extra
                )
                steps += [s["invocationStepId"] for s in page["invocationStepSummaries"]]
                assert all(s["sessionId"] == sid for s in page["invocationStepSummaries"])
                token = page.get("nextToken")
                if token is None:
                    return steps

        assert all_pages(None) == written[::-1]
        assert all_pages(first) == written[0::2][::-1]
        assert all_pages(second) == written[1::2][::-1]
        with pytest.raises(ConflictException, match="ENDED"):
            put_step(backend, sid, first)
    finally:
        backend.close()


# ------------------------------------------------------------------------------------- WAL


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
        assert backend._checkpointer is None
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


# ------------------------------------------------------------------------------ concurrency


def assert_newest_first(listed: list[str], timings: dict[str, tuple[int, int]]) -> None:
    """Assert the order is newest first for every pair of puts whose order is known.

    When one put returned before another started, the later put is the newer step and must be
    listed first (puts that overlapped in time may be listed either way).
    """
    position = {step: index for index, step in enumerate(listed)}
    for earlier, (_, earlier_end) in timings.items():
        for later, (later_start, _) in timings.items():
            if earlier_end < later_start:
                assert position[later] < position[earlier], (earlier, later)


def test_threads_putting_into_one_session_through_the_backend_lose_nothing(
    tmp_path: Path,
) -> None:
    threads, per_thread = 6, 40
    backend = SessionBackend(
        str(tmp_path / "sessions.db"),
        knobs=ServiceKnobs(),
        quotas=Quotas(max_steps_per_session=threads * per_thread),
    )
    try:
        sid, invocation = new_session(backend)
        timings: dict[str, tuple[int, int]] = {}
        written: dict[int, list[str]] = {}
        go = threading.Barrier(threads)

        def writer(worker: int) -> None:
            go.wait()
            mine = []
            for n in range(per_thread):
                # half the steps name their id, half let the service pick one
                step_id = str(uuid.uuid4()) if n % 2 else None
                start = time.perf_counter_ns()
                step = put_step(backend, sid, invocation, step_id, f"{worker}:{n}")
                timings[step] = (start, time.perf_counter_ns())
                mine.append(step)
            written[worker] = mine

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(writer, range(threads)))

        listed = [
            s["invocationStepId"]
            for s in backend.list_invocation_steps(sid, max_results=1000)["invocationStepSummaries"]
        ]
        assert len(listed) == len(set(listed)) == threads * per_thread
        assert set(listed) == set(timings)
        assert_newest_first(listed, timings)
        for worker, mine in written.items():
            positions = [listed.index(step) for step in mine]
            assert positions == sorted(positions, reverse=True), worker
        # the step counter saw every put: the quota is exactly full
        assert session_row(backend, sid)[0] == threads * per_thread
        with pytest.raises(ServiceQuotaExceededException):
            put_step(backend, sid, invocation)
    finally:
        backend.close()


def test_threads_racing_for_the_last_steps_of_the_quota_get_exactly_the_quota(
    tmp_path: Path,
) -> None:
    quota, threads, attempts = 50, 5, 20
    backend = SessionBackend(
        str(tmp_path / "sessions.db"),
        knobs=ServiceKnobs(),
        quotas=Quotas(max_steps_per_session=quota),
    )
    try:
        sid, invocation = new_session(backend)
        go = threading.Barrier(threads)

        def writer(_: int) -> tuple[int, int]:
            go.wait()
            stored = refused = 0
            for _ in range(attempts):
                try:
                    put_step(backend, sid, invocation)
                    stored += 1
                except ServiceQuotaExceededException:
                    refused += 1
            return stored, refused

        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(writer, range(threads)))
        assert sum(stored for stored, _ in results) == quota
        assert sum(refused for _, refused in results) == threads * attempts - quota
        listed = backend.list_invocation_steps(sid, max_results=1000)["invocationStepSummaries"]
        assert len(listed) == quota
        assert session_row(backend, sid)[0] == quota
    finally:
        backend.close()


# ---------------------------------------------------------------------- through boto3 (HTTP)


@pytest.fixture(scope="module")
def quota_service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A service on a SQLite file with a 60 s idle TTL and a 3-step quota."""
    db = tmp_path_factory.mktemp("fast-paths") / "sessions.db"
    with running_service(
        db=db, quotas=Quotas(max_steps_per_session=STEP_QUOTA), session_ttl_seconds=TTL_SECONDS
    ) as url:
        yield url


@pytest.fixture(scope="module")
def quota_client(quota_service_url: str) -> Any:
    """A boto3 client of the quota service that never retries."""
    return make_client(quota_service_url, retries={"max_attempts": 1, "mode": "standard"})


def client_session(client: Any) -> tuple[str, str]:
    """Create a session with one invocation through boto3; return (session id, invocation id)."""
    sid = client.create_session()["sessionId"]
    return sid, client.create_invocation(sessionIdentifier=sid)["invocationId"]


def client_put(client: Any, sid: str, invocation: str, step_id: str | None = None) -> str:
    """PutInvocationStep through boto3; return the step id."""
    extra = {"invocationStepId": step_id} if step_id else {}
    return client.put_invocation_step(
        sessionIdentifier=sid,
        invocationIdentifier=invocation,
        invocationStepTime=datetime.now(UTC),
        payload=payload("over the wire"),
        **extra,
    )["invocationStepId"]


def client_error(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int, str]:
    """Run a boto3 call expected to fail; return (error code, HTTP status, message)."""
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    error = raised.value.response
    return (
        error["Error"]["Code"],
        error["ResponseMetadata"]["HTTPStatusCode"],
        error["Error"]["Message"],
    )


def test_put_step_errors_through_boto3_carry_aws_codes_and_statuses(
    quota_client: Any, clock: FrozenClock
) -> None:
    client = quota_client
    sid, invocation = client_session(client)
    step = client_put(client, sid, invocation)

    assert client_error(client_put, client, str(uuid.uuid4()), invocation)[:2] == (
        "ResourceNotFoundException",
        404,
    )
    assert client_error(client_put, client, sid, str(uuid.uuid4()))[:2] == (
        "ResourceNotFoundException",
        404,
    )
    assert client_error(client_put, client, sid, invocation, step)[:2] == (
        "ConflictException",
        409,
    )
    client_put(client, sid, invocation)
    client_put(client, sid, invocation)
    assert client_error(client_put, client, sid, invocation)[:2] == (
        "ServiceQuotaExceededException",
        400,
    )

    ended, ended_invocation = client_session(client)
    client.end_session(sessionIdentifier=ended)
    code, status, message = client_error(client_put, client, ended, ended_invocation)
    assert (code, status) == ("ConflictException", 409) and "ENDED" in message

    fresh, fresh_invocation = client_session(client)
    stale, stale_invocation = client_session(client)
    clock.advance(TTL_US)
    client_put(client, fresh, fresh_invocation)  # idle exactly the TTL: still writable
    clock.advance(1)
    code, status, message = client_error(client_put, client, stale, stale_invocation)
    assert (code, status) == ("ConflictException", 409) and "EXPIRED" in message
    assert client.get_session(sessionIdentifier=fresh)["sessionStatus"] == "ACTIVE"


def test_put_step_through_boto3_moves_last_updated_at(
    quota_client: Any, clock: FrozenClock
) -> None:
    sid, invocation = client_session(quota_client)
    before = quota_client.get_session(sessionIdentifier=sid)["lastUpdatedAt"]
    assert before == datetime_from_us(START_US)
    clock.advance(2_500_000)
    client_put(quota_client, f"arn:aws:bedrock:{REGION}:{ACCOUNT}:session/{sid}", invocation)
    after = quota_client.get_session(sessionIdentifier=sid)["lastUpdatedAt"]
    assert after == datetime_from_us(START_US + 2_500_000)


def test_get_and_list_steps_through_boto3_scope_steps_to_session_and_invocation(
    quota_client: Any,
) -> None:
    client = quota_client
    sid, invocation = client_session(client)
    other_invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    other_sid, foreign_invocation = client_session(client)
    step = client_put(client, sid, invocation)
    foreign_step = client_put(client, other_sid, foreign_invocation)

    def get(session: str, inv: str, step_id: str) -> Any:
        return client.get_invocation_step(
            sessionIdentifier=session, invocationIdentifier=inv, invocationStepId=step_id
        )

    assert get(sid, invocation, step)["invocationStep"]["invocationStepId"] == step
    assert client_error(get, sid, other_invocation, step)[:2] == ("ResourceNotFoundException", 404)
    assert client_error(get, sid, invocation, foreign_step)[:2] == (
        "ResourceNotFoundException",
        404,
    )
    assert client_error(get, sid, foreign_invocation, foreign_step)[:2] == (
        "ResourceNotFoundException",
        404,
    )
    assert client_error(
        client.list_invocation_steps, sessionIdentifier=sid, invocationIdentifier=str(uuid.uuid4())
    )[:2] == ("ResourceNotFoundException", 404)

    client.end_session(sessionIdentifier=sid)
    for scope in ({}, {"invocationIdentifier": invocation}):
        listed = client.list_invocation_steps(sessionIdentifier=sid, **scope)
        assert [s["invocationStepId"] for s in listed["invocationStepSummaries"]] == [step]
    assert get(sid, invocation, step)["invocationStep"]["payload"] == payload("over the wire")


def test_threads_putting_into_one_session_through_boto3_lose_nothing(
    tmp_path: Path,
) -> None:
    threads, per_thread = 4, 15
    with running_service(db=tmp_path / "sessions.db") as url:
        setup = make_client(url)
        sid, invocation = client_session(setup)
        # boto3 client creation is not thread-safe: build them all here
        clients = [make_client(url) for _ in range(threads)]
        timings: dict[str, tuple[int, int]] = {}
        go = threading.Barrier(threads)

        def writer(worker: int) -> None:
            go.wait()
            for _ in range(per_thread):
                start = time.perf_counter_ns()
                step = client_put(clients[worker], sid, invocation)
                timings[step] = (start, time.perf_counter_ns())

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(writer, range(threads)))

        listed: list[str] = []
        for page in setup.get_paginator("list_invocation_steps").paginate(
            sessionIdentifier=sid, PaginationConfig={"PageSize": 7}
        ):
            listed += [s["invocationStepId"] for s in page["invocationStepSummaries"]]
        assert len(listed) == len(set(listed)) == threads * per_thread
        assert set(listed) == set(timings)
        assert_newest_first(listed, timings)
