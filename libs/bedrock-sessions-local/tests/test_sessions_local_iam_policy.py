"""The pieces IAM mode decides with, without HTTP: the policy evaluator on the examples of AWS's
IAM documentation, the template resolved exactly as CloudFormation (moto) deploys it, and the
credentials file.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from bedrock_sessions_local.access import AccessControl
from bedrock_sessions_local.cloudformation import identity_policies
from bedrock_sessions_local.credentials import (
    DEMO_PRINCIPALS,
    Principal,
    load_credentials,
    write_credentials,
    write_demo_credentials,
)
from bedrock_sessions_local.exceptions import AccessDeniedException
from bedrock_sessions_local.iam import Request, evaluate
from bedrock_sessions_local.models import SessionBackend
from sessions_local_iam_support import TEMPLATE
from sessions_local_support import ACCOUNT, REGION


def allow(condition: dict[str, Any], context: dict[str, Any], resource: str = "*") -> str:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "ec2:*", "Resource": resource, "Condition": condition}
        ],
    }
    return evaluate([policy], Request("ec2:RunInstances", resource, context))


# --- the evaluator, on examples from the IAM User Guide ---------------------------------------


def test_string_equals_with_a_policy_variable_compares_to_the_callers_value() -> None:
    # "IAM tutorial: Define permissions to access AWS resources based on tags" (ABAC):
    # aws:ResourceTag/access-project = ${aws:PrincipalTag/access-project}
    condition = {
        "StringEquals": {"aws:ResourceTag/access-project": "${aws:PrincipalTag/access-project}"}
    }
    peg = {"aws:PrincipalTag/access-project": "peg"}
    assert allow(condition, {**peg, "aws:ResourceTag/access-project": "peg"}) == "Allow"
    assert allow(condition, {**peg, "aws:ResourceTag/access-project": "Peg"}) == "ImplicitDeny"
    # no principal tag: the variable cannot be resolved and matches nothing, not even itself
    literal = {"aws:ResourceTag/access-project": "${aws:PrincipalTag/access-project}"}
    assert allow(condition, literal) == "ImplicitDeny"


def test_a_policy_variable_in_the_resource_is_resolved_per_caller() -> None:
    # "IAM policy elements: Variables and tags": arn:aws:s3:::bucket/${aws:username}/*
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/${aws:username}/*",
            }
        ]
    }
    own = Request(
        "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/alice/a", {"aws:username": "alice"}
    )
    other = Request(
        "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket/bob/a", {"aws:username": "alice"}
    )
    assert evaluate([policy], own) == "Allow"
    assert evaluate([policy], other) == "ImplicitDeny"


def test_if_exists_holds_for_an_absent_key_and_checks_a_present_one() -> None:
    # "IAM JSON policy elements: Condition operators", ...IfExists: StringLikeIfExists
    # ec2:InstanceType ["t1.*", "t2.*", "m3.*"]
    condition = {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}}
    assert allow(condition, {}) == "Allow"
    assert allow(condition, {"ec2:InstanceType": "t2.micro"}) == "Allow"
    assert allow(condition, {"ec2:InstanceType": "c5.large"}) == "ImplicitDeny"
    # without IfExists an absent key fails the condition
    assert allow({"StringLike": condition["StringLikeIfExists"]}, {}) == "ImplicitDeny"


def test_for_all_values_holds_for_absent_and_empty_keys_unless_null_requires_them() -> None:
    # "Single-valued vs. multivalued context keys": ForAllValues returns true when the key is
    # absent or resolves to an empty set; pair it with Null false to require the key.
    allowed_keys = {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}}
    assert allow(allowed_keys, {}) == "Allow"
    assert allow(allowed_keys, {"aws:TagKeys": []}) == "Allow"
    assert allow(allowed_keys, {"aws:TagKeys": ["environment"]}) == "Allow"
    assert allow(allowed_keys, {"aws:TagKeys": ["environment", "owner"]}) == "ImplicitDeny"
    required = {**allowed_keys, "Null": {"aws:TagKeys": "false"}}
    assert allow(required, {}) == "ImplicitDeny"
    assert allow(required, {"aws:TagKeys": ["cost-center"]}) == "Allow"
    # ForAnyValue is false on an absent key
    assert allow({"ForAnyValue:StringEquals": allowed_keys["ForAllValues:StringEquals"]}, {}) == (
        "ImplicitDeny"
    )


def test_null_tells_absent_keys_from_present_ones() -> None:
    # "Condition operator to check existence of condition keys": Null aws:TokenIssueTime
    assert allow({"Null": {"aws:TokenIssueTime": "true"}}, {}) == "Allow"
    assert allow({"Null": {"aws:TokenIssueTime": "true"}}, {"aws:TokenIssueTime": "t"}) == (
        "ImplicitDeny"
    )
    assert allow({"Null": {"aws:TokenIssueTime": "false"}}, {"aws:TokenIssueTime": "t"}) == "Allow"


def test_condition_key_names_are_case_insensitive_and_string_equals_values_are_not() -> None:
    condition = {"StringEquals": {"aws:RequestTag/Tenant": "acme"}}
    assert allow(condition, {"aws:requesttag/tenant": "acme"}) == "Allow"
    assert allow(condition, {"aws:RequestTag/Tenant": "ACME"}) == "ImplicitDeny"


def test_an_explicit_deny_wins_and_is_named_in_the_access_denied_message() -> None:
    allow_all = {"Statement": [{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]}
    deny_list = {
        "Statement": [{"Effect": "Deny", "Action": "bedrock:ListSessions", "Resource": "*"}]
    }
    access = AccessControl({}, [allow_all, deny_list], region=REGION, account=ACCOUNT)
    no_sessions = SessionBackend(":memory:", region=REGION, account=ACCOUNT)
    alice = DEMO_PRINCIPALS["alice"]
    access.authorize(alice, "CreateSession", {}, no_sessions)  # allowed by bedrock:*
    with pytest.raises(AccessDeniedException) as denied:
        access.authorize(alice, "ListSessions", {}, no_sessions)
    assert denied.value.message.endswith(
        "bedrock:ListSessions on resource: * with an explicit deny in an identity-based policy"
    )
    no_sessions.close()


# --- the template, resolved as CloudFormation resolves it -------------------------------------

PARAMETER_SETS = [
    {},
    {"TenantTagKey": "customer", "RoleTenant": "acme", "AppName": "shoe-demo"},
    {"ModelId": "anthropic.claude-3-5-haiku-20241022-v1:0", "FoundationModelId": ""},
]


@pytest.mark.parametrize("parameters", PARAMETER_SETS)
def test_resolved_policies_are_the_ones_cloudformation_deploys(parameters: dict[str, str]) -> None:
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    with moto.mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(
            StackName="sessions",
            TemplateBody=TEMPLATE.read_text(),
            Capabilities=["CAPABILITY_IAM"],
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        )
        stack = cloudformation.describe_stacks(StackName="sessions")["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        iam = boto3.client("iam", region_name=REGION)

        def deployed(arn: str) -> Any:
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=arn, VersionId=version)
            return document["PolicyVersion"]["Document"]

        from_moto = {
            "SessionAccessPolicy": deployed(outputs["PolicyArn"]),
            "ModelAccessPolicy": deployed(outputs["ModelPolicyArn"]),
        }
    resolved = identity_policies(TEMPLATE, region=REGION, account=ACCOUNT, parameters=parameters)
    # The key exists only in a deployed stack: the resolver leaves a named placeholder.
    as_deployed = json.loads(
        json.dumps(resolved).replace("local:unresolved:SessionKey.Arn", outputs["KeyArn"])
    )
    assert as_deployed == from_moto


@pytest.mark.parametrize(
    ("parameters", "problem"),
    [
        ({"TenantKey": "x"}, "unknown template parameter"),
        ({"AppName": "has spaces"}, "does not match"),
    ],
)
def test_bad_template_parameters_are_refused(parameters: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        identity_policies(TEMPLATE, region=REGION, account=ACCOUNT, parameters=parameters)


def test_an_unsupported_intrinsic_is_an_error_not_a_pass(tmp_path: Path) -> None:
    template = tmp_path / "t.yaml"
    template.write_text(
        "Resources:\n"
        "  P:\n"
        "    Type: AWS::IAM::ManagedPolicy\n"
        "    Properties:\n"
        "      PolicyDocument:\n"
        "        Statement:\n"
        "          - {Effect: Allow, Action: '*', Resource: !Select [0, [a, b]]}\n"
    )
    with pytest.raises(ValueError, match="Fn::Select is not supported"):
        identity_policies(template, region=REGION, account=ACCOUNT)


def test_the_policy_variable_survives_and_the_pseudo_parameters_do_not() -> None:
    policy = identity_policies(
        TEMPLATE, region="eu-west-1", account="210987654321", parameters={"TenantTagKey": "org"}
    )["SessionAccessPolicy"]
    text = json.dumps(policy)
    assert "${aws:PrincipalTag/org}" in text
    assert "arn:aws:bedrock:eu-west-1:210987654321:session/*" in text
    assert "AWS::" not in text and "Fn::" not in text and '"Ref"' not in text


# --- the credentials file ---------------------------------------------------------------------


def test_credentials_are_written_for_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text("{}")
    path.chmod(0o644)  # an existing, world-readable file is replaced and tightened
    write_demo_credentials(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_credentials(path) == {p.access_key_id: p for p in DEMO_PRINCIPALS.values()}


def test_demo_credentials_say_they_are_demo_values(tmp_path: Path) -> None:
    document = json.loads(write_demo_credentials(tmp_path / "c.json").read_text())
    assert document["description"].startswith("DEMO credentials")
    for key_id, entry in document["credentials"].items():
        assert "LOCALDEMO" in key_id and "demo-only" in entry["secret_access_key"]
    assert [p.admin for p in DEMO_PRINCIPALS.values()] == [False, False, False, True]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"principal": "p"}, "secret_access_key"),
        ({"secret_access_key": "s"}, "principal"),
        ({"secret_access_key": "s", "principal": "p", "principal_tags": {"t": 1}}, "strings"),
        ({"secret_access_key": "s", "principal": "p", "admin": "yes"}, "admin"),
        ({"secret_access_key": "s", "principal": "p", "tenant": "a"}, "unknown field"),
    ],
)
def test_a_malformed_entry_names_the_file_and_the_key(
    tmp_path: Path, entry: dict[str, Any], problem: str
) -> None:
    path = write_credentials(tmp_path / "c.json", [])
    path.write_text(json.dumps({"credentials": {"AKIAX": entry}}))
    with pytest.raises(ValueError, match=problem) as raised:
        load_credentials(path)
    assert "c.json" in str(raised.value) and "AKIAX" in str(raised.value)


def test_the_principal_account_comes_from_its_arn() -> None:
    assert DEMO_PRINCIPALS["alice"].account == "123456789012"
    assert Principal("k", "s", "plain-name").account is None
