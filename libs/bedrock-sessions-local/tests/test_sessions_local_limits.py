"""The HTTP layer's limits over raw sockets: each is enforced before the request is read whole,
answered in the AWS error shape on a closed connection, and the service keeps serving."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from bedrock_sessions_local.__main__ import build_parser
from bedrock_sessions_local.limits import RequestLimits
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.protocol import LimitedHttpProtocol
from bedrock_sessions_local.server import BackgroundService
from bedrock_sessions_local.testing import running_service
from sessions_local_attack import (
    BAD_METHODS,
    HEALTH,
    MALFORMED,
    Answer,
    aws_shape_problem,
    exchange,
    many_headers,
    oversize_chunked_body,
    oversize_header,
    oversize_target,
    parse_answers,
    service_process,
    short_body,
    slow_request,
)

MAX_BODY = 200 * 1024
LIMITS = RequestLimits(
    max_header_bytes=4096,
    max_url_bytes=1024,
    request_timeout_seconds=1.0,
    idle_timeout_seconds=1.0,
)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    """A service with small limits: 4 KiB of header fields, a 1 KiB target, a 200 KiB body,
    1 s to send a request, 1 s idle."""
    with running_service(max_body_bytes=MAX_BODY, limits=LIMITS) as url:
        yield port_of(url)


def refused(answers: list[Answer], status: int, code: str) -> Answer:
    """The one answer is the AWS error ``code`` with ``status``, and it closes the connection."""
    assert [answer.status for answer in answers] == [status], answers
    answer = answers[0]
    assert aws_shape_problem(answer) is None, answer
    assert answer.headers["x-amzn-errortype"] == code
    assert answer.headers["connection"] == "close"
    return answer


def assert_serving(port: int) -> None:
    assert [answer.status for answer in exchange(port, [HEALTH])] == [200]


def health_with(header_line: bytes = b"", target: bytes = b"/health") -> bytes:
    """A /health request with 37 bytes of header fields besides ``header_line``."""
    return b"GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n" % (target, header_line)


# ------------------------------------------------------------------------------ head limits


def test_header_fields_up_to_the_limit_are_read_one_byte_more_is_431(port: int) -> None:
    # "Host: x" counts 9 bytes, "Connection: close" 19, "X-Pad: <pad>" 9 + len(pad)
    pad = b"p" * (LIMITS.max_header_bytes - 37)
    assert [a.status for a in exchange(port, [health_with(b"X-Pad: %s\r\n" % pad)])] == [200]
    answers = exchange(port, [health_with(b"X-Pad: %s\r\n" % (pad + b"p"))])
    answer = refused(answers, 431, "RequestHeaderFieldsTooLargeException")
    assert "4096 bytes" in orjson.loads(answer.body)["message"]


def test_a_huge_header_is_refused_after_reading_little_of_it(port: int) -> None:
    started = time.perf_counter()
    answers = exchange(port, oversize_header(64 * 1024 * 1024))
    refused(answers, 431, "RequestHeaderFieldsTooLargeException")
    assert time.perf_counter() - started < 3  # whole, 64 MB would take a while to even send
    assert_serving(port)


def test_many_small_header_fields_are_431(port: int) -> None:
    refused(exchange(port, many_headers(5000)), 431, "RequestHeaderFieldsTooLargeException")


def test_a_target_up_to_the_limit_is_read_one_byte_more_is_414(port: int) -> None:
    target = b"/health?q=" + b"a" * (LIMITS.max_url_bytes - 10)
    assert [a.status for a in exchange(port, [health_with(target=target)])] == [200]
    answers = exchange(port, [health_with(target=target + b"a")])
    refused(answers, 414, "RequestURITooLongException")


def test_the_64_kib_target_that_got_a_plain_400_is_414(port: int) -> None:
    refused(exchange(port, oversize_target(70_000)), 414, "RequestURITooLongException")
    assert_serving(port)


@pytest.mark.parametrize("request_bytes", BAD_METHODS)
def test_methods_http_does_not_know_are_405(port: int, request_bytes: bytes) -> None:
    refused(exchange(port, [request_bytes]), 405, "UnknownOperationException")


@pytest.mark.parametrize("request_bytes", MALFORMED)
def test_requests_http_refuses_are_400_serialization(port: int, request_bytes: bytes) -> None:
    refused(exchange(port, [request_bytes]), 400, "SerializationException")
    assert_serving(port)


# ------------------------------------------------------------------------------ bodies


def create_session_with_body(body: bytes, content_length: int | None = None) -> bytes:
    length = len(body) if content_length is None else content_length
    head = b"PUT /sessions/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    return head + b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (length, body)


def padded_json(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (CreateSession ignores the unknown member)."""
    return b'{"padding": "' + b"p" * (size - 15) + b'"}'


