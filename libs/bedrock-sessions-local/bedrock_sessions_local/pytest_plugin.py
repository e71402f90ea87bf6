"""Pytest fixtures for code that talks to Bedrock Session Management: a local service per module.

Loaded automatically when this package is installed (a ``pytest11`` entry point). Fixtures:

- ``session_service_url``: endpoint of a local service on 127.0.0.1 and a free port, storing in a
  fresh SQLite file, for the whole test module; stopped when the module ends.
- ``session_client``: a real boto3 ``bedrock-agent-runtime`` client of that service.
- ``new_session``: a factory, ``new_session(**create_session_kwargs) -> CreateSession response``
  (a dict with ``sessionId``, ``sessionArn``, ...).
- ``session_service_admin``: the principal that signs the knob reset; None (unsigned) for the
  plugin's own service. A module whose ``session_service_url`` runs in IAM mode overrides it
  with an admin of its credentials file.
- ``postgres`` / ``new_postgres_database``: a throwaway PostgreSQL server for the test run (Debian's
  ``postgresql`` binaries) and fresh databases on it, for running the service on PostgreSQL.

Knobs a test changes on the module's service (latency, faults, TTL, fault seed) are reset after
the test.

Example::

    def test_sessions_are_listed(session_client, new_session):
        created = new_session(tags={"user": "ana"})
        ids = [s["sessionId"] for s in session_client.list_sessions()["sessionSummaries"]]
        assert created["sessionId"] in ids
"""

from __future__ import annotations

import urllib.error
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bedrock_sessions_local.config import ServiceKnobs
from bedrock_sessions_local.credentials import Principal

#: every knob at its default (faults off, no latency, no expiry, dice seeded from the OS)
DEFAULT_KNOBS: dict[str, Any] = ServiceKnobs().as_dict()


@pytest.fixture(scope="module")
def session_service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Endpoint URL of a local session service for this test module (fresh SQLite file)."""
    from bedrock_sessions_local.testing import running_service

    db = tmp_path_factory.mktemp("sessions") / "sessions.db"
    with running_service(db=db) as url:
        yield url


@pytest.fixture(scope="module")
def session_service_admin() -> Principal | None:
    """The principal that signs the knob reset: None (unsigned) for a service in plain mode.

    A module whose ``session_service_url`` runs in IAM mode overrides this with an admin
    principal of its credentials file; without one the service refuses the reset (403), which
    is then skipped: a test there can change knobs only as an admin it knows, so a module
    that does must name that admin here.
    """
    return None


@pytest.fixture(autouse=True)
def _reset_session_service_knobs(request: pytest.FixtureRequest) -> Iterator[None]:
    uses_service = "session_service_url" in request.fixturenames
    admin = request.getfixturevalue("session_service_admin") if uses_service else None
    yield
    if uses_service:
        from bedrock_sessions_local.testing import configure_service

        url = request.getfixturevalue("session_service_url")
        try:
            configure_service(url, credentials=admin, **DEFAULT_KNOBS)
        except urllib.error.HTTPError as error:
            if admin is not None or error.code != 403:
                raise


@pytest.fixture(scope="module")
def session_client(session_service_url: str) -> Any:
    """A boto3 ``bedrock-agent-runtime`` client of the module's service (default retries)."""
    from bedrock_sessions_local.testing import make_client

    return make_client(session_service_url)


@pytest.fixture
def new_session(session_client: Any) -> Callable[..., dict[str, Any]]:
    """Factory: create a session (keyword arguments go to CreateSession); return the response."""

    def create(**kwargs: Any) -> dict[str, Any]:
        return session_client.create_session(**kwargs)

    return create


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """Base URL of a throwaway PostgreSQL server for the whole test run (started on first use)."""
    from bedrock_sessions_local.postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def new_postgres_database(postgres: str) -> Callable[[], str]:
    """Factory: a fresh, empty PostgreSQL database; returns its SQLAlchemy URL."""
    from bedrock_sessions_local.postgres import create_database

    return lambda: create_database(postgres, f"test_{uuid.uuid4().hex[:12]}")
