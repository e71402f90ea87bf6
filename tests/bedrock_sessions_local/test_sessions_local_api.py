"""Every operation and documented error of the local service, through a real boto3 client."""

from __future__ import annotations

import base64
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from sessions_local_support import ACCOUNT, KMS_KEY_ARN, REGION, make_client

from bedrock_sessions_local.config import Quotas
from bedrock_sessions_local.testing import configure_service, running_service

UUID_RE = r"[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The module's service, once on a SQLite file and once on PostgreSQL (any SQLAlchemy URL)."""
    if request.param == "sqlite":
        db = str(tmp_path_factory.mktemp("sessions") / "sessions.db")
    else:
        db = request.getfixturevalue("new_postgres_database")()
    with running_service(db=db) as url:
        yield url


def error_of(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    """Call and return (error code, HTTP status, message) of the ClientError it must raise."""
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response = info.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def text_payload(text: str) -> dict[str, Any]:
    return {"contentBlocks": [{"text": text}]}


def put_step(client: Any, session_id: str, invocation_id: str, text: str = "x", **kw: Any) -> str:
    return client.put_invocation_step(
        sessionIdentifier=session_id,
        invocationIdentifier=invocation_id,
        invocationStepTime=kw.pop("invocationStepTime", datetime.now(UTC)),
        payload=text_payload(text),
        **kw,
    )["invocationStepId"]


# ------------------------------------------------------------------------------------ sessions


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
    client: Any, service_url: str
) -> None:
    sid = client.create_session()["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    configure_service(service_url, session_ttl_seconds=0.05)
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
    configure_service(service_url, session_ttl_seconds=None)
    assert client.get_session(sessionIdentifier=sid)["sessionStatus"] == "ENDED"
    client.delete_session(sessionIdentifier=sid)


def test_expired_session_can_be_deleted_without_ending(client: Any, service_url: str) -> None:
    sid = client.create_session()["sessionId"]
    configure_service(service_url, session_ttl_seconds=0.05)
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


# -------------------------------------------------------------------------------------- tags


def test_tag_resource_merges_and_untag_ignores_absent_keys(client: Any) -> None:
    created = client.create_session(tags={"a": "1", "b": "2"})
    arn = created["sessionArn"]
    tagged = client.tag_resource(resourceArn=arn, tags={"b": "20", "c": "3"})
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"a": "1", "b": "20", "c": "3"}
    client.untag_resource(resourceArn=arn, tagKeys=["a", "never-there"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "20", "c": "3"}
    client.untag_resource(resourceArn=arn, tagKeys=["b", "c"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_untagged_session_lists_an_empty_tag_map(client: Any) -> None:
    arn = client.create_session()["sessionArn"]
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_more_than_200_tags_exceeds_the_quota(client: Any) -> None:
    arn = client.create_session(tags={f"k{i}": "v" for i in range(150)})["sessionArn"]
    code, status, _ = error_of(
        client.tag_resource, resourceArn=arn, tags={f"n{i}": "v" for i in range(51)}
    )
    assert (code, status) == ("ServiceQuotaExceededException", 400)
    assert len(client.list_tags_for_resource(resourceArn=arn)["tags"]) == 150
    # overwriting existing keys does not count twice
    client.tag_resource(resourceArn=arn, tags={f"k{i}": "w" for i in range(150)} | {"n": "v"})
    assert len(client.list_tags_for_resource(resourceArn=arn)["tags"]) == 151


@pytest.mark.parametrize(
    ("arn", "code", "status"),
    [
        ("not-an-arn-at-all-but-long", "ValidationException", 400),
        (f"arn:aws:bedrock:{REGION}:{ACCOUNT}:agent/{uuid.uuid4()}", "ValidationException", 400),
        (
            f"arn:aws:bedrock:{REGION}:{ACCOUNT}:session/{uuid.uuid4()}",
            "ResourceNotFoundException",
            404,
        ),
    ],
)
def test_tag_operations_check_the_arn(client: Any, arn: str, code: str, status: int) -> None:
    for call, kwargs in [
        (client.tag_resource, {"tags": {"a": "1"}}),
        (client.untag_resource, {"tagKeys": ["a"]}),
        (client.list_tags_for_resource, {}),
    ]:
        assert error_of(call, resourceArn=arn, **kwargs)[:2] == (code, status)


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"tags": {}}, "tags"),
        ({"tags": {"bad#key": "v"}}, "tags"),
        ({"tags": {"k": "v" * 257}}, "tags"),
    ],
)
def test_tag_resource_validates_tags(client: Any, kwargs: dict[str, Any], where: str) -> None:
    arn = client.create_session()["sessionArn"]
    code, status, message = error_of(client.tag_resource, resourceArn=arn, **kwargs)
    assert (code, status) == ("ValidationException", 400)
    assert where in message


def test_untag_resource_validates_key_count(client: Any) -> None:
    arn = client.create_session()["sessionArn"]
    code, _, message = error_of(
        client.untag_resource, resourceArn=arn, tagKeys=[f"k{i}" for i in range(201)]
    )
    assert code == "ValidationException"
    assert "tagKeys" in message


# ------------------------------------------------------------------------------------ quotas


def test_configured_quotas_answer_service_quota_exceeded(tmp_path: Any) -> None:
    quotas = Quotas(max_sessions=2, max_invocations_per_session=2, max_steps_per_session=2)
    with running_service(db=tmp_path / "q.db", quotas=quotas) as url:
        client = make_client(url)
        sid = client.create_session()["sessionId"]
        client.create_session()
        assert error_of(client.create_session)[:2] == ("ServiceQuotaExceededException", 400)
        invocation = client.create_invocation(sessionIdentifier=sid)["invocationId"]
        client.create_invocation(sessionIdentifier=sid)
        code, _, message = error_of(client.create_invocation, sessionIdentifier=sid)
        assert code == "ServiceQuotaExceededException"
        assert "invocations" in message
        put_step(client, sid, invocation)
        put_step(client, sid, invocation)
        with pytest.raises(ClientError) as info:
            put_step(client, sid, invocation)
        assert info.value.response["Error"]["Code"] == "ServiceQuotaExceededException"
        assert (
            len(client.list_invocation_steps(sessionIdentifier=sid)["invocationStepSummaries"]) == 2
        )
