"""Fixtures shared by every test folder."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from pg_server import create_database, postgres_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """Base URL of a throwaway PostgreSQL server for the whole test run (started on first use)."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def new_postgres_database(postgres: str) -> Callable[[], str]:
    """Factory: a fresh, empty PostgreSQL database; returns its SQLAlchemy URL."""

    def create() -> str:
        return create_database(postgres, f"test_{uuid.uuid4().hex[:12]}")

    return create
