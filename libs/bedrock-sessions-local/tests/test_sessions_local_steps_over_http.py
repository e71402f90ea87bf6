"""The hot step operations through boto3: PutInvocationStep's errors carry AWS's codes and
statuses on either path, a put moves lastUpdatedAt, and Get/ListInvocationSteps scope steps to
their session and invocation. The service runs in this process, so the frozen ``clock`` holds
for it too."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_sessions_local.config import Quotas
from bedrock_sessions_local.tables import datetime_from_us
from bedrock_sessions_local.testing import running_service
from sessions_local_backend_support import (
    START_US,
    STEP_QUOTA,
    TTL_SECONDS,
    TTL_US,
    FrozenClock,
    payload,
)
from sessions_local_support import ACCOUNT, REGION, make_client


@pytest.fixture(scope="module")
def quota_service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A service on a SQLite file with a 60 s idle TTL and a 3-step quota."""
    db = tmp_path_factory.mktemp("fast-paths") / "sessions.db"
    with running_service(
        db=db, quotas=Quotas(max_steps_per_session=STEP_QUOTA), session_ttl_seconds=TTL_SECONDS
    ) as url:
        yield url


@pytest.fixture(scope="module")
def quota_client(quota_service_url: str) -> Any:
    """A boto3 client of the quota service that never retries."""
    return make_client(quota_service_url, retries={"max_attempts": 1, "mode": "standard"})


def client_session(client: Any) -> tuple[str, str]:
    """Create a session with one invocation through boto3; return (session id, invocation id)."""
    sid = client.create_session()["sessionId"]
    return sid, client.create_invocation(sessionIdentifier=sid)["invocationId"]


def client_put(client: Any, sid: str, invocation: str, step_id: str | None = None) -> str:
    """PutInvocationStep through boto3; return the step id."""
    extra = {"invocationStepId": step_id} if step_id else {}
    return client.put_invocation_step(
        sessionIdentifier=sid,
        invocationIdentifier=invocation,
        invocationStepTime=datetime.now(UTC),
        payload=payload("over the wire"),
        **extra,
    )["invocationStepId"]


def client_error(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int, str]:
    """Run a boto3 call expected to fail; return (error code, HTTP status, message)."""
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    error = raised.value.response
    return (
        error["Error"]["Code"],
        error["ResponseMetadata"]["HTTPStatusCode"],
        error["Error"]["Message"],
    )


def test_put_step_errors_through_boto3_carry_aws_codes_and_statuses(
    quota_client: Any, clock: FrozenClock
) -> None:
    client = quota_client
    sid, invocation = client_session(client)
    step = client_put(client, sid, invocation)

    assert client_error(client_put, client, str(uuid.uuid4()), invocation)[:2] == (
        "ResourceNotFoundException",
        404,
    )
    assert client_error(client_put, client, sid, str(uuid.uuid4()))[:2] == (
        "ResourceNotFoundException",
        404,
    )
    assert client_error(client_put, client, sid, invocation, step)[:2] == (
        "ConflictException",
        409,
    )
    client_put(client, sid, invocation)
    client_put(client, sid, invocation)
    assert client_error(client_put, client, sid, invocation)[:2] == (
        "ServiceQuotaExceededException",
        400,
    )

    ended, ended_invocation = client_session(client)
    client.end_session(sessionIdentifier=ended)
    code, status, message = client_error(client_put, client, ended, ended_invocation)
    assert (code, status) == ("ConflictException", 409) and "ENDED" in message

    fresh, fresh_invocation = client_session(client)
    stale, stale_invocation = client_session(client)
    clock.advance(TTL_US)
    client_put(client, fresh, fresh_invocation)  # idle exactly the TTL: still writable
    clock.advance(1)
    code, status, message = client_error(client_put, client, stale, stale_invocation)
    assert (code, status) == ("ConflictException", 409) and "EXPIRED" in message
    assert client.get_session(sessionIdentifier=fresh)["sessionStatus"] == "ACTIVE"


def test_put_step_through_boto3_moves_last_updated_at(
    quota_client: Any, clock: FrozenClock
) -> None:
    sid, invocation = client_session(quota_client)
    before = quota_client.get_session(sessionIdentifier=sid)["lastUpdatedAt"]
    assert before == datetime_from_us(START_US)
    clock.advance(2_500_000)
    client_put(quota_client, f"arn:aws:bedrock:{REGION}:{ACCOUNT}:session/{sid}", invocation)
    after = quota_client.get_session(sessionIdentifier=sid)["lastUpdatedAt"]
    assert after == datetime_from_us(START_US + 2_500_000)


def test_get_and_list_steps_through_boto3_scope_steps_to_session_and_invocation(
    quota_client: Any,
) -> None:
    client = quota_client
    sid, invocation = client_session(client)
    other_invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    other_sid, foreign_invocation = client_session(client)
    step = client_put(client, sid, invocation)
    foreign_step = client_put(client, other_sid, foreign_invocation)

    def get(session: str, inv: str, step_id: str) -> Any:
        return client.get_invocation_step(
            sessionIdentifier=session, invocationIdentifier=inv, invocationStepId=step_id
        )

    assert get(sid, invocation, step)["invocationStep"]["invocationStepId"] == step
    assert client_error(get, sid, other_invocation, step)[:2] == ("ResourceNotFoundException", 404)
    assert client_error(get, sid, invocation, foreign_step)[:2] == (
        "ResourceNotFoundException",
        404,
    )
    assert client_error(get, sid, foreign_invocation, foreign_step)[:2] == (
        "ResourceNotFoundException",
        404,
    )
    assert client_error(
        client.list_invocation_steps, sessionIdentifier=sid, invocationIdentifier=str(uuid.uuid4())
    )[:2] == ("ResourceNotFoundException", 404)

    client.end_session(sessionIdentifier=sid)
    for scope in ({}, {"invocationIdentifier": invocation}):
        listed = client.list_invocation_steps(sessionIdentifier=sid, **scope)
        assert [s["invocationStepId"] for s in listed["invocationStepSummaries"]] == [step]
    assert get(sid, invocation, step)["invocationStep"]["payload"] == payload("over the wire")
