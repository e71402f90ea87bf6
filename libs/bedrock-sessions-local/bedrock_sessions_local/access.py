"""IAM mode: who signed a request, and whether the deployed policy lets them do it.

Off by default (any credentials work, nothing is checked). Turned on with an :class:`IamMode`
(``running_service(iam=...)``, or the ``--iam-*`` flags), the service does what AWS does in
front of every session operation:

1. **Authenticate** (``sigv4.py``): the SigV4 signature must verify against a key of the
   credentials file (``credentials.py``); the key names the principal and its tags.
2. **Authorize** (``iam.py``): the identity policies of the CloudFormation template
   (``cloudformation.py``, resolved for the service's region and account) must allow the
   action on the resource, in the request context AWS builds for the operation:

   ========================  ==========================  ======================================
   operation                 resource                    context besides the principal's tags
   ========================  ==========================  ======================================
   CreateSession             ``*`` (no resource type)    ``aws:RequestTag/*``, ``aws:TagKeys``
   ListSessions              ``*`` (no resource type)    -
   TagResource               the session ARN             ``aws:ResourceTag/*``,
                                                         ``aws:RequestTag/*``, ``aws:TagKeys``
   UntagResource             the session ARN             ``aws:ResourceTag/*``, ``aws:TagKeys``
   the other ten             the session ARN             ``aws:ResourceTag/*``
   ========================  ==========================  ======================================

   Every request also carries ``aws:PrincipalTag/<key>`` for each principal tag,
   ``aws:PrincipalAccount`` (when the principal is an ARN) and ``aws:RequestedRegion``; session
   requests carry ``aws:ResourceAccount``. A session that does not exist has no tags, so a
   tag-conditioned policy denies it (403) before the service could say 404.

``/_local/config`` (the test-only knobs) needs a signed request of an ``admin`` principal;
``/health`` stays open.

Example::

    mode = IamMode(credentials_file="creds.json", policy_template="infra/session-store.yaml")
    access = AccessControl.from_mode(mode, region="us-east-1", account="123456789012")
    principal = access.authenticate("GET", raw_path, query_string, headers, body)
    access.authorize(principal, "GetSession", {"sessionIdentifier": sid}, backend)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bedrock_sessions_local.cloudformation import identity_policies
from bedrock_sessions_local.credentials import Principal, load_credentials
from bedrock_sessions_local.exceptions import AccessDeniedException, ResourceNotFoundException
from bedrock_sessions_local.iam import Request, evaluate
from bedrock_sessions_local.sigv4 import Headers, SignatureVerifier

#: operations whose resource is "*": the Service Authorization Reference lists no resource type
_UNSCOPED = ("CreateSession", "ListSessions")
#: operations that carry tags in the request
_REQUEST_TAGS = ("CreateSession", "TagResource")


@dataclass(frozen=True)
class IamMode:
    """Turn on signature checks and policy evaluation.

    Attributes:
        credentials_file: the JSON file of access keys, principals and tags
            (:mod:`bedrock_sessions_local.credentials`).
        policy_template: a CloudFormation template; every IAM policy resource it creates is
            evaluated (for this repository: ``infra/session-store.yaml``).
        parameters: template parameters (others take their default), e.g.
            ``{"AppName": "shoe-assistant", "TenantTagKey": "tenant"}``.
    """

    credentials_file: str | os.PathLike[str]
    policy_template: str | os.PathLike[str]
    parameters: Mapping[str, str] = field(default_factory=dict)


class TagSource(Protocol):
    """What authorization needs of the backend: a session's stored tags."""

    def list_tags_for_resource(self, resource_arn: str) -> dict[str, Any]:
        """Return ``{"tags": {...}}``; raise ResourceNotFoundException for no such session."""
        ...


class AccessControl:
    """Authenticate requests and authorize them against identity policy documents."""

    def __init__(
        self,
        principals: Mapping[str, Principal],
        policies: list[Mapping[str, Any]],
        *,
        region: str,
        account: str,
    ) -> None:
        self.verifier = SignatureVerifier(principals, region=region)
        self.policies = policies
        self.region = region
        self.account = account
        self._arn_prefix = f"arn:aws:bedrock:{region}:{account}:session/"

    @classmethod
    def from_mode(cls, mode: IamMode, *, region: str, account: str) -> AccessControl:
        """Read the credentials file and resolve the template's policies for region/account.

        Raises:
            ValueError: a malformed credentials file or template, or a bad parameter.
            OSError: a file cannot be read.
        """
        policies = identity_policies(
            mode.policy_template, region=region, account=account, parameters=mode.parameters
        )
        principals = load_credentials(mode.credentials_file)
        return cls(principals, list(policies.values()), region=region, account=account)

    def authenticate(
        self, method: str, raw_path: bytes, query_string: bytes, headers: Headers, body: bytes
    ) -> Principal:
        """Return the principal whose signature the request carries (see ``sigv4.py``)."""
        return self.verifier.verify(method, raw_path, query_string, headers, body)

    def authorize(
        self, principal: Principal, operation: str, params: Mapping[str, Any], tags: TagSource
    ) -> None:
        """Raise AccessDeniedException unless the policies allow ``operation`` as requested.

        ``params`` are the operation's validated input members; ``tags`` gives the stored tags
        of the session the request names.
        """
        request = self.request_for(principal, operation, params, tags)
        decision = evaluate(self.policies, request)
        if decision == "Allow":
            return
        reason = (
            "with an explicit deny in an identity-based policy"
            if decision == "ExplicitDeny"
            else f"because no identity-based policy allows the {request.action} action"
        )
        raise AccessDeniedException(
            f"User: {principal.name} is not authorized to perform: {request.action} "
            f"on resource: {request.resource} {reason}"
        )

    def authorize_admin(self, principal: Principal, method: str) -> None:
        """Raise AccessDeniedException unless ``principal`` may use ``/_local/config``."""
        if not principal.admin:
            action = "ChangeConfig" if method == "POST" else "GetConfig"
            raise AccessDeniedException(
                f"User: {principal.name} is not authorized to perform: "
                f"bedrock-sessions-local:{action} on resource: /_local/config because the "
                "credentials file does not mark it admin"
            )

    def request_for(
        self, principal: Principal, operation: str, params: Mapping[str, Any], tags: TagSource
    ) -> Request:
        """The authorization request AWS would build for this call (see the module table)."""
        context: dict[str, Any] = {
            f"aws:PrincipalTag/{key}": value for key, value in principal.tags.items()
        }
        context["aws:RequestedRegion"] = self.region
        if principal.account is not None:
            context["aws:PrincipalAccount"] = principal.account
        if operation in _REQUEST_TAGS and params.get("tags"):
            context.update({f"aws:RequestTag/{k}": v for k, v in params["tags"].items()})
            context["aws:TagKeys"] = list(params["tags"])
        if operation == "UntagResource":
            context["aws:TagKeys"] = list(params["tagKeys"])
        if operation in _UNSCOPED:
            return Request(f"bedrock:{operation}", "*", context)
        identifier = params.get("resourceArn") or params["sessionIdentifier"]
        resource = identifier if identifier.startswith("arn:") else self._arn_prefix + identifier
        context["aws:ResourceAccount"] = resource.split(":")[4]
        context.update({f"aws:ResourceTag/{k}": v for k, v in _stored_tags(tags, resource).items()})
        return Request(f"bedrock:{operation}", resource, context)


def _stored_tags(tags: TagSource, resource: str) -> dict[str, str]:
    try:
        return tags.list_tags_for_resource(resource)["tags"]
    except ResourceNotFoundException:
        return {}  # no such session here: nothing for a tag condition to match
