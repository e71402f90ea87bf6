"""Build a checkpointer (and its boto3 client) in one call."""

from __future__ import annotations

from typing import Any, Literal, overload

import boto3
from botocore.config import Config

from langgraph_checkpoint_bedrock_sessions.async_checkpointer import AsyncBedrockSessionCheckpointer
from langgraph_checkpoint_bedrock_sessions.sync_checkpointer import BedrockSessionCheckpointer

#: connections per client: one per concurrent read of a history page, plus LangGraph's writers
DEFAULT_MAX_POOL_CONNECTIONS = 32


#: retries for the session store: botocore's standard mode (throttling, 5xx, timeouts) with
#: jittered exponential back-off
DEFAULT_RETRIES = {"mode": "standard", "max_attempts": 5}


def make_session_client(
    endpoint_url: str | None = None,
    region_name: str | None = None,
    *,
    max_pool_connections: int = DEFAULT_MAX_POOL_CONNECTIONS,
    config: Config | None = None,
    **client_kwargs: Any,
) -> Any:
    """A ``bedrock-agent-runtime`` client sized for concurrent reads.

    ``endpoint_url=None`` uses AWS (or ``AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME``);
    ``region_name=None`` the region of the environment. Standard retry mode retries throttling
    and 5xx answers with back-off; ``config`` is merged over these defaults (timeouts, retries,
    user agent). Other keyword arguments go to ``boto3.client`` (credentials...).

    Example::

        client = make_session_client("http://127.0.0.1:8766")  # a local session service
        session_id = client.create_session()["sessionId"]
    """
    defaults = Config(max_pool_connections=max_pool_connections, retries=DEFAULT_RETRIES)
    config = defaults.merge(config) if config is not None else defaults
    return boto3.client(
        "bedrock-agent-runtime",
        region_name=region_name,
        endpoint_url=endpoint_url,
        config=config,
        **client_kwargs,
    )


@overload
def make_checkpointer(
    endpoint_url: str | None = ...,
    region_name: str | None = ...,
    client: Any | None = ...,
    async_: Literal[False] = ...,
    **options: Any,
) -> BedrockSessionCheckpointer: ...


@overload
def make_checkpointer(
    endpoint_url: str | None = ...,
    region_name: str | None = ...,
    client: Any | None = ...,
    async_: Literal[True] = ...,
    **options: Any,
) -> AsyncBedrockSessionCheckpointer: ...


def make_checkpointer(
    endpoint_url: str | None = None,
    region_name: str | None = None,
    client: Any | None = None,
    async_: bool = False,
    **options: Any,
) -> BedrockSessionCheckpointer | AsyncBedrockSessionCheckpointer:
    """A sync (default) or async checkpointer on ``client`` or on a new client.

    ``options`` go to the checkpointer (``eager_writes_invocation``, ``max_workers``...).

    Example::

        checkpointer = make_checkpointer(region_name="eu-central-1")
        async_checkpointer = make_checkpointer(client=checkpointer.client, async_=True)
    """
    if client is None:
        client = make_session_client(endpoint_url, region_name)
    cls = AsyncBedrockSessionCheckpointer if async_ else BedrockSessionCheckpointer
    return cls(client=client, **options)
