"""IAM mode over HTTP: who may do what, decided by the policy of ``infra/session-store.yaml``.

Real boto3 clients signed with the demo keys call a service on 127.0.0.1. Every one of the 14
operations is tried by the session's owner (alice, tenant-a), another principal of the same
tenant (bob), a principal of another tenant (carol, tenant-b), the knobs admin (no tenant) and
an unsigned client, each expecting success or the exact error code; a refused call changes
nothing.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from langgraph_checkpoint_aws import BedrockSessionSaver
from pydantic import SecretStr

from bedrock_sessions_local.credentials import DEMO_PRINCIPALS
from bedrock_sessions_local.routes import SESSION_OPERATIONS
from bedrock_sessions_local.testing import configure_service, make_client, running_service
from sessions_local_graph import build_graph
from sessions_local_iam_support import CALLERS, TENANT_A_TAGS, client_of
from sessions_local_support import REGION, error_of, put_step, text_payload

OK = None
DENIED = "AccessDeniedException"
UNSIGNED = "MissingAuthenticationTokenException"
#: the policy's answer per operation, for (owner, same tenant, other tenant, admin, anonymous)
_TENANT_ONLY = (OK, OK, DENIED, DENIED, UNSIGNED)
EXPECTED: dict[str, tuple[str | None, ...]] = {
    "CreateSession": _TENANT_ONLY,  # tagged tenant-a: only tenant-a principals may
    "GetSession": _TENANT_ONLY,
    "UpdateSession": _TENANT_ONLY,
    "EndSession": _TENANT_ONLY,
    "DeleteSession": _TENANT_ONLY,
    # no resource type, no condition keys: anyone the policy names may list (as on AWS)
    "ListSessions": (OK, OK, OK, OK, UNSIGNED),
    "CreateInvocation": _TENANT_ONLY,
    "ListInvocations": _TENANT_ONLY,
    "PutInvocationStep": _TENANT_ONLY,
    "GetInvocationStep": _TENANT_ONLY,
    "ListInvocationSteps": _TENANT_ONLY,
    "TagResource": _TENANT_ONLY,  # re-sends the own tenant, as the policy requires
    "UntagResource": _TENANT_ONLY,  # the user tag only
    "ListTagsForResource": _TENANT_ONLY,
}


@dataclass(frozen=True)
class World:
    """A tenant-a session created by its owner, with one invocation and one step."""

    session_id: str
    arn: str
    invocation_id: str
    step_id: str


CALLS: dict[str, Any] = {
    "CreateSession": lambda c, w: c.create_session(tags=TENANT_A_TAGS),
    "GetSession": lambda c, w: c.get_session(sessionIdentifier=w.session_id),
    "UpdateSession": lambda c, w: c.update_session(
        sessionIdentifier=w.session_id, sessionMetadata={"cart": "2 items"}
    ),
    "EndSession": lambda c, w: c.end_session(sessionIdentifier=w.session_id),
    "DeleteSession": lambda c, w: c.delete_session(sessionIdentifier=w.session_id),
    "ListSessions": lambda c, w: c.list_sessions(),
    "CreateInvocation": lambda c, w: c.create_invocation(sessionIdentifier=w.session_id),
    "ListInvocations": lambda c, w: c.list_invocations(sessionIdentifier=w.session_id),
    "PutInvocationStep": lambda c, w: c.put_invocation_step(
        sessionIdentifier=w.session_id,
        invocationIdentifier=w.invocation_id,
        invocationStepTime=datetime.now(UTC),
        payload=text_payload("size 42"),
    ),
    "GetInvocationStep": lambda c, w: c.get_invocation_step(
        sessionIdentifier=w.session_id,
        invocationIdentifier=w.invocation_id,
        invocationStepId=w.step_id,
    ),
    "ListInvocationSteps": lambda c, w: c.list_invocation_steps(sessionIdentifier=w.session_id),
    "TagResource": lambda c, w: c.tag_resource(
        resourceArn=w.arn, tags={"tenant": "tenant-a", "user": "bob"}
    ),
    "UntagResource": lambda c, w: c.untag_resource(resourceArn=w.arn, tagKeys=["user"]),
    "ListTagsForResource": lambda c, w: c.list_tags_for_resource(resourceArn=w.arn),
}


@pytest.fixture(scope="module")
def clients(iam_service_url: str) -> dict[str, Any]:
    """One client per caller of the table (no retries)."""
    return {caller: client_of(iam_service_url, caller) for caller in CALLERS}


def new_world(owner: Any, *, ended: bool = False) -> World:
    """A tenant-a session of the owner, with an invocation and a step (ENDED if asked)."""
    session = owner.create_session(tags=TENANT_A_TAGS)
    invocation_id = owner.create_invocation(sessionIdentifier=session["sessionId"])["invocationId"]
    step_id = put_step(owner, session["sessionId"], invocation_id, "trail runners")
    if ended:
        owner.end_session(sessionIdentifier=session["sessionId"])
    return World(session["sessionId"], session["sessionArn"], invocation_id, step_id)


def snapshot(owner: Any, world: World) -> tuple[Any, ...]:
    """What the owner sees of the session: state, metadata, tags, invocations and steps."""

    def strip(response: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in response.items() if k != "ResponseMetadata"}

    sid = world.session_id
    return (
        strip(owner.get_session(sessionIdentifier=sid)),
        strip(owner.list_tags_for_resource(resourceArn=world.arn)),
        strip(owner.list_invocations(sessionIdentifier=sid)),
        strip(owner.list_invocation_steps(sessionIdentifier=sid)),
    )


def test_the_table_covers_every_session_operation() -> None:
    assert set(EXPECTED) == set(CALLS) == set(SESSION_OPERATIONS)
    assert len(SESSION_OPERATIONS) == 14


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", SESSION_OPERATIONS)
def test_who_may_do_what(clients: dict[str, Any], operation: str, caller: str) -> None:
    owner = clients["owner"]
    world = new_world(owner, ended=operation == "DeleteSession")
    expected = EXPECTED[operation][CALLERS.index(caller)]
    call = CALLS[operation]
    if expected is OK:
        response = call(clients[caller], world)
        assert response["ResponseMetadata"]["HTTPStatusCode"] in (200, 201)
        return
    before = snapshot(owner, world)
    code, status, _ = error_of(call, c=clients[caller], w=world)
    assert (code, status) == (expected, 403)
    assert snapshot(owner, world) == before  # a refused call changes nothing


def test_access_denied_names_the_principal_the_action_and_the_session(
    clients: dict[str, Any],
) -> None:
    world = new_world(clients["owner"])
    code, status, message = error_of(
        clients["other_tenant"].get_session, sessionIdentifier=world.arn
    )
    assert (code, status) == ("AccessDeniedException", 403)
    assert message == (
        "User: arn:aws:sts::123456789012:assumed-role/shoe-assistant/carol is not authorized to "
        f"perform: bedrock:GetSession on resource: {world.arn} because no identity-based policy "
        "allows the bedrock:GetSession action"
    )


def test_a_session_named_by_its_arn_is_authorized_like_its_id(clients: dict[str, Any]) -> None:
    world = new_world(clients["owner"])
    assert clients["same_tenant"].get_session(sessionIdentifier=world.arn)["sessionId"] == (
        world.session_id
    )
    code, _, _ = error_of(clients["other_tenant"].end_session, sessionIdentifier=world.arn)
    assert code == "AccessDeniedException"


def test_tagging_cannot_move_a_session_between_tenants(clients: dict[str, Any]) -> None:
    owner, other = clients["owner"], clients["other_tenant"]
    world = new_world(owner)
    before = owner.list_tags_for_resource(resourceArn=world.arn)["tags"]
    steal = error_of(other.tag_resource, resourceArn=world.arn, tags={"tenant": "tenant-b"})
    give_away = error_of(owner.tag_resource, resourceArn=world.arn, tags={"tenant": "tenant-b"})
    # every TagResource must re-send the caller's own tenant: a user tag alone is refused
    without_tenant = error_of(owner.tag_resource, resourceArn=world.arn, tags={"user": "bob"})
    untag_tenant = error_of(owner.untag_resource, resourceArn=world.arn, tagKeys=["tenant"])
    codes = {steal[0], give_away[0], without_tenant[0], untag_tenant[0]}
    assert codes == {"AccessDeniedException"}
    assert owner.list_tags_for_resource(resourceArn=world.arn)["tags"] == before


@pytest.mark.parametrize(
    ("why", "tags"),
    [
        ("no tags", None),
        ("no tenant tag", {"user": "alice", "app": "shoe-assistant"}),
        ("another tenant", {**TENANT_A_TAGS, "tenant": "tenant-b"}),
        ("a key the app does not use", {**TENANT_A_TAGS, "owner": "mallory"}),
        ("another app", {**TENANT_A_TAGS, "app": "other-app"}),
    ],
)
def test_create_session_is_denied_for(
    clients: dict[str, Any], why: str, tags: dict[str, str] | None
) -> None:
    kwargs = {} if tags is None else {"tags": tags}
    code, status, message = error_of(clients["owner"].create_session, **kwargs)
    assert (code, status) == ("AccessDeniedException", 403), why
    assert "bedrock:CreateSession on resource: *" in message


def test_a_session_that_does_not_exist_is_denied_before_it_is_not_found(
    clients: dict[str, Any],
) -> None:
    # No session, no tags: the tag condition fails before the service looks (as on AWS, the
    # answer does not tell whether a session exists).
    code, status, _ = error_of(clients["owner"].get_session, sessionIdentifier=str(uuid.uuid4()))
    assert (code, status) == ("AccessDeniedException", 403)


def test_list_sessions_is_not_filtered_by_tenant_but_reading_them_is_denied(
    clients: dict[str, Any],
) -> None:
    world = new_world(clients["owner"])
    listed = clients["other_tenant"].get_paginator("list_sessions").paginate()
    ids = {s["sessionId"] for page in listed for s in page["sessionSummaries"]}
    assert world.session_id in ids
    code, _, _ = error_of(clients["other_tenant"].list_tags_for_resource, resourceArn=world.arn)
    assert code == "AccessDeniedException"


def _local(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_local_config_needs_an_admin_and_health_stays_open(iam_service_url: str) -> None:
    assert _local(f"{iam_service_url}/health")[0] == 200
    status, body = _local(f"{iam_service_url}/_local/config")
    assert (status, body["__type"]) == (403, "MissingAuthenticationTokenException")
    status, body = _local(f"{iam_service_url}/_local/config", "POST", b'{"latency_ms": 9}')
    assert (status, body["__type"]) == (403, "MissingAuthenticationTokenException")
    with pytest.raises(urllib.error.HTTPError) as refused:
        configure_service(iam_service_url, credentials=DEMO_PRINCIPALS["bob"], latency_ms=9)
    assert refused.value.code == 403
    assert json.loads(refused.value.read())["__type"] == "AccessDeniedException"
    admin = DEMO_PRINCIPALS["admin"]
    assert configure_service(iam_service_url, credentials=admin, latency_ms=1)["latency_ms"] == 1
    assert configure_service(iam_service_url, credentials=admin, latency_ms=0)["latency_ms"] == 0


def test_plain_mode_checks_nothing() -> None:
    with running_service() as url:
        anonymous = client_of(url, "anonymous")
        session = anonymous.create_session()
        assert anonymous.get_session(sessionIdentifier=session["sessionId"])["sessionStatus"] == (
            "ACTIVE"
        )
        assert make_client(url).list_sessions()["sessionSummaries"]
        assert _local(f"{url}/_local/config")[0] == 200


def test_upstream_saver_runs_a_graph_as_the_owner_and_not_as_another_tenant(
    clients: dict[str, Any], iam_service_url: str
) -> None:
    def saver(name: str) -> BedrockSessionSaver:
        principal = DEMO_PRINCIPALS[name]
        return BedrockSessionSaver(
            region_name=REGION,
            endpoint_url=iam_service_url,
            aws_access_key_id=SecretStr(principal.access_key_id),
            aws_secret_access_key=SecretStr(principal.secret_access_key),
        )

    config = {"configurable": {"thread_id": new_world(clients["owner"]).session_id}}
    build_graph(saver("alice")).invoke({"messages": [HumanMessage("trail runners")]}, config)
    assert build_graph(saver("bob")).get_state(config).values["messages"]
    with pytest.raises(Exception, match="AccessDeniedException"):
        build_graph(saver("carol")).get_state(config)
