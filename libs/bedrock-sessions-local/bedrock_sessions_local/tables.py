"""The SQLModel tables of the local service, and the microsecond timestamps they store.

Four tables hold sessions, their tags, invocations and invocation steps. Every table has an
integer autoincrement ``seq`` primary key: lists are newest first (``seq`` descending) and
paginate by keyset on it, through composite indexes that make the first page cost the same in a
session of 10 steps as in one of 10,000. Times are stored as integer microseconds since the
epoch (UTC), which every database compares and indexes alike.

Example::

    from sqlmodel import SQLModel, create_engine

    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine, tables=TABLES)
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, Engine, Index, LargeBinary, Text, UniqueConstraint, inspect, text
from sqlmodel import Field, SQLModel

#: Session states. ACTIVE and ENDED are stored; EXPIRED is computed on read from the idle TTL.
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
    #: JSON object of the session metadata (SessionMetadataMap), or sealed (encryption.py)
    metadata_json: str = Field(default="{}", sa_type=Text)
    # Counters kept in the row so quota checks cost no COUNT over a large session.
    invocation_count: int = Field(default=0)
    step_count: int = Field(default=0)
    # The session's data key, wrapped by its key-encryption key (the KEK's ARN and keyring
    # version beside it); None for a session stored in plaintext. Deleting the row shreds it.
    data_key: bytes | None = Field(default=None, sa_type=LargeBinary)
    data_key_kek: str | None = Field(default=None, sa_type=Text)
    data_key_kek_version: int | None = Field(default=None)
    #: steps with this seq or a larger one are sealed (0 for a session encrypted from the start)
    first_sealed_step_seq: int | None = Field(default=None, sa_type=BigInteger)


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
    """One invocation step; ``payload_json`` is the validated payload as sent by the client,
    as JSON or sealed under the session's data key (``encryption.py``)."""

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


#: The service's tables, for ``SQLModel.metadata.create_all(engine, tables=TABLES)``: the
#: metadata is shared with any other SQLModel tables of the process, which are not ours to create.
TABLES = [Session.__table__, SessionTag.__table__, Invocation.__table__, InvocationStep.__table__]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def add_missing_columns(engine: Engine) -> list[str]:
    """Add the columns a database made by an older version lacks; return them as table.column.

    Every column added since the first version is nullable, so ``ALTER TABLE ... ADD COLUMN``
    upgrades a database in place and its rows read as they did (a plaintext session has no
    data key).
    """
    inspector = inspect(engine)
    quote = engine.dialect.identifier_preparer.quote
    added = []
    with engine.begin() as conn:
        for table in TABLES:
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    kind = column.type.compile(dialect=engine.dialect)
                    name = f"{quote(table.name)} ADD COLUMN {quote(column.name)}"
                    conn.execute(text(f"ALTER TABLE {name} {kind}"))
                    added.append(f"{table.name}.{column.name}")
    return added


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
