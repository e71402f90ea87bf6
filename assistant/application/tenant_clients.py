"""One session-store client per tenant, each signing as that tenant (README: "Tenant credentials").

The policy of `infra/session-store.yaml` lets a caller touch only sessions tagged with its own
tenant (its principal tag `tenant`), so the app talks to the store as the tenant whose
conversation it serves. Which credentials a tenant's client signs with is decided by the
settings alone:

- **local IAM mode** (`SESSION_STORE=local`, `LOCAL_SESSION_IAM=true`, the default): the
  tenant's access key from `SESSION_CREDENTIALS_FILE`, the file `shoe-assistant up` writes and
  the local service checks signatures against;
- **AWS with `SESSION_ROLE_ARN`**: credentials of STS AssumeRole on that role with the session
  tag `tenant=<tenant>`, which botocore refreshes before they expire;
- otherwise (plain local mode, AWS without a role, or a `shared_client` given) one client for
  every tenant, `session_client(settings)`: nothing below the app keeps tenants apart.

Example::

    clients = TenantClients(get_settings())
    client = clients.client("tenant-a")  # built on first use, then the same object
    client.create_session(tags={"tenant": "tenant-a", "user": "alice", "app": "shoe-assistant"})
"""

from __future__ import annotations

import json
import re
import threading
from functools import partial
from pathlib import Path
from typing import Any, Literal

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)

from assistant.application.clients import client_config, session_client
from assistant.application.errors import TurnError
from assistant.settings import Settings
from langgraph_checkpoint_bedrock_sessions import make_session_client

__all__ = ["NoTenantCredentials", "TenantClients"]

Mode = Literal["local-iam", "assumed-role", "shared"]
# the connection pool of make_session_client: one per concurrent read of a history page
_POOL = Config(max_pool_connections=32)
# RoleSessionName: 2 to 64 of these characters
_NOT_IN_SESSION_NAME = re.compile(r"[^A-Za-z0-9_+=,.@-]")


class NoTenantCredentials(TurnError):
    """The settings give no credentials to sign as this tenant; the message says where to look."""


class TenantClients:
    """The bedrock-agent-runtime client of each tenant, built once and shared by every thread.

    Args:
        settings: decide the mode (see the module docstring) and configure every client
            (`client_config`: timeouts, retries, user agent).
        shared_client: a client to hand every tenant instead (tests); tenants are then not
            isolated.
        source_session: in AWS mode, the boto3 session whose credentials call AssumeRole
            (default: a new one, the normal AWS credential chain, in `AWS_REGION`).

    Attributes:
        mode: "local-iam", "assumed-role" or "shared", as the settings decide.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        shared_client: Any | None = None,
        source_session: boto3.Session | None = None,
    ) -> None:
        self.settings = settings
        self.mode: Mode = _mode(settings) if shared_client is None else "shared"
        self._shared = shared_client
        self._source_session = source_session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def tenants_isolated(self) -> bool:
        """True when each tenant's client signs as that tenant, so the store's policy applies."""
        return self.mode != "shared"

    def client(self, tenant: str) -> Any:
        """The client that signs as `tenant` (the shared one when tenants are not isolated).

        Raises:
            NoTenantCredentials: local IAM mode without a key of this tenant (or without the
                file), or AWS mode without credentials to assume the role with.
            ValueError: an empty tenant.
        """
        if not tenant:
            raise ValueError("a tenant is needed to pick the session-store credentials")
        with self._lock:
            if self.mode == "shared":
                if self._shared is None:
                    self._shared = session_client(self.settings)
                return self._shared
            if tenant not in self._clients:
                build = self._local_client if self.mode == "local-iam" else self._role_client
                self._clients[tenant] = build(tenant)
            return self._clients[tenant]

    def _local_client(self, tenant: str) -> Any:
        path = Path(self.settings.session_credentials_file)
        key = _tenant_key(path, self.settings.session_role_tenant_tag_key, tenant)
        return make_session_client(
            self.settings.resolved_session_endpoint,
            self.settings.aws_region,
            config=client_config(self.settings),
            aws_access_key_id=key[0],
            aws_secret_access_key=key[1],
            aws_session_token=key[2],
        )

    def _role_client(self, tenant: str) -> Any:
        settings = self.settings
        if self._source_session is None:
            self._source_session = boto3.Session(region_name=settings.aws_region)
        source = self._source_session
        source_credentials = source.get_credentials()
        if source_credentials is None:
            raise NoTenantCredentials(
                f"No AWS credentials to assume SESSION_ROLE_ARN={settings.session_role_arn} "
                f"for tenant {tenant!r}: configure the normal AWS credential chain."
            )
        fetcher = AssumeRoleCredentialFetcher(
            partial(source.client, region_name=settings.aws_region),
            source_credentials,
            settings.session_role_arn,
            extra_args={
                "RoleSessionName": _session_name(settings.app_name, tenant),
                "Tags": [{"Key": settings.session_role_tenant_tag_key, "Value": tenant}],
                "DurationSeconds": settings.session_role_duration_seconds,
            },
        )
        # Fetched on the first call, then again whenever fewer than 15 minutes remain.
        credentials = DeferredRefreshableCredentials(fetcher.fetch_credentials, "assume-role")
        tenant_session = botocore.session.Session()
        tenant_session.register_component(
            "credential_provider", CredentialResolver([_Fixed(credentials)])
        )
        return boto3.Session(botocore_session=tenant_session).client(
            "bedrock-agent-runtime",
            region_name=settings.aws_region,
            endpoint_url=settings.resolved_session_endpoint,
            config=_POOL.merge(client_config(settings)),
        )


class _Fixed(CredentialProvider):
    """A credential chain of one link: the tenant's refreshable assumed-role credentials."""

    METHOD = "assume-role"

    def __init__(self, credentials: DeferredRefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> DeferredRefreshableCredentials:
        return self._credentials


def _mode(settings: Settings) -> Mode:
    if settings.uses_local_sessions:
        return "local-iam" if settings.local_session_iam else "shared"
    return "assumed-role" if settings.session_role_arn else "shared"


def _session_name(app_name: str, tenant: str) -> str:
    """`<app>-<tenant>` in the characters RoleSessionName allows, at most 64 of them."""
    return _NOT_IN_SESSION_NAME.sub("-", f"{app_name}-{tenant}")[:64]


def _tenant_key(path: Path, tag_key: str, tenant: str) -> tuple[str, str, str | None]:
    """(key id, secret, session token) of the first key whose principal tag is `tenant`.

    The file is the local service's (`bedrock_sessions_local.credentials`, whose docs show its
    format); the app meets the service only over HTTP and through this file, so it reads the
    few fields it needs itself.
    """
    hint = (
        "`shoe-assistant up` and `session-service` write a key for each tenant of "
        "data/users.json; with LOCAL_SESSION_IAM=false no tenant key is needed"
    )
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["credentials"]
    except FileNotFoundError:
        raise NoTenantCredentials(
            f"No session-store credentials for tenant {tenant!r}: {path} does not exist. {hint}."
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise NoTenantCredentials(f"Cannot read the credentials file {path}: {error}") from None
    for key_id, entry in entries.items():
        if entry.get("principal_tags", {}).get(tag_key) == tenant:
            return key_id, entry["secret_access_key"], entry.get("session_token")
    raise NoTenantCredentials(
        f"No session-store credentials for tenant {tenant!r} in {path}: no key has the "
        f"principal tag {tag_key}={tenant}. {hint}."
    )
