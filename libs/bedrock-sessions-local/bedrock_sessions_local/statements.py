"""The backend's SQL outside the fast paths: Core statements built once from the tables.

SQLAlchemy caches the compiled form of a statement object, so building each one once at import
means a request only binds values. Every list statement is a keyset page: rows of one scope with
``seq < :before``, newest first, ``:limit`` of them (the caller asks for one more than a page to
learn whether another follows). Each runs as an index range scan without a sort
(``test_sessions_local_backend.py`` asserts the query plans).
"""

from __future__ import annotations

from sqlalchemy import LargeBinary, Text, bindparam, delete, func, insert, select, update

from bedrock_sessions_local.tables import ENDED, Invocation, InvocationStep, Session, SessionTag

_sessions = Session.__table__
_tags = SessionTag.__table__
_invocations = Invocation.__table__
_steps = InvocationStep.__table__

COUNT_SESSIONS = select(func.count()).select_from(_sessions)
#: a session's wrapped data key, its KEK and version, and where its sealed steps begin
KEY_COLUMNS = (
    _sessions.c.data_key,
    _sessions.c.data_key_kek,
    _sessions.c.data_key_kek_version,
    _sessions.c.first_sealed_step_seq,
)
INSERT_SESSION = insert(_sessions)
SELECT_SESSION = select(
    _sessions.c.seq,
    _sessions.c.session_id,
    _sessions.c.status,
    _sessions.c.created_at_us,
    _sessions.c.last_updated_at_us,
    _sessions.c.encryption_key_arn,
    _sessions.c.metadata_json,
    _sessions.c.invocation_count,
    _sessions.c.step_count,
    *KEY_COLUMNS,
).where(_sessions.c.session_id == bindparam("sid"))
LIST_SESSIONS = (
    select(
        _sessions.c.seq,
        _sessions.c.session_id,
        _sessions.c.status,
        _sessions.c.created_at_us,
        _sessions.c.last_updated_at_us,
    )
    .where(_sessions.c.seq < bindparam("before"))
    .order_by(_sessions.c.seq.desc())
    .limit(bindparam("limit"))
)
#: move lastUpdatedAt and count what was added, in the row (quota checks never count rows)
TOUCH_SESSION = (
    update(_sessions)
    .where(_sessions.c.seq == bindparam("s"))
    .values(
        last_updated_at_us=bindparam("now"),
        invocation_count=_sessions.c.invocation_count + bindparam("new_invocations"),
        step_count=_sessions.c.step_count + bindparam("new_steps"),
    )
)
#: touch the session and, when ``metadata`` is not NULL, replace its metadata
UPDATE_SESSION = (
    update(_sessions)
    .where(_sessions.c.seq == bindparam("s"))
    .values(
        last_updated_at_us=bindparam("now"),
        metadata_json=func.coalesce(bindparam("metadata", type_=Text), _sessions.c.metadata_json),
    )
)
END_SESSION = (
    update(_sessions)
    .where(_sessions.c.seq == bindparam("s"))
    .values(status=ENDED, last_updated_at_us=bindparam("now"))
)
#: a session with everything it holds, children first
DELETE_SESSION = (
    *(delete(t).where(t.c.session_seq == bindparam("s")) for t in (_steps, _invocations, _tags)),
    delete(_sessions).where(_sessions.c.seq == bindparam("s")),
)

#: give a plaintext session its data key, from its next step on, and seal its metadata
SET_SESSION_KEY = (
    update(_sessions)
    .where(_sessions.c.seq == bindparam("s"))
    .values(
        data_key=bindparam("data_key", type_=LargeBinary),
        data_key_kek=bindparam("kek"),
        data_key_kek_version=bindparam("version"),
        first_sealed_step_seq=bindparam("first_sealed"),
        metadata_json=bindparam("metadata"),
    )
)
#: the data keys wrapped with an older version of a key-encryption key (after a rotation)
STALE_SESSION_KEYS = select(
    _sessions.c.seq,
    _sessions.c.session_id,
    _sessions.c.data_key,
    _sessions.c.data_key_kek_version,
).where(
    _sessions.c.data_key_kek == bindparam("kek"),
    _sessions.c.data_key_kek_version < bindparam("version"),
)
REWRAP_SESSION_KEY = (
    update(_sessions)
    .where(_sessions.c.seq == bindparam("s"))
    .values(
        data_key=bindparam("data_key", type_=LargeBinary),
        data_key_kek_version=bindparam("version"),
    )
)

SELECT_INVOCATION = select(_invocations.c.seq).where(
    _invocations.c.session_seq == bindparam("s"),
    _invocations.c.invocation_id == bindparam("inv"),
)
INSERT_INVOCATION = insert(_invocations)
LIST_INVOCATIONS = (
    select(_invocations.c.seq, _invocations.c.invocation_id, _invocations.c.created_at_us)
    .where(_invocations.c.session_seq == bindparam("s"), _invocations.c.seq < bindparam("before"))
    .order_by(_invocations.c.seq.desc())
    .limit(bindparam("limit"))
)

INSERT_STEP = insert(_steps)
#: the newest step of a session (the one before which a newly encrypted session's steps are
#: plaintext)
LAST_STEP_SEQ = select(func.max(_steps.c.seq)).where(_steps.c.session_seq == bindparam("s"))
SELECT_STEP = select(
    _steps.c.invocation_id,
    _steps.c.step_id,
    _steps.c.step_time_us,
    _steps.c.payload_json,
    _steps.c.seq,
).where(_steps.c.session_seq == bindparam("s"), _steps.c.step_id == bindparam("step"))
#: a step summary row: (seq, invocation_id, step_id, step_time_us), the fast path's too
_STEP_SUMMARY_COLUMNS = (
    _steps.c.seq,
    _steps.c.invocation_id,
    _steps.c.step_id,
    _steps.c.step_time_us,
)
LIST_STEPS = (
    select(*_STEP_SUMMARY_COLUMNS)
    .where(_steps.c.session_seq == bindparam("s"), _steps.c.seq < bindparam("before"))
    .order_by(_steps.c.seq.desc())
    .limit(bindparam("limit"))
)
LIST_INVOCATION_STEPS = (
    select(*_STEP_SUMMARY_COLUMNS)
    .where(
        _steps.c.session_seq == bindparam("s"),
        _steps.c.invocation_id == bindparam("inv"),
        _steps.c.seq < bindparam("before"),
    )
    .order_by(_steps.c.seq.desc())
    .limit(bindparam("limit"))
)
