"""The catalog database: engine, tables and seeding from ``data/*.json``.

SQLite (a file under ``var/``) is the default; any SQLAlchemy URL works, for example
``postgresql+psycopg://shop:secret@db/shop`` for a shared deployment (``DATABASE_URL``).

Several processes share the SQLite file: the Streamlit app, the CLI and the tests. SQLite is put
in WAL mode (readers never block the writer) with a busy timeout (a writer waits for the other
writer instead of failing at once). Every write in this package starts with an INSERT or a
conditional UPDATE, so a transaction takes the write lock on its first statement and waits for it
there, rather than failing later when upgrading a read snapshot.

    >>> engine = get_engine("sqlite:///var/shop.db")
    >>> init_db(engine)  # creates the tables and seeds products, stock and users once
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, func, inspect, text
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine, select

from assistant.shopdb.tables import Product, StockLevel, User

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR.parent / 'var' / 'shop.db'}"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def get_engine(database_url: str | None = None, *, echo: bool = False) -> Engine:
    """An engine for the catalog database at `database_url` (default: ``var/shop.db``).

    For SQLite files the parent folder is created, and every connection is switched to WAL with
    a busy timeout and foreign keys on. ``sqlite://`` (in memory) uses one shared connection so
    that every session sees the same data. The engine does not create tables: call `init_db`.
    """
    url = database_url or DEFAULT_DATABASE_URL
    if not url.startswith("sqlite"):
        return create_engine(url, echo=echo, pool_pre_ping=True)

    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    if not in_memory:
        path = url.split(":///", 1)[1].split("?", 1)[0]
        private_file(Path(path).expanduser())
    engine = create_engine(
        url,
        echo=echo,
        # Streamlit and tests use the engine from several threads; SQLite's own locking is
        # what serialises writers, not Python's thread check.
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        poolclass=StaticPool if in_memory else None,
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            _switch_to_wal(cursor)
            # With WAL, NORMAL is durable against application crashes and much faster.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def private_file(path: Path) -> None:
    """Create the database file readable by its owner only (0600), or make it so.

    SQLite creates the -wal and -shm files with the mode of the database file, so they are
    private too. The folder is created if needed. An existing file is changed by its path and
    never opened here: closing any descriptor of a file drops every POSIX lock this process
    holds on it, including those of SQLite connections that are open right now.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) != 0o600:
            os.chmod(path, 0o600)  # a file from before may be 0644
        return
    os.close(descriptor)  # a new, empty file: nobody can hold a lock on it yet


def _switch_to_wal(cursor: Any, attempts: int = 100) -> None:
    """Put the database file in WAL mode (a persistent property of the file).

    Switching needs an exclusive lock and SQLite does not wait for it (the busy timeout does
    not apply), so processes opening a brand-new file together retry briefly.
    """
    for attempt in range(attempts):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def init_db(engine: Engine, data_dir: Path = DATA_DIR) -> None:
    """Create the tables and seed products, stock and users from `data_dir` when they are empty.

    Idempotent, and safe when two processes call it at once: a table created by the other
    process is tolerated, and each seed runs in one transaction whose primary keys collide with
    the other's, so exactly one of them commits and the loser rolls back and carries on.
    """
    create_tables(engine)
    add_missing_columns(engine)
    _seed_once(engine, "products", lambda session: _seed_products(session, data_dir), Product)
    _seed_once(engine, "users", lambda session: _seed_users(session, data_dir), User)
    _add_missing_accounts(engine, data_dir)


def add_missing_columns(engine: Engine) -> None:
    """Add columns that newer versions of a table have to a database created before them.

    `create_all` creates missing tables but never alters existing ones; the columns added since
    are all nullable or have a default, so ``ALTER TABLE ... ADD COLUMN`` is enough (and is what
    both SQLite and PostgreSQL support). Safe when two processes race: a column the other
    process just added is tolerated.
    """
    existing_tables = set(inspect(engine).get_table_names())
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        present = {column["name"] for column in inspect(engine).get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=engine.dialect)
            default = column.default.arg if column.default is not None else None
            clause = f" DEFAULT {default!r}" if isinstance(default, int | float) else ""
            try:
                with engine.begin() as connection:
                    connection.execute(
                        text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}{clause}')
                    )
            except (OperationalError, ProgrammingError) as error:
                if "duplicate" not in str(error).lower() and "exists" not in str(error).lower():
                    raise


@contextmanager
def session_scope(bind: Session | Engine) -> Iterator[Session]:
    """Yield `bind` if it is already a Session, else a new Session on the engine, closed after.

    The catalog's functions take either, so a caller with an engine (a tool, a page) need not
    manage sessions, and a caller with a session (a test, a larger unit of work) keeps control.
    Objects stay readable after the session closes (``expire_on_commit=False``).
    """
    if isinstance(bind, Session):
        yield bind
        return
    with Session(bind, expire_on_commit=False) as session:
        yield session


def create_tables(engine: Engine, attempts: int = 10) -> None:
    """Create any missing table (no seeding); tolerates another process creating them too."""
    for attempt in range(attempts):
        try:
            SQLModel.metadata.create_all(engine)
            return
        except (OperationalError, ProgrammingError) as error:
            # Another process created a table between our existence check and our CREATE.
            # Each such failure means it made progress, so checking again soon succeeds.
            if "already exists" not in str(error).lower() or attempt == attempts - 1:
                raise


def _seed_once(engine: Engine, what: str, seed: Any, table: type[SQLModel]) -> None:
    with Session(engine) as session:
        if session.exec(select(func.count()).select_from(table)).one() > 0:
            return
        try:
            seed(session)
            session.commit()
            log.info("seeded %s", what)
        except IntegrityError:
            # Another process seeded the same rows first; theirs are identical to ours.
            session.rollback()
            log.info("%s already seeded by another process", what)


def _seed_products(session: Session, data_dir: Path) -> None:
    catalog = json.loads((data_dir / "catalog.json").read_text(encoding="utf-8"))
    stock_by_product = {item["product_id"]: item.pop("stock") for item in catalog["products"]}
    session.add_all(Product(**item) for item in catalog["products"])
    # Products first, so the stock's foreign keys hold and a racing seeder's primary-key
    # collision surfaces before any stock row is written.
    session.flush()
    session.add_all(
        StockLevel(product_id=product_id, size=float(size), quantity=quantity)
        for product_id, stock in stock_by_product.items()
        for size, quantity in stock.items()
    )
    session.flush()


def _add_missing_accounts(engine: Engine, data_dir: Path) -> None:
    """Bring a database seeded by an older version up to the accounts of ``users.json``.

    Adds accounts it lacks and fills sign-in fields (e-mail, password hash) that are empty; a
    password or profile changed since is left alone.
    """
    users = json.loads((data_dir / "users.json").read_text(encoding="utf-8"))["users"]
    with Session(engine) as session:
        for item in users:
            row = session.get(User, item["username"])
            if row is None:
                session.add(User(**item))
                continue
            for name in ("email", "password_hash"):
                if getattr(row, name) is None and item.get(name):
                    setattr(row, name, item[name])
                    session.add(row)
        try:
            session.commit()
        except IntegrityError:  # another process added them first
            session.rollback()


def _seed_users(session: Session, data_dir: Path) -> None:
    users = json.loads((data_dir / "users.json").read_text(encoding="utf-8"))
    for item in users["users"]:
        session.add(User(**item))
    session.flush()
