"""The service with AWS KMS as its key store (moto's KMS server on 127.0.0.1).

Data keys come from GenerateDataKey and go back through Decrypt with the encryption context
``aws:bedrock:session:arn``, exactly as a deployment would: a stored data key decrypts in KMS
with its session's ARN and with no other, and opens the stored payloads. The default key is the
alias the service creates once; a customer key is used and echoed; an unknown key is
AccessDeniedException and a disabled one, or one pending deletion, ValidationException (moto's
KMS does not refuse Decrypt with a disabled key, so locking a session's reads is tested with
the keyring, ``test_sessions_local_keyring.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from bedrock_sessions_local.encryption import CONTEXT_KEY, KMS_DEFAULT_ALIAS, SessionCipher
from bedrock_sessions_local.testing import Encryption, make_client, running_service
from sessions_local_keys_support import PHRASE, database_files, leaks, query
from sessions_local_support import ACCOUNT, REGION, error_of, put_step

CREDENTIALS = ("testing", "testing")


@pytest.fixture(scope="module")
def kms_url() -> Iterator[str]:
    """Endpoint of moto's KMS server, on 127.0.0.1 and a free port, for the module."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def kms(kms_url: str) -> Any:
    """A boto3 KMS client of the moto server."""
    return boto3.client(
        "kms",
        endpoint_url=kms_url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS[0],
        aws_secret_access_key=CREDENTIALS[1],
    )


def with_kms(kms_url: str) -> Encryption:
    # cache 0: every call asks KMS, so the tests see each of its answers
    return Encryption(kms_endpoint_url=kms_url, kms_credentials=CREDENTIALS, kms_cache_seconds=0)


def session_arn(session_id: str) -> str:
    return f"arn:aws:bedrock:{REGION}:{ACCOUNT}:session/{session_id}"


def test_data_keys_come_from_kms_bound_to_the_session_arn(
    tmp_path: Path, kms_url: str, kms: Any
) -> None:
    db = tmp_path / "sessions.db"
    with running_service(db=db, encryption=with_kms(kms_url)) as url:
        client = make_client(url)
        sid = client.create_session(sessionMetadata={"note": PHRASE})["sessionId"]
        other = client.create_session()["sessionId"]
        inv = client.create_invocation(sessionIdentifier=sid)["invocationId"]
        step = put_step(client, sid, inv, PHRASE)
        got = client.get_invocation_step(
            sessionIdentifier=sid, invocationIdentifier=inv, invocationStepId=step
        )
        assert got["invocationStep"]["payload"]["contentBlocks"][0]["text"] == PHRASE
        assert leaks(database_files(db)) == []
    assert not (tmp_path / "sessions.keyring").exists()

    default = kms.describe_key(KeyId=KMS_DEFAULT_ALIAS)["KeyMetadata"]["Arn"]
    (blob, kek, version), *_ = query(
        db,
        "SELECT data_key, data_key_kek, data_key_kek_version FROM sessions WHERE session_id = ?",
        (sid,),
    )
    assert (kek, version) == (default, None)
    data_key = kms.decrypt(CiphertextBlob=blob, EncryptionContext={CONTEXT_KEY: session_arn(sid)})
    (stored,) = query(db, "SELECT payload_json FROM invocation_steps WHERE step_id = ?", (step,))[0]
    opened = SessionCipher(data_key["Plaintext"], session_arn(sid), kek).open(
        f"step/{inv}/{step}", stored
    )
    assert PHRASE.encode() in opened
    for context in ({CONTEXT_KEY: session_arn(other)}, {}):
        with pytest.raises(ClientError) as refused:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=context)
        assert refused.value.response["Error"]["Code"] == "InvalidCiphertextException"

    with running_service(db=db, encryption=with_kms(kms_url)) as url:  # the alias is reused
        client = make_client(url)
        assert client.get_session(sessionIdentifier=sid)["sessionMetadata"] == {"note": PHRASE}
        newer = client.create_session()["sessionId"]
    select = "SELECT data_key_kek FROM sessions WHERE session_id = ?"
    assert query(db, select, (newer,)) == [(default,)]


def test_a_customer_kms_key_encrypts_its_session_and_is_echoed(
    tmp_path: Path, kms_url: str, kms: Any
) -> None:
    key = kms.create_key(Description="tenant-a")["KeyMetadata"]["Arn"]
    db = tmp_path / "sessions.db"
    with running_service(db=db, encryption=with_kms(kms_url)) as url:
        client = make_client(url)
        sid = client.create_session(encryptionKeyArn=key, sessionMetadata={"n": PHRASE})[
            "sessionId"
        ]
        assert client.get_session(sessionIdentifier=sid)["encryptionKeyArn"] == key
    assert query(db, "SELECT data_key_kek FROM sessions") == [(key,)]
    with running_service(db=db, encryption=with_kms(kms_url)) as url:
        assert make_client(url).get_session(sessionIdentifier=sid)["sessionMetadata"] == {
            "n": PHRASE
        }


def test_kms_refusals_at_create_session(kms_url: str, kms: Any) -> None:
    disabled, pending = (kms.create_key()["KeyMetadata"] for _ in range(2))
    kms.disable_key(KeyId=disabled["KeyId"])  # moto's DisableKey takes the id, not the ARN
    kms.schedule_key_deletion(KeyId=pending["KeyId"], PendingWindowInDays=7)
    disabled, pending = disabled["Arn"], pending["Arn"]
    unknown = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-000000000000"
    with running_service(encryption=with_kms(kms_url)) as url:
        client = make_client(url, retries={"total_max_attempts": 1, "mode": "standard"})
        code, status, message = error_of(client.create_session, encryptionKeyArn=unknown)
        assert (code, status) == ("AccessDeniedException", 403) and unknown in message
        code, status, message = error_of(client.create_session, encryptionKeyArn=disabled)
        assert (code, status) == ("ValidationException", 400) and "is disabled" in message
        code, status, message = error_of(client.create_session, encryptionKeyArn=pending)
        assert (code, status) == ("ValidationException", 400) and "pending deletion" in message
        assert client.list_sessions()["sessionSummaries"] == []


def test_a_changed_kms_ciphertext_is_access_denied(tmp_path: Path, kms_url: str) -> None:
    db = tmp_path / "sessions.db"
    with running_service(db=db, encryption=with_kms(kms_url)) as url:
        client = make_client(url, retries={"total_max_attempts": 1, "mode": "standard"})
        sid = client.create_session(sessionMetadata={"note": PHRASE})["sessionId"]
        (blob,) = query(db, "SELECT data_key FROM sessions")[0]
        query(db, "UPDATE sessions SET data_key = ?", (blob[:-1] + bytes([blob[-1] ^ 1]),))
        code, status, message = error_of(client.get_session, sessionIdentifier=sid)
        assert (code, status) == ("AccessDeniedException", 403)
        assert f"The data key of session {sid} does not decrypt" in message
