"""Tables and the backend of the local Bedrock Session Management service (no HTTP here).

The four SQLModel tables hold sessions, their tags, invocations and invocation steps. Every table
has an integer autoincrement ``seq`` primary key: lists are newest first (``seq`` descending) and
paginate by keyset on it, through composite indexes that make the first page cost the same in a
session of 10 steps as in one of 10,000.

:class:`SessionBackend` implements the 14 operations as plain methods that take Python values
(already validated against the service model by the wire layer) and return dicts shaped like the
operation's output, with ``datetime`` values, as boto3 would return them. The hot paths use
SQLAlchemy Core statements built once on the SQLModel tables: the ORM's unit of work costs more
than the whole request budget.

Example::

    backend = SessionBackend("sqlite:///sessions.db")
    session = backend.create_session(session_metadata={"user": "ana"})
    backend.create_invocation(session["sessionId"], invocation_id=None, description="turn 1")
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Index,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import ClauseElement
from sqlmodel import Field, SQLModel

from bedrock_sessions_local.config import (
    DEFAULT_ACCOUNT,
    DEFAULT_PAGE_SIZE,
    DEFAULT_REGION,
    Quotas,
    ServiceKnobs,
)
from bedrock_sessions_local.exceptions import (
    ConflictException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from bedrock_sessions_local.pagination import MAX_SEQ, decode_token, keyset_page

ACTIVE, EXPIRED, ENDED = "ACTIVE", "EXPIRED", "ENDED"


class Session(SQLModel, table=True):
    """One Bedrock session. ``status`` stores ACTIVE or ENDED; EXPIRED is computed on read."""

    __tablename__ = "sessions"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(max_length=36, unique=True)
    status: str = Field(max_length=16)
    created_at_us: int = Field(sa_type=BigInteger)
    last_updated_at_us: int = Field(sa_type=BigInteger)
    encryption_key_arn: str | None = Field(default=None, sa_type=Text)
    #: JSON object of the session metadata (SessionMetadataMap)
    metadata_json: str = Field(default="{}", sa_type=Text)
    # Counters kept in the row so quota checks cost no COUNT over a large session.
    invocation_count: int = Field(default=0)
    step_count: int = Field(default=0)


class SessionTag(SQLModel, table=True):
    """One tag of a session (TagsMap entry)."""

    __tablename__ = "session_tags"
    __table_args__ = (
        UniqueConstraint("session_seq", "key", name="uq_session_tags_session_key"),
        {"sqlite_autoincrement": True},
    )

    seq: int | None = Field(default=None, primary_key=True)
    session_seq: int = Field(foreign_key="sessions.seq")
    key: str = Field(max_length=128)
    value: str = Field(max_length=256)


class Invocation(SQLModel, table=True):
    """One invocation (a group of steps) in a session; ``description`` is never returned by AWS."""

    __tablename__ = "invocations"
    __table_args__ = (
        UniqueConstraint("session_seq", "invocation_id", name="uq_invocations_session_invocation"),
        Index("ix_invocations_session_seq", "session_seq", "seq"),
        {"sqlite_autoincrement": True},
    )

    seq: int | None = Field(default=None, primary_key=True)
    session_seq: int = Field(foreign_key="sessions.seq")
    invocation_id: str = Field(max_length=36)
    description: str | None = Field(default=None, sa_type=Text)
    created_at_us: int = Field(sa_type=BigInteger)


class InvocationStep(SQLModel, table=True):
    """One invocation step; ``payload_json`` is the validated payload as sent by the client."""

    __tablename__ = "invocation_steps"
    __table_args__ = (
        UniqueConstraint("session_seq", "step_id", name="uq_invocation_steps_session_step"),
        Index("ix_invocation_steps_session_seq", "session_seq", "seq"),
        Index("ix_invocation_steps_session_invocation_seq", "session_seq", "invocation_id", "seq"),
        {"sqlite_autoincrement": True},
    )

    seq: int | None = Field(default=None, primary_key=True)
    session_seq: int = Field(foreign_key="sessions.seq")
    invocation_id: str = Field(max_length=36)
    step_id: str = Field(max_length=36)
    step_time_us: int = Field(sa_type=BigInteger)
    payload_json: str = Field(sa_type=Text)


_sessions = Session.__table__
_tags = SessionTag.__table__
_invocations = Invocation.__table__
_steps = InvocationStep.__table__

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_us() -> int:
    """Return the current time in microseconds since the epoch."""
    return time.time_ns() // 1000


def datetime_from_us(us: int) -> datetime:
    """Return the aware UTC datetime for a count of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=us)


