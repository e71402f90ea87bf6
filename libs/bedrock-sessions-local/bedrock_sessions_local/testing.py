"""Start the local service inside a test, on 127.0.0.1 and a free port.

Example::

    from bedrock_sessions_local.testing import make_client, running_service

    with running_service(db=tmp_path / "sessions.db") as endpoint_url:
        client = make_client(endpoint_url)
        client.create_session()

With pytest, the same comes as fixtures (``bedrock_sessions_local.pytest_plugin``, loaded
automatically once the package is installed).

In IAM mode (``running_service(iam=IamMode(...))``) requests must be signed by a key of the
credentials file and allowed by the template's policy; give the clients a principal::

    from bedrock_sessions_local.credentials import DEMO_PRINCIPALS

    alice = make_client(endpoint_url, credentials=DEMO_PRINCIPALS["alice"])
    configure_service(endpoint_url, credentials=DEMO_PRINCIPALS["admin"], latency_ms=5)

The server runs on a daemon thread of the test process and starts in a few milliseconds after
the botocore model is loaded. :func:`configure_service` changes knobs of any running service
over HTTP (``POST /_local/config``), the same way for an in-process or a subprocess service.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bedrock_sessions_local.access import AccessControl, IamMode
from bedrock_sessions_local.config import MAX_REQUEST_BODY_BYTES, Quotas, ServiceKnobs
from bedrock_sessions_local.credentials import Principal
from bedrock_sessions_local.encryption import Encryption
from bedrock_sessions_local.limits import RequestLimits
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.server import BackgroundService
from bedrock_sessions_local.sigv4 import SIGNING_NAME

#: Credentials for the local service in its plain mode: it checks no signature, but botocore
#: must sign something. Demo values, not a secret.
LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}

#: a principal of the credentials file, or an (access key id, secret access key) pair
Signer = Principal | tuple[str, str]

__all__ = [
    "LOCAL_CREDENTIALS",
    "Encryption",
    "IamMode",
    "RequestLimits",
    "configure_service",
    "make_client",
    "running_service",
    "service_config",
]


@contextmanager
def running_service(
    db: str | os.PathLike[str] = ":memory:",
    *,
    region: str = "us-east-1",
    account: str = "123456789012",
    quotas: Quotas | None = None,
    default_page_size: int | None = None,
    max_body_bytes: int = MAX_REQUEST_BODY_BYTES,
    latency_ms: float = 0.0,
    throttle_rate: float = 0.0,
    internal_error_rate: float = 0.0,
    commit_error_rate: float = 0.0,
    commit_drop_rate: float = 0.0,
    slow_response_rate: float = 0.0,
    slow_response_ms: float = 0.0,
    session_ttl_seconds: float | None = None,
    fault_seed: int | None = None,
    iam: IamMode | None = None,
    encryption: Encryption | None = None,
    limits: RequestLimits | None = None,
) -> Iterator[str]:
    """Run the service for the duration of a ``with`` block and yield its endpoint URL.

    Args:
        db: SQLite file path, ``:memory:`` (the default; gone after the block) or any
            SQLAlchemy URL.
        region, account: used in session ARNs.
        quotas: limits that answer ServiceQuotaExceededException.
        default_page_size: page size of List calls without maxResults.
        max_body_bytes: largest request body accepted (larger ones answer 413).
        latency_ms, throttle_rate, internal_error_rate, commit_error_rate,
            commit_drop_rate, slow_response_rate, slow_response_ms, session_ttl_seconds,
            fault_seed: initial knobs (see :class:`~bedrock_sessions_local.config.ServiceKnobs`).
        iam: turn on IAM mode (SigV4 and the template's policy, see
            :class:`~bedrock_sessions_local.access.IamMode`); None, the default, checks nothing.
        encryption: how session data is encrypted (see
            :class:`~bedrock_sessions_local.encryption.Encryption`); None, the default,
            encrypts with a keyring next to a SQLite file (in memory for ``:memory:``).
        limits: the HTTP layer's limits (header and URL size, request and idle timeouts,
            connections, body bytes in flight; see
            :class:`~bedrock_sessions_local.limits.RequestLimits`, the default).

    The service stops (finishing requests in flight) when the block exits, even on error.

    Raises:
        ValueError: a knob is out of range (a rate above 1, a negative duration...), checked
            as ``POST /_local/config`` checks it; or, in IAM mode, a malformed credentials
            file or template, or a bad template parameter; or ``max_body_bytes`` passes
            ``limits.max_body_bytes_in_flight``.
        KeyringError: the keyring cannot be read (accessible to others, malformed).
    """
    limits = limits or RequestLimits()
    limits.check_body_limit(max_body_bytes)
    access = None if iam is None else AccessControl.from_mode(iam, region=region, account=account)
    knobs = ServiceKnobs()
    # the checks of POST /_local/config: a bad value fails here, not at the first request
    knobs.update(
        {
            "latency_ms": latency_ms,
            "throttle_rate": throttle_rate,
            "internal_error_rate": internal_error_rate,
            "commit_error_rate": commit_error_rate,
            "commit_drop_rate": commit_drop_rate,
            "slow_response_rate": slow_response_rate,
            "slow_response_ms": slow_response_ms,
            "session_ttl_seconds": session_ttl_seconds,
            "fault_seed": fault_seed,
        }
    )
    extra: dict[str, Any] = {}
    if default_page_size is not None:
        extra["default_page_size"] = default_page_size
    backend = SessionBackend(
        os.fspath(db),
        region=region,
        account=account,
        knobs=knobs,
        quotas=quotas,
        encryption=encryption,
        **extra,
    )
    service = BackgroundService(
        backend, max_body_bytes=max_body_bytes, access=access, limits=limits
    ).start()
    try:
        yield service.url
    finally:
        service.stop()


def configure_service(
    endpoint_url: str,
    *,
    credentials: Signer | None = None,
    region: str = "us-east-1",
    **knobs: Any,
) -> dict[str, Any]:
    """Change knobs of a running service (e.g. ``session_ttl_seconds=1``); return all knobs.

    In IAM mode, pass ``credentials`` of an admin principal: the request is then SigV4-signed
    for ``region``.

    Raises:
        urllib.error.HTTPError: the service rejected a name or a value (400), or the signer
            (403, IAM mode).
    """
    body = json.dumps(knobs).encode()
    return _local_config(endpoint_url, "POST", body, credentials, region)


def service_config(
    endpoint_url: str, *, credentials: Signer | None = None, region: str = "us-east-1"
) -> dict[str, Any]:
    """Return the knobs of a running service (``credentials``: an admin's, in IAM mode)."""
    return _local_config(endpoint_url, "GET", b"", credentials, region)


def make_client(
    endpoint_url: str,
    *,
    region: str = "us-east-1",
    credentials: Signer | None = None,
    **config: Any,
) -> Any:
    """A real boto3 ``bedrock-agent-runtime`` client of a local service.

    ``credentials`` signs as a principal of the credentials file (IAM mode); without it the
    client signs with :data:`LOCAL_CREDENTIALS`, which only the plain mode accepts. Keyword
    arguments go to ``botocore.config.Config`` (for example
    ``retries={"total_max_attempts": 1, "mode": "standard"}`` to observe injected faults: in
    ``retries``, botocore's ``max_attempts`` counts retries, not attempts;
    ``signature_version=botocore.UNSIGNED`` for an anonymous client). The pool allows 32
    connections, enough for a checkpointer's concurrent page reads.
    """
    import boto3
    from botocore.config import Config

    key_id, secret = _key_pair(credentials)
    return boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(**{"max_pool_connections": 32, **config}),
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


def _key_pair(credentials: Signer | None) -> tuple[str, str]:
    if credentials is None:
        return LOCAL_CREDENTIALS["aws_access_key_id"], LOCAL_CREDENTIALS["aws_secret_access_key"]
    if isinstance(credentials, Principal):
        return credentials.access_key_id, credentials.secret_access_key
    return credentials


def _local_config(
    endpoint_url: str, method: str, body: bytes, credentials: Signer | None, region: str
) -> dict[str, Any]:
    url = f"{endpoint_url}/_local/config"
    headers = {"Content-Type": "application/json"} if body else {}
    if credentials is not None:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        signed = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(Credentials(*_key_pair(credentials)), SIGNING_NAME, region).add_auth(signed)
        headers = dict(signed.headers.items())
    request = urllib.request.Request(url, data=body or None, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())
