"""Fixtures of the local service's own tests.

The service's tests use the package's pytest plugin (``bedrock_sessions_local.pytest_plugin``):
one service per module (``session_service_url``), a client (``session_client``) and
``new_session``. Tests create their own sessions, so they share a service; knobs a test changes
are reset after it. Added here: two client names that read better in these tests, a service
per module on SQLite and on PostgreSQL (encrypting with a keyring that holds the customer key
the tests name, ``KMS_KEY_ARN``), a service per module in IAM mode (demo credentials,
``infra/session-store.yaml``), and a backend with a frozen clock for the tests that run without
HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import bedrock_sessions_local.models as models
from bedrock_sessions_local.config import Quotas, ServiceKnobs
from bedrock_sessions_local.credentials import write_demo_credentials
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.testing import Encryption, IamMode, make_client, running_service
from sessions_local_backend_support import START_US, STEP_QUOTA, TTL_SECONDS, FrozenClock
from sessions_local_iam_support import TEMPLATE
from sessions_local_keys_support import keyring_with_test_key


@pytest.fixture(scope="module")
def client(session_client: Any) -> Any:
    """The module's boto3 client (botocore retries left at their default)."""
    return session_client


@pytest.fixture(scope="module")
def no_retry_client(session_service_url: str) -> Any:
    """A boto3 client that never retries, to observe injected faults as the client meets them.

    ``total_max_attempts`` counts the first attempt; botocore's ``max_attempts`` would not (it
    is the number of retries: ``max_attempts=1`` still retries once).
    """
    return make_client(session_service_url, retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service_on_both_databases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A service for the module, once on a SQLite file and once on PostgreSQL.

    A module opts in by deriving its ``session_service_url`` from this fixture; its tests then
    run twice, once per database. Session data is encrypted (the default) with a keyring of its
    own, which holds the customer key ``KMS_KEY_ARN`` as well.
    """
    folder = tmp_path_factory.mktemp("sessions")
    if request.param == "sqlite":
        db = str(folder / "sessions.db")
    else:
        db = request.getfixturevalue("new_postgres_database")()
    keyring = keyring_with_test_key(folder / "sessions.keyring")
    with running_service(db=db, encryption=Encryption(keyring=keyring)) as url:
        yield url


@pytest.fixture(scope="module")
def iam_mode(tmp_path_factory: pytest.TempPathFactory) -> IamMode:
    """IAM mode with the demo credentials (a fresh 0600 file) and the repository's template."""
    credentials = write_demo_credentials(tmp_path_factory.mktemp("iam") / "credentials.json")
    return IamMode(credentials_file=credentials, policy_template=TEMPLATE)


@pytest.fixture(scope="module")
def iam_service_url(iam_mode: IamMode) -> Iterator[str]:
    """A service in IAM mode for the module (in memory). A module that makes it its
    ``session_service_url`` names the admin that signs the knob reset
    (``session_service_admin``, see test_sessions_local_iam_plugin.py)."""
    with running_service(iam=iam_mode) as url:
        yield url


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FrozenClock:
    """The backend's clock, frozen at START_US for the test (every backend of the process)."""
    frozen = FrozenClock(START_US)
    monkeypatch.setattr(models, "now_us", frozen)
    return frozen


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[SessionBackend]:
    """A file backend (WAL, checkpoint thread) with a 60 s idle TTL and a 3-step quota."""
    built = SessionBackend(
        str(tmp_path / "sessions.db"),
        knobs=ServiceKnobs(session_ttl_seconds=TTL_SECONDS),
        quotas=Quotas(max_steps_per_session=STEP_QUOTA),
    )
    yield built
    built.close()
