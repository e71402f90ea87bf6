"""Sealing what the shop database keeps of a shopper's words, with a data key per shopper.

Envelope encryption, as Bedrock does it with KMS: each shopper has a random 256-bit data key
that seals their text with AES-GCM (`cryptography`); the data key is stored only wrapped by the
shop's key-encryption key (KEK), with the shopper's name as the encryption context. The KEK is a
random key in `SHOP_KEY_FILE` (created 0600 on first use) or, on AWS, the KMS key
`SHOP_KMS_KEY_ARN` (`GenerateDataKey` / `Decrypt`). Each sealed value is bound to its owner and
to where it belongs (e.g. the conversation's session id) as additional authenticated data, so
a value copied to another row or another shopper does not open.

Erasing a shopper destroys their data key: every copy of their sealed text, backups included,
can no longer be read (crypto-shredding).

    sealer = Sealer(settings, engine)
    sealed = sealer.seal("alice", "trail shoes in size 9", context="session-id")
    sealer.unseal("alice", sealed, context="session-id")   # 'trail shoes in size 9'
"""

from __future__ import annotations

import base64
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from assistant.settings import Settings
from assistant.shopdb.data_keys import add_data_key, destroy_data_key, get_data_key

FORMAT = "v1."  # sealed values start with it: "v1." + base64url(nonce | ciphertext | tag)
LOCAL_KEY_ID = "local:shop-key"


class Sealer:
    """Seals and opens shoppers' text (see module docstring); thread-safe."""

    def __init__(self, settings: Settings, engine, *, kms_client=None) -> None:
        self.engine = engine
        self.settings = settings
        self._kms_key = settings.shop_kms_key_arn
        self._kms = kms_client
        self._kek: bytes | None = None
        self._keys: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # --- sealing ---------------------------------------------------------------------------
    def seal(self, username: str, text: str, *, context: str) -> str:
        """`text` sealed with `username`'s data key, bound to `context`."""
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._data_key(username)).encrypt(
            nonce, text.encode("utf-8"), _aad(username, context)
        )
        return FORMAT + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def unseal(self, username: str, sealed: str | None, *, context: str) -> str | None:
        """The text of `sealed`, or None when there is none, its key was destroyed (erased),
        or it was altered or moved (it never opens to wrong text)."""
        if not sealed or not sealed.startswith(FORMAT):
            return None
        key = self._data_key(username, create=False)
        if key is None:
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed[len(FORMAT) :])
            return AESGCM(key).decrypt(raw[:12], raw[12:], _aad(username, context)).decode()
        except (InvalidTag, ValueError):
            return None

    def forget(self, username: str) -> bool:
        """Destroy `username`'s data key (crypto-shredding); True if there was one."""
        with self._lock:
            self._keys.pop(username, None)
        return destroy_data_key(self.engine, username)

    # --- keys ------------------------------------------------------------------------------
    def _data_key(self, username: str, *, create: bool = True) -> bytes | None:
        with self._lock:
            if username in self._keys:
                return self._keys[username]
        row = get_data_key(self.engine, username)
        if row is None:
            if not create:
                return None
            key, wrapped, key_id = self._new_key(username)
            row = add_data_key(self.engine, username, wrapped, key_id)
            if row.wrapped != wrapped:  # another process made the shopper's key first
                key = self._unwrap(username, row.wrapped, row.key_id)
        else:
            key = self._unwrap(username, row.wrapped, row.key_id)
        with self._lock:
            self._keys[username] = key
        return key

    def _new_key(self, username: str) -> tuple[bytes, str, str]:
        """A new data key: (the key, the key wrapped in base64, the id of the wrapping key)."""
        if self._kms_key:
            answer = self._kms_client().generate_data_key(
                KeyId=self._kms_key, KeySpec="AES_256", EncryptionContext={"shop:user": username}
            )
            wrapped = base64.b64encode(answer["CiphertextBlob"]).decode()
            return answer["Plaintext"], wrapped, answer["KeyId"]
        key, nonce = AESGCM.generate_key(bit_length=256), secrets.token_bytes(12)
        wrapped = nonce + AESGCM(self._local_kek()).encrypt(nonce, key, _aad(username, "key"))
        return key, base64.b64encode(wrapped).decode(), LOCAL_KEY_ID

    def _unwrap(self, username: str, wrapped: str, key_id: str) -> bytes:
        raw = base64.b64decode(wrapped)
        if key_id != LOCAL_KEY_ID:
            answer = self._kms_client().decrypt(
                CiphertextBlob=raw, KeyId=key_id, EncryptionContext={"shop:user": username}
            )
            return answer["Plaintext"]
        return AESGCM(self._local_kek()).decrypt(raw[:12], raw[12:], _aad(username, "key"))

    def _kms_client(self):
        if self._kms is None:
            import boto3

            self._kms = boto3.client("kms", region_name=self.settings.aws_region)
        return self._kms

    def _local_kek(self) -> bytes:
        if self._kek is None:
            self._kek = read_or_create_key(Path(self.settings.shop_key_file))
        return self._kek


def read_or_create_key(path: Path) -> bytes:
    """The 256-bit key in `path` (base64), created readable by its owner only on first use."""
    try:
        return base64.b64decode(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    try:  # O_EXCL: of two processes starting at once, one writes and both read the same key
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return base64.b64decode(path.read_text(encoding="ascii"))
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(base64.b64encode(key).decode())
    return key


def _aad(username: str, context: str) -> bytes:
    return f"shoe-assistant|{username}|{context}".encode()
