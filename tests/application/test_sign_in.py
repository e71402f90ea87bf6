"""Signing in: passwords, lock-out, tokens (signature, expiry, revocation), OpenID Connect mapping.

Everything runs on a real shop database (SQLite file) and the real Argon2 hasher; tokens are
the ones the web app keeps in its cookie and the CLI in its token file.
"""

from __future__ import annotations

import hashlib
import json
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from itsdangerous import URLSafeTimedSerializer

from assistant import shopdb
from assistant.application import AccountLocked, NotSignedIn, SignInRefused
from assistant.application.accounts import (
    principal_for_identity,
    principal_from_token,
    sign_in,
    sign_out,
    signing_key,
)
from assistant.settings import Settings
from assistant.shopdb.accounts import set_password
from assistant.shopdb.engine import DATA_DIR


@pytest.fixture
def settings(settings_at, tmp_path: Path) -> Settings:
    return settings_at("http://127.0.0.1:9", tmp_path / "shop.db")


@pytest.fixture
def engine(settings: Settings):
    engine = shopdb.get_engine(settings.database_url)
    shopdb.init_db(engine)
    yield engine
    engine.dispose()


def test_the_database_and_the_seed_hold_hashes_never_passwords(engine) -> None:
    seed = json.loads((DATA_DIR / "users.json").read_text(encoding="utf-8"))
    assert "demo" in seed["description"].lower()  # labelled as demo accounts
    for user in shopdb.list_users(engine):
        assert user.password_hash.startswith("$argon2id$")
        assert f"demo-{user.username}" not in user.password_hash
    raw = Path(engine.url.database).read_bytes()
    assert b"demo-alice" not in raw


def test_a_right_password_signs_in_with_role_and_tenant(settings, engine) -> None:
    who, token = sign_in(settings, engine, "Olga ", "demo-olga")  # names are case-insensitive
    assert (who.username, who.role, who.tenant) == ("olga", "operator", "tenant-a")
    assert principal_from_token(settings, engine, token).username == "olga"


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "demo-bob"), ("alice", ""), ("mallory", "demo-mallory"), ("", "x")],
)
def test_wrong_name_or_password_is_one_message(settings, engine, username, password) -> None:
    with pytest.raises(SignInRefused, match=r"^Wrong username or password\.$"):
        sign_in(settings, engine, username, password)


def test_the_limit_of_wrong_passwords_locks_even_the_right_one_until_it_lapses(
    settings, engine
) -> None:
    with time_machine.travel("2026-11-30 12:00:00+00:00", tick=False) as clock:
        for _ in range(settings.sign_in_max_failures - 1):
            with pytest.raises(SignInRefused, match="Wrong"):
                sign_in(settings, engine, "carol", "guess")
        with pytest.raises(AccountLocked, match="locked for 15 more minute"):
            sign_in(settings, engine, "carol", "guess")
        with pytest.raises(AccountLocked):
            sign_in(settings, engine, "carol", "demo-carol")
        clock.shift(timedelta(minutes=16))
        assert sign_in(settings, engine, "carol", "demo-carol")[0].username == "carol"


def test_a_success_resets_the_count_of_wrong_passwords(settings, engine) -> None:
    for _ in range(settings.sign_in_max_failures - 1):
        with pytest.raises(SignInRefused):
            sign_in(settings, engine, "bob", "guess")
    sign_in(settings, engine, "bob", "demo-bob")
    for _ in range(settings.sign_in_max_failures - 1):
        with pytest.raises(SignInRefused):
            sign_in(settings, engine, "bob", "guess")
    assert sign_in(settings, engine, "bob", "demo-bob")[0].username == "bob"


def test_parallel_guesses_cannot_get_past_the_limit(settings, engine) -> None:
    """Twenty guesses at once: the account locks and no guess after the limit is checked."""

    def guess(_: int) -> str:
        try:
            sign_in(settings, engine, "alice", "guess")
        except AccountLocked:
            return "locked"
        except SignInRefused:
            return "wrong"
        return "in"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(guess, range(20)))
    assert "in" not in outcomes
    assert outcomes.count("wrong") < settings.sign_in_max_failures
    with pytest.raises(AccountLocked):
        sign_in(settings, engine, "alice", "demo-alice")


