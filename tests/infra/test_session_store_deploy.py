"""infra/session-store.yaml deploys to moto and creates the key, role and policy it promises."""

from __future__ import annotations

import pytest
from session_store_stack import ACCOUNT_ID, REGION, SESSION_OPERATIONS, DeployedSessionStore

SESSION_ARNS = f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:session/*"
VIA_BEDROCK = f"bedrock.{REGION}.amazonaws.com"
OWN_TENANT = "${aws:PrincipalTag/tenant}"


def _actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else action


def test_outputs_map_to_the_app_settings(session_store: DeployedSessionStore) -> None:
    outputs = session_store.outputs
    assert outputs["KeyArn"] == session_store.key_metadata["Arn"]
    assert outputs["Region"] == REGION
    assert outputs["AppName"] == "shoe-assistant"
    assert outputs["BedrockModelId"] == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert outputs["KeyAlias"] == "alias/shoe-assistant-sessions"
    assert outputs["RoleArn"] == session_store.role["Arn"]


def test_session_key_is_a_symmetric_rotating_key_with_an_alias(
    session_store: DeployedSessionStore,
) -> None:
    metadata = session_store.key_metadata
    assert metadata["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert metadata["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert metadata["KeyManager"] == "CUSTOMER"
    assert metadata["Enabled"] is True
    assert session_store.key_rotation_enabled is True
    assert session_store.key_aliases == ["alias/shoe-assistant-sessions"]


def test_key_policy_delegates_to_iam_and_names_the_app_role(
    session_store: DeployedSessionStore,
) -> None:
    statements = {s["Sid"]: s for s in session_store.key_policy["Statement"]}
    root = statements["EnableIamPolicies"]
    assert root["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert root["Action"] == "kms:*"

    role_arn = session_store.role["Arn"]
    crypto = statements["AppRoleEncryptsSessionsThroughBedrock"]
    assert crypto["Principal"] == {"AWS": role_arn}
    assert sorted(crypto["Action"]) == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    assert crypto["Condition"] == {
        "StringLike": {"kms:EncryptionContext:aws:bedrock:session:arn": SESSION_ARNS},
        "StringEquals": {"kms:ViaService": VIA_BEDROCK},
    }
    describe = statements["AppRoleDescribesKeyThroughBedrock"]
    assert describe["Principal"] == {"AWS": role_arn}
    assert describe["Action"] == "kms:DescribeKey"
    assert describe["Condition"] == {"StringEquals": {"kms:ViaService": VIA_BEDROCK}}
    assert set(statements) == {
        "EnableIamPolicies",
        "AppRoleEncryptsSessionsThroughBedrock",
        "AppRoleDescribesKeyThroughBedrock",
    }


def test_both_managed_policies_are_attached_to_the_app_role(
    session_store: DeployedSessionStore,
) -> None:
    assert sorted(session_store.role_policy_arns) == sorted(
        [session_store.outputs["PolicyArn"], session_store.outputs["ModelPolicyArn"]]
    )


def test_role_can_be_assumed_with_the_tenant_session_tag_only(
    session_store: DeployedSessionStore,
) -> None:
    trust = session_store.role["AssumeRolePolicyDocument"]["Statement"]
    assert len(trust) == 1
    assert trust[0]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    assert sorted(trust[0]["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    assert trust[0]["Condition"] == {"ForAllValues:StringEquals": {"aws:TagKeys": ["tenant"]}}
    # No tenant on the role itself by default: a caller without the session tag gets nothing.
    assert {t["Key"] for t in session_store.role["Tags"]} == {"app"}


def test_policy_has_exactly_the_expected_statements(session_store: DeployedSessionStore) -> None:
    assert session_store.sids == [
        "CreateSessionsOfOwnTenant",
        "TagSessionsOfOwnTenant",
        "UntagUserOfOwnTenantSessions",
        "UseSessionsOfOwnTenant",
        "ListSessions",
        "EncryptSessionDataThroughBedrock",
        "DescribeSessionKeyThroughBedrock",
    ]
    assert session_store.model_sids == [
        "InvokeConfiguredInferenceProfile",
        "InvokeFoundationModelThroughProfile",
    ]
    assert all(
        s["Effect"] == "Allow" for policy in session_store.policies for s in policy["Statement"]
    )


def test_create_session_requires_the_callers_tenant_and_the_apps_tag_keys(
    session_store: DeployedSessionStore,
) -> None:
    create = session_store.statement("CreateSessionsOfOwnTenant")
    assert create["Action"] == "bedrock:CreateSession"
    # CreateSession has no resource type: the request tags, not the ARN, are its scope.
    assert create["Resource"] == "*"
    assert create["Condition"] == {
        "StringEquals": {"aws:RequestTag/tenant": OWN_TENANT},
        "StringEqualsIfExists": {"aws:RequestTag/app": "shoe-assistant"},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["user", "tenant", "app"]},
    }


def test_tag_resource_needs_own_tenant_on_both_the_session_and_the_request(
    session_store: DeployedSessionStore,
) -> None:
    tag = session_store.statement("TagSessionsOfOwnTenant")
    assert tag["Action"] == "bedrock:TagResource"
    assert tag["Resource"] == SESSION_ARNS
    assert tag["Condition"]["StringEquals"] == {
        "aws:ResourceTag/tenant": OWN_TENANT,
        "aws:RequestTag/tenant": OWN_TENANT,
    }
    assert tag["Condition"]["ForAllValues:StringEquals"] == {
        "aws:TagKeys": ["user", "tenant", "app"]
    }


def test_untag_resource_cannot_remove_the_tenant_or_app_tag(
    session_store: DeployedSessionStore,
) -> None:
    untag = session_store.statement("UntagUserOfOwnTenantSessions")
    assert untag["Action"] == "bedrock:UntagResource"
    assert untag["Resource"] == SESSION_ARNS
    assert untag["Condition"] == {
        "StringEquals": {"aws:ResourceTag/tenant": OWN_TENANT},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["user"]},
    }


@pytest.mark.parametrize("action", SESSION_OPERATIONS)
def test_every_session_operation_is_limited_to_the_callers_tenant(
    session_store: DeployedSessionStore, action: str
) -> None:
    granting = [
        s
        for s in session_store.policy_document["Statement"]
        if action in _actions(s) or any(a.endswith("*") for a in _actions(s))
    ]
    assert len(granting) == 1, f"{action} must be granted by exactly one statement"
    statement = granting[0]
    assert statement["Resource"] == SESSION_ARNS
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceTag/tenant": OWN_TENANT}}


def test_only_list_sessions_is_granted_on_every_resource_without_conditions(
    session_store: DeployedSessionStore,
) -> None:
    unconditioned_on_all = [
        _actions(s)
        for s in session_store.policy_document["Statement"]
        if s["Resource"] == "*" and "Condition" not in s
    ]
    assert unconditioned_on_all == [["bedrock:ListSessions"]]


def test_key_use_is_limited_to_bedrock_and_this_accounts_sessions(
    session_store: DeployedSessionStore,
) -> None:
    key_arn = session_store.outputs["KeyArn"]
    crypto = session_store.statement("EncryptSessionDataThroughBedrock")
    assert sorted(crypto["Action"]) == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    assert crypto["Resource"] == key_arn
    assert crypto["Condition"] == {
        "StringLike": {"kms:EncryptionContext:aws:bedrock:session:arn": SESSION_ARNS},
        "StringEquals": {"kms:ViaService": VIA_BEDROCK},
    }
    describe = session_store.statement("DescribeSessionKeyThroughBedrock")
    assert describe["Action"] == "kms:DescribeKey"
    assert describe["Resource"] == key_arn
    assert describe["Condition"] == {"StringEquals": {"kms:ViaService": VIA_BEDROCK}}


def test_inference_profile_and_its_foundation_model_are_the_only_models(
    session_store: DeployedSessionStore,
) -> None:
    profile_arn = (
        f"arn:aws:bedrock:{REGION}:{ACCOUNT_ID}:inference-profile/"
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    invoke = session_store.statement("InvokeConfiguredInferenceProfile")
    assert sorted(invoke["Action"]) == [
        "bedrock:InvokeModel",
        "bedrock:InvokeModelWithResponseStream",
    ]
    assert invoke["Resource"] == profile_arn
    via_profile = session_store.statement("InvokeFoundationModelThroughProfile")
    assert via_profile["Resource"] == (
        "arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    assert via_profile["Condition"] == {
        "StringEquals": {"bedrock:InferenceProfileArn": profile_arn}
    }


def test_a_foundation_model_id_gets_no_profile_statement(
    foundation_model_store: DeployedSessionStore,
) -> None:
    assert foundation_model_store.model_sids == ["InvokeConfiguredFoundationModel"]
    invoke = foundation_model_store.statement("InvokeConfiguredFoundationModel")
    assert invoke["Resource"] == (
        f"arn:aws:bedrock:{REGION}::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"
    )
    assert foundation_model_store.outputs["BedrockModelId"] == (
        "anthropic.claude-3-5-haiku-20241022-v1:0"
    )


def test_parameters_reach_the_trust_policy_tags_and_conditions(
    single_tenant_store: DeployedSessionStore,
) -> None:
    store = single_tenant_store
    trust = store.role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::123456789012:role/shoe-assistant-task"}
    assert trust["Condition"] == {"ForAllValues:StringEquals": {"aws:TagKeys": ["customer"]}}
    assert {t["Key"]: t["Value"] for t in store.role["Tags"]} == {
        "app": "shoe-demo",
        "customer": "acme",
    }
    # The session tag stays `tenant` (the app writes it); its value comes from the principal
    # tag named by TenantTagKey.
    assert store.statement("UseSessionsOfOwnTenant")["Condition"] == {
        "StringEquals": {"aws:ResourceTag/tenant": "${aws:PrincipalTag/customer}"}
    }
    assert store.statement("CreateSessionsOfOwnTenant")["Condition"]["StringEqualsIfExists"] == {
        "aws:RequestTag/app": "shoe-demo"
    }
    assert store.key_aliases == ["alias/shoe-demo-sessions"]
