"""Property-based: whatever arrives, the service answers a well-formed AWS error or success,
and never a 5xx (fault injection off): random raw HTTP requests, random boto3 calls, and raw
bytes that break HTTP/1.1's rules or pass the HTTP layer's limits, sent slowly or at once."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from botocore.exceptions import ClientError, ParamValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_sessions_local.limits import RequestLimits
from bedrock_sessions_local.testing import running_service
from sessions_local_attack import aws_shape_problem, exchange
from sessions_local_support import ACCOUNT, REGION, make_client

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=False,
)


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A service holding one ACTIVE session with an invocation and a step, and one ENDED."""
    db = tmp_path_factory.mktemp("fuzz") / "sessions.db"
    with running_service(db=db) as url:
        client = make_client(url)
        active = client.create_session(tags={"a": "1"})
        invocation = client.create_invocation(sessionIdentifier=active["sessionId"])
        step = client.put_invocation_step(
            sessionIdentifier=active["sessionId"],
            invocationIdentifier=invocation["invocationId"],
            invocationStepTime=datetime.now(UTC),
            payload={"contentBlocks": [{"text": "seed"}]},
        )
        ended = client.create_session()
        client.end_session(sessionIdentifier=ended["sessionId"])
        yield {
            "url": url,
            "client": make_client(url, retries={"max_attempts": 1}),
            "session_ids": [active["sessionId"], ended["sessionId"]],
            "arns": [active["sessionArn"], ended["sessionArn"]],
            "invocation": invocation["invocationId"],
            "step": step["invocationStepId"],
        }


def check_answer(status: int, headers: dict[str, str], body: bytes) -> None:
    """No 5xx; an error has the AWS shape botocore parses."""
    assert status < 500, body
    if status >= 400:
        assert headers.get("x-amzn-errortype"), (status, headers)
        document = json.loads(body)
        assert document["__type"] == headers["x-amzn-errortype"]
        assert isinstance(document["message"], str) and document["message"]
    elif body:
        json.loads(body)


# ---------------------------------------------------------------------------- raw HTTP fuzz

_json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
_json_value = st.recursive(
    _json_leaf,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
_member_names = st.sampled_from(
    [
        "sessionMetadata",
        "tags",
        "encryptionKeyArn",
        "invocationId",
        "description",
        "invocationIdentifier",
        "invocationStepId",
        "invocationStepTime",
        "payload",
        "contentBlocks",
    ]
)


@st.composite
def raw_requests(draw: st.DrawFn, target: dict[str, Any]) -> tuple[str, str, bytes, dict]:
    identifier = draw(
        st.sampled_from(target["session_ids"] + target["arns"])
        | st.text(max_size=40)
        | st.just(str(uuid.uuid4()))
    )
    encoded = quote(identifier, safe="") or "x"
    step = draw(st.sampled_from([target["step"], str(uuid.uuid4())]) | st.text(max_size=10))
    path = draw(
        st.sampled_from(
            [
                "/sessions/",
                f"/sessions/{encoded}/",
                f"/sessions/{encoded}",
                f"/sessions/{encoded}/invocations/",
                f"/sessions/{encoded}/invocationSteps/",
                f"/sessions/{encoded}/invocationSteps/{quote(step, safe='') or 'x'}",
                f"/tags/{encoded}",
                "/health",
                "/_local/config/x",
            ]
        )
        | st.text(alphabet="/%abcdefAF0123456789sesion:", max_size=40).map(lambda p: "/" + p)
    )
    query_pairs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["maxResults", "nextToken", "tagKeys", "other"]),
                st.text(max_size=20) | st.integers(-5, 2000).map(str),
            ),
            max_size=4,
        )
    )
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in query_pairs)
    if draw(st.booleans()) and query:
        path = f"{path}?{query}"
    method = draw(st.sampled_from(["GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"]))
    if draw(st.booleans()):
        document = draw(
            st.dictionaries(_member_names, _json_value, max_size=4)
            | st.builds(
                lambda invocation, payload: {
                    "invocationIdentifier": invocation,
                    "invocationStepTime": "2025-01-02T03:04:05Z",
                    "payload": payload,
                },
                st.sampled_from([target["invocation"], str(uuid.uuid4())]),
                _json_value,
            )
        )
        body = json.dumps(document).encode()
    else:
        body = draw(st.binary(max_size=64))
    headers = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "Content-Type": st.sampled_from(
                    ["application/json", "text/plain", "", "application/x-amz-json-1.1"]
                ),
                "X-Amz-Target": st.text(alphabet="abcXYZ.", max_size=10),
            },
        )
    )
    return method, path, body, headers


