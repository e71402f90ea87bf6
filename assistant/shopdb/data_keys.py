"""Shoppers' wrapped data keys (see `DataKey`): read, add once, destroy."""

from __future__ import annotations

from sqlalchemy import Engine, delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from assistant.shopdb.engine import session_scope
from assistant.shopdb.tables import DataKey


def get_data_key(bind: Session | Engine, username: str) -> DataKey | None:
    """The wrapped data key of `username`, if one was made."""
    with session_scope(bind) as session:
        return session.get(DataKey, username)


def add_data_key(bind: Session | Engine, username: str, wrapped: str, key_id: str) -> DataKey:
    """Store a new wrapped data key; when another process stored one first, return that one."""
    with session_scope(bind) as session:
        session.add(DataKey(username=username, wrapped=wrapped, key_id=key_id))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
        return session.get(DataKey, username)


def destroy_data_key(bind: Session | Engine, username: str) -> bool:
    """Delete the data key of `username` (crypto-shredding); True if there was one."""
    with session_scope(bind) as session:
        result = session.exec(delete(DataKey).where(DataKey.username == username))
        session.commit()
        return bool(result.rowcount)
