"""The local keyring: its file, the ``keys`` command, and a running service following it.

The keyring is created 0600 beside the database with the default key, and refused when others
can read it. ``keys create|list|disable|enable|rotate|schedule-deletion|cancel-deletion`` change
it as KMS would (one line on stderr and exit 1 when KMS would refuse), and the running service
follows each change without a restart (within ``keyring_check_seconds``; these tests look at
every call): a disabled key's sessions answer AccessDeniedException
naming the key (lists still work: they read no ciphertext), enabling restores them, a rotation
re-wraps the data keys and leaves every payload as it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bedrock_sessions_local.__main__ import main
from bedrock_sessions_local.keyring import AWS_MANAGED, CUSTOMER_MANAGED, Keyring, KeyringError
from bedrock_sessions_local.testing import Encryption, make_client, running_service
from sessions_local_keys_support import PHRASE, query
from sessions_local_support import ACCOUNT, REGION, error_of, put_step


def keys(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``python -m bedrock_sessions_local keys <args>`` in-process: (exit, stdout, stderr)."""
    code = main(["keys", *args])
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[Any, Path, Path]]:
    """A service on a SQLite file with the default keyring, which it looks at on every call:
    (client, db, keyring)."""
    db = tmp_path / "sessions.db"
    with running_service(db=db, encryption=Encryption(keyring_check_seconds=0)) as url:
        client = make_client(url, retries={"total_max_attempts": 1, "mode": "standard"})
        yield client, db, tmp_path / "sessions.keyring"


def session_with_step(client: Any, **create: Any) -> tuple[str, str, str]:
    sid = client.create_session(sessionMetadata={"note": PHRASE}, **create)["sessionId"]
    inv = client.create_invocation(sessionIdentifier=sid)["invocationId"]
    return sid, inv, put_step(client, sid, inv, PHRASE)


def readable(client: Any, sid: str, inv: str, step: str) -> bool:
    got = client.get_invocation_step(
        sessionIdentifier=sid, invocationIdentifier=inv, invocationStepId=step
    )
    return got["invocationStep"]["payload"]["contentBlocks"][0]["text"] == PHRASE


# ------------------------------------------------------------------------------- the file


def test_the_service_creates_a_0600_keyring_beside_its_database_and_keeps_it(
    tmp_path: Path,
) -> None:
    db = tmp_path / "sessions.db"
    with running_service(db=db) as url:
        sid, inv, step = session_with_step(make_client(url))
    path = tmp_path / "sessions.keyring"
    assert path.stat().st_mode & 0o777 == 0o600
    keyring = Keyring.load(path)
    assert [k.managed_by for k in keyring.keys.values()] == [AWS_MANAGED]
    default = keyring.default_key
    assert default is not None and default.arn.startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/")
    with running_service(db=db) as url:  # a restart reads the same key
        assert readable(make_client(url), sid, inv, step)
    assert Keyring.load(path).keys.keys() == keyring.keys.keys()


def test_a_keyring_others_can_read_is_refused(tmp_path: Path) -> None:
    db, path = tmp_path / "sessions.db", tmp_path / "sessions.keyring"
    Keyring().save(path)
    path.chmod(0o644)
    with pytest.raises(KeyringError, match="chmod 600"), running_service(db=db):
        pass
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bedrock_sessions_local",
            "--port",
            "0",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "accessible to others" in done.stderr


# ----------------------------------------------------------------------- the keys command


