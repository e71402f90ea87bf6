"""Sessions through a real boto3 client: create, get, update, end, expire, delete and list,
with ARNs as identifiers and every documented error (on SQLite and on PostgreSQL)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bedrock_sessions_local.testing import configure_service
from sessions_local_support import ACCOUNT, KMS_KEY_ARN, REGION, error_of, put_step, text_payload


@pytest.fixture(scope="module")
def session_service_url(service_on_both_databases: str) -> str:
    """This module's service: every test here runs on SQLite and on PostgreSQL."""
    return service_on_both_databases


def test_create_session_returns_201_active_with_uuid_and_arn(client: Any) -> None:
    created = client.create_session()
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["sessionStatus"] == "ACTIVE"
    uuid.UUID(created["sessionId"])
    assert created["sessionId"] == created["sessionId"].lower()
    assert created["sessionArn"] == (
        f"arn:aws:bedrock:{REGION}:{ACCOUNT}:session/{created['sessionId']}"
    )
    assert abs(created["createdAt"] - datetime.now(UTC)) < timedelta(seconds=10)
    assert created["ResponseMetadata"]["RequestId"]


def test_get_session_echoes_metadata_and_encryption_key_but_not_tags(client: Any) -> None:
    created = client.create_session(
        sessionMetadata={"user": "ana", "empty": ""},
        tags={"tenant": "shoes", "app": "assistant"},
        encryptionKeyArn=KMS_KEY_ARN,
    )
    got = client.get_session(sessionIdentifier=created["sessionId"])
    assert got["sessionMetadata"] == {"user": "ana", "empty": ""}
    assert got["encryptionKeyArn"] == KMS_KEY_ARN
    assert got["sessionStatus"] == "ACTIVE"
    assert got["createdAt"] == created["createdAt"] == got["lastUpdatedAt"]
    assert "tags" not in got
    tags = client.list_tags_for_resource(resourceArn=created["sessionArn"])["tags"]
    assert tags == {"tenant": "shoes", "app": "assistant"}


def test_get_session_without_key_omits_encryption_key_arn(client: Any) -> None:
    created = client.create_session()
    got = client.get_session(sessionIdentifier=created["sessionId"])
    assert "encryptionKeyArn" not in got
    assert got["sessionMetadata"] == {}


def test_session_arn_is_accepted_wherever_an_id_is(client: Any) -> None:
    created = client.create_session()
    arn = created["sessionArn"]
    assert client.get_session(sessionIdentifier=arn)["sessionId"] == created["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=arn)["invocationId"]
    step = put_step(client, arn, invocation)
    got = client.get_invocation_step(
        sessionIdentifier=arn, invocationIdentifier=invocation, invocationStepId=step
    )
    assert got["invocationStep"]["sessionId"] == created["sessionId"]
    listed = client.list_invocation_steps(sessionIdentifier=arn)["invocationStepSummaries"]
    assert [s["invocationStepId"] for s in listed] == [step]
    client.update_session(sessionIdentifier=arn, sessionMetadata={"k": "v"})
    assert client.end_session(sessionIdentifier=arn)["sessionStatus"] == "ENDED"
    client.delete_session(sessionIdentifier=arn)
    assert error_of(client.get_session, sessionIdentifier=arn)[:2] == (
        "ResourceNotFoundException",
        404,
    )


@pytest.mark.parametrize(
    "arn_prefix",
    [
        f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:session/",
        f"arn:aws:bedrock:{REGION}:999999999999:session/",
        f"arn:aws-cn:bedrock:{REGION}:{ACCOUNT}:session/",
    ],
)
def test_arn_of_another_region_account_or_partition_is_not_found(
    client: Any, arn_prefix: str
) -> None:
    created = client.create_session()
    code, status, _ = error_of(
        client.get_session, sessionIdentifier=arn_prefix + created["sessionId"]
    )
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, status, _ = error_of(
        client.list_tags_for_resource, resourceArn=arn_prefix + created["sessionId"]
    )
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_unknown_session_is_not_found(client: Any) -> None:
    code, status, message = error_of(client.get_session, sessionIdentifier=str(uuid.uuid4()))
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert "not found" in message


@pytest.mark.parametrize(
    "identifier",
    [
        "not-a-uuid",
        str(uuid.uuid4()).upper(),
        # the model's pattern anchors ^ only on the ARN branch and $ only on the UUID branch:
        # a strict server must still reject a valid form followed or preceded by garbage
        f"arn:aws:bedrock:{REGION}:{ACCOUNT}:session/{uuid.uuid4()}-tail",
        f"garbage-{uuid.uuid4()}",
        f"arn:aws:bedrock:{REGION}:{ACCOUNT}:agent/{uuid.uuid4()}",
    ],
)
def test_malformed_session_identifier_is_a_validation_error(client: Any, identifier: str) -> None:
    code, status, message = error_of(client.get_session, sessionIdentifier=identifier)
    assert (code, status) == ("ValidationException", 400)
    assert "sessionIdentifier" in message


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"tags": {}}, "tags"),
        ({"tags": {"bad#key": "v"}}, "tags"),
        ({"tags": {"k": "bad#value"}}, "tags"),
        ({"tags": {"k" * 129: "v"}}, "tags"),
        ({"tags": {f"k{i}": "v" for i in range(201)}}, "tags"),
        ({"sessionMetadata": {f"k{i}": "v" for i in range(51)}}, "sessionMetadata"),
        ({"sessionMetadata": {"k" * 101: "v"}}, "sessionMetadata"),
        ({"sessionMetadata": {"k": "v" * 5001}}, "sessionMetadata"),
        ({"encryptionKeyArn": "arn:aws:kms:us-east-1:123456789012:alias/mine"}, "encryptionKeyArn"),
        ({"encryptionKeyArn": "not-an-arn"}, "encryptionKeyArn"),
    ],
)
def test_create_session_rejects_input_the_model_forbids(
    client: Any, kwargs: dict[str, Any], where: str
) -> None:
    code, status, message = error_of(client.create_session, **kwargs)
    assert (code, status) == ("ValidationException", 400)
    assert where in message


