"""The credentials file of IAM mode: who may sign requests, as whom, with which principal tags.

AWS knows a caller by its access key: the key names a principal (a user, or a role session with
the tags it was assumed with) and the secret signs its requests. The local service reads the
same facts from one JSON file, keyed by access key id::

    {
      "description": "DEMO credentials ... (free text, shown to whoever opens the file)",
      "credentials": {
        "AKIALOCALDEMOALICE01": {
          "secret_access_key": "demo-only-secret-alice-not-an-aws-key",
          "principal": "arn:aws:sts::123456789012:assumed-role/shoe-assistant/alice",
          "principal_tags": {"tenant": "tenant-a"},
          "admin": false
        }
      }
    }

``principal`` is the name ``AccessDeniedException`` messages quote (an ARN or a plain name);
``principal_tags`` become ``aws:PrincipalTag/<key>`` in the policy's request context (on AWS:
the role's tags or the STS session tags); ``admin: true`` lets the principal read and change
the test-only knobs (``/_local/config``), nothing more. ``session_token`` is optional: when set,
requests signed with the key must carry it as ``X-Amz-Security-Token``.

The file holds secrets, so :func:`write_credentials` creates it readable by its owner only
(0600) and :func:`load_credentials` warns when it is readable by others.

Example::

    path = write_demo_credentials("var/iam-credentials.json")
    principals = load_credentials(path)
    principals["AKIALOCALDEMOALICE01"].tags  # {"tenant": "tenant-a"}
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger("bedrock_sessions_local")

#: what the demo file says about itself
DEMO_DESCRIPTION = (
    "DEMO credentials for the IAM mode of bedrock-sessions-local. They are published in its "
    "README: not AWS keys, not secrets, never use them anywhere but a local service."
)


@dataclass(frozen=True)
class Principal:
    """One access key of the credentials file and the principal it signs as.

    Attributes:
        access_key_id: the key id in the ``Credential=`` part of a signature.
        secret_access_key: the secret the signature is computed with.
        name: the principal as error messages name it (an ARN or a plain name).
        tags: principal tags, ``aws:PrincipalTag/<key>`` in policy conditions.
        admin: may read and change ``/_local/config``.
        session_token: when set, the ``X-Amz-Security-Token`` requests must carry.
    """

    access_key_id: str
    secret_access_key: str
    name: str
    tags: Mapping[str, str] = field(default_factory=dict)
    admin: bool = False
    session_token: str | None = None

    @property
    def account(self) -> str | None:
        """The account id in ``name`` when it is an IAM or STS ARN, else None."""
        parts = self.name.split(":")
        if len(parts) >= 6 and parts[0] == "arn" and parts[4].isdigit():
            return parts[4]
        return None

    def as_entry(self) -> dict[str, Any]:
        """The principal as a value of the file's ``credentials`` map."""
        entry: dict[str, Any] = {
            "secret_access_key": self.secret_access_key,
            "principal": self.name,
            "principal_tags": dict(self.tags),
            "admin": self.admin,
        }
        if self.session_token is not None:
            entry["session_token"] = self.session_token
        return entry


def _demo(name: str, key_id: str, tags: dict[str, str], *, admin: bool = False) -> Principal:
    principal = (
        "arn:aws:iam::123456789012:user/local-admin"
        if admin
        else f"arn:aws:sts::123456789012:assumed-role/shoe-assistant/{name}"
    )
    secret = f"demo-only-secret-{name}-not-an-aws-key"
    return Principal(key_id, secret, principal, tags, admin)


#: Demo principals (demo values, published here, not secrets): two of tenant-a, one of
#: tenant-b, and an admin of the knobs who belongs to no tenant.
DEMO_PRINCIPALS: dict[str, Principal] = {
    "alice": _demo("alice", "AKIALOCALDEMOALICE01", {"tenant": "tenant-a"}),
    "bob": _demo("bob", "AKIALOCALDEMOBOB0001", {"tenant": "tenant-a"}),
    "carol": _demo("carol", "AKIALOCALDEMOCAROL01", {"tenant": "tenant-b"}),
    "admin": _demo("admin", "AKIALOCALDEMOADMIN01", {}, admin=True),
}


def write_credentials(
    path: str | os.PathLike[str], principals: Iterable[Principal], *, description: str = ""
) -> Path:
    """Write a credentials file readable and writable by its owner only (0600); return its path.

    An existing file is replaced, and its mode set to 0600 as well.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "description": description,
        "credentials": {p.access_key_id: p.as_entry() for p in principals},
    }
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        os.fchmod(file.fileno(), 0o600)  # the mode of open() applies to new files only
        json.dump(document, file, indent=2)
        file.write("\n")
    return target


def write_demo_credentials(path: str | os.PathLike[str]) -> Path:
    """Write the :data:`DEMO_PRINCIPALS` to a 0600 credentials file; return its path."""
    return write_credentials(path, DEMO_PRINCIPALS.values(), description=DEMO_DESCRIPTION)


def load_credentials(path: str | os.PathLike[str]) -> dict[str, Principal]:
    """Read a credentials file; return its principals by access key id.

    Raises:
        ValueError: the file is not JSON or an entry lacks or mistypes a field (the message
            names the file and the key id).
        OSError: the file cannot be read.
    """
    source = Path(path)
    if source.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("credentials file %s is readable by others than its owner", source)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{source}: not JSON: {error}") from None
    entries = document.get("credentials") if isinstance(document, dict) else None
    if not isinstance(entries, dict):
        raise ValueError(f"{source}: expected an object with a 'credentials' map")
    return {key: _principal(source, key, entry) for key, entry in entries.items()}


def _principal(source: Path, key: str, entry: Any) -> Principal:
    def fail(problem: str) -> ValueError:
        return ValueError(f"{source}: credentials[{key!r}]: {problem}")

    if not isinstance(entry, dict):
        raise fail("expected an object")
    unknown = entry.keys() - {
        "secret_access_key",
        "principal",
        "principal_tags",
        "admin",
        "session_token",
    }
    if unknown:
        raise fail(f"unknown field(s) {sorted(unknown)}")
    secret, name = entry.get("secret_access_key"), entry.get("principal")
    tags, admin = entry.get("principal_tags", {}), entry.get("admin", False)
    token = entry.get("session_token")
    if not key or not isinstance(secret, str) or not secret:
        raise fail("needs a non-empty access key id and 'secret_access_key'")
    if not isinstance(name, str) or not name:
        raise fail("needs a non-empty 'principal'")
    if not isinstance(tags, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
    ):
        raise fail("'principal_tags' must map strings to strings")
    if not isinstance(admin, bool):
        raise fail("'admin' must be true or false")
    if token is not None and not isinstance(token, str):
        raise fail("'session_token' must be a string")
    return Principal(key, secret, name, dict(tags), admin, token)
