"""Envelope encryption through the API, checked in the database files themselves.

Nothing written through the API is readable in the files (WAL included, raw or base64-decoded);
a stored value that was changed, or copied to another session or step, answers
AccessDeniedException in AWS's error shape, never other data and never a 5xx; DeleteSession
shreds the session's data key; a plaintext database of an older version is upgraded in place;
``Encryption(enabled=False)`` keeps plaintext. The round trip and a tamper run on PostgreSQL too.
"""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bedrock_sessions_local.encryption import KeyUnavailable, SealBroken, SessionCipher, WrappedKey
from bedrock_sessions_local.keyring import Keyring
from bedrock_sessions_local.local_kms import LocalKms
from bedrock_sessions_local.models import SessionBackend
from bedrock_sessions_local.testing import Encryption, make_client, running_service
from sessions_local_keys_support import (
    CARD,
    PHRASE,
    checkpoint_like_text,
    database_files,
    flip,
    keyring_with_test_key,
    leaks,
    query,
)
from sessions_local_support import ACCOUNT, KMS_KEY_ARN, REGION, error_of, put_step


@contextmanager
def serving(db: str | Path, encryption: Encryption | None = None) -> Iterator[Any]:
    """A service on ``db`` for the block; yield a boto3 client that never retries."""
    with running_service(db=db, encryption=encryption) as url:
        yield make_client(url, retries={"total_max_attempts": 1, "mode": "standard"})


def write_secrets(client: Any) -> tuple[str, str, list[str]]:
    """Write the secrets everywhere a client can: metadata, description, text, image, a
    checkpoint-like step. Return (session id, invocation id, step ids)."""
    sid = client.create_session(sessionMetadata={"note": PHRASE, "card": CARD})["sessionId"]
    invocation = client.create_invocation(sessionIdentifier=sid, description=PHRASE)
    inv = invocation["invocationId"]
    steps = [
        put_step(client, sid, inv, text) for text in (PHRASE, CARD, checkpoint_like_text(PHRASE))
    ]
    image = {"image": {"format": "png", "source": {"bytes": PHRASE.encode()}}}
    steps.append(
        client.put_invocation_step(
            sessionIdentifier=sid,
            invocationIdentifier=inv,
            invocationStepTime=datetime.now(UTC),
            payload={"contentBlocks": [image]},
        )["invocationStepId"]
    )
    return sid, inv, steps


def get_text(client: Any, sid: str, inv: str, step: str) -> str:
    """The text of a step's first block."""
    got = client.get_invocation_step(
        sessionIdentifier=sid, invocationIdentifier=inv, invocationStepId=step
    )
    return got["invocationStep"]["payload"]["contentBlocks"][0]["text"]


def refused(call: Callable[..., Any], **kwargs: Any) -> str:
    """Assert the call answers 403 AccessDeniedException; return its message."""
    code, status, message = error_of(call, **kwargs)
    assert (code, status) == ("AccessDeniedException", 403), message
    return message


def payload_of(db: Path, step: str) -> str:
    return query(db, "SELECT payload_json FROM invocation_steps WHERE step_id = ?", (step,))[0][0]


def set_payload(db: Path, step: str, stored: str) -> None:
    query(db, "UPDATE invocation_steps SET payload_json = ? WHERE step_id = ?", (stored, step))


# ---------------------------------------------------------------------------- no plaintext