def us_from_datetime(moment: datetime) -> int:
    """Return microseconds since the epoch for a datetime (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def engine_for(db: str) -> Engine:
    """Build the SQLAlchemy engine for a SQLite path, ``:memory:`` or any SQLAlchemy URL.

    SQLite files run in WAL mode with ``synchronous=NORMAL``: durable across a process crash,
    and a commit costs no fsync of the database file, which keeps writes well under a
    millisecond. A busy timeout lets two service processes share one file.
    """
    if db == ":memory:":
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    elif "://" in db:
        engine = create_engine(db)
    else:
        path = Path(db).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})

    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if db != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
                # Checkpoints (copying the WAL into the database file, with an fsync) run on
                # the backend's WALCheckpointer thread, not inside a request's commit: an
                # automatic checkpoint stalls the committing request for milliseconds.
                cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    return engine


class WALCheckpointer:
    """Checkpoint a SQLite WAL database from a daemon thread, mostly off the request path.

    SQLite's automatic checkpoint runs inside the commit that crosses its threshold (1,000
    pages, about every 150 PutInvocationSteps), copies the WAL into the database file and
    fsyncs both there: that request, and the event loop with it, waits about 10 ms. Here a
    PASSIVE checkpoint (it never blocks writers) copies the bulk every ``interval`` seconds on
    its own connection, with the fsyncs outside the GIL. A WAL only starts over once a
    checkpoint has caught up with every frame, which never happens while writes keep coming;
    so when the WAL holds more than ``restart_frames`` pages (16 MiB) one short checkpoint
    runs holding the backend's lock (between two requests), and the next commit restarts the
    WAL. Durability is unchanged: a commit is in the WAL either way.
    """

    def __init__(
        self,
        engine: Engine,
        writer_lock: threading.RLock,
        *,
        interval: float = 0.2,
        restart_frames: int = 4096,
    ) -> None:
        self._engine = engine
        self._writer_lock = writer_lock
        self._interval = interval
        self._restart_frames = restart_frames
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, daemon=True, name="bedrock-sessions-local:wal-checkpoint"
        )
        self._thread.start()

    def _run(self) -> None:
        connection = self._engine.raw_connection()
        try:
            while not self._stop.wait(self._interval):
                try:
                    if self._checkpoint(connection) > self._restart_frames:
                        with self._writer_lock:
                            self._checkpoint(connection)
                except Exception:  # database gone (tests delete files): nothing left to do
                    return
        finally:
            connection.close()

    @staticmethod
    def _checkpoint(connection: Any) -> int:
        """Run a PASSIVE checkpoint; return how many frames the WAL holds."""
        cursor = connection.cursor()
        try:
            _busy, wal_frames, _copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            cursor.close()
        return wal_frames

    def stop(self) -> None:
        """Stop the thread; closing the last connection checkpoints what is left."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)