def test_a_body_up_to_the_limit_is_read(port: int) -> None:
    body = padded_json(MAX_BODY)
    assert len(body) == MAX_BODY
    assert [a.status for a in exchange(port, [create_session_with_body(body)])] == [201]


def test_a_declared_body_over_the_limit_is_413_before_any_of_it_is_sent(port: int) -> None:
    head = create_session_with_body(b"", content_length=MAX_BODY + 1)
    refused(exchange(port, [head]), 413, "RequestEntityTooLargeException")
    one_gigabyte = create_session_with_body(b"", content_length=10**9)
    refused(exchange(port, [one_gigabyte]), 413, "RequestEntityTooLargeException")


def test_a_chunked_body_is_413_as_soon_as_it_passes_the_limit(port: int) -> None:
    answers = exchange(port, oversize_chunked_body(64 * 1024 * 1024))
    answer = refused(answers, 413, "RequestEntityTooLargeException")
    assert f"{MAX_BODY} bytes" in orjson.loads(answer.body)["message"]


def test_a_content_length_smaller_than_the_body_leaves_the_rest_as_the_next_request(
    port: int,
) -> None:
    # Host header, no Connection: close: the rest is read as a second request
    lie = b"PUT /sessions/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}garbage\r\n\r\n"
    answers = exchange(port, [lie])
    assert [answer.status for answer in answers] == [201, 405]
    assert all(aws_shape_problem(answer) is None for answer in answers)


# ------------------------------------------------------------------------------ time


def test_a_content_length_larger_than_the_body_is_408_after_the_request_timeout(
    port: int,
) -> None:
    started = time.perf_counter()
    refused(exchange(port, short_body()), 408, "RequestTimeoutException")
    assert 0.9 <= time.perf_counter() - started < 3


def test_a_dripping_client_is_408_after_the_request_timeout_whatever_it_sends(
    port: int,
) -> None:
    started = time.perf_counter()
    answers = exchange(port, slow_request(0.1, threading.Event()))
    refused(answers, 408, "RequestTimeoutException")
    assert 0.9 <= time.perf_counter() - started < 3


def test_an_idle_connection_is_closed_after_the_idle_timeout_blank_lines_or_not(
    port: int,
) -> None:
    def blank_lines() -> Iterator[bytes]:
        for _ in range(40):
            time.sleep(0.1)
            yield b"\r\n"

    for pieces in ([], blank_lines()):
        started = time.perf_counter()
        assert exchange(port, pieces) == []
        assert 0.9 <= time.perf_counter() - started < 3


def test_pipelined_requests_are_answered_in_order_before_a_refusal(port: int) -> None:
    pipelined = b"GET /health HTTP/1.1\r\n\r\n" * 2 + b"get /health HTTP/1.1\r\n\r\n"
    answers = exchange(port, [pipelined])
    assert [answer.status for answer in answers] == [200, 200, 405]


# ------------------------------------------------------------------------------ connections


@contextmanager
def service_with(limits: RequestLimits, latency_ms: float = 0.0) -> Iterator[BackgroundService]:
    """A service whose connections a test can watch (``running_service`` hides them)."""
    service = BackgroundService(SessionBackend(":memory:"), max_body_bytes=MAX_BODY, limits=limits)
    service.knobs.update({"latency_ms": latency_ms})
    service.start()
    try:
        yield service
    finally:
        service.stop()


def connections_of(service: BackgroundService) -> set[LimitedHttpProtocol]:
    return service._server.server_state.connections  # type: ignore[return-value]


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll ``condition`` until it holds (the service works on its own thread)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the service did not get there in time"
        time.sleep(0.01)


def open_slow(port: int, count: int) -> list[socket.socket]:
    """``count`` connections holding a request head that is still arriving, oldest first."""
    connections = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=5)
        connection.sendall(b"PUT /sessions/ HTTP/1.1\r\nX-Slow: ")
        connections.append(connection)
        time.sleep(0.02)
    return connections


def read_until_closed(connection: socket.socket) -> list[Answer]:
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    connection.close()
    return parse_answers(data)


def test_over_max_connections_the_one_waiting_longest_for_its_client_is_closed() -> None:
    with service_with(RequestLimits(max_connections=8)) as service:
        port = port_of(service.url)
        slow = open_slow(port, 8)
        wait_until(lambda: len(connections_of(service)) == 8)
        assert_serving(port)  # the ninth connection
        refused(read_until_closed(slow[0]), 408, "RequestTimeoutException")
        for connection in slow[1:]:
            connection.setblocking(False)
            with pytest.raises(BlockingIOError):  # open, nothing sent to it
                connection.recv(1)
            connection.close()


