"""The IAM evaluation model follows the documented rules it claims to (see its docstring)."""

from __future__ import annotations

import pytest

from bedrock_sessions_local.iam import Request, evaluate


def _policy(condition: dict, resource: str = "*", effect: str = "Allow") -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": effect,
                "Action": "s3:GetObject",
                "Resource": resource,
                "Condition": condition,
            }
        ],
    }


def _decide(condition: dict, context: dict, resource: str = "*") -> str:
    return evaluate([_policy(condition)], Request("s3:GetObject", resource, context))


def test_nothing_matching_is_an_implicit_deny() -> None:
    assert evaluate([], Request("s3:GetObject", "*")) == "ImplicitDeny"


def test_explicit_deny_wins_over_allow() -> None:
    allow, deny = _policy({}), _policy({}, effect="Deny")
    assert evaluate([allow, deny], Request("s3:GetObject", "*")) == "ExplicitDeny"


def test_actions_match_case_insensitively_and_resources_do_not() -> None:
    policy = _policy({}, resource="arn:aws:s3:::Bucket/*")
    assert evaluate([policy], Request("S3:getobject", "arn:aws:s3:::Bucket/a")) == "Allow"
    assert evaluate([policy], Request("s3:GetObject", "arn:aws:s3:::bucket/a")) == "ImplicitDeny"


def test_policy_variable_is_resolved_from_the_request_context() -> None:
    condition = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    same = {"aws:ResourceTag/team": "red", "aws:PrincipalTag/team": "red"}
    other = {"aws:ResourceTag/team": "red", "aws:PrincipalTag/team": "blue"}
    assert _decide(condition, same) == "Allow"
    assert _decide(condition, other) == "ImplicitDeny"


def test_unresolvable_policy_variable_matches_nothing() -> None:
    # Even a resource tag that literally reads "${aws:PrincipalTag/team}" must not match.
    condition = {"StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}
    assert _decide(condition, {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}) == (
        "ImplicitDeny"
    )
    assert _decide(condition, {"aws:ResourceTag/team": ""}) == "ImplicitDeny"


def test_single_valued_operator_on_absent_key_is_false_unless_if_exists() -> None:
    assert _decide({"StringEquals": {"aws:RequestTag/app": "shop"}}, {}) == "ImplicitDeny"
    assert _decide({"StringEqualsIfExists": {"aws:RequestTag/app": "shop"}}, {}) == "Allow"
    assert (
        _decide(
            {"StringEqualsIfExists": {"aws:RequestTag/app": "shop"}}, {"aws:RequestTag/app": "x"}
        )
        == "ImplicitDeny"
    )


def test_for_all_values_holds_for_an_absent_key_and_for_any_value_does_not() -> None:
    assert _decide({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, {}) == "Allow"
    assert _decide({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, {}) == "ImplicitDeny"
    assert (
        _decide(
            {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, {"aws:TagKeys": ["a", "c"]}
        )
        == "ImplicitDeny"
    )


def test_every_key_and_operator_must_hold_and_values_are_alternatives() -> None:
    condition = {
        "StringEquals": {"aws:RequestTag/a": ["1", "2"], "aws:RequestTag/b": "3"},
        "StringLike": {"aws:RequestTag/c": "x*"},
    }
    ok = {"aws:RequestTag/a": "2", "aws:RequestTag/b": "3", "aws:RequestTag/c": "xyz"}
    assert _decide(condition, ok) == "Allow"
    assert _decide(condition, {**ok, "aws:RequestTag/b": "4"}) == "ImplicitDeny"
    assert _decide(condition, {**ok, "aws:RequestTag/c": "yx"}) == "ImplicitDeny"


def test_unmodelled_operator_is_an_error_not_a_pass() -> None:
    with pytest.raises(ValueError, match="not modelled"):
        _decide({"NumericLessThan": {"aws:MultiFactorAuthAge": "300"}}, {})
