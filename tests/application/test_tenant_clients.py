"""TenantClients: each tenant talks to the session store as itself, and the store tells them apart.

Local IAM mode runs against the local service in IAM mode (SigV4 checked against a credentials
file written as `shoe-assistant up` writes it, the policy of infra/session-store.yaml). AWS mode
runs against moto's IAM and STS served over HTTP (`ThreadedMotoServer`): the role is created
there, AssumeRole is watched through botocore's own event hooks, and the session calls go to a
local service in plain mode, which answers whatever the signature, so the test can look at the
signed request. Clocks move with time-machine, so expiry is real, not simulated.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
import time_machine
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from assistant.application.tenant_clients import NoTenantCredentials, TenantClients
from assistant.cli.session_credentials import ensure_credentials
from assistant.settings import Settings
from bedrock_sessions_local.testing import IamMode, running_service

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "session-store.yaml"
APP = "shoe-assistant"


def tags(tenant: str, user: str = "alice") -> dict[str, str]:
    """The tags the shop writes on every session."""
    return {"tenant": tenant, "user": user, "app": APP}


def error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["Error"]["Code"]


# --- local IAM mode -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def credentials_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A credentials file for tenant-a and tenant-b, written the way `up` writes it."""
    path = tmp_path_factory.mktemp("iam") / "session-credentials.json"
    ensure_credentials(path, ["tenant-a", "tenant-b"], tag_key="tenant", app_name=APP)
    return path


@pytest.fixture(scope="module")
def iam_store(credentials_file: Path) -> Iterator[str]:
    """A local session service in IAM mode that knows the keys of `credentials_file`."""
    with running_service(iam=IamMode(credentials_file, TEMPLATE)) as url:
        yield url


@pytest.fixture
def local_iam(
    iam_store: str, credentials_file: Path, settings_at: Callable[..., Settings], tmp_path: Path
) -> Settings:
    return settings_at(
        iam_store,
        tmp_path / "shop.db",
        local_session_iam=True,
        session_credentials_file=str(credentials_file),
    )


def test_a_tenant_uses_its_own_sessions_and_another_tenant_is_denied(local_iam: Settings) -> None:
    clients = TenantClients(local_iam)
    tenant_a, tenant_b = clients.client("tenant-a"), clients.client("tenant-b")
    assert clients.tenants_isolated

    session_id = tenant_a.create_session(tags=tags("tenant-a"))["sessionId"]
    assert tenant_a.get_session(sessionIdentifier=session_id)["sessionId"] == session_id
    invocation = tenant_a.create_invocation(sessionIdentifier=session_id)["invocationId"]
    assert invocation

    assert error_code(lambda: tenant_b.get_session(sessionIdentifier=session_id)) == (
        "AccessDeniedException"
    )
    assert error_code(lambda: tenant_b.list_invocations(sessionIdentifier=session_id)) == (
        "AccessDeniedException"
    )
    # nor can tenant-b create a session in tenant-a's name
    assert error_code(lambda: tenant_b.create_session(tags=tags("tenant-a", "bob"))) == (
        "AccessDeniedException"
    )
    own = tenant_b.create_session(tags=tags("tenant-b", "bob"))["sessionId"]
    assert error_code(lambda: tenant_a.get_session(sessionIdentifier=own)) == (
        "AccessDeniedException"
    )


def test_clients_are_built_once_per_tenant_even_from_many_threads(local_iam: Settings) -> None:
    clients = TenantClients(local_iam)
    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(clients.client, ["tenant-a", "tenant-b"] * 16))
    assert len({id(client) for client in seen[0::2]}) == 1
    assert len({id(client) for client in seen[1::2]}) == 1
    assert seen[0] is not seen[1]
    assert clients.client("tenant-a") is seen[0]


def test_a_tenant_without_a_key_is_a_clear_error(
    local_iam: Settings, credentials_file: Path, tmp_path: Path
) -> None:
    with pytest.raises(NoTenantCredentials) as missing:
        TenantClients(local_iam).client("tenant-z")
    assert "'tenant-z'" in str(missing.value)
    assert str(credentials_file) in str(missing.value)

    absent = tmp_path / "nowhere.json"
    settings = local_iam.model_copy(update={"session_credentials_file": str(absent)})
    with pytest.raises(NoTenantCredentials) as no_file:
        TenantClients(settings).client("tenant-a")
    assert "'tenant-a'" in str(no_file.value)
    assert f"{absent} does not exist" in str(no_file.value)
    assert "shoe-assistant up" in str(no_file.value)


def test_without_isolation_every_tenant_shares_one_client(
    local_iam: Settings, settings_at: Callable[..., Settings], tmp_path: Path
) -> None:
    plain = TenantClients(local_iam.model_copy(update={"local_session_iam": False}))
    assert not plain.tenants_isolated
    assert plain.client("tenant-a") is plain.client("tenant-b")

    given = object()
    shared = TenantClients(local_iam, shared_client=given)
    assert not shared.tenants_isolated
    assert shared.client("tenant-a") is given

    aws_without_role = settings_at("http://127.0.0.1:9", tmp_path / "shop.db", session_store="aws")
    assert not TenantClients(aws_without_role).tenants_isolated


# --- AWS: STS AssumeRole with the tenant session tag (moto over HTTP) ----------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """moto's IAM and STS on 127.0.0.1, over real HTTP."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def plain_store() -> Iterator[str]:
    """A local session service that checks no signature, to receive the signed session calls."""
    with running_service() as url:
        yield url


