"""The wire protocol over raw HTTP: routing, body handling, error shape, knobs and faults."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import threading
import time
import uuid
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from botocore.exceptions import ClientError

from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.server import BackgroundService
from bedrock_sessions_local.testing import configure_service, running_service, service_config
from sessions_local_support import make_client


class Answer:
    """One raw HTTP answer: status, lower-cased headers and the body parsed as JSON if any."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.raw = body
        self.json: Any = json.loads(body) if body else None


def request(
    url: str,
    method: str,
    path: str,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    """Send one request over a fresh connection and return the answer."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        data = body.encode() if isinstance(body, str) else body
        all_headers = {"Content-Type": "application/json"} if data else {}
        all_headers.update(headers or {})
        connection.request(method, path, body=data, headers=all_headers)
        response = connection.getresponse()
        return Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()


def assert_aws_error(answer: Answer, status: int, code: str) -> None:
    """The answer has the AWS error shape botocore parses."""
    assert answer.status == status, answer.raw
    assert answer.headers["x-amzn-errortype"] == code
    assert answer.headers["content-type"] == "application/json"
    assert answer.json["__type"] == code
    assert isinstance(answer.json["message"], str) and answer.json["message"]
    assert answer.headers["x-amzn-requestid"]


def new_session(url: str) -> dict[str, Any]:
    answer = request(url, "PUT", "/sessions/", "{}")
    assert answer.status == 201
    return answer.json


def new_invocation(url: str, session_id: str) -> str:
    answer = request(url, "PUT", f"/sessions/{session_id}/invocations/", "{}")
    assert answer.status == 201
    return answer.json["invocationId"]


def step_body(invocation: str, payload: Any, **extra: Any) -> str:
    return json.dumps(
        {
            "invocationIdentifier": invocation,
            "invocationStepTime": "2025-01-02T03:04:05.123456Z",
            "payload": payload,
        }
        | extra
    )


# ----------------------------------------------------------------------------- local endpoints


def test_health_reports_status_session_count_and_version(session_service_url: str) -> None:
    new_session(session_service_url)
    answer = request(session_service_url, "GET", "/health")
    assert answer.status == 200
    assert answer.json["status"] == "ok"
    assert answer.json["sessions"] >= 1
    assert answer.json["version"]


def test_config_endpoint_reads_and_changes_knobs(session_service_url: str) -> None:
    assert service_config(session_service_url)["latency_ms"] == 0.0
    changed = configure_service(session_service_url, latency_ms=5, session_ttl_seconds=60)
    assert changed["latency_ms"] == 5.0
    assert changed["session_ttl_seconds"] == 60.0
    assert service_config(session_service_url) == changed


@pytest.mark.parametrize(
    "body",
    [
        '{"latency_ms": -1}',
        '{"throttle_rate": 1.5}',
        '{"nope": 1}',
        '{"latency_ms": "fast"}',
        '{"latency_ms": true}',
        "[1]",
        "{",
    ],
)
def test_config_endpoint_rejects_bad_changes_and_keeps_knobs(
    session_service_url: str, body: str
) -> None:
    before = service_config(session_service_url)
    answer = request(session_service_url, "POST", "/_local/config", body)
    assert answer.status == 400
    assert answer.json["message"]
    assert service_config(session_service_url) == before


# ------------------------------------------------------------------------------------ routing


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/", 404),
        ("GET", "/nope", 404),
        ("POST", "/agents/abc/agentAliases/def/sessions/ghi/text", 404),
        ("GET", "/sessions", 404),
        ("GET", "/sessions//", 404),
        ("DELETE", "/sessions/", 405),
        ("GET", "/sessions/", 405),
        ("POST", "/health", 405),
        ("DELETE", "/_local/config", 405),
    ],
)
def test_unknown_routes_and_methods_answer_in_aws_shape(
    session_service_url: str, method: str, path: str, status: int
) -> None:
    assert_aws_error(
        request(session_service_url, method, path), status, "UnknownOperationException"
    )


def test_trailing_slash_is_significant(session_service_url: str) -> None:
    sid = new_session(session_service_url)["sessionId"]
    # EndSession is PATCH without a trailing slash; GetSession is GET with one
    assert_aws_error(
        request(session_service_url, "PATCH", f"/sessions/{sid}/"), 405, "UnknownOperationException"
    )
    assert_aws_error(
        request(session_service_url, "GET", f"/sessions/{sid}"), 405, "UnknownOperationException"
    )
    assert request(session_service_url, "GET", f"/sessions/{sid}/").status == 200
    assert (
        request(session_service_url, "PATCH", f"/sessions/{sid}").json["sessionStatus"] == "ENDED"
    )


def test_percent_encoded_arn_in_the_path_is_one_segment(session_service_url: str) -> None:
    created = new_session(session_service_url)
    encoded = quote(created["sessionArn"], safe="")
    assert "%2F" in encoded
    answer = request(session_service_url, "GET", f"/sessions/{encoded}/")
    assert answer.status == 200
    assert answer.json["sessionId"] == created["sessionId"]
    tags = request(session_service_url, "GET", f"/tags/{encoded}")
    assert (tags.status, tags.json) == (200, {"tags": {}})
    # a raw slash splits the ARN into two segments: that is no route at all
    assert request(session_service_url, "GET", f"/tags/{created['sessionArn']}").status == 404
    # double encoding leaves %2F in the value, which fails the ARN pattern
    double = quote(encoded, safe="")
    assert_aws_error(
        request(session_service_url, "GET", f"/sessions/{double}/"), 400, "ValidationException"
    )


def test_path_segment_that_is_not_utf8_is_a_client_error(session_service_url: str) -> None:
    answer = request(session_service_url, "GET", "/sessions/%FF%FE/")
    assert_aws_error(answer, 400, "ValidationException")


# -------------------------------------------------------------------------------------- body


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{", "application/json", 400, "SerializationException"),
        ("[]", "application/json", 400, "SerializationException"),
        ('"text"', "application/json", 400, "SerializationException"),
        ("\xff\xfe", "application/json", 400, "SerializationException"),
        ('{"sessionMetadata": {"a": "b"}}', "text/plain", 415, "UnsupportedMediaTypeException"),
        ('{"sessionMetadata": "not a map"}', "application/json", 400, "ValidationException"),
        ('{"sessionMetadata": {"a": 1}}', "application/json", 400, "ValidationException"),
        ('{"tags": {"a": null}}', "application/json", 400, "ValidationException"),
    ],
)
def test_bad_bodies_answer_4xx_in_aws_shape(
    session_service_url: str, body: str, content_type: str, status: int, code: str
) -> None:
    answer = request(
        session_service_url,
        "PUT",
        "/sessions/",
        body.encode("latin-1"),
        headers={"Content-Type": content_type},
    )
    assert_aws_error(answer, status, code)


def test_empty_body_and_unknown_members_are_accepted(session_service_url: str) -> None:
    assert request(session_service_url, "PUT", "/sessions/", b"").status == 201
    answer = request(session_service_url, "PUT", "/sessions/", '{"futureMember": 1, "tags": null}')
    assert answer.status == 201


def test_body_over_the_limit_answers_413(tmp_path: Any) -> None:
    with running_service(db=tmp_path / "s.db", max_body_bytes=1024) as url:
        sid = new_session(url)["sessionId"]
        invocation = new_invocation(url, sid)
        big = step_body(invocation, {"contentBlocks": [{"text": "x" * 2000}]})
        answer = request(url, "PUT", f"/sessions/{sid}/invocationSteps/", big)
        assert_aws_error(answer, 413, "RequestEntityTooLargeException")
        small = step_body(invocation, {"contentBlocks": [{"text": "x" * 100}]})
        assert request(url, "PUT", f"/sessions/{sid}/invocationSteps/", small).status == 201


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({}, "payload"),
        ({"contentBlocks": []}, "contentBlocks"),
        ({"contentBlocks": [{}]}, "contentBlocks"),
        (
            {
                "contentBlocks": [
                    {"text": "a", "image": {"format": "png", "source": {"bytes": "AA=="}}}
                ]
            },
            "contentBlocks",
        ),
        ({"contentBlocks": [{"text": ""}]}, "text"),
        ({"contentBlocks": [{"text": 5}]}, "text"),
        ({"contentBlocks": [{"image": {"format": "bmp", "source": {"bytes": "AA=="}}}]}, "format"),
        (
            {"contentBlocks": [{"image": {"format": "png", "source": {"bytes": "not base64!"}}}]},
            "bytes",
        ),
        ({"contentBlocks": [{"image": {"format": "png", "source": {"bytes": ""}}}]}, "source"),
        ({"contentBlocks": [{"image": {"format": "png", "source": {}}}]}, "source"),
        (
            {
                "contentBlocks": [
                    {"image": {"format": "png", "source": {"s3Location": {"uri": "http://x/y"}}}}
                ]
            },
            "uri",
        ),
        ({"contentBlocks": [{"image": {"source": {"bytes": "AA=="}}}]}, "format"),
        ({"contentBlocks": "text"}, "contentBlocks"),
        ("payload", "payload"),
    ],
)
def test_payload_constraints_and_unions_are_enforced(
    session_service_url: str, payload: Any, where: str
) -> None:
    sid = new_session(session_service_url)["sessionId"]
    invocation = new_invocation(session_service_url, sid)
    answer = request(
        session_service_url,
        "PUT",
        f"/sessions/{sid}/invocationSteps/",
        step_body(invocation, payload),
    )
    assert_aws_error(answer, 400, "ValidationException")
    assert where in answer.json["message"]


def test_sensitive_content_is_redacted_from_error_messages(session_service_url: str) -> None:
    sid = new_session(session_service_url)["sessionId"]
    invocation = new_invocation(session_service_url, sid)
    secret = "card 4111-1111"
    payload = {
        "contentBlocks": [{"text": secret, "image": {"format": "png", "source": {"bytes": "AA=="}}}]
    }
    answer = request(
        session_service_url,
        "PUT",
        f"/sessions/{sid}/invocationSteps/",
        step_body(invocation, payload),
    )
    assert answer.status == 400
    assert secret not in answer.json["message"]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        ("2025-01-02T03:04:05.123456Z", "2025-01-02T03:04:05.123456Z"),
        ("2025-01-02T04:04:05+01:00", "2025-01-02T03:04:05.000000Z"),
        ("2025-01-02T03:04:05", "2025-01-02T03:04:05.000000Z"),
        (1735787045, "2025-01-02T03:04:05.000000Z"),
        (1735787045.5, "2025-01-02T03:04:05.500000Z"),
    ],
)
def test_step_time_accepts_iso_8601_and_epoch_and_answers_iso_with_micros(
    session_service_url: str, moment: Any, expected: str
) -> None:
    sid = new_session(session_service_url)["sessionId"]
    invocation = new_invocation(session_service_url, sid)
    body = json.dumps(
        {
            "invocationIdentifier": invocation,
            "invocationStepTime": moment,
            "payload": {"contentBlocks": [{"text": "t"}]},
        }
    )
    put = request(session_service_url, "PUT", f"/sessions/{sid}/invocationSteps/", body)
    assert put.status == 201, put.raw
    listed = request(session_service_url, "POST", f"/sessions/{sid}/invocationSteps/", "{}")
    assert listed.json["invocationStepSummaries"][0]["invocationStepTime"] == expected


@pytest.mark.parametrize("moment", ["yesterday", "2025-13-01T00:00:00Z", 1e20, True, [], ""])
def test_bad_step_time_is_a_validation_error(session_service_url: str, moment: Any) -> None:
    sid = new_session(session_service_url)["sessionId"]
    invocation = new_invocation(session_service_url, sid)
    body = json.dumps(
        {
            "invocationIdentifier": invocation,
            "invocationStepTime": moment,
            "payload": {"contentBlocks": [{"text": "t"}]},
        }
    )
    answer = request(session_service_url, "PUT", f"/sessions/{sid}/invocationSteps/", body)
    assert_aws_error(answer, 400, "ValidationException")
    assert "invocationStepTime" in answer.json["message"]


def test_timestamps_in_answers_are_iso_with_microseconds_and_z(session_service_url: str) -> None:
    created = new_session(session_service_url)
    assert created["createdAt"].endswith("Z")
    assert len(created["createdAt"]) == len("2025-01-02T03:04:05.123456Z")


def test_image_bytes_round_trip_as_the_same_base64(session_service_url: str) -> None:
    sid = new_session(session_service_url)["sessionId"]
    invocation = new_invocation(session_service_url, sid)
    encoded = base64.b64encode(bytes(range(256))).decode()
    step = str(uuid.uuid4())
    payload = {"contentBlocks": [{"image": {"format": "webp", "source": {"bytes": encoded}}}]}
    put = request(
        session_service_url,
        "PUT",
        f"/sessions/{sid}/invocationSteps/",
        step_body(invocation, payload, invocationStepId=step),
    )
    assert put.status == 201
    got = request(
        session_service_url,
        "POST",
        f"/sessions/{sid}/invocationSteps/{step}",
        json.dumps({"invocationIdentifier": invocation}),
    )
    assert got.json["invocationStep"]["payload"] == payload


# ------------------------------------------------------------------------------------- query


@pytest.mark.parametrize(
    "query",
    [
        "maxResults=abc",
        "maxResults=0",
        "maxResults=-1",
        "maxResults=1&maxResults=2",
        "maxResults=99999999999999999999999",
        "nextToken=",
        "nextToken=a%20b",
        "maxResults=%FF",
    ],
)
def test_bad_query_parameters_are_client_errors(session_service_url: str, query: str) -> None:
    answer = request(session_service_url, "POST", f"/sessions/?{query}")
    assert 400 <= answer.status < 500
    assert answer.json["__type"] in ("ValidationException", "SerializationException")
    assert answer.headers["x-amzn-errortype"] == answer.json["__type"]


def test_unknown_query_parameters_are_ignored(session_service_url: str) -> None:
    assert request(session_service_url, "POST", "/sessions/?maxResults=2&color=red").status == 200


def test_untag_reads_repeated_tag_keys(session_service_url: str) -> None:
    created = new_session(session_service_url)
    encoded = quote(created["sessionArn"], safe="")
    tagged = request(
        session_service_url,
        "POST",
        f"/tags/{encoded}",
        json.dumps({"tags": {"a": "1", "b": "2", "c": "3"}}),
    )
    assert tagged.status == 200
    assert (
        request(session_service_url, "DELETE", f"/tags/{encoded}?tagKeys=a&tagKeys=c").status == 200
    )
    assert request(session_service_url, "GET", f"/tags/{encoded}").json == {"tags": {"b": "2"}}
    assert_aws_error(
        request(session_service_url, "DELETE", f"/tags/{encoded}"), 400, "ValidationException"
    )


def test_null_members_count_as_absent(session_service_url: str) -> None:
    sid = new_session(session_service_url)["sessionId"]
    answer = request(
        session_service_url,
        "PUT",
        f"/sessions/{sid}/invocations/",
        '{"invocationId": null, "description": null}',
    )
    assert answer.status == 201
    uuid.UUID(answer.json["invocationId"])


# ----------------------------------------------------------------------- headers and faults


def test_answers_carry_request_id_and_service_time(session_service_url: str) -> None:
    answer = request(session_service_url, "PUT", "/sessions/", "{}")
    uuid.UUID(answer.headers["x-amzn-requestid"])
    assert int(answer.headers["x-local-service-time-us"]) >= 0


def test_injected_throttling_is_a_429_botocore_retries(session_service_url: str) -> None:
    configure_service(session_service_url, throttle_rate=1.0)
    retrying = make_client(session_service_url, retries={"max_attempts": 3, "mode": "standard"})
    with pytest.raises(ClientError) as info:
        retrying.list_sessions()
    response = info.value.response
    assert response["Error"]["Code"] == "ThrottlingException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["ResponseMetadata"]["RetryAttempts"] >= 1  # botocore retried it
    configure_service(session_service_url, throttle_rate=0.0)
    assert retrying.list_sessions()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_injected_internal_error_is_a_500_botocore_retries(session_service_url: str) -> None:
    configure_service(session_service_url, internal_error_rate=1.0)
    retrying = make_client(session_service_url, retries={"max_attempts": 2, "mode": "standard"})
    with pytest.raises(ClientError) as info:
        retrying.create_session()
    response = info.value.response
    assert response["Error"]["Code"] == "InternalServerException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert response["ResponseMetadata"]["RetryAttempts"] >= 1


def test_injected_latency_does_not_block_other_requests(session_service_url: str) -> None:
    sid = new_session(session_service_url)["sessionId"]
    configure_service(session_service_url, latency_ms=300)
    answers: list[Answer] = []

    def get() -> None:
        answers.append(request(session_service_url, "GET", f"/sessions/{sid}/"))

    threads = [threading.Thread(target=get) for _ in range(6)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert len(answers) == 6 and all(a.status == 200 for a in answers)
    assert 0.3 <= elapsed < 6 * 0.3 * 0.75  # in parallel, not one after another
    # the service-time header leaves the injected latency out
    assert all(int(a.headers["x-local-service-time-us"]) < 300_000 for a in answers)


def test_unexpected_error_is_an_internal_server_exception_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    service = BackgroundService(SessionBackend(":memory:")).start()
    try:

        def broken(*_: Any, **__: Any) -> Any:
            raise RuntimeError("disk on fire")

        service.app._methods["ListSessions"] = broken
        with caplog.at_level(logging.ERROR, logger="bedrock_sessions_local"):
            answer = request(service.url, "POST", "/sessions/")
        assert_aws_error(answer, 500, "InternalServerException")
        assert "disk on fire" not in answer.json["message"]
        assert any("disk on fire" in r.getMessage() or r.exc_info for r in caplog.records)
        assert request(service.url, "PUT", "/sessions/", "{}").status == 201
    finally:
        service.stop()
