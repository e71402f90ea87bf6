"""Tags and quotas through a real boto3 client: merge and untag, the 200-tag quota, tag
input checks, and configured quotas answering ServiceQuotaExceededException."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_sessions_local.config import Quotas
from bedrock_sessions_local.testing import running_service
from sessions_local_support import ACCOUNT, REGION, error_of, make_client, put_step


@pytest.fixture(scope="module")
def session_service_url(service_on_both_databases: str) -> str:
    """This module's service: every test here runs on SQLite and on PostgreSQL."""
    return service_on_both_databases


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
