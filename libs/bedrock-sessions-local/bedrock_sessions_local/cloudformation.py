"""The identity policies of a CloudFormation template, resolved as a stack would deploy them.

IAM mode enforces the policy the repository deploys to AWS, read from the same template
(``infra/session-store.yaml``), not a copy of it. A template is not a policy yet: its documents
hold intrinsic functions (``!Sub``, ``!Join``, ``!Ref``, ``!If``, ``!GetAtt``) over parameters,
conditions and pseudo parameters (``${AWS::Region}``, ``${AWS::AccountId}``,
``${AWS::Partition}``, ``${AWS::URLSuffix}``). :func:`identity_policies` resolves them for one
region, account and set of parameters, as CloudFormation does when it creates the stack, and
returns the concrete JSON documents of every ``AWS::IAM::ManagedPolicy`` and
``AWS::IAM::Policy`` resource. IAM policy variables (``${aws:PrincipalTag/tenant}``) are left
for the policy evaluator (``iam.py``) to resolve per request.

What the resolver does not have is the stack's other resources: ``!GetAtt Key.Arn`` or ``!Ref``
of a resource becomes the placeholder ``local:unresolved:<LogicalId>[.<Attribute>]``. In the
session-store template only the KMS statements name one, and no session operation is a KMS
action. Other intrinsics (``Fn::FindInMap``, ``Fn::Select``, ``Fn::ImportValue``, ...) are a
``ValueError`` naming them, never a silent pass.

Example::

    policies = identity_policies(
        "infra/session-store.yaml",
        parameters={"AppName": "shoe-assistant"},
        region="us-east-1",
        account="123456789012",
    )
    policies["SessionAccessPolicy"]["Statement"][0]["Sid"]  # "CreateSessionsOfOwnTenant"
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

#: the stack name that ``${AWS::StackName}`` resolves to
STACK_NAME = "bedrock-sessions-local"
_POLICY_TYPES = ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_NO_VALUE = object()  # AWS::NoValue: the property or list item is dropped


class _TemplateLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (``!Sub x`` is ``{"Fn::Sub": x}``)."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)
# CloudFormation reads an unquoted 2012-10-17 as a string, not a date.
_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_template(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML or JSON template, short-form intrinsics turned into their long form.

    Raises:
        ValueError: the file is not a template (no ``Resources`` map).
        OSError: the file cannot be read.
    """
    template = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_TemplateLoader)
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise ValueError(f"{path}: not a CloudFormation template (no Resources map)")
    return template


def identity_policies(
    template_path: str | os.PathLike[str],
    *,
    region: str,
    account: str,
    parameters: Mapping[str, str] | None = None,
    partition: str = "aws",
    url_suffix: str = "amazonaws.com",
) -> dict[str, dict[str, Any]]:
    """Return the resolved policy document of each IAM policy resource, by logical id.

    Parameters not given take their template default; each value is checked against the
    parameter's ``AllowedPattern`` and ``AllowedValues``, as CloudFormation checks it.
    Resources whose ``Condition`` is false are left out, as CloudFormation leaves them out.

    Raises:
        ValueError: an unknown parameter, a missing or disallowed value, an unsupported
            intrinsic, an unknown reference, or a template without any policy resource.
    """
    template = load_template(template_path)
    values: dict[str, Any] = {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::Partition": partition,
        "AWS::URLSuffix": url_suffix,
        "AWS::StackName": STACK_NAME,
        "AWS::NoValue": _NO_VALUE,
    }
    values.update(_parameter_values(template.get("Parameters") or {}, parameters or {}))
    resolver = _Resolver(template, values)
    policies = {
        logical_id: resolver.resolve(resource["Properties"]["PolicyDocument"])
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") in _POLICY_TYPES
        and ("Condition" not in resource or resolver.condition(resource["Condition"]))
    }
    if not policies:
        raise ValueError(f"{template_path}: the template creates no IAM policy")
    return policies


def _parameter_values(declared: Mapping[str, Any], given: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"unknown template parameter(s) {unknown}; known: {sorted(declared)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if spec.get("Type", "String") not in ("String", "Number"):
            raise ValueError(f"parameter {name}: type {spec['Type']} is not supported")
        value = given.get(name, spec.get("Default"))
        if value is None:
            raise ValueError(f"parameter {name} has no default: give it a value")
        value = str(value)
        pattern = spec.get("AllowedPattern")
        if pattern is not None and re.fullmatch(pattern, value) is None:
            raise ValueError(f"parameter {name}={value!r} does not match {pattern!r}")
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in [str(item) for item in allowed]:
            raise ValueError(f"parameter {name}={value!r} is not one of {allowed}")
        values[name] = value
    return values


class _Resolver:
    """Evaluate intrinsic functions and conditions of one template for fixed values."""

    def __init__(self, template: Mapping[str, Any], values: Mapping[str, Any]) -> None:
        self.resources: Mapping[str, Any] = template["Resources"]
        self.conditions: Mapping[str, Any] = template.get("Conditions") or {}
        self.values = values
        self._truths: dict[str, bool] = {}

    def resolve(self, node: Any) -> Any:
        """``node`` with every intrinsic function replaced by its value."""
        if isinstance(node, list):
            items = (self.resolve(item) for item in node)
            return [item for item in items if item is not _NO_VALUE]
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, argument),) = node.items()
                if key == "Ref":
                    return self._ref(argument)
                if key.startswith("Fn::"):
                    return self._function(key, argument)
            resolved = {key: self.resolve(value) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value is not _NO_VALUE}
        return node

    def condition(self, name: str) -> bool:
        """The value of a named condition of the template's ``Conditions``."""
        if name not in self._truths:
            if name not in self.conditions:
                raise ValueError(f"unknown condition {name!r}")
            self._truths[name] = self._truth(self.conditions[name])
        return self._truths[name]

    def _truth(self, node: Any) -> bool:
        if not isinstance(node, dict) or len(node) != 1:
            raise ValueError(f"not a condition function: {node!r}")
        ((key, argument),) = node.items()
        if key == "Condition":
            return self.condition(argument)
        if key == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._truth(argument[0])
        if key == "Fn::And":
            return all(self._truth(item) for item in argument)
        if key == "Fn::Or":
            return any(self._truth(item) for item in argument)
        raise ValueError(f"condition function {key} is not supported")

    def _ref(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        if name in self.resources:
            return f"local:unresolved:{name}"
        raise ValueError(f"!Ref {name}: no such parameter, pseudo parameter or resource")

    def _get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self.resources:
            raise ValueError(f"!GetAtt {logical_id}.{attribute}: no such resource")
        return f"local:unresolved:{logical_id}.{attribute}"

    def _function(self, key: str, argument: Any) -> Any:
        if key == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return self._sub(text, {k: self.resolve(v) for k, v in variables.items()})
        if key == "Fn::Join":
            delimiter, items = argument
            return delimiter.join(str(item) for item in self.resolve(items))
        if key == "Fn::If":
            name, when_true, when_false = argument
            return self.resolve(when_true if self.condition(name) else when_false)
        if key == "Fn::GetAtt":
            logical_id, attribute = argument
            return self._get_att(logical_id, attribute)
        raise ValueError(f"intrinsic function {key} is not supported by the local resolver")

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is written as ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources:
                return self._get_att(*name.split(".", 1))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(value, text)