def test_create_session_accepts_limits_of_the_model(client: Any) -> None:
    created = client.create_session(
        tags={f"k{i}": "v" * 256 for i in range(200)},
        sessionMetadata={f"{i:0100d}": "v" * 5000 for i in range(50)},
    )
    tags = client.list_tags_for_resource(resourceArn=created["sessionArn"])["tags"]
    assert len(tags) == 200
    got = client.get_session(sessionIdentifier=created["sessionId"])
    assert len(got["sessionMetadata"]) == 50


def test_update_session_replaces_metadata_and_touches_last_updated(client: Any) -> None:
    created = client.create_session(sessionMetadata={"a": "1", "b": "2"})
    time.sleep(0.002)
    updated = client.update_session(
        sessionIdentifier=created["sessionId"], sessionMetadata={"c": "3"}
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert updated["sessionStatus"] == "ACTIVE"
    assert updated["createdAt"] == created["createdAt"]
    assert updated["lastUpdatedAt"] > created["createdAt"]
    got = client.get_session(sessionIdentifier=created["sessionId"])
    assert got["sessionMetadata"] == {"c": "3"}
    assert got["lastUpdatedAt"] == updated["lastUpdatedAt"]


def test_update_session_without_metadata_keeps_it(client: Any) -> None:
    created = client.create_session(sessionMetadata={"a": "1"})
    client.update_session(sessionIdentifier=created["sessionId"])
    got = client.get_session(sessionIdentifier=created["sessionId"])
    assert got["sessionMetadata"] == {"a": "1"}
    client.update_session(sessionIdentifier=created["sessionId"], sessionMetadata={})
    assert client.get_session(sessionIdentifier=created["sessionId"])["sessionMetadata"] == {}


def test_end_session_is_idempotent_and_keeps_the_session_readable(client: Any) -> None:
    created = client.create_session(sessionMetadata={"a": "1"})
    sid = created["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    step = put_step(client, sid, invocation, "kept")
    ended = client.end_session(sessionIdentifier=sid)
    assert ended["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert (ended["sessionId"], ended["sessionArn"], ended["sessionStatus"]) == (
        sid,
        created["sessionArn"],
        "ENDED",
    )
    last_updated = client.get_session(sessionIdentifier=sid)["lastUpdatedAt"]
    again = client.end_session(sessionIdentifier=sid)
    assert again["sessionStatus"] == "ENDED"
    got = client.get_session(sessionIdentifier=sid)
    assert got["sessionStatus"] == "ENDED"
    assert got["lastUpdatedAt"] == last_updated
    assert got["sessionMetadata"] == {"a": "1"}
    step_got = client.get_invocation_step(
        sessionIdentifier=sid, invocationIdentifier=invocation, invocationStepId=step
    )
    assert step_got["invocationStep"]["payload"] == text_payload("kept")
    assert len(client.list_invocations(sessionIdentifier=sid)["invocationSummaries"]) == 1
    assert len(client.list_invocation_steps(sessionIdentifier=sid)["invocationStepSummaries"]) == 1


def test_ended_session_refuses_writes_with_conflict(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    client.end_session(sessionIdentifier=sid)
    for call, kwargs in [
        (client.update_session, {"sessionMetadata": {"a": "b"}}),
        (client.create_invocation, {}),
        (
            client.put_invocation_step,
            {
                "invocationIdentifier": invocation,
                "invocationStepTime": datetime.now(UTC),
                "payload": text_payload("late"),
            },
        ),
    ]:
        code, status, message = error_of(call, sessionIdentifier=sid, **kwargs)
        assert (code, status) == ("ConflictException", 409)
        assert "ENDED" in message


def test_tags_can_still_change_on_an_ended_session(client: Any) -> None:
    created = client.create_session(tags={"a": "1"})
    client.end_session(sessionIdentifier=created["sessionId"])
    client.tag_resource(resourceArn=created["sessionArn"], tags={"retention": "30d"})
    tags = client.list_tags_for_resource(resourceArn=created["sessionArn"])["tags"]
    assert tags == {"a": "1", "retention": "30d"}


def test_delete_active_session_is_a_conflict(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    code, status, message = error_of(client.delete_session, sessionIdentifier=sid)
    assert (code, status) == ("ConflictException", 409)
    assert "EndSession" in message
    assert client.get_session(sessionIdentifier=sid)["sessionStatus"] == "ACTIVE"


def test_delete_removes_the_session_its_invocations_steps_and_tags(client: Any) -> None:
    created = client.create_session(tags={"a": "1"})
    sid, arn = created["sessionId"], created["sessionArn"]
    invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    step = put_step(client, sid, invocation)
    client.end_session(sessionIdentifier=sid)
    deleted = client.delete_session(sessionIdentifier=sid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 200
    for call, kwargs in [
        (client.get_session, {"sessionIdentifier": sid}),
        (client.list_invocations, {"sessionIdentifier": sid}),
        (client.list_invocation_steps, {"sessionIdentifier": sid}),
        (
            client.get_invocation_step,
            {
                "sessionIdentifier": sid,
                "invocationIdentifier": invocation,
                "invocationStepId": step,
            },
        ),
        (client.list_tags_for_resource, {"resourceArn": arn}),
        (client.delete_session, {"sessionIdentifier": sid}),
        (client.end_session, {"sessionIdentifier": sid}),
    ]:
        assert error_of(call, **kwargs)[:2] == ("ResourceNotFoundException", 404)
    listed = [s["sessionId"] for s in client.list_sessions(maxResults=1000)["sessionSummaries"]]
    assert sid not in listed


def test_idle_session_expires_after_ttl_is_readable_not_writable_and_can_end(
    client: Any, session_service_url: str
) -> None:
    sid = client.create_session()["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    configure_service(session_service_url, session_ttl_seconds=0.05)
    time.sleep(0.1)
    assert client.get_session(sessionIdentifier=sid)["sessionStatus"] == "EXPIRED"
    summaries = client.list_sessions(maxResults=1000)["sessionSummaries"]
    assert {s["sessionId"]: s["sessionStatus"] for s in summaries}[sid] == "EXPIRED"
    code, status, message = error_of(client.create_invocation, sessionIdentifier=sid)
    assert (code, status) == ("ConflictException", 409)
    assert "EXPIRED" in message
    code, _, _ = error_of(
        client.put_invocation_step,
        sessionIdentifier=sid,
        invocationIdentifier=invocation,
        invocationStepTime=datetime.now(UTC),
        payload=text_payload("late"),
    )
    assert code == "ConflictException"
    assert client.list_invocations(sessionIdentifier=sid)["invocationSummaries"]
    # an expired session is not ACTIVE, so it may be deleted; ending it first also works
    assert client.end_session(sessionIdentifier=sid)["sessionStatus"] == "ENDED"
    configure_service(session_service_url, session_ttl_seconds=None)
    assert client.get_session(sessionIdentifier=sid)["sessionStatus"] == "ENDED"
    client.delete_session(sessionIdentifier=sid)


def test_expired_session_can_be_deleted_without_ending(
    client: Any, session_service_url: str
) -> None:
    sid = client.create_session()["sessionId"]
    configure_service(session_service_url, session_ttl_seconds=0.05)
    time.sleep(0.1)
    client.delete_session(sessionIdentifier=sid)
    assert error_of(client.get_session, sessionIdentifier=sid)[0] == "ResourceNotFoundException"


def test_list_sessions_is_newest_first_and_paginates(client: Any) -> None:
    created = [client.create_session()["sessionId"] for _ in range(5)]
    first = client.list_sessions(maxResults=3)
    assert [s["sessionId"] for s in first["sessionSummaries"]] == created[::-1][:3]
    assert set(first["sessionSummaries"][0]) == {
        "createdAt",
        "lastUpdatedAt",
        "sessionArn",
        "sessionId",
        "sessionStatus",
    }
    pages = client.get_paginator("list_sessions").paginate(PaginationConfig={"PageSize": 2})
    listed = [s["sessionId"] for page in pages for s in page["sessionSummaries"]]
    assert len(listed) == len(set(listed))
    assert listed[:5] == created[::-1]


def test_list_without_max_results_returns_ten_with_a_token(client: Any) -> None:
    sid = client.create_session()["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    for i in range(11):
        put_step(client, sid, invocation, str(i))
    page = client.list_invocation_steps(sessionIdentifier=sid)
    assert len(page["invocationStepSummaries"]) == 10
    assert "nextToken" in page
    rest = client.list_invocation_steps(sessionIdentifier=sid, nextToken=page["nextToken"])
    assert len(rest["invocationStepSummaries"]) == 1
    assert "nextToken" not in rest
