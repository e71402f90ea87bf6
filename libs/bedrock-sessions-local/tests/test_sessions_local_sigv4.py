"""IAM mode's SigV4 checks: each way a signature can be wrong gets AWS's error, nothing runs.

Requests are signed by botocore itself: a real boto3 client, or botocore's ``SigV4Auth`` over
an ``AWSRequest`` when a test needs a shifted ``X-Amz-Date``, another scope or a change after
signing, sent over HTTP to the service on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bedrock_sessions_local import sigv4
from bedrock_sessions_local.credentials import DEMO_PRINCIPALS, Principal
from bedrock_sessions_local.exceptions import (
    InvalidSignatureException,
    UnrecognizedClientException,
)
from bedrock_sessions_local.sigv4 import SignatureVerifier
from bedrock_sessions_local.testing import make_client
from sessions_local_iam_support import NO_RETRY, TENANT_A_TAGS
from sessions_local_support import REGION, error_of

ALICE = DEMO_PRINCIPALS["alice"]
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)


def signed(
    url: str,
    method: str,
    path: str,
    *,
    body: bytes = b"",
    key: tuple[str, str] = (ALICE.access_key_id, ALICE.secret_access_key),
    region: str = REGION,
    service: str = "bedrock",
    shift: timedelta = timedelta(0),
) -> AWSRequest:
    """A request signed by botocore's SigV4Auth, its X-Amz-Date ``shift`` away from now."""
    request = AWSRequest(method=method, url=url + path, data=body)
    if body:
        request.headers["Content-Type"] = "application/json"
    signing_time = datetime.now(UTC).replace(tzinfo=None) + shift
    with mock.patch("botocore.auth.get_current_datetime", return_value=signing_time):
        SigV4Auth(Credentials(*key), service, region).add_auth(request)
    return request


def send(
    request: AWSRequest, *, path: str | None = None, body: bytes | None = None
) -> tuple[int, dict[str, Any]]:
    """Send a signed request as it is, or with its path or body changed after signing."""
    parts = urlsplit(request.url)
    target = path or (parts.path + (f"?{parts.query}" if parts.query else ""))
    payload = request.body if body is None else body
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(request.method, target, body=payload, headers=dict(request.headers))
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else {}
    finally:
        connection.close()


def error(answer: tuple[int, dict[str, Any]]) -> tuple[int, str, str]:
    status, body = answer
    return status, body.get("__type", ""), body.get("message", "")


@pytest.fixture(scope="module")
def alice(iam_service_url: str) -> Any:
    return make_client(iam_service_url, credentials=ALICE, **NO_RETRY)


@pytest.fixture(scope="module")
def session_path(alice: Any) -> str:
    """The GetSession path of a tenant-a session of alice's."""
    return f"/sessions/{alice.create_session(tags=TENANT_A_TAGS)['sessionId']}/"


def test_a_request_signed_by_botocore_is_accepted(iam_service_url: str, session_path: str) -> None:
    status, body = send(signed(iam_service_url, "GET", session_path))
    assert (status, body["sessionStatus"]) == (200, "ACTIVE")


@pytest.mark.parametrize("minutes", [-4.9, 4.9])
def test_clock_skew_inside_five_minutes_is_accepted(
    iam_service_url: str, session_path: str, minutes: float
) -> None:
    request = signed(iam_service_url, "GET", session_path, shift=timedelta(minutes=minutes))
    assert send(request)[0] == 200


def test_a_date_more_than_five_minutes_old_is_expired(
    iam_service_url: str, session_path: str
) -> None:
    request = signed(iam_service_url, "GET", session_path, shift=timedelta(minutes=-6))
    status, code, message = error(send(request))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith(f"Signature expired: {request.headers['X-Amz-Date']} is now earlier")
    assert message.endswith(" - 5 min.)")


def test_a_date_more_than_five_minutes_ahead_is_not_yet_current(
    iam_service_url: str, session_path: str
) -> None:
    request = signed(iam_service_url, "GET", session_path, shift=timedelta(minutes=6))
    status, code, message = error(send(request))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("Signature not yet current: ")


