"""Faults after the commit, as AWS has them: the operation runs and is stored, then its answer
is a 500, a reset connection or a late one. Each fault is met through real boto3 (a client that
never retries, to see the fault itself) and every write is read back afterwards with the faults
off. Rates of 1.0 make each check deterministic; ``fault_seed`` makes a rate below 1 repeatable.
"""

from __future__ import annotations

import http.client
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from bedrock_sessions_local.config import ServiceKnobs
from bedrock_sessions_local.pytest_plugin import DEFAULT_KNOBS
from bedrock_sessions_local.testing import (
    configure_service,
    make_client,
    running_service,
    service_config,
)
from sessions_local_support import error_of, put_step, text_payload

#: a write prepared on a healthy client: (the write, given the faulty client; the check that
#: its effect is stored, run once the faults are off)
Case = tuple[Callable[[Any], Any], Callable[[], None]]


def create_session(client: Any) -> Case:
    newest = client.create_session()["sessionId"]

    def stored() -> None:
        # CreateSession has no client-chosen id: a newer session than before is the new one
        assert client.list_sessions(maxResults=1)["sessionSummaries"][0]["sessionId"] != newest

    return (lambda faulty: faulty.create_session()), stored


def update_session(client: Any) -> Case:
    sid = client.create_session()["sessionId"]

    def stored() -> None:
        assert client.get_session(sessionIdentifier=sid)["sessionMetadata"] == {"size": "42"}

    return (
        lambda faulty: faulty.update_session(sessionIdentifier=sid, sessionMetadata={"size": "42"})
    ), stored


def create_invocation(client: Any) -> Case:
    sid = client.create_session()["sessionId"]
    invocation_id = str(uuid.uuid4())

    def stored() -> None:
        listed = client.list_invocations(sessionIdentifier=sid)["invocationSummaries"]
        assert [i["invocationId"] for i in listed] == [invocation_id]

    return (
        lambda faulty: faulty.create_invocation(sessionIdentifier=sid, invocationId=invocation_id)
    ), stored


def put_invocation_step(client: Any) -> Case:
    sid = client.create_session()["sessionId"]
    invocation_id = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    step_id = str(uuid.uuid4())

    def stored() -> None:
        step = client.get_invocation_step(
            sessionIdentifier=sid, invocationIdentifier=invocation_id, invocationStepId=step_id
        )["invocationStep"]
        assert step["payload"] == text_payload("size 42 trail shoes")

    return (
        lambda faulty: put_step(
            faulty, sid, invocation_id, "size 42 trail shoes", invocationStepId=step_id
        )
    ), stored


def end_session(client: Any) -> Case:
    sid = client.create_session()["sessionId"]

    def stored() -> None:
        assert client.get_session(sessionIdentifier=sid)["sessionStatus"] == "ENDED"

    return (lambda faulty: faulty.end_session(sessionIdentifier=sid)), stored


def delete_session(client: Any) -> Case:
    sid = client.create_session()["sessionId"]
    client.end_session(sessionIdentifier=sid)

    def stored() -> None:
        assert error_of(client.get_session, sessionIdentifier=sid)[:2] == (
            "ResourceNotFoundException",
            404,
        )

    return (lambda faulty: faulty.delete_session(sessionIdentifier=sid)), stored


def tag_resource(client: Any) -> Case:
    arn = client.create_session()["sessionArn"]

    def stored() -> None:
        assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"shop": "shoes"}

    return (lambda faulty: faulty.tag_resource(resourceArn=arn, tags={"shop": "shoes"})), stored


WRITES = [
    create_session,
    update_session,
    create_invocation,
    put_invocation_step,
    end_session,
    delete_session,
    tag_resource,
]


def meet_fault(url: str, knobs: dict[str, Any], write: Callable[[], Any]) -> BaseException:
    """Run ``write`` with ``knobs`` on, then turn them off; return what the client raised."""
    configure_service(url, **knobs)
    try:
        write()
    except Exception as error:
        return error
    finally:
        configure_service(url, **{name: DEFAULT_KNOBS[name] for name in knobs})
    raise AssertionError(f"no fault with {knobs}")


# ----------------------------------------------------------------------- a 500 after the commit


@pytest.mark.parametrize("prepare", WRITES, ids=lambda f: f.__name__)
def test_commit_error_answers_500_yet_the_write_is_stored(
    session_service_url: str, client: Any, no_retry_client: Any, prepare: Callable[[Any], Case]
) -> None:
    write, stored = prepare(client)
    error = meet_fault(
        session_service_url, {"commit_error_rate": 1.0}, lambda: write(no_retry_client)
    )
    assert isinstance(error, ClientError), error
    assert error.response["Error"]["Code"] == "InternalServerException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "after the operation completed" in error.response["Error"]["Message"]
    assert error.response["ResponseMetadata"]["RetryAttempts"] == 0
    stored()


