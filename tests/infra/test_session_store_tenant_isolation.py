"""Tenant isolation of the deployed policies, decided by the IAM evaluation model.

The policies are the ones moto returns after deploying the template (parameters resolved); the
decisions come from `bedrock_sessions_local.iam` (the evaluator the local session service's IAM
mode uses), a model of AWS's documented evaluation rules, not from AWS (no real evaluator runs
offline).
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from session_store_stack import ACCOUNT_ID, REGION, SESSION_OPERATIONS, DeployedSessionStore

from bedrock_sessions_local.iam import Request, evaluate

SESSION_ARN = f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:session/5f0c9a57-8d5e-4a49-9a4b-2e3f1c7d9b10"
ACME = {"aws:PrincipalTag/tenant": "acme"}
GOOD_TAGS = {"tenant": "acme", "user": "alice", "app": "shoe-assistant"}


def _tags(tags: Mapping[str, str]) -> dict[str, object]:
    """Request-context keys for tags sent in the request (CreateSession, TagResource)."""
    return {**{f"aws:RequestTag/{k}": v for k, v in tags.items()}, "aws:TagKeys": list(tags)}


def _on_session(tenant: str | None) -> dict[str, str]:
    """Request-context keys for an existing session tagged with `tenant` (None: untagged)."""
    return {} if tenant is None else {"aws:ResourceTag/tenant": tenant}


def _decide(store: DeployedSessionStore, action: str, resource: str, **context: object) -> str:
    merged: dict[str, object] = {}
    for part in context.values():
        merged.update(part)  # type: ignore[call-overload]
    return evaluate(store.policies, Request(action, resource, merged))  # type: ignore[arg-type]


def test_create_session_with_own_tenant_is_allowed(session_store: DeployedSessionStore) -> None:
    decision = _decide(session_store, "bedrock:CreateSession", "*", who=ACME, tags=_tags(GOOD_TAGS))
    assert decision == "Allow"


@pytest.mark.parametrize(
    ("why", "tags"),
    [
        ("another tenant", {**GOOD_TAGS, "tenant": "globex"}),
        ("no tenant tag", {"user": "alice", "app": "shoe-assistant"}),
        ("no tags at all", {}),
        ("a tag key the app does not use", {**GOOD_TAGS, "owner": "mallory"}),
        ("another app", {**GOOD_TAGS, "app": "other-app"}),
    ],
)
def test_create_session_is_denied_for(
    session_store: DeployedSessionStore, why: str, tags: dict[str, str]
) -> None:
    decision = _decide(session_store, "bedrock:CreateSession", "*", who=ACME, tags=_tags(tags))
    assert decision == "ImplicitDeny", why


def test_caller_without_a_tenant_gets_no_session(session_store: DeployedSessionStore) -> None:
    assert _decide(session_store, "bedrock:CreateSession", "*", tags=_tags(GOOD_TAGS)) != "Allow"
    for action in SESSION_OPERATIONS:
        assert _decide(session_store, action, SESSION_ARN, on=_on_session("acme")) != "Allow"


@pytest.mark.parametrize("action", SESSION_OPERATIONS)
def test_session_operation_reaches_own_tenant_only(
    session_store: DeployedSessionStore, action: str
) -> None:
    assert _decide(session_store, action, SESSION_ARN, who=ACME, on=_on_session("acme")) == "Allow"
    assert _decide(session_store, action, SESSION_ARN, who=ACME, on=_on_session("globex")) != (
        "Allow"
    )
    assert _decide(session_store, action, SESSION_ARN, who=ACME, on=_on_session(None)) != "Allow"


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:bedrock:us-west-2:{ACCOUNT_ID}:session/5f0c9a57",
        f"arn:aws:bedrock:{REGION}:210987654321:session/5f0c9a57",
        f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:agent/5f0c9a57",
    ],
)
def test_sessions_of_other_regions_accounts_or_resource_types_are_out_of_reach(
    session_store: DeployedSessionStore, arn: str
) -> None:
    decision = _decide(session_store, "bedrock:GetSession", arn, who=ACME, on=_on_session("acme"))
    assert decision == "ImplicitDeny"


def test_tagging_cannot_move_a_session_between_tenants(
    session_store: DeployedSessionStore,
) -> None:
    # Taking over another tenant's session by re-tagging it:
    steal = _decide(
        session_store,
        "bedrock:TagResource",
        SESSION_ARN,
        who=ACME,
        on=_on_session("globex"),
        tags=_tags({"tenant": "acme"}),
    )
    # Handing an own session to another tenant:
    give_away = _decide(
        session_store,
        "bedrock:TagResource",
        SESSION_ARN,
        who=ACME,
        on=_on_session("acme"),
        tags=_tags({"tenant": "globex"}),
    )
    retag_own = _decide(
        session_store,
        "bedrock:TagResource",
        SESSION_ARN,
        who=ACME,
        on=_on_session("acme"),
        tags=_tags({"tenant": "acme", "user": "bob"}),
    )
    assert (steal, give_away, retag_own) == ("ImplicitDeny", "ImplicitDeny", "Allow")


def test_untagging_may_drop_the_user_but_not_the_tenant(
    session_store: DeployedSessionStore,
) -> None:
    def untag(keys: list[str]) -> str:
        return _decide(
            session_store,
            "bedrock:UntagResource",
            SESSION_ARN,
            who=ACME,
            on=_on_session("acme"),
            keys={"aws:TagKeys": keys},
        )

    assert untag(["user"]) == "Allow"
    assert untag(["tenant"]) == "ImplicitDeny"
    assert untag(["user", "app"]) == "ImplicitDeny"


def test_list_sessions_is_allowed_because_it_cannot_be_scoped(
    session_store: DeployedSessionStore,
) -> None:
    assert _decide(session_store, "bedrock:ListSessions", "*", who=ACME) == "Allow"


def test_session_key_is_usable_only_through_bedrock_for_this_accounts_sessions(
    session_store: DeployedSessionStore,
) -> None:
    key = session_store.outputs["KeyArn"]
    via_bedrock = {
        "kms:ViaService": f"bedrock.{REGION}.amazonaws.com",
        "kms:EncryptionContext:aws:bedrock:session:arn": SESSION_ARN,
    }
    for action in ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"):
        assert _decide(session_store, action, key, ctx=via_bedrock) == "Allow"
        direct = {"kms:EncryptionContext:aws:bedrock:session:arn": SESSION_ARN}
        assert _decide(session_store, action, key, ctx=direct) == "ImplicitDeny"
        foreign = {
            **via_bedrock,
            "kms:EncryptionContext:aws:bedrock:session:arn": SESSION_ARN.replace(
                ACCOUNT_ID, "210987654321"
            ),
        }
        assert _decide(session_store, action, key, ctx=foreign) == "ImplicitDeny"
        other_service = {**via_bedrock, "kms:ViaService": f"s3.{REGION}.amazonaws.com"}
        assert _decide(session_store, action, key, ctx=other_service) == "ImplicitDeny"
    assert _decide(session_store, "kms:ReEncryptFrom", key, ctx=via_bedrock) == "ImplicitDeny"
    other_key = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/00000000-0000-0000-0000-000000000000"
    assert _decide(session_store, "kms:Decrypt", other_key, ctx=via_bedrock) == "ImplicitDeny"


def test_only_the_configured_model_can_be_invoked(session_store: DeployedSessionStore) -> None:
    profile = (
        f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:inference-profile/"
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    model = "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
    through_profile = {"bedrock:InferenceProfileArn": profile}
    for action in ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"):
        assert _decide(session_store, action, profile) == "Allow"
        assert _decide(session_store, action, model, ctx=through_profile) == "Allow"
        # The same foundation model called directly, bypassing the profile:
        assert _decide(session_store, action, model) == "ImplicitDeny"
        other = model.replace("claude-sonnet-4-5", "claude-opus-4-1")
        assert _decide(session_store, action, other, ctx=through_profile) == "ImplicitDeny"


def test_the_principal_tag_key_is_a_parameter(single_tenant_store: DeployedSessionStore) -> None:
    tags = _tags({**GOOD_TAGS, "app": "shoe-demo"})
    customer = {"aws:PrincipalTag/customer": "acme"}
    assert _decide(single_tenant_store, "bedrock:CreateSession", "*", who=customer, tags=tags) == (
        "Allow"
    )
    # With TenantTagKey=customer a `tenant` principal tag grants nothing.
    assert _decide(single_tenant_store, "bedrock:CreateSession", "*", who=ACME, tags=tags) == (
        "ImplicitDeny"
    )


def test_trust_policy_accepts_only_the_tenant_session_tag(
    session_store: DeployedSessionStore,
) -> None:
    trust = session_store.role["AssumeRolePolicyDocument"]
    # The trust policy has no Resource; the role is the resource.
    role = session_store.role["Arn"]

    def assume(tag_keys: list[str] | None) -> str:
        context = {} if tag_keys is None else {"aws:TagKeys": tag_keys}
        return evaluate([trust], Request("sts:TagSession", role, context))

    assert assume(["tenant"]) == "Allow"
    assert assume(["tenant", "admin"]) == "ImplicitDeny"
    assert evaluate([trust], Request("sts:AssumeRole", role)) == "Allow"
