"""The bedrock-agent-runtime client, pointed at the local session service or at AWS.

Which one is decided by the settings alone: on the embedded default the endpoint is the local
service; `AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME` overrides it; with `SESSION_STORE=aws` and no
override, boto3's normal endpoint and credential chain apply.
"""

from __future__ import annotations

import boto3
from botocore.config import Config

from assistant.config import Settings

# Retries: botocore's standard mode retries ThrottlingException and InternalServerException.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4},
    connect_timeout=3,
    read_timeout=30,
    max_pool_connections=32,
    user_agent_extra="shoe-assistant",
)


def session_client(settings: Settings):
    """A boto3 `bedrock-agent-runtime` client for the configured session store."""
    endpoint = settings.resolved_session_endpoint
    kwargs: dict = {"region_name": settings.aws_region, "config": CLIENT_CONFIG}
    if endpoint:
        kwargs["endpoint_url"] = endpoint
    session = boto3.Session()
    if settings.uses_local_sessions and session.get_credentials() is None:
        # The local service does not check signatures, but botocore needs something to sign with.
        kwargs.update(aws_access_key_id="local", aws_secret_access_key="local")
    return session.client("bedrock-agent-runtime", **kwargs)


def error_code(error: Exception) -> str | None:
    """The AWS error code of a botocore ClientError, or None for any other exception."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None