def test_keys_command_manages_keys_as_kms_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(tmp_path / "keys.keyring")
    code, arn, _ = keys(capsys, "create", "--keyring", path, "--description", "tenant-a")
    assert code == 0 and arn.startswith(f"arn:aws:kms:{REGION}:{ACCOUNT}:key/")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert keys(capsys, "list", "--keyring", path)[1] == f"{arn}  Enabled  CUSTOMER  v1  tenant-a"
    assert "Disabled" in keys(capsys, "disable", arn, "--keyring", path)[1]
    assert "Enabled" in keys(capsys, "enable", arn, "--keyring", path)[1]
    assert " v2 " in keys(capsys, "rotate", arn, "--keyring", path)[1]
    code, out, _ = keys(
        capsys, "schedule-deletion", arn, "--pending-window-days", "7", "--keyring", path
    )
    assert code == 0 and "PendingDeletion (until " in out
    assert "Disabled" in keys(capsys, "cancel-deletion", arn, "--keyring", path)[1]
    key = Keyring.load(path).key(arn)
    assert (key.state, key.version, key.managed_by) == ("Disabled", 2, CUSTOMER_MANAGED)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["enable", "arn:aws:kms:us-east-1:123456789012:key/nope"], "no key"),
        (["rotate", "{arn}"], "only an Enabled key can be rotated"),
        (["schedule-deletion", "{arn}", "--pending-window-days", "3"], "7 to 30 days"),
        (["cancel-deletion", "{arn}"], "not pending deletion"),
        (["disable", "{default}"], "default key (AWS managed): it cannot be disabled"),
        (["schedule-deletion", "{default}"], "it cannot be deleted"),
    ],
)
def test_keys_command_refusals_are_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    path = tmp_path / "keys.keyring"
    keyring = Keyring()
    arn = keyring.create_key(region=REGION, account=ACCOUNT).arn
    default = keyring.create_key(region=REGION, account=ACCOUNT, managed_by=AWS_MANAGED).arn
    keyring.disable(arn)
    keyring.save(path)
    before = path.read_bytes()
    filled = [a.format(arn=arn, default=default) for a in args]
    code, out, err = keys(capsys, *filled, "--keyring", str(path))
    assert (code, out) == (1, "")
    assert err.count("\n") == 0 and words in err
    assert path.read_bytes() == before


def test_keys_command_without_a_keyring_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = keys(capsys, "list", "--keyring", str(tmp_path / "absent.keyring"))
    assert code == 1 and "cannot read the keyring" in err and "\n" not in err


