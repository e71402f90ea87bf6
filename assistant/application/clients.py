"""The one place that builds the bedrock-agent-runtime client: local session service or AWS.

Which one is decided by the settings alone: on the embedded default the endpoint is the local
service; `AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME` overrides it; with `SESSION_STORE=aws` and no
override, boto3's normal endpoint and credential chain apply. The client comes from the
checkpointer library's `make_session_client` (connection pool sized for concurrent history
reads, botocore's standard retry mode); the shop adds its timeouts and user agent.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

from assistant.settings import Settings
from langgraph_checkpoint_bedrock_sessions import error_code, make_session_client

__all__ = ["CLIENT_CONFIG", "error_code", "session_client"]

# Standard mode retries ThrottlingException, 5xx answers and timeouts with jittered back-off.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=3,
    read_timeout=30,
    user_agent_extra="shoe-assistant",
)


def session_client(settings: Settings) -> Any:
    """A boto3 `bedrock-agent-runtime` client for the configured session store."""
    credentials: dict = {}
    if settings.uses_local_sessions and boto3.Session().get_credentials() is None:
        # The local service does not check signatures, but botocore needs something to sign
        # with. Demo values, not a secret.
        credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    return make_session_client(
        settings.resolved_session_endpoint,
        settings.aws_region,
        config=CLIENT_CONFIG,
        **credentials,
    )
