"""Removing what the shop database holds about a shopper or a conversation.

Each function removes one kind of row and says how many it removed, so that an erasure that
stopped half-way can simply be run again (every step is idempotent). Orders are never removed:
a shop must keep them for its accounts (see `assistant.application.erasure`).
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, update
from sqlmodel import Session, select

from assistant.shopdb.engine import session_scope
from assistant.shopdb.tables import Approval, Conversation, Order, SignIn, User, utc_now


def conversation_ids_of(bind: Session | Engine, username: str) -> list[str]:
    """Every conversation of `username` in the registry, deleted ones included."""
    with session_scope(bind) as session:
        statement = select(Conversation.session_id).where(Conversation.user == username)
        return list(session.exec(statement).all())


def remove_conversation_row(bind: Session | Engine, session_id: str) -> int:
    """Remove a conversation from the registry (its sealed title with it)."""
    with session_scope(bind) as session:
        result = session.exec(delete(Conversation).where(Conversation.session_id == session_id))
        session.commit()
        return result.rowcount


def remove_approvals(
    bind: Session | Engine, *, user: str | None = None, session_id: str | None = None
) -> int:
    """Remove the approvals of a shopper or of one conversation (never an order)."""
    if user is None and session_id is None:
        raise ValueError("name a user or a session")
    with session_scope(bind) as session:
        statement = delete(Approval)
        if user is not None:
            statement = statement.where(Approval.user == user)
        if session_id is not None:
            statement = statement.where(Approval.session_id == session_id)
        result = session.exec(statement)
        session.commit()
        return result.rowcount


def revoke_sign_ins_of(bind: Session | Engine, username: str) -> int:
    """Sign `username` out everywhere; how many live sign-ins were revoked."""
    with session_scope(bind) as session:
        result = session.exec(
            update(SignIn)
            .where(SignIn.username == username, SignIn.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )
        session.commit()
        return result.rowcount


def remove_account(bind: Session | Engine, username: str) -> int:
    """Remove the account itself (and its sign-in rows)."""
    with session_scope(bind) as session:
        session.exec(delete(SignIn).where(SignIn.username == username))
        result = session.exec(delete(User).where(User.username == username))
        session.commit()
        return result.rowcount


def clear_profile(bind: Session | Engine, username: str) -> None:
    """Forget the shopper's profile (size, gender, favourite category); keep the account."""
    with session_scope(bind) as session:
        session.exec(
            update(User)
            .where(User.username == username)
            .values(shoe_size=None, gender=None, preferred_category=None)
        )
        session.commit()


def order_ids_of(bind: Session | Engine, username: str) -> list[str]:
    """The orders of `username` (kept by an erasure, listed on its receipt)."""
    with session_scope(bind) as session:
        return list(session.exec(select(Order.id).where(Order.user == username)).all())