def test_a_new_password_replaces_the_old_and_unlocks(settings, engine) -> None:
    set_password(engine, "alice", "a much longer passphrase")
    with pytest.raises(SignInRefused):
        sign_in(settings, engine, "alice", "demo-alice")
    assert sign_in(settings, engine, "alice", "a much longer passphrase")[0].username == "alice"


def test_sign_out_revokes_the_token_and_only_that_one(settings, engine) -> None:
    _, first = sign_in(settings, engine, "alice", "demo-alice")
    _, second = sign_in(settings, engine, "alice", "demo-alice", channel="cli")
    assert sign_out(settings, engine, first) is True
    with pytest.raises(NotSignedIn, match="signed out or expired"):
        principal_from_token(settings, engine, first)
    assert principal_from_token(settings, engine, second).username == "alice"
    assert sign_out(settings, engine, first) is False  # twice is harmless


def test_a_token_expires_with_its_channel(settings, engine) -> None:
    with time_machine.travel("2026-11-30 12:00:00+00:00", tick=False) as clock:
        _, web = sign_in(settings, engine, "alice", "demo-alice")
        _, cli = sign_in(settings, engine, "alice", "demo-alice", channel="cli")
        clock.shift(timedelta(hours=settings.web_sign_in_hours + 1))
        with pytest.raises(NotSignedIn):
            principal_from_token(settings, engine, web)
        assert principal_from_token(settings, engine, cli).username == "alice"
        clock.shift(timedelta(days=settings.cli_sign_in_days))
        with pytest.raises(NotSignedIn):
            principal_from_token(settings, engine, cli)


@pytest.mark.parametrize(
    "forge",
    [
        # one character in the middle of the signature (the last one may be padding bits only)
        lambda token: token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:],
        lambda token: URLSafeTimedSerializer(
            "guessed key",
            salt="shoe-assistant.sign-in",
            signer_kwargs={"digest_method": hashlib.sha256},
        ).dumps({"sid": "x", "u": "olga"}),
        lambda token: "",
        lambda token: "not a token at all",
    ],
    ids=["tampered", "signed-with-another-key", "empty", "garbage"],
)
def test_forged_tokens_sign_nobody_in(settings, engine, forge) -> None:
    _, token = sign_in(settings, engine, "alice", "demo-alice")
    with pytest.raises(NotSignedIn):
        principal_from_token(settings, engine, forge(token))


def test_a_token_reads_the_role_afresh(settings, engine) -> None:
    _, token = sign_in(settings, engine, "carol", "demo-carol")
    from sqlmodel import Session

    with Session(engine) as session:
        row = session.get(shopdb.User, "carol")
        row.role = "operator"
        session.add(row)
        session.commit()
    assert principal_from_token(settings, engine, token).role == "operator"


def test_the_signing_key_file_is_created_once_and_private(settings, tmp_path: Path) -> None:
    key = signing_key(settings)
    path = Path(settings.secret_key_file)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_key(settings) == key and len(key) == 64


def test_an_oidc_identity_maps_to_its_shop_account_by_verified_email(engine) -> None:
    who = principal_for_identity(engine, {"email": "Olga@Example.com", "email_verified": True})
    assert (who.username, who.role, who.via) == ("olga", "operator", "oidc")
    with pytest.raises(NotSignedIn, match=r"No shop account belongs to mallory@example\.com"):
        principal_for_identity(engine, {"email": "mallory@example.com", "email_verified": True})
    with pytest.raises(NotSignedIn, match="verified e-mail"):  # no claim is not a yes
        principal_for_identity(engine, {"email": "alice@example.com"})
    with pytest.raises(NotSignedIn, match="verified e-mail"):
        principal_for_identity(engine, {"email": "alice@example.com", "email_verified": False})
    with pytest.raises(NotSignedIn, match="verified e-mail"):
        principal_for_identity(engine, {"sub": "123"})
