"""How the backend reaches its database: the engine, one connection, and the WAL checkpointer.

:func:`engine_for` turns the ``--db`` value into an engine; SQLite files get WAL mode and the
pragmas that keep a commit under a millisecond. :class:`Database` holds one long-lived
connection and gives transactions on it (through SQLAlchemy, or straight on the DB-API cursor
for the fast paths). :class:`WALCheckpointer` copies SQLite's write-ahead log into the database
file from a thread of its own, so that no request waits for it.

Example::

    database = Database(engine_for("var/bedrock-sessions.db"))  # or ":memory:", or a URL
    with database.transaction() as conn:
        conn.execute(text("SELECT 1"))
    database.close()  # stops the checkpointer thread and closes the connection
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import StaticPool


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
            # Zero what a delete frees on pages written anyway (no extra I/O): a deleted
            # session's wrapped data key does not linger in the file (crypto-shredding).
            cursor.execute("PRAGMA secure_delete=FAST")
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


def wal_checkpointer_for(engine: Engine, writer_lock: threading.RLock) -> WALCheckpointer | None:
    """Start a :class:`WALCheckpointer` for a SQLite file; return None for any other database.

    An in-memory SQLite database has no WAL, and other databases checkpoint by themselves.
    """
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
        return WALCheckpointer(engine, writer_lock)
    return None


class Database:
    """One long-lived connection to the service's database, and transactions on it.

    One connection saves a pool checkout and release per call, which cost more than the SQL of
    a whole PutInvocationStep. A lock serialises the transactions, so a backend may be shared
    between threads; the WAL checkpointer takes the same lock for its short restart checkpoint.
    After a lost connection SQLAlchemy rolls back and reconnects on the next call.

    Example::

        database = Database(engine_for(":memory:"))
        with database.transaction() as conn:
            conn.execute(text("SELECT 1"))
        database.close()
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.lock = threading.RLock()
        self._connection: Connection | None = None
        #: the WAL checkpointer thread of a SQLite file (None for other databases)
        self.checkpointer = wal_checkpointer_for(engine, self.lock)

    def close(self) -> None:
        """Stop the checkpointer and close the connections; closing twice is harmless."""
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        with self.lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        self.engine.dispose()

    def _connect(self) -> Connection:
        if self._connection is None:
            self._connection = self.engine.connect()
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Yield the connection inside one transaction, holding the lock.

        Commits when the block ends, rolls back when it raises.
        """
        with self.lock:
            connection = self._connect()
            with connection.begin():
                yield connection

    @contextmanager
    def driver_transaction(self) -> Iterator[Any]:
        """Yield a DB-API cursor of the same connection inside one transaction, holding the lock.

        For the fast paths: SQL straight to the driver, without SQLAlchemy's per-statement
        machinery. Commits when the block ends, rolls back when it raises.
        """
        with self.lock:
            driver = self._connect().connection.dbapi_connection
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
