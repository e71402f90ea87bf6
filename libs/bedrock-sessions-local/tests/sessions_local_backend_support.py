"""Builders shared by the tests that drive :class:`SessionBackend` directly (no HTTP).

Time in these tests is a :class:`FrozenClock` patched over ``models.now_us``, the only clock the
backend reads (session times and the idle-TTL check alike), so TTL boundaries are hit to the
microsecond; the ``clock`` and ``backend`` fixtures are in ``conftest.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from bedrock_sessions_local.models import SessionBackend

#: a fixed "now" for the frozen clock, in microseconds since the epoch (January 2027)
START_US = 1_800_000_000_000_000
TTL_SECONDS = 60.0
TTL_US = 60_000_000
#: small, so a session reaches its step quota in a few puts
STEP_QUOTA = 3


class FrozenClock:
    """Stands in for ``models.now_us``: returns ``now`` (microseconds) until moved."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, microseconds: int) -> None:
        """Move the clock forward by ``microseconds``."""
        self.now += microseconds


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
