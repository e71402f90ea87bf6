"""Build a checkpointer (and its boto3 client) in one call."""

from __future__ import annotations

from typing import Any, Literal, overload

import boto3
from botocore.config import Config

from assistant.checkpointer.async_checkpointer import AsyncBedrockSessionCheckpointer
from assistant.checkpointer.sync_checkpointer import BedrockSessionCheckpointer

#: connections per client: one per concurrent read of a history page, plus LangGraph's writers
DEFAULT_MAX_POOL_CONNECTIONS = 32


def make_session_client(
    endpoint_url: str | None = None,
    region_name: str = "us-east-1",
    *,
    max_pool_connections: int = DEFAULT_MAX_POOL_CONNECTIONS,
    **client_kwargs: Any,
) -> Any:
    """A ``bedrock-agent-runtime`` client sized for concurrent reads.

    ``endpoint_url=None`` uses AWS (or ``AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME``). Standard
    retry mode retries throttling and 5xx answers with backoff.
    """
    config = Config(
        max_pool_connections=max_pool_connections,
        retries={"mode": "standard", "max_attempts": 5},
    )
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
    region_name: str = ...,
    client: Any | None = ...,
    async_: Literal[False] = ...,
    **options: Any,
) -> BedrockSessionCheckpointer: ...


@overload
def make_checkpointer(
    endpoint_url: str | None = ...,
    region_name: str = ...,
    client: Any | None = ...,
    async_: Literal[True] = ...,
    **options: Any,
) -> AsyncBedrockSessionCheckpointer: ...


def make_checkpointer(
    endpoint_url: str | None = None,
    region_name: str = "us-east-1",
    client: Any | None = None,
    async_: bool = False,
    **options: Any,
) -> BedrockSessionCheckpointer | AsyncBedrockSessionCheckpointer:
    """A sync (default) or async checkpointer on ``client`` or on a new client.

    ``options`` go to the checkpointer (``eager_writes_invocation``, ``max_workers``...).
    """
    if client is None:
        client = make_session_client(endpoint_url, region_name)
    cls = AsyncBedrockSessionCheckpointer if async_ else BedrockSessionCheckpointer
    return cls(client=client, **options)
