"""The checkpointer's tests run against the local Bedrock session service, started per module by
the ``bedrock-sessions-local`` pytest plugin (``session_service_url``, ``session_client``,
``new_session``); ``thread`` is a new session's id, which is what a LangGraph thread id is here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(scope="module")
def client(session_client: Any) -> Any:
    """The module's boto3 ``bedrock-agent-runtime`` client."""
    return session_client


@pytest.fixture
def new_thread(new_session: Callable[..., dict[str, Any]]) -> Callable[[], str]:
    """Factory: create a Bedrock session and return its id (a LangGraph thread id)."""
    return lambda: new_session()["sessionId"]