class StsCalls:
    """What the tenant clients asked STS, and what STS answered, seen through botocore hooks."""

    def __init__(self, session: boto3.Session) -> None:
        self.assume_role: list[dict[str, Any]] = []
        self.credentials: list[dict[str, Any]] = []
        session.events.register("provide-client-params.sts.AssumeRole", self._asked)
        session.events.register("after-call.sts.AssumeRole", self._answered)

    def _asked(self, params: dict[str, Any], **_: Any) -> None:
        self.assume_role.append(dict(params))

    def _answered(self, parsed: dict[str, Any], **_: Any) -> None:
        self.credentials.append(parsed["Credentials"])


@pytest.fixture
def aws(
    moto_url: str,
    plain_store: str,
    settings_at: Callable[..., Settings],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Settings, boto3.Session, StsCalls]:
    """AWS-mode settings with a role created in moto; the source session and its STS calls."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_url)  # botocore's standard variable
    source = boto3.Session(
        aws_access_key_id="AKIASOURCEPRINCIPAL1",
        aws_secret_access_key="source-secret",
        region_name="us-east-1",
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["tenant"]}},
            }
        ],
    }
    role_name = f"shoe-assistant-app-{tmp_path.name}"[:64]
    role = source.client("iam", endpoint_url=moto_url).create_role(
        RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]
    settings = settings_at(
        plain_store,
        tmp_path / "shop.db",
        session_store="aws",
        session_role_arn=role["Arn"],
        session_role_duration_seconds=3600,
    )
    return settings, source, StsCalls(source)


class SignedBy:
    """The access key and session token of every request a session client sends."""

    def __init__(self, client: Any) -> None:
        self.requests: list[tuple[str, str | None]] = []
        client.meta.events.register("before-send.bedrock-agent-runtime", self._sent)

    def _sent(self, request: Any, **_: Any) -> None:
        authorization = request.headers["Authorization"].decode()
        key_id = re.search(r"Credential=([^/]+)/", authorization).group(1)
        token = request.headers.get("X-Amz-Security-Token")
        self.requests.append((key_id, token.decode() if token else None))


def caller_arn(moto_url: str, credentials: dict[str, Any]) -> str:
    """sts:GetCallerIdentity with these credentials, as moto answers it."""
    sts = boto3.client(
        "sts",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    return sts.get_caller_identity()["Arn"]


def test_each_tenant_assumes_the_role_with_its_tenant_tag(aws, moto_url: str) -> None:
    settings, source, sts = aws
    clients = TenantClients(settings, source_session=source)
    assert clients.tenants_isolated
    tenant_a = clients.client("tenant-a")
    assert sts.assume_role == []  # nothing is assumed before the first call

    signed_a = SignedBy(tenant_a)
    tenant_a.create_session(tags=tags("tenant-a"))
    tenant_a.list_sessions()

    assert sts.assume_role == [
        {
            "RoleArn": settings.session_role_arn,
            "RoleSessionName": "shoe-assistant-tenant-a",
            "Tags": [{"Key": "tenant", "Value": "tenant-a"}],
            "DurationSeconds": 3600,
        }
    ]
    assumed = sts.credentials[0]
    # every call is signed with the assumed credentials, and only one AssumeRole for both
    assert signed_a.requests == [(assumed["AccessKeyId"], assumed["SessionToken"])] * 2
    role_name = settings.session_role_arn.rsplit("/", 1)[1]
    assert caller_arn(moto_url, assumed) == (
        f"arn:aws:sts::123456789012:assumed-role/{role_name}/shoe-assistant-tenant-a"
    )

    tenant_b = clients.client("tenant-b")
    signed_b = SignedBy(tenant_b)
    tenant_b.list_sessions()
    assert sts.assume_role[1]["Tags"] == [{"Key": "tenant", "Value": "tenant-b"}]
    assert sts.assume_role[1]["RoleSessionName"] == "shoe-assistant-tenant-b"
    assert signed_b.requests[0][0] == sts.credentials[1]["AccessKeyId"]
    assert sts.credentials[1]["AccessKeyId"] != assumed["AccessKeyId"]
    assert caller_arn(moto_url, sts.credentials[1]).endswith("/shoe-assistant-tenant-b")
    assert clients.client("tenant-a") is tenant_a


def test_assumed_credentials_are_refreshed_before_they_expire(aws) -> None:
    settings, source, sts = aws
    client = TenantClients(settings, source_session=source).client("tenant-a")
    signed = SignedBy(client)
    client.list_sessions()
    assert len(sts.assume_role) == 1

    # 40 minutes later an hour-long credential is still good: no new AssumeRole
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=40)):
        client.list_sessions()
    assert len(sts.assume_role) == 1
    # 52 minutes later it has 8 minutes left: botocore assumes the role again before the call
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=52)):
        client.list_sessions()
    assert len(sts.assume_role) == 2
    assert sts.assume_role[1] == sts.assume_role[0]  # the same role, tag and session name
    first, second = sts.credentials
    assert first["AccessKeyId"] != second["AccessKeyId"]
    assert [key for key, _ in signed.requests] == [
        first["AccessKeyId"],
        first["AccessKeyId"],
        second["AccessKeyId"],
    ]


def test_no_source_credentials_is_a_clear_error(aws) -> None:
    settings, _, _ = aws
    nothing = botocore.session.Session()
    nothing.register_component("credential_provider", _NoCredentials())
    source = boto3.Session(botocore_session=nothing, region_name="us-east-1")
    with pytest.raises(NoTenantCredentials) as missing:
        TenantClients(settings, source_session=source).client("tenant-a")
    assert "SESSION_ROLE_ARN" in str(missing.value)
    assert "'tenant-a'" in str(missing.value)


class _NoCredentials:
    """A credential chain that finds nothing (like a machine with no AWS configuration)."""

    def load_credentials(self) -> None:
        return None
