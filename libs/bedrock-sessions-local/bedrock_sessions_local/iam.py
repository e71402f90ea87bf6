"""A small evaluator of IAM identity policies, for the condition operators the session policy uses.

The IAM mode of the local service decides every request with it (``access.py``), and the
repository's infra tests decide their tenant-isolation cases with it. No real IAM evaluator runs
offline: moto's access control ignores most conditions and policy variables, and PMapper's local
simulation compares ``${aws:PrincipalTag/...}`` literally. So this module models the rules AWS
documents in "Policy evaluation logic", "Condition operators", "Single-valued vs. multivalued
context keys" and "Policy variables", for exactly the subset the session-store policy uses. It
is a model, not AWS: it can tell that a policy *as written* isolates tenants under those
documented rules, not that AWS implements them so.

Example::

    policy = {"Statement": [{"Effect": "Allow", "Action": "bedrock:GetSession", "Resource": "*",
               "Condition": {"StringEquals": {
                   "aws:ResourceTag/tenant": "${aws:PrincipalTag/tenant}"}}}]}
    context = {"aws:PrincipalTag/tenant": "a", "aws:ResourceTag/tenant": "a"}
    evaluate([policy], Request("bedrock:GetSession", "arn:...", context))  # "Allow"

Rules modelled (each one a documented behaviour):
- An explicit Deny wins; otherwise any matching Allow allows; otherwise the request is denied.
- Action names match case-insensitively, with `*` and `?` wildcards; resources match
  case-sensitively, with the same wildcards.
- Every operator in a Condition block must hold, and every key under an operator must hold (AND);
  several values for one key are alternatives (OR).
- A single-valued operator on a key absent from the request context is false; with `IfExists` it
  is true.
- `ForAllValues:` is true when the key is absent or empty; `ForAnyValue:` is then false.
- `Null: {key: "true"}` holds when the key is absent, `"false"` when present.
- A policy variable `${key}` in a condition value is replaced by the context value; when the key is
  absent, that value matches nothing (the variable "cannot be resolved", so the comparison fails).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

ContextValue = str | Sequence[str]
Decision = Literal["Allow", "ExplicitDeny", "ImplicitDeny"]

_POLICY_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_STRING_OPERATORS = {"StringEquals", "StringNotEquals", "StringLike"}


@dataclass(frozen=True)
class Request:
    """One authorization request: an action on a resource, with its request context."""

    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    def value(self, key: str) -> list[str] | None:
        """The context values for `key` (keys are case-insensitive), or None when absent."""
        for name, value in self.context.items():
            if name.lower() == key.lower():
                return [value] if isinstance(value, str) else list(value)
        return None


def evaluate(policies: Iterable[Mapping[str, Any]], request: Request) -> Decision:
    """Decide `request` against identity policy documents, as IAM's evaluation logic does.

    Raises ValueError on an operator this model does not implement, so that an unmodelled
    condition can never pass silently.
    """
    allowed = False
    for policy in policies:
        for statement in _as_list(policy["Statement"]):
            if not _statement_applies(statement, request):
                continue
            if statement["Effect"] == "Deny":
                return "ExplicitDeny"
            allowed = True
    return "Allow" if allowed else "ImplicitDeny"


def _statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "Action" in statement:
        if not any(_wildcard_match(a, request.action, True) for a in _as_list(statement["Action"])):
            return False
    elif any(_wildcard_match(a, request.action, True) for a in _as_list(statement["NotAction"])):
        return False
    resources = _as_list(statement.get("Resource", "*"))
    if not any(_resource_matches(pattern, request) for pattern in resources):
        return False
    return all(
        _condition_holds(operator, key, expected, request)
        for operator, block in statement.get("Condition", {}).items()
        for key, expected in block.items()
    )


def _resource_matches(pattern: str, request: Request) -> bool:
    resolved = _resolve_variables(pattern, request)
    return resolved is not None and _wildcard_match(resolved, request.resource, False)


def _condition_holds(operator: str, key: str, expected: Any, request: Request) -> bool:
    actual = request.value(key)
    expected_values = _as_list(expected)
    if operator == "Null":
        return (actual is None) == (str(expected_values[0]).lower() == "true")

    set_operator, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    if base not in _STRING_OPERATORS:
        raise ValueError(f"condition operator {operator!r} is not modelled")

    # Policy variables are resolved against the same request context; unresolvable ones drop.
    resolved = [_resolve_variables(value, request) for value in expected_values]
    patterns = [value for value in resolved if value is not None]

    def matches(value: str) -> bool:
        if base == "StringLike":
            return any(_wildcard_match(p, value, False) for p in patterns)
        return value in patterns

    if set_operator == "ForAllValues":
        return all(matches(v) for v in actual or [])
    if set_operator == "ForAnyValue":
        return any(matches(v) for v in actual or [])
    if set_operator:
        raise ValueError(f"set operator {set_operator!r} is not modelled")
    if actual is None:
        # StringNotEquals on an absent key is true; the positive operators are false.
        return if_exists or base == "StringNotEquals"
    if base == "StringNotEquals":
        return not any(matches(v) for v in actual)
    return any(matches(v) for v in actual)


def _resolve_variables(text: str, request: Request) -> str | None:
    """`text` with each `${key}` replaced by its context value; None if a key is absent."""
    missing = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal missing
        values = request.value(match.group(1))
        if not values:
            missing = True
            return ""
        return values[0]

    resolved = _POLICY_VARIABLE.sub(substitute, text)
    return None if missing else resolved


def _wildcard_match(pattern: str, value: str, ignore_case: bool) -> bool:
    return _wildcard_regex(pattern, ignore_case).fullmatch(value) is not None


@lru_cache(maxsize=4096)
def _wildcard_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # Compiled once per pattern: the service evaluates the same few patterns on every request.
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    return re.compile(regex, re.IGNORECASE if ignore_case else 0)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]
