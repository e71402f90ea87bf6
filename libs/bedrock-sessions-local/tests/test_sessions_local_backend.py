"""The backend without HTTP: behaviour, and list queries that are index range scans.

``backend`` is the file backend of conftest.py (WAL mode, a 3-step quota).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from bedrock_sessions_local.exceptions import ConflictException, ResourceNotFoundException
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.statements import (
    LIST_INVOCATION_STEPS,
    LIST_INVOCATIONS,
    LIST_SESSIONS,
    LIST_STEPS,
)


def payload(text_value: str) -> dict:
    return {"contentBlocks": [{"text": text_value}]}


def test_backend_runs_a_session_lifecycle_without_http(backend: SessionBackend) -> None:
    sid = backend.create_session(tags={"user": "ana"})["sessionId"]
    invocation = backend.create_invocation(sid)["invocationId"]
    steps = [
        backend.put_invocation_step(
            sid,
            invocation_identifier=invocation,
            invocation_step_time=datetime.now(UTC),
            payload=payload(str(i)),
        )["invocationStepId"]
        for i in range(3)
    ]
    listed = backend.list_invocation_steps(sid, max_results=2)
    assert [s["invocationStepId"] for s in listed["invocationStepSummaries"]] == steps[:0:-1]
    rest = backend.list_invocation_steps(sid, next_token=listed["nextToken"])
    assert [s["invocationStepId"] for s in rest["invocationStepSummaries"]] == steps[:1]
    with pytest.raises(ConflictException):
        backend.create_invocation(sid, invocation_id=invocation)
    with pytest.raises(ConflictException):
        backend.delete_session(sid)
    backend.end_session(sid)
    backend.delete_session(sid)
    with pytest.raises(ResourceNotFoundException):
        backend.get_session(sid)


def test_sqlite_file_runs_in_wal_mode(backend: SessionBackend) -> None:
    with backend.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


@pytest.mark.parametrize(
    ("statement", "params", "index"),
    [
        (LIST_STEPS, {"s": 1, "before": 10, "limit": 5}, "ix_invocation_steps_session_seq"),
        (
            LIST_INVOCATION_STEPS,
            {"s": 1, "inv": "x", "before": 10, "limit": 5},
            "ix_invocation_steps_session_invocation_seq",
        ),
        (LIST_INVOCATIONS, {"s": 1, "before": 10, "limit": 5}, "ix_invocations_session_seq"),
        (LIST_SESSIONS, {"before": 10, "limit": 5}, "INTEGER PRIMARY KEY"),
    ],
)
def test_list_pages_are_index_range_scans_without_a_sort(
    backend: SessionBackend, statement: object, params: dict, index: str
) -> None:
    with backend.engine.connect() as conn:
        compiled = statement.compile(conn)
        values = compiled.construct_params(params)
        positional = tuple(values[name] for name in compiled.positiontup)
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", positional).all()
    details = " | ".join(row[-1] for row in plan)
    assert index in details, details
    assert "TEMP B-TREE" not in details, details  # no sort: cost does not grow with the session
