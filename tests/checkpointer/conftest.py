"""Fixtures: one local Bedrock session service per test module, clients and sessions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from checkpointer_support import make_client, new_session_id

from bedrock_sessions_local.testing import running_service


@pytest.fixture(scope="module")
def service_url() -> Iterator[str]:
    """Endpoint of a local session service (in-memory SQLite) on a free 127.0.0.1 port."""
    with running_service() as url:
        yield url


@pytest.fixture(scope="module")
def client(service_url: str) -> Any:
    """A real boto3 ``bedrock-agent-runtime`` client of the module's service."""
    return make_client(service_url)


@pytest.fixture
def new_session(client: Any) -> Callable[[], str]:
    """Factory: create a Bedrock session and return its id (a LangGraph thread id)."""
    return lambda: new_session_id(client)
