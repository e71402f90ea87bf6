"""Signature Version 4 verification, computed by botocore's own signer.

A signed request carries ``Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/
<region>/bedrock/aws4_request, SignedHeaders=<h1;h2;...>, Signature=<hex>`` and an
``X-Amz-Date``. The verifier reads the scope, looks the key up in the credentials file, checks
the time window and the scope, then rebuilds the request as the client signed it (method, URL
with the raw path and query string, the signed headers only, the body) in a botocore
``AWSRequest`` and lets ``botocore.auth.SigV4Auth`` compute the signature the client should have
sent. The two are compared in constant time. Being botocore's code, the canonical request is
exactly the one boto3, the AWS CLI and ``BedrockSessionSaver`` build (double-encoded path,
sorted query, trimmed header values, SHA-256 of the body).

Each failure is the error AWS answers with, worded as AWS words it (see the README's "choices
where AWS is silent" for the ones AWS does not document).

Example::

    verifier = SignatureVerifier(load_credentials("creds.json"), region="us-east-1")
    # raw path and query string as received, ASGI (name, value) header pairs, the body
    principal = verifier.verify("GET", b"/sessions/<id>/", b"", asgi_headers, b"")
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from hashlib import sha256

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bedrock_sessions_local.credentials import Principal
from bedrock_sessions_local.exceptions import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

#: the SigV4 signing name of bedrock-agent-runtime (its endpoint prefix is not the signing name)
SIGNING_NAME = "bedrock"
#: how far X-Amz-Date may be from the service's clock, either way (AWS: 5 minutes)
MAX_CLOCK_SKEW = timedelta(minutes=5)

_ALGORITHM = "AWS4-HMAC-SHA256"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_INVALID_TOKEN = "The security token included in the request is invalid."

Headers = Sequence[tuple[bytes, bytes]]


def now() -> datetime:
    """The verifier's clock (aware UTC); tests shift it by patching ``sigv4.now``."""
    return datetime.now(UTC)


