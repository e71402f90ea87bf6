"""PutInvocationStep: the checked INSERT (fast path) and the step-by-step path agree.

PutInvocationStep answers the common case with one ``INSERT ... SELECT`` and re-runs on the
step-by-step path whenever that statement inserts nothing (or meets a duplicate step id); the
two paths must agree on every answer. The tests force the fallback by swapping the backend's
prepared INSERT for one that can never match (same SQL, a status no session has), and compare
both paths' results, errors and effects. Time is the frozen ``clock`` (see conftest.py), so TTL
boundaries are hit to the microsecond.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from bedrock_sessions_local.exceptions import ServiceQuotaExceededException, SessionServiceError
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.tables import datetime_from_us
from sessions_local_backend_support import (
    START_US,
    STEP_QUOTA,
    TTL_US,
    FrozenClock,
    new_session,
    payload,
    put_step,
    session_row,
)
from sessions_local_support import REGION


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
    fast = backend._fast.put_step_if_writable
    backend._fast.put_step_if_writable = _InsertThatNeverMatches(fast)
    try:
        yield
    finally:
        backend._fast.put_step_if_writable = fast


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
