"""Route table and request decoding, both read from botocore's service model.

Each of the 14 session operations contributes its ``http.method`` and ``http.requestUri``.
Trailing slashes are significant (EndSession is ``PATCH /sessions/{id}`` with none,
GetSession ``GET /sessions/{id}/`` with one), so paths are compared segment by segment.
The RAW path is split on ``/`` before each segment is percent-decoded: a session ARN sent as
``arn%3Aaws%3A...%3Asession%2F<uuid>`` stays one segment.

:func:`decode_members` then gathers the operation's input members by their model location:
URI labels, query string (``tagKeys`` repeats for a list) and the JSON body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from botocore.model import OperationModel, ServiceModel

from bedrock_sessions_local.exceptions import (
    SerializationException,
    UnknownOperationException,
    ValidationException,
)

SESSION_OPERATIONS = (
    "CreateSession",
    "GetSession",
    "UpdateSession",
    "EndSession",
    "DeleteSession",
    "ListSessions",
    "CreateInvocation",
    "ListInvocations",
    "PutInvocationStep",
    "GetInvocationStep",
    "ListInvocationSteps",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
)

#: most query parameters decoded from one request (UntagResource sends up to 200 tagKeys)
_MAX_QUERY_FIELDS = 1000


@dataclass(frozen=True)
class Route:
    """One operation's HTTP binding: method, path template split in segments, success status."""

    operation: OperationModel
    method: str
    #: literal segment text, or None where the template has a ``{label}``
    segments: tuple[str | None, ...]
    #: label names, in the order they appear in the path
    labels: tuple[str, ...]
    status: int
    #: members read from the JSON body, by wire name → member name
    body_members: dict[str, str]
    has_body: bool
    #: literal segments as bytes (None for labels), compared with the raw path
    literals: tuple[bytes | None, ...]
    #: where the labels are among the segments
    label_positions: tuple[int, ...]

    @property
    def name(self) -> str:
        """The operation name, e.g. ``PutInvocationStep``."""
        return self.operation.name


class RouteTable:
    """Match ``(method, raw path)`` to one of the session operations of a service model."""

    def __init__(
        self, service_model: ServiceModel, operations: tuple[str, ...] = SESSION_OPERATIONS
    ):
        self.routes: list[Route] = []
        for name in operations:
            operation = service_model.operation_model(name)
            template = operation.http["requestUri"].split("?", 1)[0]
            segments: list[str | None] = []
            labels: list[str] = []
            for part in template.split("/"):
                if part.startswith("{") and part.endswith("}"):
                    segments.append(None)
                    labels.append(part[1:-1].rstrip("+"))
                else:
                    segments.append(part)
            shape = operation.input_shape
            body_members = {
                member.serialization.get("name", member_name): member_name
                for member_name, member in (shape.members.items() if shape else ())
                if "location" not in member.serialization
            }
            self.routes.append(
                Route(
                    operation=operation,
                    method=operation.http["method"],
                    segments=tuple(segments),
                    labels=tuple(labels),
                    status=int(operation.http.get("responseCode", 200)),
                    body_members=body_members,
                    has_body=bool(body_members),
                    literals=tuple(None if p is None else p.encode() for p in segments),
                    label_positions=tuple(i for i, p in enumerate(segments) if p is None),
                )
            )
        self._by_length: dict[int, list[Route]] = {}
        for route in self.routes:
            self._by_length.setdefault(len(route.segments), []).append(route)

    def match(self, method: str, raw_path: bytes) -> tuple[Route, dict[str, str]]:
        """Return the route and its decoded URI labels.

        Raises:
            UnknownOperationException: 404 when no path matches, 405 when a path matches
                only with another method.
            ValidationException: a path segment is not valid percent-encoded UTF-8.
        """
        parts = raw_path.split(b"/")
        path_matched_methods: list[str] = []
        for route in self._by_length.get(len(parts), ()):
            if not _literals_match(route.literals, parts):
                continue
            if route.method != method:
                path_matched_methods.append(route.method)
                continue
            values = [_decode_segment(parts[i]) for i in route.label_positions]
            return route, dict(zip(route.labels, values, strict=True))
        shown = raw_path.decode("latin-1")[:200]
        if path_matched_methods:
            allowed = ", ".join(sorted(set(path_matched_methods)))
            raise UnknownOperationException(
                f"Method {method} is not allowed on {shown}; allowed: {allowed}.", status=405
            )
        raise UnknownOperationException(
            f"No Bedrock session operation matches {method} {shown}.", status=404
        )


def _decode_segment(raw: bytes) -> str:
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationException("A path segment is not valid percent-encoded UTF-8.") from None


def _literals_match(literals: tuple[bytes | None, ...], parts: list[bytes]) -> bool:
    for literal, raw in zip(literals, parts, strict=True):
        if literal is None:
            if not raw:
                return False  # an empty label never names a resource
        elif raw != literal and (b"%" not in raw or unquote_to_bytes(raw) != literal):
            return False
    return True


def decode_query(query_string: bytes) -> dict[str, list[str]]:
    """Return the query parameters, each with every value it was given, in order.

    Raises:
        SerializationException: the query string is not valid percent-encoded UTF-8 or has too
            many fields.
    """
    if not query_string:
        return {}
    try:
        pairs = parse_qsl(
            query_string.decode("ascii"),
            keep_blank_values=True,
            strict_parsing=False,
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_QUERY_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise SerializationException(f"The query string cannot be decoded: {error}") from None
    query: dict[str, list[str]] = {}
    for key, value in pairs:
        query.setdefault(key, []).append(value)
    return query


def decode_members(
    route: Route, labels: dict[str, str], query: dict[str, list[str]], body: dict[str, Any]
) -> dict[str, Any]:
    """Gather the operation's input members from URI labels, query string and JSON body.

    Query values are converted to the member's type (an integer for maxResults); members not in
    the model are ignored, as AWS ignores them.

    Raises:
        ValidationException: a scalar query member is repeated or has the wrong type.
    """
    shape = route.operation.input_shape
    if shape is None:
        return {}
    params: dict[str, Any] = {}
    for member_name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", member_name)
        if location == "uri":
            params[member_name] = labels[wire_name]
        elif location == "querystring":
            if wire_name not in query:
                continue
            values = query[wire_name]
            if member.type_name == "list":
                params[member_name] = values
            elif len(values) > 1:
                raise ValidationException(
                    f"1 validation error detected: '{wire_name}' must be given at most once."
                )
            else:
                params[member_name] = _query_scalar(member.type_name, wire_name, values[0])
        elif location is None and wire_name in body:
            params[member_name] = body[wire_name]
    return params


def _query_scalar(kind: str, name: str, text: str) -> Any:
    if kind in ("integer", "long"):
        stripped = text.strip()
        if stripped.lstrip("-").isascii() and stripped.lstrip("-").isdigit() and len(text) < 20:
            return int(stripped)
        raise ValidationException(
            f"1 validation error detected: Value '{text[:100]}' at '{name}' failed to satisfy "
            "constraint: Member must be an integer"
        )
    return text
