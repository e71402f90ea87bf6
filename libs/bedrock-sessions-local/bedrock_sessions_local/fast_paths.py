"""The hot path: PutInvocationStep, GetInvocationStep and ListInvocationSteps, each in one or two
statements run straight on the DB-API cursor.

A LangGraph saver calls these three on every turn, so they fold their checks into as few
statements as possible. Each fast path answers only the common case and otherwise returns
``None`` / ``False``: unknown session or invocation, an ENDED or EXPIRED session, a full quota.
:class:`~bedrock_sessions_local.models.SessionBackend` then re-runs the operation step by step,
which finds the reason and raises the matching error; so errors are worded in one place only.

Example::

    fast = FastPaths(engine.dialect)
    with database.driver_transaction() as cursor:
        found = fast.get_step(cursor, session_id, invocation_id, step_id)  # or None
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Text, and_, bindparam, exists, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from bedrock_sessions_local.pagination import MAX_SEQ, seq_before
from bedrock_sessions_local.statements import KEY_COLUMNS, LIST_INVOCATION_STEPS, LIST_STEPS
from bedrock_sessions_local.tables import ACTIVE, Invocation, InvocationStep, Session

_sessions = Session.__table__
_invocations = Invocation.__table__
_steps = InvocationStep.__table__

#: ``fresh_since`` when sessions never expire: older than any timestamp
_NEVER_EXPIRES = -MAX_SEQ

#: insert a step only if the session is writable, under its quota, and holds the invocation
#: (the step's values are bound by their column names, as for the step-by-step INSERT_STEP)
PUT_STEP_IF_WRITABLE = insert(_steps).from_select(
    ["session_seq", "invocation_id", "step_id", "step_time_us", "payload_json"],
    select(
        _sessions.c.seq,
        bindparam("invocation_id", type_=Text),
        bindparam("step_id", type_=Text),
        bindparam("step_time_us", type_=BigInteger),
        bindparam("payload_json", type_=Text),
    ).where(
        _sessions.c.session_id == bindparam("sid"),
        _sessions.c.status == bindparam("active"),
        # not expired: now - last_updated_at_us <= ttl, as an index-free comparison on the row
        _sessions.c.last_updated_at_us >= bindparam("fresh_since", type_=BigInteger),
        _sessions.c.step_count < bindparam("max_steps"),
        exists().where(
            _invocations.c.session_seq == _sessions.c.seq,
            _invocations.c.invocation_id == bindparam("invocation_id", type_=Text),
        ),
    ),
)
TOUCH_SESSION_BY_ID = (
    update(_sessions)
    .where(_sessions.c.session_id == bindparam("sid"))
    .values(
        last_updated_at_us=bindparam("now"),
        step_count=_sessions.c.step_count + 1,
    )
)
#: the session and, in one lookup, the step named in it (NULLs when the step is absent),
#: with the session's wrapped data key to open the payload
GET_STEP_WITH_SESSION = (
    select(
        _sessions.c.session_id,
        _steps.c.invocation_id,
        _steps.c.step_id,
        _steps.c.step_time_us,
        _steps.c.payload_json,
        _steps.c.seq,
        *KEY_COLUMNS,
    )
    .select_from(
        _sessions.outerjoin(
            _steps,
            and_(_steps.c.session_seq == _sessions.c.seq, _steps.c.step_id == bindparam("step")),
        )
    )
    .where(_sessions.c.session_id == bindparam("sid"))
)
SELECT_SESSION_KEY = select(_sessions.c.seq, _sessions.c.session_id).where(
    _sessions.c.session_id == bindparam("sid")
)
#: the session and whether it holds the invocation (NULL seq when it does not)
SELECT_SESSION_KEY_WITH_INVOCATION = (
    select(_sessions.c.seq, _sessions.c.session_id, _invocations.c.seq)
    .select_from(
        _sessions.outerjoin(
            _invocations,
            and_(
                _invocations.c.session_seq == _sessions.c.seq,
                _invocations.c.invocation_id == bindparam("inv"),
            ),
        )
    )
    .where(_sessions.c.session_id == bindparam("sid"))
)


def step_list_scope(session_id: str, invocation_id: str | None) -> str:
    """Return the scope a ListInvocationSteps nextToken is bound to: the session or invocation."""
    return session_id if invocation_id is None else f"{session_id}/{invocation_id}"


class _PreparedStatement:
    """A Core statement compiled once for one dialect, run on the raw DBAPI cursor.

    ``Connection.execute`` spends about 100 us per statement in SQLAlchemy (cache lookup,
    execution context, result set-up) against 10-30 us in SQLite itself. The hot operations
    therefore compile their statements once and hand the SQL and parameters straight to the
    driver. The statements still come from the SQLModel tables, and the column types bound here
    (integers and text) need no bind or result processing on SQLite or PostgreSQL drivers.
    """

    __slots__ = ("_literals", "_names", "_positional", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self._positional = dialect.positional
        # Values written into the statement (``step_count + 1``, a LIMIT's OFFSET 0) become
        # anonymous parameters; they are bound from the compiled defaults.
        names = compiled.bind_names  # BindParameter -> the name it has in this statement
        self._names = (
            tuple(compiled.positiontup or ())
            if dialect.positional
            else tuple(dict.fromkeys(names.values()))
        )
        self._literals = {name: bind.value for bind, name in names.items() if not bind.required}

    def parameters(self, values: dict[str, Any]) -> Any:
        """Return ``values`` in the driver's parameter style (a tuple in bind order or a dict).

        Names the statement does not use are ignored, so one dict can serve several statements.
        """
        literals = self._literals
        if self._positional:
            return tuple([values[n] if n in values else literals[n] for n in self._names])
        return {n: values[n] if n in values else literals[n] for n in self._names}


class FastPaths:
    """The hot operations' statements, compiled once for one dialect, and the code that runs them.

    Every method takes a DB-API cursor inside the caller's transaction. The attributes are the
    prepared statements, so a test can swap one for a variant.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.put_step_if_writable = _PreparedStatement(PUT_STEP_IF_WRITABLE, dialect)
        self.touch_session = _PreparedStatement(TOUCH_SESSION_BY_ID, dialect)
        self.get_step_with_session = _PreparedStatement(GET_STEP_WITH_SESSION, dialect)
        self.session_key = _PreparedStatement(SELECT_SESSION_KEY, dialect)
        self.session_key_with_invocation = _PreparedStatement(
            SELECT_SESSION_KEY_WITH_INVOCATION, dialect
        )
        self.list_steps = _PreparedStatement(LIST_STEPS, dialect)
        self.list_invocation_steps = _PreparedStatement(LIST_INVOCATION_STEPS, dialect)
        #: what the driver raises when a unique index refuses an insert (a duplicate step id)
        self.integrity_error: type[Exception] = dialect.loaded_dbapi.IntegrityError

    def put_step(self, cursor: Any, values: dict[str, Any]) -> bool:
        """Insert a step and touch its session; return False when the checks let nothing in.

        ``values``: the step's columns ``invocation_id``, ``step_id``, ``step_time_us`` and
        ``payload_json`` (sealed, or JSON for a plaintext session); ``sid`` and ``now`` (us);
        and the checks' bounds ``fresh_since`` (the oldest lastUpdatedAt of an ACTIVE session,
        None when sessions never expire) and ``max_steps``. The insert is the first write of
        the transaction.

        Raises:
            the driver's IntegrityError (:attr:`integrity_error`): the step id is already used
                in the session.
        """
        fresh_since = values["fresh_since"]
        values = {
            **values,
            "active": ACTIVE,
            "fresh_since": _NEVER_EXPIRES if fresh_since is None else fresh_since,
        }
        cursor.execute(self.put_step_if_writable.sql, self.put_step_if_writable.parameters(values))
        if cursor.rowcount != 1:
            return False
        cursor.execute(self.touch_session.sql, self.touch_session.parameters(values))
        return True

    def get_step(self, cursor: Any, session_id: str, invocation_id: str, step_id: str) -> Any:
        """Return ``(session_id, invocation_id, step_id, step_time_us, payload_json, seq)`` and
        the session's key columns (``statements.KEY_COLUMNS``).

        Returns None when the session, or the step in it, is unknown, or when the step belongs
        to another invocation.
        """
        statement = self.get_step_with_session
        cursor.execute(statement.sql, statement.parameters({"sid": session_id, "step": step_id}))
        found = cursor.fetchone()
        if found is None or found[1] != invocation_id:
            return None
        return found

    def step_page(
        self,
        cursor: Any,
        session_id: str,
        invocation_id: str | None,
        limit: int,
        next_token: str | None,
    ) -> tuple[str, str, list[Any]] | None:
        """Return ``(scope, session_id, rows)`` of a ListInvocationSteps page, in two statements.

        ``invocation_id`` None lists the whole session. Rows are ``(seq, invocation_id,
        step_id, step_time_us)``, newest first, ``limit + 1`` at most (the extra one tells that
        a next page exists). Returns None when the session, or the invocation in it, is unknown.

        Raises:
            ValidationException: the nextToken belongs to another list, session or invocation.
        """
        values: dict[str, Any] = {"sid": session_id, "inv": invocation_id, "limit": limit + 1}
        if invocation_id is None:
            lookup, page = self.session_key, self.list_steps
        else:
            lookup, page = self.session_key_with_invocation, self.list_invocation_steps
        cursor.execute(lookup.sql, lookup.parameters(values))
        key = cursor.fetchone()
        if key is None or (invocation_id is not None and key[2] is None):
            return None
        values["s"], found_id = key[0], key[1]
        scope = step_list_scope(found_id, invocation_id)
        values["before"] = seq_before(next_token, "ListInvocationSteps", scope)
        cursor.execute(page.sql, page.parameters(values))
        return scope, found_id, cursor.fetchall()
