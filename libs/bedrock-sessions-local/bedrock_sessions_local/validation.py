"""Validate operation input against botocore's own service model, as the AWS front door does.

botocore checks only required members, types and minimums before it sends a request; patterns,
maximums, enums and unions reach the server unchecked (reference §0). :func:`validate_input`
walks the operation's input shape and checks every constraint the model states, collecting the
errors into one ValidationException worded like AWS's ("1 validation error detected: Value ...
at 'sessionIdentifier' failed to satisfy constraint: ...").

Patterns are applied with ``re.fullmatch``. That also settles the precedence quirk of
SessionIdentifier, ``^(ARN)|(UUID)$``, where ``^`` anchors only the ARN branch and ``$`` only
the UUID branch: a full match must consume the whole value with one of the two forms.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from botocore.model import Shape

from bedrock_sessions_local.exceptions import ValidationException

#: how many constraint failures one error message lists at most
_MAX_REPORTED = 10
_REDACTED = "*** Sensitive Data Redacted ***"


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class _Errors:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, value: Any, path: str, constraint: str, sensitive: bool) -> None:
        if len(self.items) < _MAX_REPORTED:
            shown = _REDACTED if sensitive else _show(value)
            self.items.append(
                f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}"
            )
        else:
            self.items.append("")  # counted, not shown

    def raise_if_any(self) -> None:
        if not self.items:
            return
        count = len(self.items)
        shown = "; ".join(item for item in self.items if item)
        noun = "error" if count == 1 else "errors"
        raise ValidationException(f"{count} validation {noun} detected: {shown}")


def _show(value: Any) -> str:
    if value is None:
        return "null"
    text = value if isinstance(value, str) else repr(value)
    if len(text) > 100:
        text = text[:97] + "..."
    return f"'{text}'"


def validate_input(shape: Shape, params: dict[str, Any]) -> dict[str, Any]:
    """Return ``params`` checked against the input ``shape``, with timestamps as datetimes.

    Members the shape does not define are dropped (AWS ignores unknown members; an older
    emulator talking to a newer SDK keeps working). JSON ``null`` counts as absent.

    Raises:
        ValidationException: listing every constraint the input fails.
    """
    errors = _Errors()
    checked = _structure(shape, params, "", errors, False)
    errors.raise_if_any()
    return checked


def _check(shape: Shape, value: Any, path: str, errors: _Errors, sensitive: bool) -> Any:
    sensitive = sensitive or bool(shape.metadata.get("sensitive"))
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            errors.add(value, path, "Member must be a structure (a JSON object)", sensitive)
            return None
        return _structure(shape, value, path, errors, sensitive)
    if kind == "string":
        return _string(shape, value, path, errors, sensitive)
    if kind in ("integer", "long"):
        return _integer(shape, value, path, errors, sensitive)
    if kind == "boolean":
        if not isinstance(value, bool):
            errors.add(value, path, "Member must be a boolean", sensitive)
        return value
    if kind in ("double", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.add(value, path, "Member must be a number", sensitive)
        return value
    if kind == "map":
        return _map(shape, value, path, errors, sensitive)
    if kind == "list":
        return _list(shape, value, path, errors, sensitive)
    if kind == "blob":
        return _blob(shape, value, path, errors, sensitive)
    if kind == "timestamp":
        return _timestamp(value, path, errors, sensitive)
    errors.add(value, path, f"Member of type {kind} is not supported", sensitive)
    return value


def _structure(
    shape: Shape, value: dict[str, Any], path: str, errors: _Errors, sensitive: bool
) -> dict[str, Any]:
    checked: dict[str, Any] = {}
    members = shape.members
    for name in shape.required_members:
        if value.get(name) is None:
            errors.add(None, _join(path, name), "Member must not be null", sensitive)
    for name, member in members.items():
        item = value.get(name)
        if item is not None:
            checked[name] = _check(member, item, _join(path, name), errors, sensitive)
    if shape.metadata.get("union") and len(checked) != 1:
        errors.add(
            value,
            path or shape.name,
            f"Member must have exactly one of {sorted(members)} set (it is a union); "
            f"got {len(checked)}",
            True,  # the whole union may be sensitive data: never echo it
        )
    return checked


def _check_length(
    meta: dict, value: str | list, path: str, errors: _Errors, sensitive: bool
) -> None:
    """The model's `min`/`max` length of a string or a list, worded as AWS words it."""
    if "min" in meta and len(value) < meta["min"]:
        errors.add(
            value,
            path,
            f"Member must have length greater than or equal to {meta['min']}",
            sensitive,
        )
    if "max" in meta and len(value) > meta["max"]:
        errors.add(
            value, path, f"Member must have length less than or equal to {meta['max']}", sensitive
        )