# Statements built once; SQLAlchemy caches their compiled form, so a request only binds values.
_SESSION_COLUMNS = (
    _sessions.c.seq,
    _sessions.c.session_id,
    _sessions.c.status,
    _sessions.c.created_at_us,
    _sessions.c.last_updated_at_us,
    _sessions.c.encryption_key_arn,
    _sessions.c.metadata_json,
    _sessions.c.invocation_count,
    _sessions.c.step_count,
)
_SELECT_SESSION = select(*_SESSION_COLUMNS).where(_sessions.c.session_id == bindparam("sid"))
_LIST_SESSIONS = (
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
_TOUCH_SESSION = (
    update(_sessions)
    .where(_sessions.c.seq == bindparam("s"))
    .values(
        last_updated_at_us=bindparam("now"),
        invocation_count=_sessions.c.invocation_count + bindparam("new_invocations"),
        step_count=_sessions.c.step_count + bindparam("new_steps"),
    )
)
_SELECT_INVOCATION = select(_invocations.c.seq).where(
    _invocations.c.session_seq == bindparam("s"),
    _invocations.c.invocation_id == bindparam("inv"),
)
_INSERT_INVOCATION = insert(_invocations)
_LIST_INVOCATIONS = (
    select(_invocations.c.seq, _invocations.c.invocation_id, _invocations.c.created_at_us)
    .where(_invocations.c.session_seq == bindparam("s"), _invocations.c.seq < bindparam("before"))
    .order_by(_invocations.c.seq.desc())
    .limit(bindparam("limit"))
)
_INSERT_STEP = insert(_steps)
_SELECT_STEP = select(
    _steps.c.invocation_id, _steps.c.step_id, _steps.c.step_time_us, _steps.c.payload_json
).where(_steps.c.session_seq == bindparam("s"), _steps.c.step_id == bindparam("step"))
_STEP_SUMMARY_COLUMNS = (
    _steps.c.seq,
    _steps.c.invocation_id,
    _steps.c.step_id,
    _steps.c.step_time_us,
)
_LIST_STEPS = (
    select(*_STEP_SUMMARY_COLUMNS)
    .where(_steps.c.session_seq == bindparam("s"), _steps.c.seq < bindparam("before"))
    .order_by(_steps.c.seq.desc())
    .limit(bindparam("limit"))
)
_LIST_INVOCATION_STEPS = (
    select(*_STEP_SUMMARY_COLUMNS)
    .where(
        _steps.c.session_seq == bindparam("s"),
        _steps.c.invocation_id == bindparam("inv"),
        _steps.c.seq < bindparam("before"),
    )
    .order_by(_steps.c.seq.desc())
    .limit(bindparam("limit"))
)
_SELECT_TAGS = select(_tags.c.key, _tags.c.value).where(_tags.c.session_seq == bindparam("s"))

# The hot path (PutInvocationStep, GetInvocationStep, ListInvocationSteps) folds its checks into
# as few statements as possible. Each of these answers only the common case; when one finds
# nothing (unknown session or invocation, ENDED/EXPIRED session, quota), the operation re-runs
# on the step-by-step path above, which finds the reason and raises the matching error.

#: insert a step only if the session is writable, under its quota, and holds the invocation
_PUT_STEP_IF_WRITABLE = insert(_steps).from_select(
    ["session_seq", "invocation_id", "step_id", "step_time_us", "payload_json"],
    select(
        _sessions.c.seq,
        bindparam("inv", type_=Text),
        bindparam("step", type_=Text),
        bindparam("time", type_=BigInteger),
        bindparam("payload", type_=Text),
    ).where(
        _sessions.c.session_id == bindparam("sid"),
        _sessions.c.status == bindparam("active"),
        # not expired: now - last_updated_at_us <= ttl, as an index-free comparison on the row
        _sessions.c.last_updated_at_us >= bindparam("fresh_since", type_=BigInteger),
        _sessions.c.step_count < bindparam("max_steps"),
        exists().where(
            _invocations.c.session_seq == _sessions.c.seq,
            _invocations.c.invocation_id == bindparam("inv", type_=Text),
        ),
    ),
)
_TOUCH_SESSION_BY_ID = (
    update(_sessions)
    .where(_sessions.c.session_id == bindparam("sid"))
    .values(
        last_updated_at_us=bindparam("now"),
        step_count=_sessions.c.step_count + 1,
    )
)
#: the session and, in one lookup, the step named in it (NULLs when the step is absent)
_GET_STEP_WITH_SESSION = (
    select(
        _sessions.c.session_id,
        _steps.c.invocation_id,
        _steps.c.step_id,
        _steps.c.step_time_us,
        _steps.c.payload_json,
    )
    .select_from(
        _sessions.outerjoin(
            _steps,
            and_(_steps.c.session_seq == _sessions.c.seq, _steps.c.step_id == bindparam("step")),
        )
    )
    .where(_sessions.c.session_id == bindparam("sid"))
)
_SELECT_SESSION_KEY = select(_sessions.c.seq, _sessions.c.session_id).where(
    _sessions.c.session_id == bindparam("sid")
)
#: the session and whether it holds the invocation (NULL seq when it does not)
_SELECT_SESSION_KEY_WITH_INVOCATION = (
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

# Larger than any seq: the first page is "everything before infinity".
_FIRST_PAGE = MAX_SEQ
#: "fresh since" bound when sessions never expire: older than any timestamp
_NEVER_EXPIRES = -MAX_SEQ


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
        """Return ``values`` in the driver's parameter style (a tuple in bind order or a dict)."""
        literals = self._literals
        if self._positional:
            return tuple([values[n] if n in values else literals[n] for n in self._names])
        return {n: values[n] if n in values else literals[n] for n in self._names}


class SessionBackend:
    """The 14 session operations over a SQL database.

    Methods take snake_case arguments named after the operation's input members and return a
    dict of the output members (``datetime`` for timestamps), or raise one of the exceptions in
    :mod:`bedrock_sessions_local.exceptions`. Each call is one transaction on one long-lived
    connection, serialised by a lock, so a backend may be shared between threads (the server
    calls it from its event loop thread only).
    """

    def __init__(
        self,
        db: str = "sessions.db",
        *,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
        knobs: ServiceKnobs | None = None,
        quotas: Quotas | None = None,
        default_page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self.engine = engine_for(db)
        self.region = region
        self.account = account
        self.knobs = knobs or ServiceKnobs()
        self.quotas = quotas or Quotas()
        self.default_page_size = default_page_size
        self._arn_prefix = f"arn:aws:bedrock:{region}:{account}:session/"
        self._lock = threading.RLock()
        self._connection: Connection | None = None
        SQLModel.metadata.create_all(self.engine, tables=[_sessions, _tags, _invocations, _steps])
        dialect = self.engine.dialect
        self._put_step = _PreparedStatement(_PUT_STEP_IF_WRITABLE, dialect)
        self._touch_session = _PreparedStatement(_TOUCH_SESSION_BY_ID, dialect)
        self._get_step = _PreparedStatement(_GET_STEP_WITH_SESSION, dialect)
        self._session_key = _PreparedStatement(_SELECT_SESSION_KEY, dialect)
        self._session_key_with_invocation = _PreparedStatement(
            _SELECT_SESSION_KEY_WITH_INVOCATION, dialect
        )
        self._list_steps = _PreparedStatement(_LIST_STEPS, dialect)
        self._list_invocation_steps = _PreparedStatement(_LIST_INVOCATION_STEPS, dialect)
        self._driver_integrity_error: type[Exception] = dialect.loaded_dbapi.IntegrityError
        database = self.engine.url.database
        self._checkpointer = (
            WALCheckpointer(self.engine, self._lock)
            if dialect.name == "sqlite" and database not in (None, "", ":memory:")
            else None
        )

    def close(self) -> None:
        """Release the database connections (the last one checkpoints the WAL on close)."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        self.engine.dispose()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """Yield the backend's connection inside one transaction, holding the backend lock.

        One long-lived connection saves a pool checkout and release per call, which cost more
        than the SQL of a whole PutInvocationStep. The lock makes the backend safe to share
        between threads. After a lost connection SQLAlchemy rolls back and reconnects on the
        next call.
        """
        with self._lock:
            if self._connection is None:
                self._connection = self.engine.connect()
            with self._connection.begin():
                yield self._connection

    @contextmanager
    def _driver_transaction(self) -> Iterator[Any]:
        """Yield a DBAPI cursor of the backend's connection inside one transaction.

        The fast path of the hot operations: the same connection and lock as
        :meth:`_transaction`, without SQLAlchemy's per-statement machinery. Commits when the
        block ends, rolls back when it raises.
        """
        with self._lock:
            if self._connection is None:
                self._connection = self.engine.connect()
            driver = self._connection.connection.dbapi_connection
            cursor = driver.cursor()
            try:
                yield cursor
            except BaseException:
                driver.rollback()
                raise
            else:
                driver.commit()
            finally:
                cursor.close()

    # ----------------------------------------------------------------------------- sessions

    def create_session(
        self,
        *,
        session_metadata: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        encryption_key_arn: str | None = None,
    ) -> dict[str, Any]:
        """Create an ACTIVE session; return createdAt, sessionArn, sessionId, sessionStatus.

        Raises:
            ServiceQuotaExceededException: more than ``max_sessions`` sessions, or too many tags.
        """
        if tags is not None and len(tags) > self.quotas.max_tags_per_session:
            raise ServiceQuotaExceededException(
                f"A session can have at most {self.quotas.max_tags_per_session} tags."
            )
        session_id = str(uuid.uuid4())
        moment = now_us()
        with self._transaction() as conn:
            count = conn.execute(select(func.count()).select_from(_sessions)).scalar_one()
            if count >= self.quotas.max_sessions:
                raise ServiceQuotaExceededException(
                    f"The service holds its quota of {self.quotas.max_sessions} sessions; "
                    "delete ended sessions first."
                )
            seq = conn.execute(
                insert(_sessions).values(
                    session_id=session_id,
                    status=ACTIVE,
                    created_at_us=moment,
                    last_updated_at_us=moment,
                    encryption_key_arn=encryption_key_arn,
                    metadata_json=orjson.dumps(session_metadata or {}).decode(),
                    invocation_count=0,
                    step_count=0,
                )
            ).inserted_primary_key[0]
            if tags:
                conn.execute(
                    insert(_tags),
                    [{"session_seq": seq, "key": k, "value": v} for k, v in tags.items()],
                )
        return {
            "createdAt": datetime_from_us(moment),
            "sessionArn": self.session_arn(session_id),
            "sessionId": session_id,
            "sessionStatus": ACTIVE,
        }

    def get_session(self, session_identifier: str) -> dict[str, Any]:
        """Return the session's details, metadata and encryption key ARN (if one was set).

        Raises:
            ResourceNotFoundException: no such session in this region and account.
        """
        with self._transaction() as conn:
            row = self._session_row(conn, session_identifier)
        result = {
            "createdAt": datetime_from_us(row.created_at_us),
            "lastUpdatedAt": datetime_from_us(row.last_updated_at_us),
            "sessionArn": self.session_arn(row.session_id),
            "sessionId": row.session_id,
            "sessionMetadata": orjson.loads(row.metadata_json),
            "sessionStatus": self._status(row.status, row.last_updated_at_us),
        }
        if row.encryption_key_arn is not None:
            result["encryptionKeyArn"] = row.encryption_key_arn
        return result

    def update_session(
        self, session_identifier: str, *, session_metadata: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Replace the session metadata (absent leaves it unchanged) and touch lastUpdatedAt.

        Raises:
            ResourceNotFoundException: no such session.
            ConflictException: the session is ENDED or EXPIRED.
        """
        moment = now_us()
        with self._transaction() as conn:
            row = self._writable_session_row(conn, session_identifier, "update")
            values: dict[str, Any] = {"last_updated_at_us": moment}
            if session_metadata is not None:
                values["metadata_json"] = orjson.dumps(session_metadata).decode()
            conn.execute(update(_sessions).where(_sessions.c.seq == row.seq).values(**values))
        return {
            "createdAt": datetime_from_us(row.created_at_us),
            "lastUpdatedAt": datetime_from_us(moment),
            "sessionArn": self.session_arn(row.session_id),
            "sessionId": row.session_id,
            "sessionStatus": ACTIVE,
        }

    def end_session(self, session_identifier: str) -> dict[str, Any]:
        """End the session (ACTIVE or EXPIRED become ENDED; ENDED stays ENDED, idempotently).

        Raises:
            ResourceNotFoundException: no such session.
        """
        with self._transaction() as conn:
            row = self._session_row(conn, session_identifier)
            if row.status != ENDED:
                conn.execute(
                    update(_sessions)
                    .where(_sessions.c.seq == row.seq)
                    .values(status=ENDED, last_updated_at_us=now_us())
                )
        return {
            "sessionArn": self.session_arn(row.session_id),
            "sessionId": row.session_id,
            "sessionStatus": ENDED,
        }

    def delete_session(self, session_identifier: str) -> dict[str, Any]:
        """Delete an ENDED or EXPIRED session with its invocations, steps and tags.

        Raises:
            ResourceNotFoundException: no such session.
            ConflictException: the session is ACTIVE (end it first, as AWS requires).
        """
        with self._transaction() as conn:
            row = self._session_row(conn, session_identifier)
            if self._status(row.status, row.last_updated_at_us) == ACTIVE:
                raise ConflictException(
                    f"Session {row.session_id} is ACTIVE. End it with EndSession before "
                    "deleting it."
                )
            for table in (_steps, _invocations, _tags):
                conn.execute(delete(table).where(table.c.session_seq == row.seq))
            conn.execute(delete(_sessions).where(_sessions.c.seq == row.seq))
        return {}

    def list_sessions(
        self, *, max_results: int | None = None, next_token: str | None = None
    ) -> dict[str, Any]:
        """Return one page of every session's summary, newest first, and a nextToken if more.

        Raises:
            ValidationException: the nextToken was not issued by ListSessions.
        """
        limit = max_results or self.default_page_size
        before = decode_token(next_token, "ListSessions", "*") if next_token else _FIRST_PAGE
        with self._transaction() as conn:
            rows = conn.execute(_LIST_SESSIONS, {"before": before, "limit": limit + 1}).all()
        return keyset_page(
            "ListSessions",
            "*",
            "sessionSummaries",
            rows,
            limit,
            lambda r: {
                "createdAt": datetime_from_us(r.created_at_us),
                "lastUpdatedAt": datetime_from_us(r.last_updated_at_us),
                "sessionArn": self.session_arn(r.session_id),
                "sessionId": r.session_id,
                "sessionStatus": self._status(r.status, r.last_updated_at_us),
            },
        )

    # -------------------------------------------------------------------------- invocations

    def create_invocation(
        self,
        session_identifier: str,
        *,
        invocation_id: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Create an invocation (id generated when absent); return createdAt, ids.

        Raises:
            ResourceNotFoundException: no such session.
            ConflictException: the session is ENDED or EXPIRED, or the id is already used in it.
            ServiceQuotaExceededException: the session holds its quota of invocations.
        """
        invocation_id = invocation_id or str(uuid.uuid4())
        moment = now_us()
        try:
            # The insert comes before any other write, so when the unique (session,
            # invocation_id) index rejects it the rolled-back transaction has changed nothing.
            with self._transaction() as conn:
                row = self._writable_session_row(conn, session_identifier, "add an invocation to")
                if row.invocation_count >= self.quotas.max_invocations_per_session:
                    raise ServiceQuotaExceededException(
                        f"Session {row.session_id} holds its quota of "
                        f"{self.quotas.max_invocations_per_session} invocations."
                    )
                conn.execute(
                    _INSERT_INVOCATION,
                    {
                        "session_seq": row.seq,
                        "invocation_id": invocation_id,
                        "description": description,
                        "created_at_us": moment,
                    },
                )
                conn.execute(
                    _TOUCH_SESSION,
                    {"s": row.seq, "now": moment, "new_invocations": 1, "new_steps": 0},
                )
        except IntegrityError:
            raise ConflictException(
                f"Invocation {invocation_id} already exists in session {session_identifier}."
            ) from None
        return {
            "createdAt": datetime_from_us(moment),
            "invocationId": invocation_id,
            "sessionId": row.session_id,
        }

    def list_invocations(
        self,
        session_identifier: str,
        *,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Return one page of the session's invocation summaries, newest first.

        Raises:
            ResourceNotFoundException: no such session.
            ValidationException: the nextToken belongs to another list or session.
        """
        limit = max_results or self.default_page_size
        with self._transaction() as conn:
            session = self._session_row(conn, session_identifier)
            scope = session.session_id
            before = (
                decode_token(next_token, "ListInvocations", scope) if next_token else _FIRST_PAGE
            )
            rows = conn.execute(
                _LIST_INVOCATIONS, {"s": session.seq, "before": before, "limit": limit + 1}
            ).all()
        return keyset_page(
            "ListInvocations",
            scope,
            "invocationSummaries",
            rows,
            limit,
            lambda r: {
                "createdAt": datetime_from_us(r.created_at_us),
                "invocationId": r.invocation_id,
                "sessionId": session.session_id,
            },
        )

    # -------------------------------------------------------------------------------- steps

    def put_invocation_step(
        self,
        session_identifier: str,
        *,
        invocation_identifier: str,
        invocation_step_time: datetime,
        payload: dict[str, Any],
        invocation_step_id: str | None = None,
    ) -> dict[str, Any]:
        """Store a step in an existing invocation of the session; return its invocationStepId.

        Raises:
            ResourceNotFoundException: no such session, or no such invocation in it.
            ConflictException: the session is ENDED or EXPIRED, or the step id is already used
                in the session.
            ServiceQuotaExceededException: the session holds its quota of steps.
        """
        step_id = invocation_step_id or str(uuid.uuid4())
        step_time_us = us_from_datetime(invocation_step_time)
        payload_json = orjson.dumps(payload).decode()
        moment = now_us()
        ttl = self.knobs.session_ttl_seconds
        values = {
            "inv": invocation_identifier,
            "step": step_id,
            "time": step_time_us,
            "payload": payload_json,
            "sid": self._session_id_from(session_identifier),
            "active": ACTIVE,
            # _status: expired when now - last_updated > ttl, so fresh when last >= now - ttl
            "fresh_since": _NEVER_EXPIRES if ttl is None else moment - round(ttl * 1_000_000),
            "max_steps": self.quotas.max_steps_per_session,
            "now": moment,
        }
        try:
            # One statement checks and inserts; the insert is the first write of the
            # transaction, so a duplicate step id rolls back having changed nothing.
            with self._driver_transaction() as cursor:
                cursor.execute(self._put_step.sql, self._put_step.parameters(values))
                inserted = cursor.rowcount == 1
                if inserted:
                    cursor.execute(self._touch_session.sql, self._touch_session.parameters(values))
        except self._driver_integrity_error:
            raise ConflictException(
                f"Invocation step {step_id} already exists in session {session_identifier}."
            ) from None
        if inserted:
            return {"invocationStepId": step_id}
        # Unknown session or invocation, not writable, or at quota: find out which, step by step.
        try:
            # As in create_invocation: the insert is the first write of the transaction.
            with self._transaction() as conn:
                row = self._writable_session_row(conn, session_identifier, "add a step to")
                if row.step_count >= self.quotas.max_steps_per_session:
                    raise ServiceQuotaExceededException(
                        f"Session {row.session_id} holds its quota of "
                        f"{self.quotas.max_steps_per_session} invocation steps."
                    )
                self._require_invocation(conn, row, invocation_identifier)
                conn.execute(
                    _INSERT_STEP,
                    {
                        "session_seq": row.seq,
                        "invocation_id": invocation_identifier,
                        "step_id": step_id,
                        "step_time_us": step_time_us,
                        "payload_json": payload_json,
                    },
                )
                conn.execute(
                    _TOUCH_SESSION,
                    {"s": row.seq, "now": moment, "new_invocations": 0, "new_steps": 1},
                )
        except IntegrityError:
            raise ConflictException(
                f"Invocation step {step_id} already exists in session {session_identifier}."
            ) from None
        return {"invocationStepId": step_id}

    def get_invocation_step(
        self,
        session_identifier: str,
        *,
        invocation_identifier: str,
        invocation_step_id: str,
    ) -> dict[str, Any]:
        """Return the step with its payload.

        Raises:
            ResourceNotFoundException: no such session, invocation, or step in that invocation.
        """
        values = {"sid": self._session_id_from(session_identifier), "step": invocation_step_id}
        with self._driver_transaction() as cursor:
            cursor.execute(self._get_step.sql, self._get_step.parameters(values))
            found = cursor.fetchone()
        if found is not None and found[1] == invocation_identifier:
            session_id, invocation_id, step_id, step_time_us, payload_json = found
            return {
                "invocationStep": {
                    "invocationId": invocation_id,
                    "invocationStepId": step_id,
                    "invocationStepTime": datetime_from_us(step_time_us),
                    "payload": orjson.loads(payload_json),
                    "sessionId": session_id,
                }
            }
        # Unknown session, invocation or step: the step-by-step path names the missing one.
        with self._transaction() as conn:
            session = self._session_row(conn, session_identifier)
            step = conn.execute(
                _SELECT_STEP, {"s": session.seq, "step": invocation_step_id}
            ).first()
            if step is None or step.invocation_id != invocation_identifier:
                self._require_invocation(conn, session, invocation_identifier)
                raise ResourceNotFoundException(
                    f"Invocation step {invocation_step_id} not found in invocation "
                    f"{invocation_identifier} of session {session.session_id}."
                )
        return {
            "invocationStep": {
                "invocationId": step.invocation_id,
                "invocationStepId": step.step_id,
                "invocationStepTime": datetime_from_us(step.step_time_us),
                "payload": orjson.loads(step.payload_json),
                "sessionId": session.session_id,
            }
        }

    def list_invocation_steps(
        self,
        session_identifier: str,
        *,
        invocation_identifier: str | None = None,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        """Return one page of step summaries, newest first, of one invocation or the session.

        Raises:
            ResourceNotFoundException: no such session, or no such invocation in it.
            ValidationException: the nextToken belongs to another list, session or invocation.
        """
        limit = max_results or self.default_page_size
        page = self._list_invocation_steps_fast(
            session_identifier, invocation_identifier, limit, next_token
        )
        if page is not None:
            return page
        # Unknown session or invocation: the step-by-step path raises the matching error.
        with self._transaction() as conn:
            session = self._session_row(conn, session_identifier)
            scope = session.session_id
            params: dict[str, Any] = {"s": session.seq, "limit": limit + 1}
            statement = _LIST_STEPS
            if invocation_identifier is not None:
                self._require_invocation(conn, session, invocation_identifier)
                scope = f"{scope}/{invocation_identifier}"
                params["inv"] = invocation_identifier
                statement = _LIST_INVOCATION_STEPS
            params["before"] = (
                decode_token(next_token, "ListInvocationSteps", scope)
                if next_token
                else _FIRST_PAGE
            )
            rows = conn.execute(statement, params).all()
        return keyset_page(
            "ListInvocationSteps",
            scope,
            "invocationStepSummaries",
            rows,
            limit,
            lambda r: {
                "invocationId": r.invocation_id,
                "invocationStepId": r.step_id,
                "invocationStepTime": datetime_from_us(r.step_time_us),
                "sessionId": session.session_id,
            },
        )

    def _list_invocation_steps_fast(
        self,
        session_identifier: str,
        invocation_identifier: str | None,
        limit: int,
        next_token: str | None,
    ) -> dict[str, Any] | None:
        """Return the page in two statements, or None when the session or invocation is unknown.

        Raises:
            ValidationException: the nextToken belongs to another list, session or invocation.
        """
        values: dict[str, Any] = {
            "sid": self._session_id_from(session_identifier),
            "inv": invocation_identifier,
            "limit": limit + 1,
        }
        with self._driver_transaction() as cursor:
            if invocation_identifier is None:
                cursor.execute(self._session_key.sql, self._session_key.parameters(values))
                key = cursor.fetchone()
                if key is None:
                    return None
                session_seq, session_id = key
                scope = session_id
                statement = self._list_steps
            else:
                lookup = self._session_key_with_invocation
                cursor.execute(lookup.sql, lookup.parameters(values))
                key = cursor.fetchone()
                if key is None or key[2] is None:
                    return None
                session_seq, session_id, _ = key
                scope = f"{session_id}/{invocation_identifier}"
                statement = self._list_invocation_steps
            values["s"] = session_seq
            values["before"] = (
                decode_token(next_token, "ListInvocationSteps", scope)
                if next_token
                else _FIRST_PAGE
            )
            cursor.execute(statement.sql, statement.parameters(values))
            rows = cursor.fetchall()
        # Raw DB-API rows: (seq, invocation_id, step_id, step_time_us).
        return keyset_page(
            "ListInvocationSteps",
            scope,
            "invocationStepSummaries",
            rows,
            limit,
            lambda r: {
                "invocationId": r[1],
                "invocationStepId": r[2],
                "invocationStepTime": datetime_from_us(r[3]),
                "sessionId": session_id,
            },
            seq_of=lambda r: r[0],
        )

    # --------------------------------------------------------------------------------- tags

    def tag_resource(self, resource_arn: str, *, tags: dict[str, str]) -> dict[str, Any]:
        """Merge ``tags`` into the session's tags (ENDED and EXPIRED sessions too).

        Raises:
            ResourceNotFoundException: no session has this ARN.
            ServiceQuotaExceededException: the session would have more than 200 tags.
        """
        with self._transaction() as conn:
            row = self._session_row(conn, resource_arn)
            existing = {k for k, _ in conn.execute(_SELECT_TAGS, {"s": row.seq})}
            if len(existing | tags.keys()) > self.quotas.max_tags_per_session:
                raise ServiceQuotaExceededException(
                    f"A session can have at most {self.quotas.max_tags_per_session} tags; "
                    f"it has {len(existing)} and the request adds "
                    f"{len(tags.keys() - existing)}."
                )
            replaced = existing & tags.keys()
            if replaced:
                conn.execute(
                    delete(_tags).where(_tags.c.session_seq == row.seq, _tags.c.key.in_(replaced))
                )
            conn.execute(
                insert(_tags),
                [{"session_seq": row.seq, "key": k, "value": v} for k, v in tags.items()],
            )
        return {}

    def untag_resource(self, resource_arn: str, *, tag_keys: Iterable[str]) -> dict[str, Any]:
        """Remove the given tag keys from the session; absent keys are ignored.

        Raises:
            ResourceNotFoundException: no session has this ARN.
        """
        with self._transaction() as conn:
            row = self._session_row(conn, resource_arn)
            conn.execute(
                delete(_tags).where(_tags.c.session_seq == row.seq, _tags.c.key.in_(list(tag_keys)))
            )
        return {}

    def list_tags_for_resource(self, resource_arn: str) -> dict[str, Any]:
        """Return ``{"tags": {...}}`` (an empty map for an untagged session).

        Raises:
            ResourceNotFoundException: no session has this ARN.
        """
        with self._transaction() as conn:
            row = self._session_row(conn, resource_arn)
            tags = {key: value for key, value in conn.execute(_SELECT_TAGS, {"s": row.seq})}
        return {"tags": tags}

    # ------------------------------------------------------------------------------ queries

    def session_count(self) -> int:
        """Return how many sessions are stored (for the health endpoint)."""
        with self._transaction() as conn:
            return conn.execute(select(func.count()).select_from(_sessions)).scalar_one()

    def session_arn(self, session_id: str) -> str:
        """Return the ARN of a session id in this service's region and account."""
        return self._arn_prefix + session_id

    # ------------------------------------------------------------------------------ private

    def _session_id_from(self, identifier: str) -> str:
        """Return the session id named by an id or an ARN of this region and account.

        An ARN of another partition, region or account names a session this service cannot
        hold, so it is "not found" (as a session of another account would be for AWS).
        """
        if not identifier.startswith("arn:"):
            return identifier
        prefix, _, session_id = identifier.rpartition("/")
        if prefix + "/" != self._arn_prefix:
            raise ResourceNotFoundException(
                f"Session {identifier} not found: this service holds sessions of region "
                f"{self.region} and account {self.account} only."
            )
        return session_id

    def _session_row(self, conn: Any, identifier: str) -> Any:
        row = conn.execute(_SELECT_SESSION, {"sid": self._session_id_from(identifier)}).first()
        if row is None:
            raise ResourceNotFoundException(f"Session {identifier} not found.")
        return row

    def _writable_session_row(self, conn: Any, identifier: str, action: str) -> Any:
        row = self._session_row(conn, identifier)
        status = self._status(row.status, row.last_updated_at_us)
        if status != ACTIVE:
            raise ConflictException(
                f"Cannot {action} session {row.session_id}: it is {status}. An ended or "
                "expired session can be read but not changed."
            )
        return row

    def _require_invocation(self, conn: Any, session: Any, invocation_id: str) -> None:
        found = conn.execute(_SELECT_INVOCATION, {"s": session.seq, "inv": invocation_id}).first()
        if found is None:
            raise ResourceNotFoundException(
                f"Invocation {invocation_id} not found in session {session.session_id}."
            )

    def _status(self, stored: str, last_updated_at_us: int) -> str:
        if stored != ACTIVE:
            return stored
        ttl = self.knobs.session_ttl_seconds
        if ttl is not None and now_us() - last_updated_at_us > round(ttl * 1_000_000):
            return EXPIRED
        return ACTIVE