def send_raw(url: str, method: str, path: str, body: bytes, headers: dict) -> Any:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@PROPERTY_SETTINGS
@given(data=st.data())
def test_random_raw_requests_never_get_a_5xx_and_errors_are_well_formed(
    fuzz_target: dict[str, Any], data: st.DataObject
) -> None:
    method, path, body, headers = data.draw(raw_requests(fuzz_target))
    check_answer(*send_raw(fuzz_target["url"], method, path, body, headers))


# ------------------------------------------------------------------------------ boto3 fuzz

_ids = st.one_of(
    st.just(str(uuid.uuid4())),
    st.text(min_size=1, max_size=50),
    st.builds(lambda u: f"arn:aws:bedrock:{REGION}:{ACCOUNT}:session/{u}", st.uuids().map(str)),
)
_string_maps = st.dictionaries(st.text(min_size=1, max_size=30), st.text(max_size=30), max_size=5)
_timestamps = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.integers(min_value=0, max_value=2**33),
)
_content_blocks = st.lists(
    st.one_of(
        st.builds(lambda t: {"text": t}, st.text(min_size=1, max_size=50)),
        st.builds(
            lambda fmt, data: {"image": {"format": fmt, "source": {"bytes": data}}},
            st.sampled_from(["png", "jpeg", "gif", "webp"]),
            st.binary(min_size=1, max_size=20),
        ),
        st.builds(
            lambda fmt, uri: {"image": {"format": fmt, "source": {"s3Location": {"uri": uri}}}},
            st.sampled_from(["png", "jpeg"]),
            st.text(min_size=1, max_size=40) | st.just("s3://bucket/key.png"),
        ),
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def boto3_calls(draw: st.DrawFn, target: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    session = draw(st.sampled_from(target["session_ids"] + target["arns"]) | _ids)
    invocation = draw(st.sampled_from([target["invocation"]]) | _ids)
    step = draw(st.sampled_from([target["step"]]) | _ids)
    arn = draw(st.sampled_from(target["arns"]) | _ids.filter(lambda a: len(a) >= 20))
    paging = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "maxResults": st.integers(1, 1500),
                "nextToken": st.text(min_size=1, max_size=30),
            },
        )
    )
    calls = {
        "create_session": lambda: draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "sessionMetadata": _string_maps,
                    "tags": _string_maps,
                    "encryptionKeyArn": st.text(min_size=1, max_size=80),
                },
            )
        ),
        "get_session": lambda: {"sessionIdentifier": session},
        "update_session": lambda: {
            "sessionIdentifier": session,
            "sessionMetadata": draw(_string_maps),
        },
        "end_session": lambda: {"sessionIdentifier": session},
        "delete_session": lambda: {"sessionIdentifier": session},
        "list_sessions": lambda: paging,
        "create_invocation": lambda: (
            {"sessionIdentifier": session}
            | draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "invocationId": _ids,
                        "description": st.text(min_size=1, max_size=220),
                    },
                )
            )
        ),
        "list_invocations": lambda: {"sessionIdentifier": session} | paging,
        "put_invocation_step": lambda: (
            {
                "sessionIdentifier": session,
                "invocationIdentifier": invocation,
                "invocationStepTime": draw(_timestamps),
                "payload": {"contentBlocks": draw(_content_blocks)},
            }
            | draw(st.fixed_dictionaries({}, optional={"invocationStepId": _ids}))
        ),
        "get_invocation_step": lambda: {
            "sessionIdentifier": session,
            "invocationIdentifier": invocation,
            "invocationStepId": step,
        },
        "list_invocation_steps": lambda: (
            {"sessionIdentifier": session}
            | paging
            | draw(st.fixed_dictionaries({}, optional={"invocationIdentifier": _ids}))
        ),
        "tag_resource": lambda: {"resourceArn": arn, "tags": draw(_string_maps)},
        "untag_resource": lambda: {
            "resourceArn": arn,
            "tagKeys": draw(st.lists(st.text(min_size=1, max_size=20), max_size=4)),
        },
        "list_tags_for_resource": lambda: {"resourceArn": arn},
    }
    operation = draw(st.sampled_from(sorted(calls)))
    return operation, calls[operation]()


@PROPERTY_SETTINGS
@given(data=st.data())
def test_random_boto3_calls_never_get_a_5xx_and_errors_parse(
    fuzz_target: dict[str, Any], data: st.DataObject
) -> None:
    operation, params = data.draw(boto3_calls(fuzz_target))
    client = fuzz_target["client"]
    try:
        response = getattr(client, operation)(**params)
    except ParamValidationError:
        return  # botocore refused to send it; nothing reached the service
    except ClientError as error:
        meta = error.response["ResponseMetadata"]
        assert meta["HTTPStatusCode"] < 500, error.response
        assert error.response["Error"]["Code"] in {
            "ValidationException",
            "ResourceNotFoundException",
            "ConflictException",
            "ServiceQuotaExceededException",
        }, error.response
        assert error.response["Error"]["Message"]
        return
    assert response["ResponseMetadata"]["HTTPStatusCode"] in (200, 201)


