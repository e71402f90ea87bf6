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

__all__ = ["client_config", "error_code", "session_client"]


def client_config(settings: Settings) -> Config:
    """Timeouts, retries and user agent of the session-store client, from the settings.

    Every call is tried up to `SESSION_MAX_ATTEMPTS` times in all on throttling, 5xx answers,
    timeouts and dropped connections, with jittered exponential back-off (botocore's "legacy"
    mode: a random base doubled per attempt). Not "standard" or "adaptive": both share one
    retry quota per client, and a retried write that the store had already committed ends in
    a 409 that the checkpointer resolves as a success (it reads the step back), which botocore
    never refunds to the quota. Under a sustained fault rate the one shared client then stops
    retrying altogether (seen after about a dozen turns at 20 %). Every write the checkpointer
    makes is idempotent, so a bounded number of retries per call is safe; a budget per call
    instead of per client keeps one bad minute from disabling retries for the rest of the day.
    """
    return Config(
        retries={"mode": "legacy", "total_max_attempts": settings.session_max_attempts},
        connect_timeout=settings.session_connect_timeout,
        read_timeout=settings.session_read_timeout,
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
        config=client_config(settings),
        **credentials,
    )
