"""Deploy infra/session-store.yaml to moto and read back what it created, through boto3."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.kms.models import kms_backends

TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "infra" / "session-store.yaml"
REGION = "eu-west-1"
ACCOUNT_ID = DEFAULT_ACCOUNT_ID
# Every session operation except CreateSession, TagResource, UntagResource and ListSessions,
# which have statements of their own.
SESSION_OPERATIONS = [
    "bedrock:GetSession",
    "bedrock:UpdateSession",
    "bedrock:EndSession",
    "bedrock:DeleteSession",
    "bedrock:CreateInvocation",
    "bedrock:ListInvocations",
    "bedrock:PutInvocationStep",
    "bedrock:GetInvocationStep",
    "bedrock:ListInvocationSteps",
    "bedrock:ListTagsForResource",
]


@dataclass(frozen=True)
class DeployedSessionStore:
    """What one stack of the template created, as the AWS APIs report it."""

    outputs: dict[str, str]
    key_metadata: dict[str, Any]
    key_rotation_enabled: bool
    key_aliases: list[str]
    key_policy: dict[str, Any]
    policy_document: dict[str, Any]
    model_policy_document: dict[str, Any]
    role: dict[str, Any]
    role_policy_arns: list[str]

    def statement(self, sid: str) -> dict[str, Any]:
        """The statement with this Sid in either managed policy; KeyError if there is none."""
        for statement in (
            self.policy_document["Statement"] + self.model_policy_document["Statement"]
        ):
            if statement.get("Sid") == sid:
                return statement
        raise KeyError(sid)

    @property
    def sids(self) -> list[str]:
        """Sids of the session policy's statements, in order."""
        return [statement["Sid"] for statement in self.policy_document["Statement"]]

    @property
    def model_sids(self) -> list[str]:
        """Sids of the model policy's statements, in order."""
        return [statement["Sid"] for statement in self.model_policy_document["Statement"]]

    @property
    def policies(self) -> list[dict[str, Any]]:
        """Every identity policy document attached to the app role."""
        return [self.policy_document, self.model_policy_document]


def deploy_session_store(parameters: dict[str, str] | None = None) -> DeployedSessionStore:
    """Create the stack in a fresh moto account and return what the AWS APIs say it made.

    Raises AssertionError if the stack does not reach CREATE_COMPLETE.
    """
    with mock_aws():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(
            StackName="shoe-assistant-sessions",
            TemplateBody=TEMPLATE_PATH.read_text(),
            Capabilities=["CAPABILITY_IAM"],
            Parameters=[
                {"ParameterKey": key, "ParameterValue": value}
                for key, value in (parameters or {}).items()
            ],
        )
        stack = cloudformation.describe_stacks(StackName="shoe-assistant-sessions")["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

        key_id = outputs["KeyArn"].rsplit("/", 1)[-1]
        # moto 5.2 stores a KeyPolicy given as a YAML/JSON object unserialized, and then fails
        # on every KMS call that checks the policy; CloudFormation itself accepts an object.
        # Serialize it as AWS stores it so the real KMS API calls below work.
        stored_key = kms_backends[ACCOUNT_ID][REGION].keys[key_id]
        if not isinstance(stored_key.policy, str):
            stored_key.policy = json.dumps(stored_key.policy)

        kms = boto3.client("kms", region_name=REGION)
        iam = boto3.client("iam", region_name=REGION)
        role_name = outputs["RoleArn"].rsplit("/", 1)[-1]
        attached = iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
        return DeployedSessionStore(
            outputs=outputs,
            key_metadata=kms.describe_key(KeyId=key_id)["KeyMetadata"],
            key_rotation_enabled=kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"],
            key_aliases=[a["AliasName"] for a in kms.list_aliases(KeyId=key_id)["Aliases"]],
            key_policy=json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]),
            policy_document=_policy_document(iam, outputs["PolicyArn"]),
            model_policy_document=_policy_document(iam, outputs["ModelPolicyArn"]),
            role=iam.get_role(RoleName=role_name)["Role"],
            role_policy_arns=[a["PolicyArn"] for a in attached],
        )


def _policy_document(iam: Any, policy_arn: str) -> dict[str, Any]:
    policy = iam.get_policy(PolicyArn=policy_arn)["Policy"]
    document = iam.get_policy_version(PolicyArn=policy_arn, VersionId=policy["DefaultVersionId"])[
        "PolicyVersion"
    ]["Document"]
    # boto3 decodes the URL-encoded policy JSON into a dict; be explicit if it ever does not.
    return document if isinstance(document, dict) else json.loads(document)