def test_over_max_connections_all_busy_the_new_one_is_429_throttling() -> None:
    with service_with(RequestLimits(max_connections=4), latency_ms=1500) as service:
        port = port_of(service.url)
        busy = []
        for _ in range(4):  # API calls sleeping in the service's injected latency
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            connection.sendall(b"POST /sessions/ HTTP/1.1\r\nConnection: close\r\n\r\n")
            busy.append(connection)
        wait_until(lambda: sum(not c._waits_for_client() for c in connections_of(service)) == 4)
        refused(exchange(port, [HEALTH]), 429, "ThrottlingException")
        assert [[a.status for a in read_until_closed(c)] for c in busy] == [[200]] * 4
        assert_serving(port)


def test_body_bytes_in_flight_over_the_budget_are_429_and_small_calls_go_on() -> None:
    with service_with(RequestLimits(max_body_bytes_in_flight=512 * 1024)) as service:
        port = port_of(service.url)
        budget = service._server.config.http.budget  # type: ignore[union-attr]
        held = []
        for _ in range(2):  # 2 x 180 KiB of 200 KiB bodies, the rest never sent
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            head = create_session_with_body(b"", content_length=MAX_BODY)
            connection.sendall(head + b" " * (180 * 1024))
            held.append(connection)
        wait_until(lambda: budget.held == 2 * 180 * 1024)
        body = padded_json(MAX_BODY)
        refused(exchange(port, [create_session_with_body(body)]), 429, "ThrottlingException")
        assert_serving(port)
        small = exchange(port, [create_session_with_body(b"{}")])
        assert [answer.status for answer in small] == [201]
        for connection in held:  # the clients give up: their bytes are given back
            connection.close()
        wait_until(lambda: budget.held == 0)
        assert [a.status for a in exchange(port, [create_session_with_body(body)])] == [201]


# ------------------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    "bad",
    [
        {"max_header_bytes": 0},
        {"max_url_bytes": -1},
        {"max_connections": 1.5},
        {"request_timeout_seconds": float("nan")},
        {"idle_timeout_seconds": float("inf")},
        {"max_body_bytes_in_flight": True},
    ],
)
def test_limits_out_of_range_are_value_errors(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RequestLimits(**bad)  # type: ignore[arg-type]


def test_a_body_limit_over_the_bytes_in_flight_is_a_value_error() -> None:
    limits = RequestLimits(max_body_bytes_in_flight=1024 * 1024)
    too_large = running_service(max_body_bytes=2 * 1024 * 1024, limits=limits)
    with pytest.raises(ValueError, match="max_body_bytes_in_flight"), too_large:
        pass


@pytest.mark.parametrize(
    "argv",
    [
        ["--max-header-bytes", "0"],
        ["--max-url-bytes", "many"],
        ["--request-timeout-seconds", "-1"],
        ["--idle-timeout-seconds", "inf"],
        ["--max-connections", "1.5"],
        ["--max-body-bytes-in-flight", "0"],
    ],
)
def test_parser_rejects_bad_limit_flags(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(argv)


def vm_peak_mb(pid: int) -> float:
    """The peak resident memory (VmHWM) of process ``pid`` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_service_process_memory_stays_flat_while_oversize_requests_arrive() -> None:
    flags = ["--max-header-bytes", "8192", "--max-body-bytes", "1048576"]
    with service_process(*flags, "--max-body-bytes-in-flight", "8388608") as (port, pid):
        assert_serving(port)
        before = vm_peak_mb(pid)
        pad = b"p" * 8000
        assert [a.status for a in exchange(port, [health_with(b"X: %s\r\n" % pad)])] == [200]
        too_large = "RequestHeaderFieldsTooLargeException"
        refused(exchange(port, [health_with(b"X: %s\r\n" % (pad + b"p" * 200))]), 431, too_large)
        for _ in range(3):
            refused(exchange(port, oversize_header(200 * 1024 * 1024)), 431, too_large)
            answers = exchange(port, oversize_target(64 * 1024 * 1024))
            refused(answers, 414, "RequestURITooLongException")
            answers = exchange(port, oversize_chunked_body(64 * 1024 * 1024))
            refused(answers, 413, "RequestEntityTooLargeException")
        assert_serving(port)
        assert vm_peak_mb(pid) - before < 20  # before the limits: +400 MB


def test_a_refused_body_after_expect_100_continue_gets_no_continue_and_logs_no_error(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    # the service has not read the body yet when the bad chunk (in the same packet) is refused
    request = b"PUT /sessions/ HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
    request += b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
    with caplog.at_level(logging.ERROR):
        refused(exchange(port, [request]), 400, "SerializationException")
        assert_serving(port)
    assert [record.getMessage() for record in caplog.records] == []