class SignatureVerifier:
    """Verify SigV4 ``Authorization`` headers against a credentials file's principals."""

    def __init__(
        self,
        principals: Mapping[str, Principal],
        *,
        region: str,
        service: str = SIGNING_NAME,
        max_skew: timedelta = MAX_CLOCK_SKEW,
    ) -> None:
        self.principals = dict(principals)
        self.region = region
        self.service = service
        self.max_skew = max_skew

    def verify(
        self, method: str, raw_path: bytes, query_string: bytes, headers: Headers, body: bytes
    ) -> Principal:
        """Return the principal that signed the request.

        ``raw_path`` and ``query_string`` are as they arrived (still percent-encoded);
        ``headers`` are the ASGI (lower-case name, value) pairs.

        Raises:
            MissingAuthenticationTokenException: no ``Authorization`` header.
            IncompleteSignatureException: the header or ``X-Amz-Date`` is malformed.
            UnrecognizedClientException: unknown access key, or a wrong session token.
            InvalidSignatureException: a wrong scope (date, region, service, terminator), a
                date outside the window, or a signature that does not match.
        """
        authorization = _header(headers, b"authorization")
        if authorization is None:
            raise MissingAuthenticationTokenException("Missing Authentication Token")
        credential, signed_headers, signature = _parse_authorization(authorization)
        amz_date = _header(headers, b"x-amz-date")
        if amz_date is None:
            raise IncompleteSignatureException(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                f"header. Authorization={authorization[:300]}"
            )
        signed_at = _parse_amz_date(amz_date)
        key_id, scope_date, region, service, terminator = _parse_credential(credential)
        self._check_scope(scope_date, region, service, terminator, amz_date)
        principal = self.principals.get(key_id)
        if principal is None or principal.session_token != _header(
            headers, b"x-amz-security-token"
        ):
            raise UnrecognizedClientException(_INVALID_TOKEN)
        self._check_window(signed_at, amz_date)
        expected = self._signature(
            principal, method, raw_path, query_string, headers, signed_headers, body, amz_date
        )
        if not hmac.compare_digest(expected.encode(), signature.encode("latin-1")):
            raise InvalidSignatureException(_MISMATCH)
        return principal

    def _check_scope(
        self, scope_date: str, region: str, service: str, terminator: str, amz_date: str
    ) -> None:
        if scope_date != amz_date[:8]:
            raise InvalidSignatureException(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                f"from HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        if region != self.region:
            raise InvalidSignatureException(
                f"Credential should be scoped to a valid region, not '{region}'."
            )
        if service != self.service:
            raise InvalidSignatureException(
                f"Credential should be scoped to correct service: '{self.service}'."
            )
        if terminator != "aws4_request":
            raise InvalidSignatureException(
                "Credential should be scoped with a valid terminator: 'aws4_request', "
                f"not '{terminator}'."
            )

    def _check_window(self, signed_at: datetime, amz_date: str) -> None:
        current = now()
        stamp = current.strftime(_AMZ_DATE)
        if signed_at < current - self.max_skew:
            earliest = (current - self.max_skew).strftime(_AMZ_DATE)
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is now earlier than {earliest} ({stamp} - 5 min.)"
            )
        if signed_at > current + self.max_skew:
            latest = (current + self.max_skew).strftime(_AMZ_DATE)
            raise InvalidSignatureException(
                f"Signature not yet current: {amz_date} is still later than {latest} "
                f"({stamp} + 5 min.)"
            )

    def _signature(
        self,
        principal: Principal,
        method: str,
        raw_path: bytes,
        query_string: bytes,
        headers: Headers,
        signed_headers: list[str],
        body: bytes,
        amz_date: str,
    ) -> str:
        """The signature botocore computes for the request as the client saw it."""
        host = _header(headers, b"host") or ""
        url = f"http://{host}{raw_path.decode('latin-1')}"
        if query_string:
            url += "?" + query_string.decode("latin-1")
        request = AWSRequest(method=method, url=url, data=body)
        wanted = {name.encode("latin-1") for name in signed_headers}
        for name, value in headers:
            if name in wanted:
                request.headers[name.decode("latin-1")] = value.decode("latin-1")
        declared = request.headers.get("X-Amz-Content-SHA256")
        if declared is not None and declared != sha256(body).hexdigest():
            # botocore trusts a declared payload hash; the body itself must match it.
            raise InvalidSignatureException(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        request.context["timestamp"] = amz_date
        credentials = Credentials(
            principal.access_key_id, principal.secret_access_key, principal.session_token
        )
        signer = SigV4Auth(credentials, self.service, self.region)
        string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
        return signer.signature(string_to_sign, request)


def _header(headers: Headers, name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


def _parse_authorization(authorization: str) -> tuple[str, list[str], str]:
    """(Credential, SignedHeaders as a list, Signature) of an Authorization header."""
    algorithm, _, rest = authorization.strip().partition(" ")
    parts: dict[str, str] = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        parts[name] = value
    if algorithm != _ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported AWS 'algorithm': '{algorithm[:50]}'. Sign requests with {_ALGORITHM}."
        )
    missing = [
        f"Authorization header requires '{name}' parameter."
        for name in ("Credential", "Signature", "SignedHeaders")
        if not parts.get(name)
    ]
    if missing:
        raise IncompleteSignatureException(
            " ".join(missing) + f" Authorization={authorization[:300]}"
        )
    return parts["Credential"], parts["SignedHeaders"].split(";"), parts["Signature"]


def _parse_credential(credential: str) -> tuple[str, str, str, str, str]:
    parts = credential.split("/")
    if len(parts) != 5:
        raise IncompleteSignatureException(
            "Credential must have exactly 5 slash-delimited elements, e.g. "
            f"keyid/date/region/service/term, got '{credential[:200]}'"
        )
    key_id, scope_date, region, service, terminator = parts
    return key_id, scope_date, region, service, terminator


def _parse_amz_date(text: str) -> datetime:
    try:
        return datetime.strptime(text, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise IncompleteSignatureException(
            f"Date must be in ISO-8601 'basic format'. Got '{text[:50]}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601"
        ) from None
