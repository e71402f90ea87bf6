"""Invocations and steps through a real boto3 client: round trips, duplicates, newest-first
order, paginators, keyset tokens while items are added, misused tokens (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sessions_local_support import error_of, put_step, text_payload


@pytest.fixture(scope="module")
def session_service_url(service_on_both_databases: str) -> str:
    """This module's service: every test here runs on SQLite and on PostgreSQL."""
    return service_on_both_databases


# --------------------------------------------------------------------------------- invocations


def test_create_invocation_with_and_without_id(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    mine = str(uuid.uuid4())
    created = client.create_invocation(sessionIdentifier=sid, invocationId=mine, description="d")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (created["invocationId"], created["sessionId"]) == (mine, sid)
    generated = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    uuid.UUID(generated)
    assert generated != mine


def test_duplicate_invocation_id_is_a_conflict(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    mine = str(uuid.uuid4())
    client.create_invocation(sessionIdentifier=sid, invocationId=mine)
    code, status, message = error_of(
        client.create_invocation, sessionIdentifier=sid, invocationId=mine
    )
    assert (code, status) == ("ConflictException", 409)
    assert mine in message
    # the same id in another session is a different invocation
    other = client.create_session()["sessionId"]
    client.create_invocation(sessionIdentifier=other, invocationId=mine)
    assert len(client.list_invocations(sessionIdentifier=sid)["invocationSummaries"]) == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"invocationId": "not-a-uuid"},
        {"invocationId": str(uuid.uuid4()).upper()},
        {"description": "d" * 201},
    ],
)
def test_create_invocation_validates_input(client: Any, kwargs: dict[str, Any]) -> None:
    sid = client.create_session()["sessionId"]
    assert error_of(client.create_invocation, sessionIdentifier=sid, **kwargs)[:2] == (
        "ValidationException",
        400,
    )


def test_invocations_of_an_unknown_session_are_not_found(client: Any) -> None:
    missing = str(uuid.uuid4())
    assert error_of(client.create_invocation, sessionIdentifier=missing)[1] == 404
    assert error_of(client.list_invocations, sessionIdentifier=missing)[1] == 404


