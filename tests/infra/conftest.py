"""Stacks of infra/session-store.yaml deployed to moto once per test session (moto is slow to
warm up, and the stacks are read-only for the tests)."""

from __future__ import annotations

import pytest
from session_store_stack import DeployedSessionStore, deploy_session_store


@pytest.fixture(scope="session")
def session_store() -> DeployedSessionStore:
    """The stack with every parameter at its default (inference profile, no role tenant)."""
    return deploy_session_store()


@pytest.fixture(scope="session")
def foundation_model_store() -> DeployedSessionStore:
    """The stack for an app that invokes a foundation model directly, not through a profile."""
    return deploy_session_store(
        {"ModelId": "anthropic.claude-3-5-haiku-20241022-v1:0", "FoundationModelId": ""}
    )


@pytest.fixture(scope="session")
def single_tenant_store() -> DeployedSessionStore:
    """The stack for one tenant, a custom principal tag key and a named app principal."""
    return deploy_session_store(
        {
            "TenantTagKey": "customer",
            "RoleTenant": "acme",
            "PrincipalArn": "arn:aws:iam::123456789012:role/shoe-assistant-task",
            "AppName": "shoe-demo",
        }
    )