# ------------------------------------------------------------- raw bytes past HTTP/1.1's rules

#: small limits and short timeouts, so that a drawn request meets them and an example is quick
_SMALL_LIMITS = RequestLimits(
    max_header_bytes=2048,
    max_url_bytes=2048,
    request_timeout_seconds=0.25,
    idle_timeout_seconds=0.25,
)
_SMALL_BODY = 8 * 1024


@pytest.fixture(scope="module")
def limited_port() -> Any:
    with running_service(max_body_bytes=_SMALL_BODY, limits=_SMALL_LIMITS) as url:
        yield int(url.rsplit(":", 1)[1])


def _around(limit: int) -> st.SearchStrategy[int]:
    return st.integers(limit - 64, limit + 64) | st.integers(0, 3 * limit)


def _mostly(usual: list[bytes], odd: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """One of ``usual`` 7 times in 10, else ``odd``: most requests get past the request line."""
    return st.integers(0, 9).flatmap(lambda n: st.sampled_from(usual) if n < 7 else odd)


_raw_methods = _mostly(
    [b"GET", b"PUT", b"POST", b"PATCH", b"DELETE"],
    st.sampled_from([b"OPTIONS", b"get", b"Put", b"FOO", b"PRI", b"CONNECT", b""])
    | st.binary(min_size=1, max_size=8),
)
_raw_targets = _mostly(
    [b"/health", b"/sessions/", b"/sessions/x/invocations/", b"/tags/x"],
    st.sampled_from([b"*", b"http://x/health"])
    | st.binary(max_size=40).map(lambda tail: b"/" + tail)
    | _around(_SMALL_LIMITS.max_url_bytes).map(lambda n: b"/health?q=" + b"a" * n),
)
_raw_versions = _mostly([b"HTTP/1.1"], st.sampled_from([b"HTTP/1.0", b"HTTP/2.0", b"http/1.1"]))
_raw_header_names = _mostly(
    [b"Host", b"Content-Type", b"Connection", b"Expect", b"X-Amz-Target"],
    st.sampled_from([b"Upgrade", b"Te"]) | st.binary(min_size=1, max_size=12),
)
_raw_header_values = _mostly(
    [b"x", b"application/json", b"close", b"100-continue"],
    st.sampled_from([b"websocket", b""])
    | st.binary(max_size=20)
    | _around(_SMALL_LIMITS.max_header_bytes).map(lambda n: b"v" * n),
)
_raw_bodies = st.binary(max_size=100) | _around(_SMALL_BODY).map(lambda n: b"{" + b" " * n + b"}")
_framings = st.sampled_from(["length", "shorter", "longer", "chunked", "bad chunks", "none"])


@st.composite
def raw_http(draw: st.DrawFn) -> list[bytes]:
    """The bytes of one request, right or wrong in every part, cut into pieces."""
    method, target, version = draw(_raw_methods), draw(_raw_targets), draw(_raw_versions)
    lines = [method + b" " + target + b" " + version]
    headers = draw(st.lists(st.tuples(_raw_header_names, _raw_header_values), max_size=6))
    lines += [name + b": " + value for name, value in headers]
    body, framing = draw(_raw_bodies), draw(_framings)
    if framing in ("length", "shorter", "longer"):
        shift = {"length": 0, "shorter": -1, "longer": 1}[framing] * draw(st.integers(1, 50))
        lines.append(b"Content-Length: %d" % max(0, len(body) + shift))
    elif framing in ("chunked", "bad chunks"):
        size = b"%x" % len(body) if framing == "chunked" else draw(st.binary(max_size=4))
        lines.append(b"Transfer-Encoding: chunked")
        body = size + b"\r\n" + body + b"\r\n0\r\n\r\n"
    if draw(st.booleans()):
        lines.append(b"Connection: close")
    data = b"\r\n".join(lines) + b"\r\n\r\n" + body
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=3)))
    return [data[start:end] for start, end in zip([0, *cuts], [*cuts, len(data)], strict=True)]


@PROPERTY_SETTINGS
@given(pieces=raw_http(), pause=st.sampled_from([0.0, 0.02]))
def test_random_raw_bytes_get_aws_shaped_answers_and_a_closed_connection(
    limited_port: int, pieces: list[bytes], pause: float
) -> None:
    def slowly() -> Any:
        for piece in pieces:
            time.sleep(pause)  # a slow client, at most a few pauses
            yield piece

    started = time.perf_counter()
    answers = exchange(limited_port, slowly(), timeout=10)
    assert all(aws_shape_problem(answer) is None for answer in answers), answers
    assert time.perf_counter() - started < 5  # the service closed it: answered, idle or late
