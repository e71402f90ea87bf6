"""Fixtures: one local session service per test module (temp SQLite file) and boto3 clients.

Tests create their own sessions, so they share a service; knobs changed by a test are reset
after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sessions_local_support import DEFAULT_KNOBS, make_client

from bedrock_sessions_local.testing import configure_service, running_service


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Endpoint URL of a service on a free port, storing into a fresh SQLite file."""
    db: Path = tmp_path_factory.mktemp("sessions") / "sessions.db"
    with running_service(db=db) as url:
        yield url


@pytest.fixture(autouse=True)
def _reset_knobs(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "service_url" in request.fixturenames:
        configure_service(request.getfixturevalue("service_url"), **DEFAULT_KNOBS)


@pytest.fixture(scope="module")
def client(service_url: str) -> Any:
    """A boto3 client of the module's service (botocore retries left at their default)."""
    return make_client(service_url)


@pytest.fixture(scope="module")
def no_retry_client(service_url: str) -> Any:
    """A boto3 client that never retries, to observe injected 429 and 500 answers."""
    return make_client(service_url, retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture
def new_session(client: Any) -> Callable[..., dict[str, Any]]:
    """Factory: create a session (keyword arguments go to CreateSession) and return it."""

    def create(**kwargs: Any) -> dict[str, Any]:
        return client.create_session(**kwargs)

    return create