def test_no_secret_shows_in_the_database_files_wal_included(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    with serving(db) as client:
        sid, inv, steps = write_secrets(client)
        assert get_text(client, sid, inv, steps[0]) == PHRASE
        assert client.get_session(sessionIdentifier=sid)["sessionMetadata"]["card"] == CARD
        files = database_files(db)
        assert any(f.name.endswith("-wal") and f.stat().st_size > 0 for f in files)
        assert leaks(files) == []
    assert leaks(database_files(db)) == []
    stored = query(db, "SELECT payload_json FROM invocation_steps")
    assert all(value.startswith("e1:") for (value,) in stored)


def test_the_leak_check_finds_every_secret_of_a_plaintext_store(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    with serving(db, Encryption(enabled=False)) as client:
        write_secrets(client)
    found = leaks(database_files(db))
    assert f"sessions.db: {PHRASE} (raw)" in found  # the text step, metadata and description
    assert f"sessions.db: {PHRASE} (base64)" in found  # the image and the msgpack checkpoint
    assert f"sessions.db: {CARD} (raw)" in found
    assert not (tmp_path / "sessions.keyring").exists()


# ------------------------------------------------------------------------------- tampering


@pytest.mark.parametrize(
    ("change", "how"),
    [
        (lambda s: flip(s, len(s) // 2), "a byte in the middle"),
        (lambda s: flip(s, len(s) - 3), "a byte of the tag"),
        (lambda s: flip(s, 5), "a byte of the nonce"),
        (lambda s: "f" + s[1:], "the format mark"),
        (lambda s: s[:-8], "cut short"),
        (lambda s: s + "AAAA", "grown"),
        (lambda s: '{"contentBlocks": [{"text": "forged"}]}', "replaced by plaintext"),
    ],
)
def test_a_changed_payload_is_refused_in_aws_shape(
    tmp_path: Path, change: Callable[[str], str], how: str
) -> None:
    db = tmp_path / "sessions.db"
    with serving(db) as client:
        sid = client.create_session()["sessionId"]
        inv = client.create_invocation(sessionIdentifier=sid)["invocationId"]
        step = put_step(client, sid, inv, PHRASE)
        original = payload_of(db, step)
        set_payload(db, step, change(original))
        message = refused(
            client.get_invocation_step,
            sessionIdentifier=sid,
            invocationIdentifier=inv,
            invocationStepId=step,
        )
        assert f"payload of invocation step {step}" in message, how
        set_payload(db, step, original)
        assert get_text(client, sid, inv, step) == PHRASE


def test_changed_metadata_and_a_changed_wrapped_data_key_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    with serving(db) as client:
        sid = client.create_session(sessionMetadata={"note": PHRASE})["sessionId"]
        (metadata,) = query(db, "SELECT metadata_json FROM sessions")[0]
        query(db, "UPDATE sessions SET metadata_json = ?", (flip(metadata, 20),))
        assert "metadata of session" in refused(client.get_session, sessionIdentifier=sid)
        query(db, "UPDATE sessions SET metadata_json = ?", (metadata,))
        assert client.get_session(sessionIdentifier=sid)["sessionMetadata"] == {"note": PHRASE}
    (wrapped,) = query(db, "SELECT data_key FROM sessions")[0]
    changed = bytes([wrapped[0] ^ 1]) + wrapped[1:]
    query(db, "UPDATE sessions SET data_key = ?", (changed,))
    with serving(db) as client:  # a new process: no data key cached
        message = refused(client.get_session, sessionIdentifier=sid)
        assert f"The data key of session {sid} does not decrypt" in message


def test_a_blob_moved_to_another_session_or_step_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    with serving(db) as client:
        sessions = []
        for text in ("first session", "second session"):
            sid = client.create_session(sessionMetadata={"who": text})["sessionId"]
            inv = client.create_invocation(sessionIdentifier=sid)["invocationId"]
            sessions.append(
                (sid, inv, put_step(client, sid, inv, text), put_step(client, sid, inv))
            )
        (a_sid, _, a_step, _), (b_sid, b_inv, b_step, b_other) = sessions
        b_original = payload_of(db, b_step)

        set_payload(db, b_step, payload_of(db, a_step))  # A's ciphertext onto B's step
        get_b = {"sessionIdentifier": b_sid, "invocationIdentifier": b_inv}
        refused(client.get_invocation_step, **get_b, invocationStepId=b_step)
        set_payload(db, b_step, payload_of(db, b_other))  # another step of the same session
        refused(client.get_invocation_step, **get_b, invocationStepId=b_step)
        set_payload(db, b_step, b_original)
        assert get_text(client, b_sid, b_inv, b_step) == "second session"

        # A's whole row moved into session B (and its invocation)
        query(
            db,
            "UPDATE invocation_steps SET session_seq = (SELECT seq FROM sessions WHERE "
            "session_id = ?), invocation_id = ? WHERE step_id = ?",
            (b_sid, b_inv, a_step),
        )
        refused(client.get_invocation_step, **get_b, invocationStepId=a_step)

        # A's metadata onto B
        (a_meta,) = query(db, "SELECT metadata_json FROM sessions WHERE session_id = ?", (a_sid,))[
            0
        ]
        query(db, "UPDATE sessions SET metadata_json = ? WHERE session_id = ?", (a_meta, b_sid))
        refused(client.get_session, sessionIdentifier=b_sid)
    # A's wrapped data key onto B: the encryption context (B's ARN) does not match
    query(
        db,
        "UPDATE sessions SET data_key = (SELECT data_key FROM sessions WHERE session_id = ?) "
        "WHERE session_id = ?",
        (a_sid, b_sid),
    )
    with serving(db) as client:
        assert "does not decrypt" in refused(
            client.get_invocation_step, **get_b, invocationStepId=b_other
        )


# ------------------------------------------------------------------------ crypto-shredding


def test_delete_session_shreds_its_data_key(tmp_path: Path) -> None:
    db, old = tmp_path / "sessions.db", tmp_path / "copy-before-delete.db"
    keyring_path = keyring_with_test_key(tmp_path / "sessions.keyring")
    with serving(db, Encryption(keyring=keyring_path)) as client:
        sid = client.create_session(encryptionKeyArn=KMS_KEY_ARN)["sessionId"]
        inv = client.create_invocation(sessionIdentifier=sid)["invocationId"]
        steps = [put_step(client, sid, inv, f"{PHRASE} #{n}") for n in range(3)]
        kept = client.create_session()["sessionId"]
        put_step(client, kept, client.create_invocation(sessionIdentifier=kept)["invocationId"])
        client.end_session(sessionIdentifier=sid)
        with sqlite3.connect(db) as live, sqlite3.connect(old) as copy:
            live.backup(copy)  # a consistent copy of the database, WAL included
        client.delete_session(sessionIdentifier=sid)
        assert query(db, "SELECT 1 FROM sessions WHERE session_id = ?", (sid,)) == []

    (wrapped, kek, version), *_ = query(
        old,
        "SELECT data_key, data_key_kek, data_key_kek_version FROM sessions WHERE session_id = ?",
        (sid,),
    )
    sealed = [payload_of(old, step) for step in steps]
    arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:session/{sid}"
    # Every key left to the service: each KEK version itself, and every data key still stored.
    kms = LocalKms(keyring_path, region=REGION, account=ACCOUNT, create_default_key=False)
    remaining = [v for key in Keyring.load(keyring_path).keys.values() for v in key.versions]
    for data_key, key_arn, key_version, session_id in query(
        db, "SELECT data_key, data_key_kek, data_key_kek_version, session_id FROM sessions"
    ):
        session_arn = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:session/{session_id}"
        remaining.append(kms.unwrap(WrappedKey(bytes(data_key), key_arn, key_version), session_arn))
    assert len(remaining) >= 3
    for candidate in remaining:
        cipher = SessionCipher(candidate, arn, kek)
        for step, stored in zip(steps, sealed, strict=True):
            with pytest.raises(SealBroken):
                cipher.open(f"step/{inv}/{step}", stored)
    # The file kept no trace of the deleted session's key or payloads (secure_delete).
    current = db.read_bytes()
    assert wrapped not in current
    assert not any(s[3:40].encode() in current for s in sealed)

    # The old copy still holds the wrapped key: it opens while its KEK lives, and not once the
    # KEK is deleted (a per-tenant customer key shreds every copy of its sessions).
    assert kms.unwrap(WrappedKey(wrapped, kek, version), arn)
    keyring = Keyring.load(keyring_path)
    keyring.schedule_deletion(kek, pending_window_days=7, now=datetime.now(UTC) - timedelta(days=8))
    keyring.purge_deleted()
    keyring.save(keyring_path)
    after = LocalKms(keyring_path, region=REGION, account=ACCOUNT, create_default_key=False)
    with pytest.raises(KeyUnavailable):
        after.unwrap(WrappedKey(wrapped, kek, version), arn)


# ------------------------------------------------------------------- plaintext databases


def test_a_plaintext_database_of_an_older_version_is_upgraded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "sessions.db"
    old = SessionBackend(str(db), encryption=Encryption(enabled=False))
    sid = old.create_session(session_metadata={"note": "written in plaintext"})["sessionId"]
    inv = old.create_invocation(sid)["invocationId"]
    old_step = old.put_invocation_step(
        sid,
        invocation_identifier=inv,
        invocation_step_time=datetime.now(UTC),
        payload={"contentBlocks": [{"text": "an old step"}]},
    )["invocationStepId"]
    old.close()
    for column in ("data_key", "data_key_kek", "data_key_kek_version", "first_sealed_step_seq"):
        query(db, f"ALTER TABLE sessions DROP COLUMN {column}")  # the previous version's table
    assert not (tmp_path / "sessions.keyring").exists()

    with serving(db) as client:
        got = client.get_session(sessionIdentifier=sid)
        assert got["sessionMetadata"] == {"note": "written in plaintext"}
        assert get_text(client, sid, inv, old_step) == "an old step"
        new_step = put_step(client, sid, inv, PHRASE)  # the first write encrypts the session
        assert get_text(client, sid, inv, new_step) == PHRASE
        assert get_text(client, sid, inv, old_step) == "an old step"
        assert (
            client.get_session(sessionIdentifier=sid)["sessionMetadata"] == got["sessionMetadata"]
        )
        listed = client.list_invocation_steps(sessionIdentifier=sid)["invocationStepSummaries"]
        assert [s["invocationStepId"] for s in listed] == [new_step, old_step]

        (old_seq, old_stored), (new_seq, new_stored) = query(
            db, "SELECT seq, payload_json FROM invocation_steps ORDER BY seq"
        )
        assert old_stored.startswith("{") and new_stored.startswith("e1:")
        (metadata, first_sealed), *_ = query(
            db, "SELECT metadata_json, first_sealed_step_seq FROM sessions"
        )
        assert metadata.startswith("e1:") and old_seq < first_sealed <= new_seq
        # a plaintext row where the session stores sealed ones is a forgery
        set_payload(db, new_step, old_stored)
        refused(
            client.get_invocation_step,
            sessionIdentifier=sid,
            invocationIdentifier=inv,
            invocationStepId=new_step,
        )
    assert leaks(database_files(db)) == []


def test_without_encryption_new_data_is_plaintext_and_encrypted_data_stays_readable(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sessions.db"
    with serving(db) as client:
        encrypted = client.create_session(sessionMetadata={"note": PHRASE})["sessionId"]
        enc_inv = client.create_invocation(sessionIdentifier=encrypted)["invocationId"]
        put_step(client, encrypted, enc_inv, PHRASE)
    with serving(db, Encryption(enabled=False)) as client:
        plain = client.create_session(sessionMetadata={"note": "plain"})["sessionId"]
        inv = client.create_invocation(sessionIdentifier=plain)["invocationId"]
        plain_step = put_step(client, plain, inv, "in the clear")
        assert client.get_session(sessionIdentifier=encrypted)["sessionMetadata"]["note"] == PHRASE
        later = put_step(client, encrypted, enc_inv, "still sealed")  # it has its data key
        assert get_text(client, encrypted, enc_inv, later) == "still sealed"
    assert payload_of(db, plain_step) == '{"contentBlocks":[{"text":"in the clear"}]}'
    assert payload_of(db, later).startswith("e1:")
    assert query(db, "SELECT data_key FROM sessions WHERE session_id = ?", (plain,)) == [(None,)]


# ------------------------------------------------------------------------------ PostgreSQL


def test_encryption_round_trip_and_tamper_on_postgresql(
    tmp_path: Path, new_postgres_database: Callable[[], str]
) -> None:
    import psycopg

    url = new_postgres_database()
    keyring = keyring_with_test_key(tmp_path / "sessions.keyring")
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with (
        serving(url, Encryption(keyring=keyring)) as client,
        psycopg.connect(conninfo, autocommit=True) as pg,
    ):
        sid, inv, steps = write_secrets(client)
        customer = client.create_session(
            encryptionKeyArn=KMS_KEY_ARN, sessionMetadata={"k": PHRASE}
        )
        assert get_text(client, sid, inv, steps[0]) == PHRASE
        assert get_text(client, sid, inv, steps[1]) == CARD
        got = client.get_session(sessionIdentifier=customer["sessionId"])
        assert got["sessionMetadata"] == {"k": PHRASE}
        assert got["encryptionKeyArn"] == KMS_KEY_ARN

        rows = pg.execute(
            "SELECT payload_json FROM invocation_steps UNION ALL SELECT metadata_json FROM "
            "sessions UNION ALL SELECT description FROM invocations"
        ).fetchall()
        assert rows and all(value.startswith("e1:") for (value,) in rows)
        text = " ".join(value for (value,) in rows)
        assert PHRASE not in text and CARD not in text
        assert PHRASE.encode() not in b"".join(base64.b64decode(v[3:]) for (v,) in rows)
        (kek,) = pg.execute(
            "SELECT data_key_kek FROM sessions WHERE session_id = %s", (customer["sessionId"],)
        ).fetchone()
        assert kek == KMS_KEY_ARN

        (stored,) = pg.execute(
            "SELECT payload_json FROM invocation_steps WHERE step_id = %s", (steps[0],)
        ).fetchone()
        pg.execute(
            "UPDATE invocation_steps SET payload_json = %s WHERE step_id = %s",
            (flip(stored, 40), steps[0]),
        )
        refused(
            client.get_invocation_step,
            sessionIdentifier=sid,
            invocationIdentifier=inv,
            invocationStepId=steps[0],
        )