def test_list_invocations_is_newest_first_and_paginates(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    created = [client.create_invocation(sessionIdentifier=sid)["invocationId"] for _ in range(7)]
    page = client.list_invocations(sessionIdentifier=sid, maxResults=3)
    assert [i["invocationId"] for i in page["invocationSummaries"]] == created[::-1][:3]
    assert set(page["invocationSummaries"][0]) == {"createdAt", "invocationId", "sessionId"}
    pages = client.get_paginator("list_invocations").paginate(
        sessionIdentifier=sid, PaginationConfig={"PageSize": 3}
    )
    listed = [i["invocationId"] for p in pages for i in p["invocationSummaries"]]
    assert listed == created[::-1]


def test_new_invocation_and_step_touch_last_updated(client: Any) -> None:
    created = client.create_session()
    sid = created["sessionId"]
    time.sleep(0.002)
    invocation = client.create_invocation(sessionIdentifier=sid)
    after_invocation = client.get_session(sessionIdentifier=sid)["lastUpdatedAt"]
    assert after_invocation > created["createdAt"]
    assert after_invocation == invocation["createdAt"]
    time.sleep(0.002)
    put_step(client, sid, invocation["invocationId"])
    assert client.get_session(sessionIdentifier=sid)["lastUpdatedAt"] > after_invocation


# ------------------------------------------------------------------------------------- steps


def test_put_and_get_step_round_trip_text_image_and_time(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    step_id = str(uuid.uuid4())
    moment = datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    payload = {
        "contentBlocks": [
            {"text": "héllo 👟"},
            {"image": {"format": "png", "source": {"bytes": b"\x89PNG\r\n\x00\xff"}}},
            {"image": {"format": "jpeg", "source": {"s3Location": {"uri": "s3://shoes/a.jpg"}}}},
        ]
    }
    put = client.put_invocation_step(
        sessionIdentifier=sid,
        invocationIdentifier=invocation,
        invocationStepId=step_id,
        invocationStepTime=moment,
        payload=payload,
    )
    assert put["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert put["invocationStepId"] == step_id
    got = client.get_invocation_step(
        sessionIdentifier=sid, invocationIdentifier=invocation, invocationStepId=step_id
    )["invocationStep"]
    assert got["payload"] == payload
    assert got["invocationStepTime"] == moment
    assert (got["invocationId"], got["invocationStepId"], got["sessionId"]) == (
        invocation,
        step_id,
        sid,
    )


def test_put_step_without_id_generates_one(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    step = put_step(client, sid, invocation)
    uuid.UUID(step)


def test_duplicate_step_id_in_a_session_is_a_conflict(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    first = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    second = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    step = str(uuid.uuid4())
    put_step(client, sid, first, "original", invocationStepId=step)
    for invocation in (first, second):
        with pytest.raises(ClientError) as info:
            put_step(client, sid, invocation, "again", invocationStepId=step)
        assert info.value.response["Error"]["Code"] == "ConflictException"
    got = client.get_invocation_step(
        sessionIdentifier=sid, invocationIdentifier=first, invocationStepId=step
    )
    assert got["invocationStep"]["payload"] == text_payload("original")
    steps = client.list_invocation_steps(sessionIdentifier=sid)["invocationStepSummaries"]
    assert len(steps) == 1


def test_put_step_into_unknown_invocation_is_not_found(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    with pytest.raises(ClientError) as info:
        put_step(client, sid, str(uuid.uuid4()))
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_get_step_checks_session_invocation_and_step(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    first = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    second = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    step = put_step(client, sid, first)
    other_session = client.create_session()["sessionId"]
    for session_id, invocation, step_id in [
        (sid, second, step),  # the step belongs to another invocation
        (sid, first, str(uuid.uuid4())),  # no such step
        (sid, str(uuid.uuid4()), step),  # no such invocation
        (other_session, first, step),  # another session
        (str(uuid.uuid4()), first, step),  # no such session
    ]:
        code, status, _ = error_of(
            client.get_invocation_step,
            sessionIdentifier=session_id,
            invocationIdentifier=invocation,
            invocationStepId=step_id,
        )
        assert (code, status) == ("ResourceNotFoundException", 404)


def test_list_steps_newest_first_of_one_invocation_or_the_whole_session(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    first = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    second = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    order = []
    for i in range(6):
        invocation = first if i % 2 == 0 else second
        order.append((invocation, put_step(client, sid, invocation, str(i))))
    whole = client.list_invocation_steps(sessionIdentifier=sid, maxResults=100)
    summaries = whole["invocationStepSummaries"]
    assert [(s["invocationId"], s["invocationStepId"]) for s in summaries] == order[::-1]
    assert set(summaries[0]) == {
        "invocationId",
        "invocationStepId",
        "invocationStepTime",
        "sessionId",
    }
    only_first = client.list_invocation_steps(sessionIdentifier=sid, invocationIdentifier=first)
    assert [s["invocationStepId"] for s in only_first["invocationStepSummaries"]] == [
        step for inv, step in order[::-1] if inv == first
    ]
    newest = client.list_invocation_steps(sessionIdentifier=sid, maxResults=1)
    assert newest["invocationStepSummaries"][0]["invocationStepId"] == order[-1][1]


def test_order_is_insertion_not_client_step_time(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    late = put_step(client, sid, invocation, invocationStepTime=datetime(2030, 1, 1, tzinfo=UTC))
    early = put_step(client, sid, invocation, invocationStepTime=datetime(2001, 1, 1, tzinfo=UTC))
    listed = client.list_invocation_steps(sessionIdentifier=sid)["invocationStepSummaries"]
    assert [s["invocationStepId"] for s in listed] == [early, late]


def test_list_steps_of_unknown_invocation_is_not_found(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    code, status, _ = error_of(
        client.list_invocation_steps, sessionIdentifier=sid, invocationIdentifier=str(uuid.uuid4())
    )
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_paginator_walks_every_step_once(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    steps = [put_step(client, sid, invocation, str(i)) for i in range(23)]
    pages = list(
        client.get_paginator("list_invocation_steps").paginate(
            sessionIdentifier=sid,
            invocationIdentifier=invocation,
            PaginationConfig={"PageSize": 5},
        )
    )
    assert [len(p["invocationStepSummaries"]) for p in pages] == [5, 5, 5, 5, 3]
    listed = [s["invocationStepId"] for p in pages for s in p["invocationStepSummaries"]]
    assert listed == steps[::-1]


def test_pagination_stays_correct_while_steps_are_added(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    existing = [put_step(client, sid, invocation, str(i)) for i in range(10)]
    listed: list[str] = []
    token = None
    while True:
        kwargs = {"nextToken": token} if token else {}
        page = client.list_invocation_steps(sessionIdentifier=sid, maxResults=3, **kwargs)
        listed += [s["invocationStepId"] for s in page["invocationStepSummaries"]]
        put_step(client, sid, invocation, "added while paging")
        token = page.get("nextToken")
        if token is None:
            break
    # the pages hold exactly the steps that existed when paging started, newest first
    assert listed == existing[::-1]


FORGED_HUGE_SEQ = base64.urlsafe_b64encode(b"v1|ListSessions|*|99999999999999999999999").decode()


@pytest.mark.parametrize(
    "token", ["garbage!", "djF8eHx5fDE", "AAAA", "v1|ListSessions|*|5", FORGED_HUGE_SEQ]
)
def test_malformed_next_token_is_a_validation_error(client: Any, token: str) -> None:
    sid = client.create_session()["sessionId"]
    for call, kwargs in [
        (client.list_sessions, {}),
        (client.list_invocations, {"sessionIdentifier": sid}),
        (client.list_invocation_steps, {"sessionIdentifier": sid}),
    ]:
        code, status, _ = error_of(call, nextToken=token, **kwargs)
        assert (code, status) == ("ValidationException", 400)


def test_next_token_is_bound_to_its_operation_session_and_invocation(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    other = client.create_session()["sessionId"]
    first = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    second = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    for _ in range(3):
        put_step(client, sid, first)
        put_step(client, sid, second)
        client.create_invocation(sessionIdentifier=sid)
    steps_token = client.list_invocation_steps(
        sessionIdentifier=sid, invocationIdentifier=first, maxResults=1
    )["nextToken"]
    invocations_token = client.list_invocations(sessionIdentifier=sid, maxResults=1)["nextToken"]
    sessions_token = client.list_sessions(maxResults=1)["nextToken"]
    misuses = [
        (
            client.list_invocation_steps,
            {"sessionIdentifier": sid, "invocationIdentifier": second},
            steps_token,
        ),
        (client.list_invocation_steps, {"sessionIdentifier": sid}, steps_token),
        (client.list_invocation_steps, {"sessionIdentifier": sid}, invocations_token),
        (client.list_invocations, {"sessionIdentifier": other}, invocations_token),
        (client.list_invocations, {"sessionIdentifier": sid}, sessions_token),
        (client.list_sessions, {}, steps_token),
    ]
    for call, kwargs, token in misuses:
        code, status, message = error_of(call, nextToken=token, **kwargs)
        assert (code, status) == ("ValidationException", 400)
        assert "nextToken" in message


@pytest.mark.parametrize("max_results", [1001, 5000])
def test_max_results_above_the_model_maximum_is_a_validation_error(
    client: Any, max_results: int
) -> None:
    code, status, message = error_of(client.list_sessions, maxResults=max_results)
    assert (code, status) == ("ValidationException", 400)
    assert "maxResults" in message
