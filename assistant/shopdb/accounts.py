"""Accounts: password checks with lock-out, and the sign-ins that tokens point to.

Passwords are hashed with Argon2id (`argon2-cffi`, the algorithm OWASP recommends first); the
database never sees a password. A wrong password counts against the account, and after
`max_failures` in a row the account is locked for `lockout`, even for the right password: the
counter is raised by one conditional UPDATE, so parallel guesses cannot slip past the limit.

    >>> set_password(engine, "alice", "a long passphrase")
    >>> check_password(engine, "alice", "a long passphrase", max_failures=5,
    ...                lockout=timedelta(minutes=15)).username
    'alice'
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from assistant.shopdb.engine import session_scope
from assistant.shopdb.tables import SignIn, User, utc_now

_hasher = PasswordHasher()
# Verified against when the username is unknown, so that a wrong name takes as long as a
# wrong password and response times do not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("no such account")


class SignInRefused(Exception):
    """Wrong username or password, or a locked account; the message is safe to show."""


class AccountLocked(SignInRefused):
    """Too many wrong passwords in a row: the account is locked until `until`."""

    def __init__(self, until: datetime) -> None:
        minutes = max(1, round((_aware(until) - utc_now()).total_seconds() / 60))
        super().__init__(
            f"Too many failed sign-ins: this account is locked for {minutes} more minute(s)."
        )
        self.until = until


def hash_password(password: str) -> str:
    """The Argon2id hash of `password` (with its own random salt and parameters)."""
    return _hasher.hash(password)


def set_password(bind: Session | Engine, username: str, password: str) -> None:
    """Give `username` a new password (and clear any lock-out)."""
    with session_scope(bind) as session:
        session.exec(
            update(User)
            .where(User.username == username)
            .values(password_hash=hash_password(password), failed_sign_ins=0, locked_until=None)
        )
        session.commit()


def check_password(
    bind: Session | Engine,
    username: str,
    password: str,
    *,
    max_failures: int,
    lockout: timedelta,
) -> User:
    """The account if `password` is right and the account is not locked.

    Raises:
        AccountLocked: the account is locked (the password is not even checked).
        SignInRefused: unknown username, no password set, or a wrong password (one message
            for all three, so the answer does not tell which usernames exist).
    """
    name = (username or "").strip().lower()
    with session_scope(bind) as session:
        user = session.get(User, name)
        if user is not None and user.locked_until and _aware(user.locked_until) > utc_now():
            raise AccountLocked(user.locked_until)
        stored = user.password_hash if user is not None else None
        if not _verifies(stored or _DUMMY_HASH, password or "") or stored is None:
            if user is not None:
                _count_failure(session, name, max_failures, lockout)
                session.refresh(user)
                if user.locked_until is not None:  # this guess was the last one allowed
                    raise AccountLocked(user.locked_until)
            raise SignInRefused("Wrong username or password.")
        if user.failed_sign_ins or user.locked_until:
            session.exec(
                update(User)
                .where(User.username == name)
                .values(failed_sign_ins=0, locked_until=None)
            )
        if _hasher.check_needs_rehash(stored):
            session.exec(
                update(User)
                .where(User.username == name)
                .values(password_hash=hash_password(password))
            )
        session.commit()
        session.refresh(user)
        return user


def _verifies(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _count_failure(session: Session, name: str, max_failures: int, lockout: timedelta) -> None:
    # One statement raises the counter and, on reaching the limit, sets the lock: two parallel
    # wrong guesses can never both see the counter below the limit.
    session.exec(
        update(User).where(User.username == name).values(failed_sign_ins=User.failed_sign_ins + 1)
    )
    session.exec(
        update(User)
        .where(User.username == name, User.failed_sign_ins >= max_failures)
        .values(locked_until=utc_now() + lockout, failed_sign_ins=0)
    )
    session.commit()


def user_by_email(bind: Session | Engine, email: str) -> User | None:
    """The account whose e-mail address is `email` (case-insensitive), or None."""
    with session_scope(bind) as session:
        wanted = (email or "").strip().lower()
        for user in session.exec(select(User).where(User.email.is_not(None))).all():
            if user.email.lower() == wanted:
                return user
        return None


# --- sign-ins ----------------------------------------------------------------------------


def token_id_hash(token_id: str) -> str:
    """What the database stores for a token's random id."""
    return hashlib.sha256(token_id.encode()).hexdigest()


def record_sign_in(
    bind: Session | Engine, token_id: str, username: str, channel: str, lifetime: timedelta
) -> SignIn:
    """Remember a sign-in so that its token is honoured until it expires or is revoked."""
    with session_scope(bind) as session:
        row = SignIn(
            id_hash=token_id_hash(token_id),
            username=username,
            channel=channel,
            expires_at=utc_now() + lifetime,
        )
        session.add(row)
        session.commit()
        session.refresh(row)
        return row


def live_sign_in(bind: Session | Engine, token_id: str) -> SignIn | None:
    """The sign-in of `token_id` if it is neither expired nor revoked."""
    with session_scope(bind) as session:
        row = session.get(SignIn, token_id_hash(token_id))
        if row is None or row.revoked_at is not None or _aware(row.expires_at) <= utc_now():
            return None
        return row


def revoke_sign_in(bind: Session | Engine, token_id: str) -> bool:
    """Sign out: the token of `token_id` is refused from now on. True if it was live."""
    with session_scope(bind) as session:
        result = session.exec(
            update(SignIn)
            .where(SignIn.id_hash == token_id_hash(token_id), SignIn.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )
        session.commit()
        return bool(result.rowcount)


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; every one we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
