"""The demo users: shoppers with a profile, and store operators."""

from sqlalchemy import Engine
from sqlmodel import Session, select

from assistant.shopdb.engine import session_scope
from assistant.shopdb.tables import User


def get_user(bind: Session | Engine, username: str) -> User | None:
    """The user called `username` (case-insensitive), or None."""
    with session_scope(bind) as session:
        return session.get(User, (username or "").strip().lower())


def list_users(bind: Session | Engine, role: str | None = None) -> list[User]:
    """Every user, or only those with `role` ("shopper" or "operator"), by username."""
    with session_scope(bind) as session:
        statement = select(User).order_by(User.username)
        if role is not None:
            statement = statement.where(User.role == role)
        return list(session.exec(statement).all())
