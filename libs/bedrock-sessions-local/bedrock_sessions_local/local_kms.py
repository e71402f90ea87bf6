"""The local key store: KMS's GenerateDataKey and Decrypt over the keyring file.

:class:`LocalKms` wraps each session's data key with AES-256-GCM under the current version of a
keyring key, with associated data binding the wrap to the key, its version and the encryption
context (the session's ARN), as KMS binds a ciphertext blob to its key and context. It watches
the keyring file: a change (``keys disable``, ``rotate``, ...) is noticed without a restart, by
comparing the file's inode, size, mtime and ctime, at most every ``check_seconds`` (a ``stat``
costs 5-10 us here, a few percent of a GetInvocationStep; KMS itself takes effect eventually,
not at once). A keyring that cannot be read after a change fails closed: no key is usable until
it is fixed.

Example::

    kms = LocalKms(Path("var/bedrock-sessions.keyring"), region="us-east-1",
                   account="123456789012", create_default_key=True)
    data_key, wrapped = kms.generate(kms.default_key_arn, session_arn)
    assert kms.unwrap(wrapped, session_arn) == data_key
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bedrock_sessions_local.encryption import CONTEXT_KEY, KeyUnavailable, WrappedKey
from bedrock_sessions_local.keyring import (
    AWS_MANAGED,
    DISABLED,
    ENABLED,
    KEY_BYTES,
    Keyring,
    KeyringError,
    KeyringKey,
)

logger = logging.getLogger("bedrock_sessions_local")

_NONCE_BYTES = 12

#: what identifies one version of the keyring file: inode, size, mtime and ctime (ns)
_Signature = tuple[int, int, int, int] | None


def _signature(path: str) -> _Signature:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns


class LocalKms:
    """Data keys wrapped by the keys of a keyring file (or of an in-memory keyring).

    ``path`` None keeps the keyring in memory (for a ``:memory:`` database: both go when the
    process ends). With ``create_default_key`` the service's default key is added to the file
    (created 0600 when absent) on start. ``check_seconds``: how often :meth:`changed` looks at
    the file (0: at every call).

    Raises:
        KeyringError: the keyring cannot be read (missing without ``create_default_key``,
            accessible to others, malformed).
    """

    def __init__(
        self,
        path: Path | None,
        *,
        region: str,
        account: str,
        create_default_key: bool,
        check_seconds: float = 0.0,
    ) -> None:
        self.path = path
        if path is None:
            self._keyring = Keyring()
        elif create_default_key:
            self._keyring = Keyring.load_or_new(path)
        else:
            self._keyring = Keyring.load(path)
        if create_default_key and self._keyring.default_key is None:
            self._keyring.create_key(
                region=region,
                account=account,
                description="default key of the local Bedrock session service",
                managed_by=AWS_MANAGED,
            )
            if path is not None:
                self._keyring.save(path)
        # a str, not a Path: os.stat of a Path converts it first, on every call
        self._path_text = None if path is None else os.fspath(path)
        self._signature = None if self._path_text is None else _signature(self._path_text)
        self._check_seconds = check_seconds
        self._next_check = time.monotonic() + check_seconds

    @property
    def default_key_arn(self) -> str:
        """The ARN of the service's default key ("" when the keyring has none)."""
        default = self._keyring.default_key
        return "" if default is None else default.arn

    def changed(self) -> bool:
        """Reload the keyring if its file changed; return whether it did."""
        if self._path_text is None:
            return False
        if self._check_seconds:
            now = time.monotonic()
            if now < self._next_check:
                return False
            self._next_check = now + self._check_seconds
        signature = _signature(self._path_text)
        if signature == self._signature:
            return False
        self._signature = signature
        try:
            self._keyring = Keyring.load(self.path)
        except KeyringError as error:
            logger.error("keyring changed and cannot be read; no key is usable: %s", error)
            self._keyring = Keyring()
        return True

    def generate(self, key_arn: str, session_arn: str) -> tuple[bytes, WrappedKey]:
        """A fresh data key, and the key wrapped with the current version of ``key_arn``."""
        key = self._usable(key_arn)
        data_key = os.urandom(KEY_BYTES)
        return data_key, self._wrap(key, data_key, session_arn)

    def unwrap(self, wrapped: WrappedKey, session_arn: str) -> bytes:
        """The data key of a wrapped key, if its key and version unwrap it for this session."""
        key = self._usable(wrapped.key_arn)
        version = wrapped.version or 0
        if not 1 <= version <= key.version:
            raise KeyUnavailable(key.arn, "InvalidCiphertext")
        material = key.versions[version - 1]
        nonce, sealed = wrapped.ciphertext[:_NONCE_BYTES], wrapped.ciphertext[_NONCE_BYTES:]
        try:
            return AESGCM(material).decrypt(nonce, sealed, _context(key.arn, version, session_arn))
        except (InvalidTag, ValueError):
            raise KeyUnavailable(key.arn, "InvalidCiphertext") from None

    def stale_versions(self) -> dict[str, int]:
        """Enabled keys rotated at least once: ARN → current version."""
        return {
            arn: key.version
            for arn, key in self._keyring.keys.items()
            if key.state == ENABLED and key.version > 1
        }

    def rewrap(self, wrapped: WrappedKey, session_arn: str) -> WrappedKey:
        """The same data key, wrapped with the current version of its key (after a rotation)."""
        data_key = self.unwrap(wrapped, session_arn)
        return self._wrap(self._usable(wrapped.key_arn), data_key, session_arn)

    def _usable(self, key_arn: str) -> KeyringKey:
        key = self._keyring.keys.get(key_arn)
        if key is None or key.is_deleted(datetime.now(UTC)):
            raise KeyUnavailable(key_arn, "NotFound")
        if key.state != ENABLED:
            raise KeyUnavailable(key_arn, "Disabled" if key.state == DISABLED else key.state)
        return key

    @staticmethod
    def _wrap(key: KeyringKey, data_key: bytes, session_arn: str) -> WrappedKey:
        nonce = os.urandom(_NONCE_BYTES)
        aad = _context(key.arn, key.version, session_arn)
        sealed = AESGCM(key.versions[-1]).encrypt(nonce, data_key, aad)
        return WrappedKey(nonce + sealed, key.arn, key.version)


def _context(key_arn: str, version: int, session_arn: str) -> bytes:
    """Associated data of a wrapped key: the key, its version and the encryption context."""
    return f"{key_arn}|{version}|{CONTEXT_KEY}={session_arn}".encode()
