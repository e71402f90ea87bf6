"""Constants and small builders shared by the local session service tests (boto3 side)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_sessions_local.testing import make_client

__all__ = [
    "ACCOUNT",
    "KMS_KEY_ARN",
    "REGION",
    "UUID_RE",
    "error_of",
    "make_client",
    "put_step",
    "text_payload",
]

REGION = "us-east-1"
ACCOUNT = "123456789012"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
UUID_RE = r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"


def error_of(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    """Call and return (error code, HTTP status, message) of the ClientError it must raise."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def text_payload(text: str) -> dict[str, Any]:
    """A PutInvocationStep payload of one text block."""
    return {"contentBlocks": [{"text": text}]}


def put_step(client: Any, session_id: str, invocation_id: str, text: str = "x", **kw: Any) -> str:
    """PutInvocationStep of one text block through boto3 (now, unless given); return its id."""
    return client.put_invocation_step(
        sessionIdentifier=session_id,
        invocationIdentifier=invocation_id,
        invocationStepTime=kw.pop("invocationStepTime", datetime.now(UTC)),
        payload=text_payload(text),
        **kw,
    )["invocationStepId"]