def test_a_replay_inside_the_window_is_accepted_and_after_it_is_expired(
    iam_service_url: str, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Capture exactly what boto3 sends, then send the same bytes again.
    captured: list[Any] = []

    def capture(request: Any, **_: Any) -> None:
        captured.append(request)

    alice.meta.events.register("before-send", capture)
    try:
        alice.list_sessions(maxResults=1)
    finally:
        alice.meta.events.unregister("before-send", capture)
    request = captured[-1]
    replay = AWSRequest(request.method, request.url, dict(request.headers), request.body)
    assert send(replay)[0] == 200  # SigV4 allows replays inside the window, as AWS does
    later = datetime.now(UTC) + timedelta(minutes=5, seconds=30)
    monkeypatch.setattr(sigv4, "now", lambda: later)
    status, code, message = error(send(replay))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("Signature expired: ")


def test_a_signature_scoped_to_another_region_is_refused(
    iam_service_url: str, session_path: str
) -> None:
    elsewhere = make_client(iam_service_url, region="eu-west-1", credentials=ALICE, **NO_RETRY)
    code, status, message = error_of(elsewhere.list_sessions)
    assert (code, status) == ("InvalidSignatureException", 403)
    assert message == "Credential should be scoped to a valid region, not 'eu-west-1'."


def test_a_signature_scoped_to_another_service_is_refused(
    iam_service_url: str, session_path: str
) -> None:
    # bedrock-agent-runtime is the endpoint prefix; the signing name is bedrock.
    request = signed(iam_service_url, "GET", session_path, service="bedrock-agent-runtime")
    assert error(send(request)) == (
        403,
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'bedrock'.",
    )


def test_a_body_changed_after_signing_is_refused_and_not_run(
    iam_service_url: str, alice: Any
) -> None:
    def tamper(request: Any, **_: Any) -> None:  # same length: only the signature can tell
        request.body = request.body.replace(b'"alice"', b'"carol"')

    before = len(alice.list_sessions(maxResults=1000)["sessionSummaries"])
    tampered = make_client(iam_service_url, credentials=ALICE, **NO_RETRY)
    tampered.meta.events.register("before-send", tamper)
    code, status, message = error_of(tampered.create_session, tags=TENANT_A_TAGS)
    assert (code, status, message) == ("InvalidSignatureException", 403, MISMATCH)
    assert len(alice.list_sessions(maxResults=1000)["sessionSummaries"]) == before


def test_a_path_or_query_changed_after_signing_is_refused(
    iam_service_url: str, alice: Any, session_path: str
) -> None:
    other = f"/sessions/{alice.create_session(tags=TENANT_A_TAGS)['sessionId']}/"
    request = signed(iam_service_url, "GET", session_path)
    assert error(send(request, path=other))[1] == "InvalidSignatureException"
    listing = signed(iam_service_url, "POST", "/sessions/?maxResults=1")
    assert error(send(listing, path="/sessions/?maxResults=2"))[1] == "InvalidSignatureException"


def test_an_unknown_access_key_is_an_unrecognized_client(iam_service_url: str) -> None:
    stranger = make_client(iam_service_url, credentials=("AKIAUNKNOWN000000000", "x"), **NO_RETRY)
    assert error_of(stranger.list_sessions) == (
        "UnrecognizedClientException",
        403,
        "The security token included in the request is invalid.",
    )


def test_a_known_key_with_the_wrong_secret_is_an_invalid_signature(iam_service_url: str) -> None:
    forged = make_client(
        iam_service_url, credentials=(ALICE.access_key_id, "guessed-secret"), **NO_RETRY
    )
    assert error_of(forged.list_sessions) == ("InvalidSignatureException", 403, MISMATCH)


def test_an_unsigned_request_is_missing_its_token(iam_service_url: str) -> None:
    assert error(send(AWSRequest("POST", f"{iam_service_url}/sessions/"))) == (
        403,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    )


V4 = "AWS4-HMAC-SHA256 "


@pytest.mark.parametrize(
    ("why", "change"),
    [
        ("another algorithm", {"Authorization": "Basic YWxpY2U6c2VjcmV0"}),
        ("no Signature", {"Authorization": V4 + "Credential=a/b/c/d/e, SignedHeaders=host"}),
        (
            "a 4-part credential",
            {"Authorization": V4 + "Credential=a/b/c/d, SignedHeaders=host, Signature=00"},
        ),
        ("a date not in basic format", {"X-Amz-Date": "2026-11-30T12:00:00Z"}),
    ],
)
def test_a_malformed_signature_is_incomplete(
    iam_service_url: str, session_path: str, why: str, change: dict[str, str]
) -> None:
    request = signed(iam_service_url, "GET", session_path)
    for name, value in change.items():
        request.headers.replace_header(name, value)
    status, code, _ = error(send(request))
    assert (status, code) == (403, "IncompleteSignatureException"), why


def test_a_request_without_x_amz_date_is_incomplete(
    iam_service_url: str, session_path: str
) -> None:
    request = signed(iam_service_url, "GET", session_path)
    del request.headers["X-Amz-Date"]
    status, code, message = error(send(request))
    assert (status, code) == (403, "IncompleteSignatureException")
    assert "requires existence of either a 'X-Amz-Date' or a 'Date' header" in message


def test_the_scope_date_must_be_the_date_of_x_amz_date(
    iam_service_url: str, session_path: str
) -> None:
    request = signed(iam_service_url, "GET", session_path)
    today = request.headers["X-Amz-Date"][:8]
    forged = request.headers["Authorization"].replace(f"/{today}/", "/20200101/")
    request.headers.replace_header("Authorization", forged)
    status, code, message = error(send(request))
    assert (status, code) == (403, "InvalidSignatureException")
    assert message.startswith("Date in Credential scope does not match YYYYMMDD")


# The checks below need principals or headers the demo file and boto3 do not have: they run on
# the verifier itself, with the same botocore signing.


def _verify(verifier: SignatureVerifier, request: AWSRequest) -> Principal:
    parts = urlsplit(request.url)
    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    headers.append((b"host", parts.netloc.encode()))
    return verifier.verify(
        request.method, parts.path.encode(), parts.query.encode(), headers, request.body or b""
    )


def test_a_session_token_must_be_the_one_of_the_key() -> None:
    temporary = Principal("ASIALOCALDEMOTOKEN01", "demo-secret", "temp", session_token="tok")
    verifier = SignatureVerifier({temporary.access_key_id: temporary}, region=REGION)

    def request(token: str | None) -> AWSRequest:
        built = AWSRequest("POST", "http://127.0.0.1:1/sessions/")
        SigV4Auth(
            Credentials("ASIALOCALDEMOTOKEN01", "demo-secret", token), "bedrock", REGION
        ).add_auth(built)
        return built

    assert _verify(verifier, request("tok")) is temporary
    for token in ("other", None):
        with pytest.raises(UnrecognizedClientException):
            _verify(verifier, request(token))


def test_a_declared_payload_hash_must_be_the_hash_of_the_body() -> None:
    verifier = SignatureVerifier({ALICE.access_key_id: ALICE}, region=REGION)
    built = AWSRequest("PUT", "http://127.0.0.1:1/sessions/", data=b"{}")
    built.headers["X-Amz-Content-SHA256"] = sha256(b"{}").hexdigest()
    SigV4Auth(
        Credentials(ALICE.access_key_id, ALICE.secret_access_key), "bedrock", REGION
    ).add_auth(built)
    assert _verify(verifier, built) is ALICE
    built.data = b'{"tags": {"tenant": "tenant-b"}}'  # the signed hash no longer covers it
    with pytest.raises(InvalidSignatureException, match="x-amz-content-sha256"):
        _verify(verifier, built)
