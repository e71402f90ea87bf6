"""The local key store: key-encryption keys named by KMS key ARNs, in a 0600 JSON file.

The keyring stands in for AWS KMS. It holds the service's default key (``managedBy: AWS``, the
stand-in for the AWS managed key Bedrock uses when CreateSession names none) and customer keys
(``managedBy: CUSTOMER``, named by ``encryptionKeyArn``), each with a KMS key state and its key
material, one 256-bit AES key per rotation (the last is current; older ones still unwrap what
they wrapped, as KMS keeps a key's old backing keys). The service only reads the file, except
to add its default key on first start; ``python -m bedrock_sessions_local keys ...``
(``keys_command.py``) changes it, and the running service notices the change (``KeyringKeys``).

File format::

    {
      "format": "bedrock-sessions-local keyring 1",
      "keys": {
        "arn:aws:kms:us-east-1:123456789012:key/<uuid>": {
          "managedBy": "CUSTOMER",            # or "AWS": the service's default key
          "state": "Enabled",                 # or "Disabled", "PendingDeletion"
          "description": "tenant-a",
          "createdAt": "2026-11-24T12:00:00Z",
          "deletionDate": null,               # "...Z" while PendingDeletion
          "versions": ["<base64 of 32 bytes>", "..."]
        }
      }
    }

A key pending deletion whose date has passed counts as deleted: it is gone for the service, and
the next ``keys`` command drops its material for good (crypto-shredding of every session it
wrapped).

Example::

    keyring = Keyring.load_or_new(path)
    key = keyring.create_key(region="us-east-1", account="123456789012", description="tenant-a")
    keyring.save(path)  # atomically, 0600
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

FORMAT = "bedrock-sessions-local keyring 1"

#: KMS key states the keyring uses (KMS's own names)
ENABLED, DISABLED, PENDING_DELETION = "Enabled", "Disabled", "PendingDeletion"
#: who manages a key: the service (its default key) or the customer
AWS_MANAGED, CUSTOMER_MANAGED = "AWS", "CUSTOMER"

#: KMS's waiting period bounds for ScheduleKeyDeletion, in days
MIN_PENDING_DAYS, MAX_PENDING_DAYS = 7, 30

KEY_BYTES = 32


class KeyringError(Exception):
    """A keyring that cannot be read, or a change KMS would refuse (one line, for the CLI)."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@dataclass
class KeyringKey:
    """One key-encryption key: its ARN, KMS state and key material (one per rotation)."""

    arn: str
    managed_by: str
    state: str
    description: str
    created_at: str
    deletion_date: str | None = None
    versions: list[bytes] = field(default_factory=list)

    @property
    def version(self) -> int:
        """The current version (1-based): new data keys are wrapped with it."""
        return len(self.versions)

    def is_deleted(self, now: datetime) -> bool:
        """True when the key was pending deletion and its deletion date has passed."""
        return (
            self.state == PENDING_DELETION
            and self.deletion_date is not None
            and _parse_iso(self.deletion_date) <= now
        )

    def as_json(self) -> dict[str, Any]:
        """The key as stored in the file."""
        return {
            "managedBy": self.managed_by,
            "state": self.state,
            "description": self.description,
            "createdAt": self.created_at,
            "deletionDate": self.deletion_date,
            "versions": [base64.b64encode(v).decode() for v in self.versions],
        }

    @classmethod
    def from_json(cls, arn: str, document: dict[str, Any]) -> KeyringKey:
        """Read one key of the file; raise KeyringError when it is malformed."""
        try:
            versions = [base64.b64decode(v, validate=True) for v in document["versions"]]
            key = cls(
                arn=arn,
                managed_by=document["managedBy"],
                state=document["state"],
                description=document.get("description", ""),
                created_at=document["createdAt"],
                deletion_date=document.get("deletionDate"),
                versions=versions,
            )
        except (KeyError, TypeError, binascii.Error) as error:
            raise KeyringError(
                f"key {arn} is malformed ({type(error).__name__}: {error})"
            ) from None
        if key.state not in (ENABLED, DISABLED, PENDING_DELETION):
            raise KeyringError(f"key {arn} has an unknown state {key.state!r}")
        if key.managed_by not in (AWS_MANAGED, CUSTOMER_MANAGED):
            raise KeyringError(f"key {arn} has an unknown manager {key.managed_by!r}")
        if not versions or any(len(v) != KEY_BYTES for v in versions):
            raise KeyringError(f"key {arn} must hold {KEY_BYTES}-byte key material")
        return key


