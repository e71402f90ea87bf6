"""The plugin's knob reset on a module whose ``session_service_url`` runs in IAM mode.

The reset after each test is signed by ``session_service_admin``; a module that names no admin
has its reset refused by the service (403) and skipped, never a teardown error. The plain mode
is every other module of this folder.
"""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from bedrock_sessions_local.credentials import DEMO_PRINCIPALS, Principal
from bedrock_sessions_local.pytest_plugin import DEFAULT_KNOBS
from bedrock_sessions_local.testing import configure_service, service_config

ADMIN = DEMO_PRINCIPALS["admin"]


@pytest.fixture(scope="module")
def session_service_url(iam_service_url: str) -> str:
    """This module's service is the IAM-mode one (demo credentials)."""
    return iam_service_url


@pytest.fixture(scope="module")
def session_service_admin() -> Principal:
    return ADMIN


def test_a_test_changes_knobs_as_the_admin(session_service_url: str) -> None:
    configure_service(session_service_url, credentials=ADMIN, latency_ms=7, throttle_rate=0.5)
    assert service_config(session_service_url, credentials=ADMIN)["latency_ms"] == 7


def test_the_next_test_finds_every_knob_reset(session_service_url: str) -> None:
    assert service_config(session_service_url, credentials=ADMIN) == DEFAULT_KNOBS


class TestWithoutAnAdmin:
    """The same service, but the module names no admin: the reset is refused and skipped."""

    @pytest.fixture
    def session_service_admin(self) -> None:
        return None

    def test_the_reset_is_refused_and_the_test_still_passes(self, session_service_url: str) -> None:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{session_service_url}/_local/config", timeout=10)
        assert refused.value.code == 403

    def test_a_knob_changed_without_naming_the_admin_stays_changed(
        self, session_service_url: str
    ) -> None:
        configure_service(session_service_url, credentials=ADMIN, latency_ms=3)

    def test_which_is_why_a_module_that_changes_knobs_names_its_admin(
        self, session_service_url: str
    ) -> None:
        assert service_config(session_service_url, credentials=ADMIN)["latency_ms"] == 3
        configure_service(session_service_url, credentials=ADMIN, **DEFAULT_KNOBS)