def test_commit_error_applies_to_reads_too(
    session_service_url: str, client: Any, no_retry_client: Any
) -> None:
    sid = client.create_session()["sessionId"]
    error = meet_fault(
        session_service_url,
        {"commit_error_rate": 1.0},
        lambda: no_retry_client.list_invocation_steps(sessionIdentifier=sid),
    )
    assert isinstance(error, ClientError)
    assert error.response["Error"]["Code"] == "InternalServerException"


def test_commit_faults_spare_a_call_that_failed(
    session_service_url: str, no_retry_client: Any
) -> None:
    """A call that changed nothing answers its own error: the faults are about lost answers."""
    missing = str(uuid.uuid4())
    configure_service(
        session_service_url, commit_error_rate=1.0, commit_drop_rate=1.0, slow_response_rate=1.0
    )
    assert error_of(no_retry_client.get_session, sessionIdentifier=missing)[:2] == (
        "ResourceNotFoundException",
        404,
    )


def test_retried_write_after_a_commit_error_meets_itself(
    session_service_url: str, client: Any
) -> None:
    """What a retrying client sees: its own stored write, a 409 for an id it chose, a second
    row for an id the service chose."""
    sid = client.create_session()["sessionId"]
    invocation_id = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    retrying = make_client(
        session_service_url, retries={"total_max_attempts": 2, "mode": "standard"}
    )
    step_id = str(uuid.uuid4())
    error = meet_fault(
        session_service_url,
        {"commit_error_rate": 1.0},
        lambda: put_step(retrying, sid, invocation_id, "once", invocationStepId=step_id),
    )
    assert isinstance(error, ClientError)
    assert error.response["Error"]["Code"] == "ConflictException"
    assert f"{step_id} already exists" in error.response["Error"]["Message"]
    assert error.response["ResponseMetadata"]["RetryAttempts"] == 1

    error = meet_fault(
        session_service_url,
        {"commit_error_rate": 1.0},
        lambda: put_step(retrying, sid, invocation_id, "twice"),
    )
    assert isinstance(error, ClientError)
    assert error.response["Error"]["Code"] == "InternalServerException"  # both attempts
    steps = client.list_invocation_steps(sessionIdentifier=sid)["invocationStepSummaries"]
    assert len(steps) == 3  # "once", and "twice" stored by each attempt


# --------------------------------------------------------------- a reset connection after commit


@pytest.mark.parametrize("prepare", WRITES, ids=lambda f: f.__name__)
def test_commit_drop_resets_the_connection_yet_the_write_is_stored(
    session_service_url: str, client: Any, no_retry_client: Any, prepare: Callable[[Any], Case]
) -> None:
    write, stored = prepare(client)
    error = meet_fault(
        session_service_url, {"commit_drop_rate": 1.0}, lambda: write(no_retry_client)
    )
    assert isinstance(error, ConnectionClosedError), error
    stored()


def test_commit_drop_sends_headers_and_half_the_body_then_resets(
    session_service_url: str,
) -> None:
    """On the wire: the status and the full Content-Length, part of the body, a TCP reset."""
    parts = urlsplit(session_service_url)
    configure_service(session_service_url, commit_drop_rate=1.0)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("PUT", "/sessions/", body=b"{}")
        response = connection.getresponse()
        assert response.status == 201
        declared = int(response.getheader("content-length"))
        with pytest.raises(ConnectionResetError):
            response.read(declared)
    finally:
        connection.close()


def test_commit_drop_is_a_connection_error_every_time(
    session_service_url: str, client: Any, no_retry_client: Any
) -> None:
    """Rate 1.0 is deterministic: 30 calls, 30 resets, 30 stored invocations."""
    sid = client.create_session()["sessionId"]
    configure_service(session_service_url, commit_drop_rate=1.0)
    errors = []
    for _ in range(30):
        try:
            no_retry_client.create_invocation(sessionIdentifier=sid)
        except Exception as error:
            errors.append(type(error))
    configure_service(session_service_url, commit_drop_rate=0.0)
    assert errors == [ConnectionClosedError] * 30
    listed = client.list_invocations(sessionIdentifier=sid, maxResults=100)
    assert len(listed["invocationSummaries"]) == 30


# ------------------------------------------------------------------- a late answer after commit


