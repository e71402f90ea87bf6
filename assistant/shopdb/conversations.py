"""The conversations registry: which Bedrock sessions belong to which user, with a title.

Plain data access over the `Conversation` table; the application keeps it in step with Bedrock
(`assistant.application.conversations`), which stays the source of truth for status and content.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from assistant.shopdb.engine import session_scope
from assistant.shopdb.tables import Conversation, utc_now

NEW_TITLE = "New conversation"
TITLE_CHARS = 80


def add_conversation(
    bind: Session | Engine, *, session_id: str, user: str, tenant: str
) -> Conversation:
    """Record a new conversation and return it."""
    conversation = Conversation(session_id=session_id, user=user, tenant=tenant)
    with session_scope(bind) as session:
        session.add(conversation)
        session.commit()
        session.refresh(conversation)
    return conversation


def get_conversation(bind: Session | Engine, session_id: str) -> Conversation | None:
    """The recorded conversation with this session id, if any."""
    with session_scope(bind) as session:
        return session.get(Conversation, session_id)


def list_conversations(
    bind: Session | Engine,
    user: str | None = None,
    *,
    tenant: str | None = None,
    include_deleted: bool = False,
) -> list[Conversation]:
    """Conversations of `user` and/or `tenant` (every one when both are None), most recently
    active first."""
    with session_scope(bind) as session:
        query = select(Conversation)
        if not include_deleted:
            query = query.where(Conversation.status != "DELETED")
        if user is not None:
            query = query.where(Conversation.user == user)
        if tenant is not None:
            query = query.where(Conversation.tenant == tenant)
        return list(session.exec(query.order_by(Conversation.updated_at.desc())))


def touch_conversation(
    bind: Session | Engine, session_id: str, title_sealed: str | None = None
) -> None:
    """Mark the conversation active now; the first title given (sealed) becomes its title."""
    with session_scope(bind) as session:
        conversation = session.get(Conversation, session_id)
        if conversation is None:
            return
        conversation.updated_at = utc_now()
        if title_sealed and conversation.title_sealed is None:
            conversation.title_sealed = title_sealed
        session.add(conversation)
        session.commit()


def replace_title(bind: Session | Engine, session_id: str, title_sealed: str) -> None:
    """Store a sealed title in place of a title kept in clear (databases from before)."""
    with session_scope(bind) as session:
        conversation = session.get(Conversation, session_id)
        if conversation is not None:
            conversation.title_sealed = title_sealed
            conversation.title = NEW_TITLE
            session.add(conversation)
            session.commit()


def set_conversation_status(
    bind: Session | Engine, session_id: str, status: str
) -> Conversation | None:
    """Set the recorded status (ACTIVE, ENDED, EXPIRED, DELETED); return the row, or None."""
    with session_scope(bind) as session:
        conversation = session.get(Conversation, session_id)
        if conversation is None:
            return None
        conversation.status = status
        conversation.updated_at = utc_now()
        session.add(conversation)
        session.commit()
        session.refresh(conversation)
        return conversation


def mark_copy(bind: Session | Engine, session_id: str, source: str) -> None:
    """Record that conversation `session_id` was copied from conversation `source`."""
    with session_scope(bind) as session:
        conversation = session.get(Conversation, session_id)
        if conversation is not None:
            conversation.copied_from = source
            session.add(conversation)
            session.commit()


def copy_ancestors(bind: Session | Engine, session_id: str, limit: int = 20) -> list[str]:
    """The conversations `session_id` was copied from, nearest first (a copy of a copy...)."""
    ancestors: list[str] = []
    current = get_conversation(bind, session_id)
    while current is not None and current.copied_from and len(ancestors) < limit:
        if current.copied_from in ancestors:
            break
        ancestors.append(current.copied_from)
        current = get_conversation(bind, current.copied_from)
    return ancestors


def idle_conversations(
    bind: Session | Engine, idle_since: datetime, *, user: str | None = None
) -> list[str]:
    """Ids of conversations (not deleted; of `user` when given) idle since `idle_since`."""
    with session_scope(bind) as session:
        query = select(Conversation).where(Conversation.status != "DELETED")
        if user is not None:
            query = query.where(Conversation.user == user)
        rows = session.exec(query)
        return [row.session_id for row in rows if _aware(row.updated_at) < idle_since]


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without their zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
