"""Keyrings and database inspection for the encryption tests.

``keyring_with_test_key`` writes a keyring holding the customer key the tests name
(``KMS_KEY_ARN``); ``leaks`` looks for secrets in files the way someone holding a copy of the
database would: raw bytes, and inside every base64 run (msgpack, which the checkpointer wraps
in base64, keeps strings as raw UTF-8, so a decoded run shows them too); ``flip`` changes one
character of a stored value.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import sqlite3
from pathlib import Path
from typing import Any

from bedrock_sessions_local.keyring import Keyring
from sessions_local_support import ACCOUNT, KMS_KEY_ARN, REGION

#: what the tests write through the API and must never find in a database file
PHRASE = "the heron sings at dawn over Lake Tahoe"
CARD = "4111 1111 1111 1111"
SECRETS = (PHRASE, CARD, CARD.replace(" ", ""))

_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{16,}={0,2}")


def keyring_with_test_key(path: Path) -> Path:
    """Write a 0600 keyring holding the customer key :data:`KMS_KEY_ARN`; return its path.

    The service adds its default key to it on start.
    """
    keyring = Keyring()
    keyring.create_key(
        region=REGION,
        account=ACCOUNT,
        description="the key the tests name in CreateSession",
        key_id=KMS_KEY_ARN.rsplit("/", 1)[1],
    )
    return keyring.save(path)


def msgpack_map(key: str, value: str) -> bytes:
    """A one-entry msgpack map of two strings (str 8 format), as a serializer would write it."""

    def string(text: str) -> bytes:
        raw = text.encode()
        return bytes([0xD9, len(raw)]) + raw

    return b"\x81" + string(key) + string(value)


def checkpoint_like_text(secret: str) -> str:
    """A step text as BedrockSessionSaver writes one: JSON with a base64 msgpack value."""
    packed = base64.b64encode(msgpack_map("messages", secret)).decode()
    return f'{{"step_type": "CHECKPOINTS", "checkpoint": ["msgpack", "{packed}"]}}'


def _decoded_runs(data: bytes) -> list[bytes]:
    found = []
    for match in _BASE64_RUN.finditer(data):
        run = match.group().rstrip(b"=")
        for shift in range(4):  # a run may start mid-quantum inside a longer value
            part = run[shift:]
            part = part[: len(part) - len(part) % 4]
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                with contextlib.suppress(binascii.Error, ValueError):
                    found.append(decode(part))
    return found


def leaks(paths: list[Path], secrets: tuple[str, ...] = SECRETS) -> list[str]:
    """Where a secret shows in the files: ``"<file>: <secret> (raw|base64)"`` for each find."""
    found = []
    for path in paths:
        data = path.read_bytes()
        decoded = _decoded_runs(data)
        for secret in secrets:
            needle = secret.encode()
            if needle in data:
                found.append(f"{path.name}: {secret} (raw)")
            if any(needle in blob for blob in decoded):
                found.append(f"{path.name}: {secret} (base64)")
    return found


def database_files(db: Path) -> list[Path]:
    """The SQLite file and whatever sits beside it: WAL, shared memory, journal."""
    return sorted(p for p in db.parent.iterdir() if p.name.startswith(db.name))


def query(db: Path, statement: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Run one statement on the SQLite file from outside the service (committed at once)."""
    connection = sqlite3.connect(db, timeout=10)
    try:
        with connection:
            return connection.execute(statement, parameters).fetchall()
    finally:
        connection.close()


def flip(stored: str, index: int) -> str:
    """``stored`` with the character at ``index`` replaced by another of the base64 alphabet."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    current = stored[index]
    replacement = alphabet[(alphabet.find(current) + 1) % len(alphabet)]
    return stored[:index] + replacement + stored[index + 1 :]
