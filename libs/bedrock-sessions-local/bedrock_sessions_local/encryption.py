"""Envelope encryption of session data: the settings, the data key's cipher, the stored format.

Every session has its own data key (256-bit AES-GCM), generated at CreateSession and stored
only wrapped by a key-encryption key (KEK): the service's default key, or the customer key
named by ``encryptionKeyArn``. The KEKs live in a key store, the local keyring
(``local_kms.py``) or AWS KMS (``kms.py``); both wrap with the encryption context
``{"aws:bedrock:session:arn": <session ARN>}``, so a wrapped key moved to another session does
not unwrap. ``data_keys.py`` generates, stores, caches and re-wraps the data keys.

A sealed value (a step payload, the metadata, an invocation description) is stored as text::

    e1:<base64 of nonce (12 bytes) || AES-256-GCM ciphertext || tag (16 bytes)>

with associated data ``<session ARN>|<purpose>``, the purpose naming the row: ``metadata``,
``step/<invocation id>/<step id>``, ``invocation/<invocation id>/description``. A blob copied to
another session, step or invocation fails its tag. Plaintext rows (written before encryption,
or with it off) are JSON, so they start with ``{``: each row's format is its first character.

Example::

    cipher = SessionCipher(data_key, session_arn, key_arn)
    stored = cipher.seal(step_purpose(invocation_id, step_id), payload_json_bytes)
    assert cipher.open(step_purpose(invocation_id, step_id), stored) == payload_json_bytes
"""

from __future__ import annotations

import binascii
import os
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: prefix of a sealed value: format 1 (AES-256-GCM under the session's data key)
SEALED = "e1:"
#: the encryption context key Bedrock gives KMS (sessions-encryption.html)
CONTEXT_KEY = "aws:bedrock:session:arn"
#: the alias of the default key the service creates in AWS KMS when none is named
KMS_DEFAULT_ALIAS = "alias/bedrock-sessions-local"

_NONCE_BYTES = 12


@dataclass(frozen=True)
class Encryption:
    """How the service encrypts session data (on by default, with a local keyring).

    Attributes:
        enabled: encrypt new sessions (and sessions written before encryption, from their next
            write). False keeps new data in plaintext; sessions already encrypted stay readable
            while their key store is there.
        keyring: the local keyring file (0600; created with the service's default key when
            absent). None: next to a SQLite file, in memory for ``:memory:``, and in the
            user's data folder for other databases
            (:func:`~bedrock_sessions_local.keyring.default_keyring_path`).
        keyring_check_seconds: how often the service looks whether the keyring file changed
            (``keys disable`` takes effect within this time; 0: at every call).
        kms_endpoint_url: use AWS KMS at this endpoint instead of the keyring (for example
            moto's KMS server); credentials come from boto3's usual chain unless
            ``kms_credentials`` is given, the region is the service's.
        kms_default_key_id: the KMS key of sessions that name none; None uses the alias
            ``alias/bedrock-sessions-local``, creating key and alias when absent.
        kms_credentials: an (access key id, secret access key) pair for KMS.
        kms_cache_seconds: how long an unwrapped data key is reused before KMS is asked again
            (a key disabled in KMS takes effect within this time).
    """

    enabled: bool = True
    keyring: str | os.PathLike[str] | None = None
    keyring_check_seconds: float = 0.1
    kms_endpoint_url: str | None = None
    kms_default_key_id: str | None = None
    kms_credentials: tuple[str, str] | None = None
    kms_cache_seconds: float = 300.0


class WrappedKey(NamedTuple):
    """A data key as stored: wrapped by a KEK, the KEK's ARN and (keyring) version."""

    ciphertext: bytes
    key_arn: str
    version: int | None


class KeyUnavailable(Exception):
    """A key store refused a KEK: ``reason`` is NotFound, Disabled, PendingDeletion,
    AccessDenied or InvalidCiphertext (the wrapped key does not unwrap)."""

    def __init__(self, key_arn: str, reason: str) -> None:
        super().__init__(f"{key_arn}: {reason}")
        self.key_arn = key_arn
        self.reason = reason


class KeyStore(Protocol):
    """What data keys need from a key store: the local keyring or AWS KMS."""

    #: the KEK of sessions that name no ``encryptionKeyArn``
    default_key_arn: str

    def changed(self) -> bool:
        """True when keys may have changed state since the last call (drop cached keys)."""
        ...

    def generate(self, key_arn: str, session_arn: str) -> tuple[bytes, WrappedKey]:
        """GenerateDataKey: a fresh data key and its wrapped form. Raises KeyUnavailable."""
        ...

    def unwrap(self, wrapped: WrappedKey, session_arn: str) -> bytes:
        """Decrypt a wrapped data key. Raises KeyUnavailable."""
        ...

    def stale_versions(self) -> dict[str, int]:
        """Usable KEKs whose data keys may be wrapped with an older version: ARN → current."""
        ...

    def rewrap(self, wrapped: WrappedKey, session_arn: str) -> WrappedKey:
        """Wrap the same data key with its KEK's current version. Raises KeyUnavailable."""
        ...


class SealBroken(Exception):
    """A stored value does not open under its session's data key (modified or moved)."""


class SessionCipher:
    """AES-256-GCM under one session's data key, bound to the session's ARN."""

    __slots__ = ("_aead", "_prefix", "key_arn")

    def __init__(self, data_key: bytes, session_arn: str, key_arn: str) -> None:
        self._aead = AESGCM(data_key)
        self._prefix = f"{session_arn}|".encode()
        #: the KEK that wraps this session's data key (named in AccessDenied messages)
        self.key_arn = key_arn

    def seal(self, purpose: str, plaintext: bytes) -> str:
        """Encrypt ``plaintext`` for the row named by ``purpose``; return the stored text."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext, self._prefix + purpose.encode())
        return SEALED + binascii.b2a_base64(nonce + sealed, newline=False).decode("ascii")

    def open(self, purpose: str, stored: str) -> bytes:
        """Decrypt a stored value sealed for ``purpose``.

        Raises:
            SealBroken: not a sealed value, or it fails its tag (changed, or sealed for another
                session or row).
        """
        if not stored.startswith(SEALED):
            raise SealBroken("not a sealed value")
        try:
            blob = binascii.a2b_base64(stored[len(SEALED) :], strict_mode=True)
            nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
            return self._aead.decrypt(nonce, sealed, self._prefix + purpose.encode())
        except (binascii.Error, ValueError, InvalidTag):
            raise SealBroken("the value fails its authentication tag") from None


def is_sealed(stored: str) -> bool:
    """True for a sealed value; plaintext rows are JSON objects, which start with ``{``."""
    return not stored.startswith("{")


def step_purpose(invocation_id: str, step_id: str) -> str:
    """The associated-data purpose of a step payload: its invocation and step ids."""
    return f"step/{invocation_id}/{step_id}"


METADATA = "metadata"


def description_purpose(invocation_id: str) -> str:
    """The associated-data purpose of an invocation's description."""
    return f"invocation/{invocation_id}/description"
