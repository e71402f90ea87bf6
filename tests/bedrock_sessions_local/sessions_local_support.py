"""Constants and small builders shared by the local session service tests."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT = "123456789012"
KMS_KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DEFAULT_KNOBS = {
    "latency_ms": 0.0,
    "throttle_rate": 0.0,
    "internal_error_rate": 0.0,
    "session_ttl_seconds": None,
}


def make_client(endpoint_url: str, **config: Any) -> Any:
    """Return a real boto3 bedrock-agent-runtime client pointed at ``endpoint_url``."""
    return boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=Config(**config) if config else None,
    )
