"""The credentials file of the local service's IAM mode, as `up` and `session-service` keep it.

One principal per tenant of `data/users.json` (an access key, a random secret, the principal
name of the app's role session for that tenant, the principal tag `tenant`), and one admin of
the service's test-only knobs, who reads no session. The file is written readable by its owner
only (0600); a later run keeps every key and adds only what is missing (a new tenant, the
admin). Deleting it rotates every key: the next run writes new ones.

The format is the local service's (`bedrock_sessions_local.credentials`, described in its
`docs/iam-mode.md`). The shop never imports the service, so the few lines that write it are
here; the tests read the result with the service's own loader.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import string
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["ensure_credentials", "tenants_of"]

#: the account of the local service's session ARNs (its --account default)
LOCAL_ACCOUNT = "123456789012"
DESCRIPTION = (
    "Keys of the local Bedrock session service in IAM mode, written by `shoe-assistant up`: "
    "one principal per tenant of data/users.json and an admin of the test-only knobs. Random "
    "secrets for this machine, not AWS keys. Delete this file to rotate them (then restart "
    "the service)."
)
# characters of an AWS tag value; `*` (an admin of every tenant) is not a tenant
_TAG_VALUE = re.compile(r"[\w.:/=+@ -]{1,256}")
_KEY_ID_CHARACTERS = string.ascii_uppercase + string.digits


def tenants_of(users_file: Path) -> list[str]:
    """The tenants of the demo users, sorted, each once."""
    users = json.loads(users_file.read_text(encoding="utf-8"))["users"]
    tenants = {user["tenant"] for user in users if user.get("tenant")}
    return sorted(tenant for tenant in tenants if _TAG_VALUE.fullmatch(tenant))


def ensure_credentials(path: Path, tenants: list[str], *, tag_key: str, app_name: str) -> list[str]:
    """Create the credentials file, or add to it the tenants (and admin) it lacks.

    Returns what was added: tenant names, and "admin" when the admin principal was; an empty
    list when the file already had everything (it is then left as it was, its mode set to
    0600 if others could read it).

    Raises:
        ValueError: an existing file that is not a credentials file.
    """
    entries: dict[str, dict[str, Any]] = {}
    if path.exists():
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = document.get("credentials") if isinstance(document, dict) else None
        if not isinstance(entries, dict):
            raise ValueError(f"{path}: not a credentials file (no 'credentials' map)")
    present = {entry.get("principal_tags", {}).get(tag_key) for entry in entries.values()}
    added = [tenant for tenant in tenants if tenant not in present]
    for tenant in added:
        entries[_new_key_id()] = {
            "secret_access_key": secrets.token_urlsafe(30),
            "principal": f"arn:aws:sts::{LOCAL_ACCOUNT}:assumed-role/{app_name}-app/{tenant}",
            "principal_tags": {tag_key: tenant},
            "admin": False,
        }
    if not any(entry.get("admin") for entry in entries.values()):
        entries[_new_key_id()] = {
            "secret_access_key": secrets.token_urlsafe(30),
            "principal": f"arn:aws:iam::{LOCAL_ACCOUNT}:user/{app_name}-local-admin",
            "principal_tags": {},
            "admin": True,
        }
        added.append("admin")
    if added:
        _write_private(path, {"description": DESCRIPTION, "credentials": entries})
    elif path.stat().st_mode & 0o077:
        path.chmod(0o600)
    return added


def _new_key_id() -> str:
    return "AKIA" + "".join(secrets.choice(_KEY_ID_CHARACTERS) for _ in range(16))


def _write_private(path: Path, document: dict[str, Any]) -> None:
    """Replace `path` in one step by a 0600 file: a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), 0o600)  # mkstemp's mode already; said for the reader
            json.dump(document, file, indent=2)
            file.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