@pytest.mark.parametrize("prepare", WRITES, ids=lambda f: f.__name__)
def test_slow_response_outlasts_the_read_timeout_yet_the_write_is_stored(
    session_service_url: str, client: Any, prepare: Callable[[Any], Case]
) -> None:
    write, stored = prepare(client)
    impatient = make_client(
        session_service_url, retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=0.2
    )
    error = meet_fault(
        session_service_url,
        {"slow_response_rate": 1.0, "slow_response_ms": 1000},
        lambda: write(impatient),
    )
    assert isinstance(error, ReadTimeoutError), error
    stored()


def test_slow_responses_wait_side_by_side_and_are_left_out_of_service_time(
    session_service_url: str, client: Any
) -> None:
    sid = client.create_session()["sessionId"]
    configure_service(session_service_url, slow_response_rate=1.0, slow_response_ms=400)
    answers: list[Any] = []

    def get() -> None:
        answers.append(client.get_session(sessionIdentifier=sid))

    threads = [threading.Thread(target=get) for _ in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert len(answers) == 4
    assert 0.4 <= elapsed < 4 * 0.4 * 0.75  # side by side, not one after another
    service_us = [
        int(a["ResponseMetadata"]["HTTPHeaders"]["x-local-service-time-us"]) for a in answers
    ]
    assert all(us < 400_000 for us in service_us)


def test_slow_response_stops_waiting_when_the_client_hangs_up() -> None:
    """A timed-out client is not waited for: the service stops at once, not after 30 s."""
    with running_service(slow_response_rate=1.0, slow_response_ms=30_000) as url:
        impatient = make_client(
            url, retries={"total_max_attempts": 1, "mode": "standard"}, read_timeout=0.3
        )
        with pytest.raises(ReadTimeoutError):
            impatient.create_session()
        time.sleep(0.2)  # let the service see the hang-up
        stopping = time.perf_counter()
    assert time.perf_counter() - stopping < 5


# ------------------------------------------------------------------------ knobs: values, seed


@pytest.mark.parametrize(
    "body",
    [
        '{"commit_error_rate": 1.5}',
        '{"commit_error_rate": -0.1}',
        '{"commit_drop_rate": 2}',
        '{"slow_response_rate": "often"}',
        '{"slow_response_ms": -1}',
        '{"fault_seed": -1}',
        '{"fault_seed": 1.5}',
        '{"fault_seed": true}',
        '{"commit_error_rate": 0.5, "commit_drop_rate": 1.01}',
    ],
)
def test_bad_fault_knobs_are_a_400_and_change_nothing(session_service_url: str, body: str) -> None:
    before = service_config(session_service_url)
    parts = urlsplit(session_service_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("POST", "/_local/config", body=body.encode())
        response = connection.getresponse()
        answer = response.read()
    finally:
        connection.close()
    assert response.status == 400, answer
    assert service_config(session_service_url) == before


def test_bad_fault_knobs_fail_running_service() -> None:
    with pytest.raises(ValueError, match="commit_drop_rate"), running_service(commit_drop_rate=3):
        pass


def test_fault_knobs_change_at_runtime_and_read_back(session_service_url: str) -> None:
    changed = configure_service(
        session_service_url,
        commit_error_rate=0.1,
        commit_drop_rate=0.2,
        slow_response_rate=0.3,
        slow_response_ms=250,
        fault_seed=11,
    )
    assert {k: changed[k] for k in ("commit_error_rate", "commit_drop_rate")} == {
        "commit_error_rate": 0.1,
        "commit_drop_rate": 0.2,
    }
    assert (changed["slow_response_rate"], changed["slow_response_ms"]) == (0.3, 250.0)
    assert changed["fault_seed"] == 11
    assert service_config(session_service_url) == changed


def test_knobs_are_back_to_their_defaults_after_each_test(session_service_url: str) -> None:
    """The plugin's reset covers every knob (the test above changed the fault knobs)."""
    assert ServiceKnobs().as_dict() == DEFAULT_KNOBS
    assert service_config(session_service_url) == DEFAULT_KNOBS


def test_fault_seed_repeats_the_same_faults(
    session_service_url: str, client: Any, no_retry_client: Any
) -> None:
    sid = client.create_session()["sessionId"]

    def outcomes() -> list[str]:
        seen = []
        for _ in range(40):
            try:
                no_retry_client.get_session(sessionIdentifier=sid)
                seen.append("ok")
            except ClientError as error:
                seen.append(error.response["Error"]["Code"])
            except ConnectionClosedError:
                seen.append("reset")
        return seen

    configure_service(
        session_service_url, commit_error_rate=0.3, commit_drop_rate=0.3, fault_seed=42
    )
    first = outcomes()
    configure_service(session_service_url, fault_seed=42)
    assert outcomes() == first
    assert set(first) == {"ok", "InternalServerException", "reset"}
