"""Shared pieces of the IAM-mode tests: the template, the demo principals, tagged sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore

from bedrock_sessions_local.credentials import DEMO_PRINCIPALS
from bedrock_sessions_local.testing import make_client

#: the policy the repository deploys to AWS, read where it lives (not copied into the library)
TEMPLATE = Path(__file__).resolve().parents[3] / "infra" / "session-store.yaml"
#: tags the app writes on every session; tenant-a is alice's and bob's tenant
TENANT_A_TAGS = {"tenant": "tenant-a", "user": "alice", "app": "shoe-assistant"}
#: a client that never retries, so each test sees the first answer
NO_RETRY = {"retries": {"total_max_attempts": 1, "mode": "standard"}}

#: who calls, in the order of the rows of the who-may-do-what table
CALLERS = ("owner", "same_tenant", "other_tenant", "admin", "anonymous")
_DEMO_NAME = {"owner": "alice", "same_tenant": "bob", "other_tenant": "carol", "admin": "admin"}


def client_of(endpoint_url: str, caller: str) -> Any:
    """A boto3 client signing as one of CALLERS (``anonymous``: an unsigned client)."""
    if caller == "anonymous":
        return make_client(endpoint_url, signature_version=botocore.UNSIGNED, **NO_RETRY)
    return make_client(endpoint_url, credentials=DEMO_PRINCIPALS[_DEMO_NAME[caller]], **NO_RETRY)
