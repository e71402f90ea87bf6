"""Signing in: passwords, sign-in tokens and OpenID Connect identities become a `Principal`.

A password sign-in returns a token: the random id of a sign-in the shop database remembers,
signed with the app's secret key (`itsdangerous`, HMAC-SHA256 with a timestamp). The web app
keeps it in a cookie and the CLI in a 0600 file; each request turns it back into a principal
with `principal_from_token`, which checks the signature, the age, that the sign-in was not
revoked (sign-out) and that the account still exists, and reads the role afresh. A forged or
altered token fails the signature; a stolen copy of the database holds only hashes of ids.

OpenID Connect (Streamlit's `st.login`, e.g. Amazon Cognito) proves the identity itself;
`principal_for_identity` maps the provider's verified e-mail address to a shop account, whose
role and tenant the shop decides.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from assistant import shopdb
from assistant.application.principals import NotSignedIn, Principal
from assistant.settings import Settings
from assistant.shopdb.accounts import (
    AccountLocked,
    SignInRefused,
    check_password,
    live_sign_in,
    record_sign_in,
    revoke_sign_in,
    user_by_email,
)

__all__ = ["AccountLocked", "SignInRefused", "principal_from_token", "sign_in", "sign_out"]

_SALT = "shoe-assistant.sign-in"


def principal_of(user, via: str) -> Principal:
    """The principal of a `shopdb.User` row."""
    return Principal(
        username=user.username,
        role=user.role,
        tenant=user.tenant,
        display_name=user.display_name,
        via=via,
    )


def sign_in(
    settings: Settings, engine, username: str, password: str, *, channel: str = "web"
) -> tuple[Principal, str]:
    """Check a password; return the principal and a new sign-in token for `channel`.

    Raises:
        SignInRefused: wrong username or password (one message for both).
        AccountLocked: too many wrong passwords in a row; says for how long.
    """
    user = check_password(
        engine,
        username,
        password,
        max_failures=settings.sign_in_max_failures,
        lockout=timedelta(minutes=settings.sign_in_lockout_minutes),
    )
    lifetime = _lifetime(settings, channel)
    token_id = secrets.token_urlsafe(32)
    record_sign_in(engine, token_id, user.username, channel, lifetime)
    token = _serializer(settings).dumps({"sid": token_id, "u": user.username})
    return principal_of(user, "password"), token


def principal_from_token(settings: Settings, engine, token: str | None) -> Principal:
    """The principal a sign-in token stands for; NotSignedIn when it is bad, old or revoked."""
    payload = _payload(settings, token, max_age=_lifetime(settings, "cli"))
    sign_in_row = live_sign_in(engine, payload["sid"])
    if sign_in_row is None or sign_in_row.username != payload.get("u"):
        raise NotSignedIn("Your sign-in has ended (signed out or expired); sign in again.")
    user = shopdb.get_user(engine, sign_in_row.username)
    if user is None:
        raise NotSignedIn("This account no longer exists.")
    return principal_of(user, "token")


def sign_out(settings: Settings, engine, token: str | None) -> bool:
    """Revoke the sign-in of `token` everywhere it is kept. True if it was live."""
    try:
        payload = _payload(settings, token, max_age=None)
    except NotSignedIn:
        return False
    return revoke_sign_in(engine, payload["sid"])


def principal_for_identity(engine, claims: dict) -> Principal:
    """The shop account of an OpenID Connect identity (its verified e-mail address).

    Raises NotSignedIn when the provider does not vouch for the address or no account has it.
    """
    email = claims.get("email")
    # Only an address the provider says it verified (an absent claim is not a yes).
    if not email or claims.get("email_verified") not in (True, "true"):
        raise NotSignedIn("Your identity provider did not share a verified e-mail address.")
    user = user_by_email(engine, email)
    if user is None:
        raise NotSignedIn(f"No shop account belongs to {email}; ask the store to add you.")
    return principal_of(user, "oidc")


def signing_key(settings: Settings) -> str:
    """The key that signs tokens: SECRET_KEY, else a random one kept in SECRET_KEY_FILE (0600)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = Path(settings.secret_key_file)
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:  # O_EXCL: when two processes start at once, one writes and both read the same key
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(key)
    return key


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        signing_key(settings), salt=_SALT, signer_kwargs={"digest_method": hashlib.sha256}
    )


def _lifetime(settings: Settings, channel: str) -> timedelta:
    if channel == "cli":
        return timedelta(days=settings.cli_sign_in_days)
    return timedelta(hours=settings.web_sign_in_hours)


def _payload(settings: Settings, token: str | None, *, max_age: timedelta | None) -> dict:
    if not token:
        raise NotSignedIn("Sign in first.")
    try:
        payload = _serializer(settings).loads(
            token, max_age=None if max_age is None else max_age.total_seconds()
        )
    except SignatureExpired as error:
        raise NotSignedIn("Your sign-in has expired; sign in again.") from error
    except BadSignature as error:
        raise NotSignedIn("This sign-in token is not valid; sign in again.") from error
    if not isinstance(payload, dict) or not isinstance(payload.get("sid"), str):
        raise NotSignedIn("This sign-in token is not valid; sign in again.")
    return payload