def test_keys_command_runs_as_a_process(tmp_path: Path) -> None:
    path = tmp_path / "keys.keyring"
    done = subprocess.run(
        [sys.executable, "-m", "bedrock_sessions_local", "keys", "create", "--keyring", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in Keyring.load(path).keys


# ------------------------------------------------------------ the service follows the file


def test_disabling_a_key_locks_its_sessions_until_it_is_enabled(
    store: tuple[Any, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    client, _db, keyring = store
    arn = keys(capsys, "create", "--keyring", str(keyring))[1]
    sid, inv, step = session_with_step(client, encryptionKeyArn=arn)
    other = session_with_step(client)  # the default key's session is not affected
    assert client.get_session(sessionIdentifier=sid)["encryptionKeyArn"] == arn

    keys(capsys, "disable", arn, "--keyring", str(keyring))
    ids = {"sessionIdentifier": sid, "invocationIdentifier": inv}
    for call, kwargs in (
        (client.get_invocation_step, {**ids, "invocationStepId": step}),
        (client.get_session, {"sessionIdentifier": sid}),
        (client.update_session, {"sessionIdentifier": sid, "sessionMetadata": {"a": "b"}}),
        (client.create_invocation, {"sessionIdentifier": sid}),
    ):
        code, status, message = error_of(call, **kwargs)
        assert (code, status) == ("AccessDeniedException", 403)
        assert f"encrypted with KMS key {arn}, which is disabled" in message
    code, status, _ = error_of(
        client.put_invocation_step,
        **ids,
        invocationStepTime="2026-11-24T12:00:00Z",
        payload={"contentBlocks": [{"text": "x"}]},
    )
    assert (code, status) == ("AccessDeniedException", 403)
    # lists are index reads: nothing to decrypt
    listed = client.list_invocation_steps(sessionIdentifier=sid)["invocationStepSummaries"]
    assert [s["invocationStepId"] for s in listed] == [step]
    assert client.list_invocations(sessionIdentifier=sid)["invocationSummaries"]
    assert readable(client, *other)
    code, status, message = error_of(client.create_session, encryptionKeyArn=arn)
    assert (code, status) == ("ValidationException", 400) and "is disabled" in message

    keys(capsys, "enable", arn, "--keyring", str(keyring))
    assert readable(client, sid, inv, step)
    assert client.get_session(sessionIdentifier=sid)["sessionMetadata"] == {"note": PHRASE}


def test_rotation_rewraps_data_keys_and_leaves_payloads_alone(
    store: tuple[Any, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    client, db, keyring = store
    arn = keys(capsys, "create", "--keyring", str(keyring))[1]
    rotated = [session_with_step(client, encryptionKeyArn=arn) for _ in range(3)]
    untouched = session_with_step(client)
    select = "SELECT session_id, data_key, data_key_kek_version FROM sessions ORDER BY seq"
    before = query(db, select)
    payloads = query(db, "SELECT step_id, payload_json FROM invocation_steps ORDER BY seq")
    keys(capsys, "rotate", arn, "--keyring", str(keyring))

    assert readable(client, *rotated[0])  # the next call notices the change and re-wraps
    after = query(db, select)
    for (sid, old_key, old_version), (_, new_key, new_version) in zip(before, after, strict=True):
        if sid == untouched[0]:
            assert (new_key, new_version) == (old_key, old_version)
        else:
            assert (old_version, new_version) == (1, 2) and new_key != old_key
    assert query(db, "SELECT step_id, payload_json FROM invocation_steps ORDER BY seq") == payloads
    assert all(readable(client, *s) for s in [*rotated, untouched])
    new = session_with_step(client, encryptionKeyArn=arn)
    assert query(
        db, "SELECT data_key_kek_version FROM sessions WHERE session_id = ?", (new[0],)
    ) == [(2,)]


def test_scheduled_deletion_locks_the_sessions_and_cancelling_leaves_the_key_disabled(
    store: tuple[Any, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    client, _db, keyring = store
    arn = keys(capsys, "create", "--keyring", str(keyring))[1]
    sid, inv, step = session_with_step(client, encryptionKeyArn=arn)
    keys(capsys, "schedule-deletion", arn, "--keyring", str(keyring))
    message = error_of(client.get_session, sessionIdentifier=sid)[2]
    assert f"KMS key {arn}, which is pending deletion" in message
    code, _, message = error_of(client.create_session, encryptionKeyArn=arn)
    assert code == "ValidationException" and "pending deletion" in message
    keys(capsys, "cancel-deletion", arn, "--keyring", str(keyring))
    assert "which is disabled" in error_of(client.get_session, sessionIdentifier=sid)[2]
    keys(capsys, "enable", arn, "--keyring", str(keyring))
    assert readable(client, sid, inv, step)


def test_an_unknown_key_is_access_denied_and_creates_nothing(
    store: tuple[Any, Path, Path],
) -> None:
    client, db, _keyring = store
    unknown = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-000000000000"
    code, status, message = error_of(client.create_session, encryptionKeyArn=unknown)
    assert (code, status) == ("AccessDeniedException", 403)
    assert f"The KMS key {unknown} does not exist or you are not allowed to use it" in message
    assert query(db, "SELECT count(*) FROM sessions") == [(0,)]


def test_a_keyring_that_turns_unreadable_locks_every_session(
    store: tuple[Any, Path, Path],
) -> None:
    client, _db, keyring = store
    sid, inv, step = session_with_step(client)
    content = keyring.read_bytes()
    keyring.write_bytes(b"not json")  # fails closed: no key is usable until it is fixed
    assert error_of(client.get_session, sessionIdentifier=sid)[0] == "AccessDeniedException"
    keyring.write_bytes(content)
    assert readable(client, sid, inv, step)


def test_by_default_a_change_takes_effect_within_a_tenth_of_a_second(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring = tmp_path / "sessions.keyring"
    arn = keys(capsys, "create", "--keyring", str(keyring))[1]
    with running_service(db=tmp_path / "sessions.db") as url:
        client = make_client(url, retries={"total_max_attempts": 1, "mode": "standard"})
        sid = session_with_step(client, encryptionKeyArn=arn)[0]
        keys(capsys, "disable", arn, "--keyring", str(keyring))
        time.sleep(0.15)
        assert error_of(client.get_session, sessionIdentifier=sid)[0] == "AccessDeniedException"
