"""The shop database file is private (0600) without ever breaking SQLite's locks.

Closing any descriptor of a file drops every POSIX lock the process holds on it, so making an
existing database private must never open it: a lock held by a connection of this process
would silently vanish and another process could write at the same time.
"""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys

from assistant.shopdb import get_engine


def test_opening_the_database_again_keeps_the_locks_of_open_connections(tmp_path) -> None:
    path = tmp_path / "shop.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")  # this process holds the write lock
    holder.execute("INSERT INTO t VALUES (1)")
    path.chmod(0o644)

    get_engine(f"sqlite:///{path}").dispose()  # another Shop of this process starts

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other = subprocess.run(
        [sys.executable, "-c",
         "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=0, isolation_level=None)\n"
         "try:\n    c.execute('BEGIN IMMEDIATE'); print('got the lock')\n"
         "except sqlite3.OperationalError as e:\n    print(e)",
         str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "locked" in other.stdout, other.stdout + other.stderr
    holder.execute("COMMIT")
    holder.close()