@dataclass
class Keyring:
    """The keys of one keyring file, and the KMS operations that change them."""

    keys: dict[str, KeyringKey] = field(default_factory=dict)

    # ------------------------------------------------------------------------------ the file

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Keyring:
        """Read a keyring file.

        Raises:
            KeyringError: the file is missing, readable or writable by others than its owner
                (it holds key material: ``chmod 600`` it), or malformed.
        """
        source = Path(path)
        try:
            with open(source, "rb") as file:
                mode = os.fstat(file.fileno()).st_mode
                raw = file.read()
        except OSError as error:
            raise KeyringError(f"cannot read the keyring {source}: {error.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(
                f"the keyring {source} is accessible to others than its owner "
                f"(mode {stat.S_IMODE(mode):04o}); it holds key material: chmod 600 it"
            )
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise KeyringError(f"the keyring {source} is not JSON: {error}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise KeyringError(f"{source} is not a keyring (no format {FORMAT!r})")
        keys = document.get("keys")
        if not isinstance(keys, dict):
            raise KeyringError(f"the keyring {source} has no keys object")
        return cls({arn: KeyringKey.from_json(arn, doc) for arn, doc in keys.items()})

    @classmethod
    def load_or_new(cls, path: str | os.PathLike[str]) -> Keyring:
        """Read the keyring at ``path``, or return an empty one when there is no file."""
        return cls.load(path) if Path(path).exists() else cls()

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the keyring atomically, readable and writable by its owner only (0600).

        The new content goes to a temporary file in the same folder (created 0600), which then
        replaces the keyring: a reader sees the old file or the new one, never half of one.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        document = {"format": FORMAT, "keys": {a: k.as_json() for a, k in self.keys.items()}}
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        try:
            with os.fdopen(descriptor, "wb") as file:
                os.fchmod(file.fileno(), 0o600)
                file.write(orjson.dumps(document, option=orjson.OPT_INDENT_2))
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target

    # ------------------------------------------------------------------------------ lookups

    @property
    def default_key(self) -> KeyringKey | None:
        """The service's default key (AWS managed), if the keyring has one."""
        return next((k for k in self.keys.values() if k.managed_by == AWS_MANAGED), None)

    def key(self, arn: str) -> KeyringKey:
        """Return the key named by ``arn``; raise KeyringError when there is none."""
        found = self.keys.get(arn)
        if found is None:
            raise KeyringError(f"no key {arn} in the keyring")
        return found

    # --------------------------------------------------------------------- KMS's operations

    def create_key(
        self,
        *,
        region: str,
        account: str,
        description: str = "",
        managed_by: str = CUSTOMER_MANAGED,
        key_id: str | None = None,
    ) -> KeyringKey:
        """Add an Enabled key with fresh material (CreateKey); return it.

        ``key_id`` (a UUID) is for tests that need a known ARN; KMS always picks the id.
        """
        arn = f"arn:aws:kms:{region}:{account}:key/{key_id or uuid.uuid4()}"
        if arn in self.keys:
            raise KeyringError(f"key {arn} already exists")
        key = KeyringKey(
            arn=arn,
            managed_by=managed_by,
            state=ENABLED,
            description=description,
            created_at=_iso(datetime.now(UTC)),
            versions=[os.urandom(KEY_BYTES)],
        )
        self.keys[arn] = key
        return key

    def disable(self, arn: str) -> KeyringKey:
        """DisableKey: the key's sessions cannot be read or written until it is enabled."""
        key = self._customer_key(arn, "disabled")
        self._not_pending(key)
        key.state = DISABLED
        return key

    def enable(self, arn: str) -> KeyringKey:
        """EnableKey: its sessions are readable again."""
        key = self._customer_key(arn, "enabled")
        self._not_pending(key)
        key.state = ENABLED
        return key

    def rotate(self, arn: str) -> KeyringKey:
        """RotateKeyOnDemand: add new key material; the service re-wraps data keys with it."""
        key = self.key(arn)
        if key.state != ENABLED:
            raise KeyringError(f"key {arn} is {key.state}: only an Enabled key can be rotated")
        key.versions.append(os.urandom(KEY_BYTES))
        return key

    def schedule_deletion(
        self, arn: str, *, pending_window_days: int = MAX_PENDING_DAYS, now: datetime | None = None
    ) -> KeyringKey:
        """ScheduleKeyDeletion: unusable at once, deleted after ``pending_window_days`` (7-30)."""
        if not MIN_PENDING_DAYS <= pending_window_days <= MAX_PENDING_DAYS:
            raise KeyringError(
                f"the pending window must be {MIN_PENDING_DAYS} to {MAX_PENDING_DAYS} days, "
                f"not {pending_window_days}"
            )
        key = self._customer_key(arn, "deleted")
        self._not_pending(key)
        key.state = PENDING_DELETION
        key.deletion_date = _iso((now or datetime.now(UTC)) + timedelta(days=pending_window_days))
        return key

    def cancel_deletion(self, arn: str) -> KeyringKey:
        """CancelKeyDeletion: the key comes back Disabled, as in KMS (enable it to use it)."""
        key = self.key(arn)
        if key.state != PENDING_DELETION:
            raise KeyringError(f"key {arn} is {key.state}, not pending deletion")
        key.state, key.deletion_date = DISABLED, None
        return key

    def purge_deleted(self, now: datetime | None = None) -> list[str]:
        """Drop the keys whose deletion date has passed (their material is gone); return them."""
        moment = now or datetime.now(UTC)
        gone = [arn for arn, key in self.keys.items() if key.is_deleted(moment)]
        for arn in gone:
            del self.keys[arn]
        return gone

    def _customer_key(self, arn: str, change: str) -> KeyringKey:
        key = self.key(arn)
        if key.managed_by == AWS_MANAGED:
            raise KeyringError(
                f"key {arn} is the service's default key (AWS managed): it cannot be {change}"
            )
        return key

    @staticmethod
    def _not_pending(key: KeyringKey) -> None:
        if key.state == PENDING_DELETION:
            raise KeyringError(
                f"key {key.arn} is pending deletion (on {key.deletion_date}): cancel the "
                "deletion first"
            )


def default_keyring_path(db: str) -> Path | None:
    """Where the keyring of a database lives when none is named; None for ``:memory:``.

    A SQLite file's keyring sits next to it (``var/bedrock-sessions.db`` →
    ``var/bedrock-sessions.keyring``). Another database's lives in the user's data folder,
    named after the database's URL without its password:
    ``~/.local/share/bedrock-sessions-local/keyrings/postgresql_localhost_5432_sessions.keyring``.
    """
    if db == ":memory:":
        return None
    if "://" not in db:
        return Path(db).expanduser().with_suffix(".keyring")
    from sqlalchemy.engine import make_url

    url = make_url(db)
    if url.get_backend_name() == "sqlite":
        return (
            None if url.database in (None, "", ":memory:") else default_keyring_path(url.database)
        )
    name = "_".join(
        str(part) for part in (url.get_backend_name(), url.host, url.port, url.database) if part
    )
    safe = "".join(c if c.isalnum() or c in "-." else "_" for c in name)
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "bedrock-sessions-local" / "keyrings" / f"{safe}.keyring"