def _string(shape: Shape, value: Any, path: str, errors: _Errors, sensitive: bool) -> Any:
    if not isinstance(value, str):
        errors.add(value, path, "Member must be a string", sensitive)
        return value
    meta = shape.metadata
    _check_length(meta, value, path, errors, sensitive)
    if "pattern" in meta and _compiled(meta["pattern"]).fullmatch(value) is None:
        errors.add(
            value,
            path,
            f"Member must satisfy regular expression pattern: {meta['pattern']}",
            sensitive,
        )
    if shape.enum and value not in shape.enum:
        errors.add(value, path, f"Member must satisfy enum value set: {shape.enum}", sensitive)
    return value


def _integer(shape: Shape, value: Any, path: str, errors: _Errors, sensitive: bool) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(value, path, "Member must be an integer", sensitive)
        return value
    meta = shape.metadata
    if "min" in meta and value < meta["min"]:
        errors.add(
            value, path, f"Member must have value greater than or equal to {meta['min']}", sensitive
        )
    if "max" in meta and value > meta["max"]:
        errors.add(
            value, path, f"Member must have value less than or equal to {meta['max']}", sensitive
        )
    return value


def _map(shape: Shape, value: Any, path: str, errors: _Errors, sensitive: bool) -> Any:
    if not isinstance(value, dict):
        errors.add(value, path, "Member must be a map (a JSON object)", sensitive)
        return value
    meta = shape.metadata
    if "min" in meta and len(value) < meta["min"]:
        errors.add(value, path, f"Member must have at least {meta['min']} entries", sensitive)
    if "max" in meta and len(value) > meta["max"]:
        errors.add(value, path, f"Member must have at most {meta['max']} entries", sensitive)
    checked = {}
    for key, item in value.items():
        entry = f"{path}.{key}" if len(key) <= 128 else f"{path}.<key>"
        _check(shape.key, key, f"{entry}#key", errors, sensitive)
        if item is None:
            errors.add(None, entry, "Member must not be null", sensitive)
            continue
        checked[key] = _check(shape.value, item, entry, errors, sensitive)
    return checked


def _list(shape: Shape, value: Any, path: str, errors: _Errors, sensitive: bool) -> Any:
    if not isinstance(value, list):
        errors.add(value, path, "Member must be a list (a JSON array)", sensitive)
        return value
    meta = shape.metadata
    _check_length(meta, value, path, errors, sensitive)
    checked = []
    for index, item in enumerate(value):
        if item is None:
            errors.add(None, f"{path}.{index + 1}.member", "Member must not be null", sensitive)
            continue
        checked.append(_check(shape.member, item, f"{path}.{index + 1}.member", errors, sensitive))
    return checked


def _blob(shape: Shape, value: Any, path: str, errors: _Errors, sensitive: bool) -> Any:
    # On the wire a blob is base64 text; it is kept as text so a Get echoes it byte for byte.
    if not isinstance(value, str):
        errors.add(value, path, "Member must be base64-encoded binary data", sensitive)
        return value
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        errors.add(value, path, "Member must be valid base64-encoded binary data", sensitive)
        return value
    meta = shape.metadata
    if "min" in meta and len(decoded) < meta["min"]:
        errors.add(
            value,
            path,
            f"Member must have length greater than or equal to {meta['min']}",
            sensitive,
        )
    if "max" in meta and len(decoded) > meta["max"]:
        errors.add(
            value, path, f"Member must have length less than or equal to {meta['max']}", sensitive
        )
    return value


def parse_timestamp(value: Any) -> datetime:
    """Return an aware UTC datetime from ISO-8601 text or epoch seconds (int, float or text).

    Naive ISO values are taken as UTC. Raises ValueError for anything else or out of range.
    """
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    try:
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, str):
            if re.fullmatch(r"-?\d+(\.\d+)?", value):
                return datetime.fromtimestamp(float(value), tz=UTC)
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                return moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)
    except (OverflowError, OSError) as error:
        raise ValueError(str(error)) from None
    raise ValueError(f"not a timestamp: {value!r}")


def _timestamp(value: Any, path: str, errors: _Errors, sensitive: bool) -> Any:
    try:
        return parse_timestamp(value)
    except ValueError:
        errors.add(
            value,
            path,
            "Member must be a timestamp: ISO-8601 text such as 2025-01-02T03:04:05.123456Z "
            "or epoch seconds",
            sensitive,
        )
        return value


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
