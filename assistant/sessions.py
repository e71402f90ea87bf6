"""Conversations: one conversation is one Bedrock session.

A session is created with tags (user, tenant, app), which is what IAM uses to keep tenants apart
on AWS (see infra/), and with metadata (user, title). Bedrock's ListSessions cannot filter (it
lists every session of the account), so the app keeps a small registry of its conversations in the
shop database to list a user's sessions in one query; Bedrock stays the source of truth for the
session's status and content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel, select

from assistant.aws import error_code
from assistant.config import Settings


class Conversation(SQLModel, table=True):
    """The app's record of one Bedrock session."""

    session_id: str = Field(primary_key=True, max_length=64)
    user: str = Field(index=True, max_length=64)
    tenant: str = Field(index=True, max_length=64)
    title: str = Field(default="New conversation", max_length=120)
    status: str = Field(default="ACTIVE", max_length=16)
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC), index=True)


class ConversationError(Exception):
    """A conversation cannot be used as asked (unknown, ended, or someone else's)."""


def create_conversation(
    client, engine: Engine, settings: Settings, *, user: str, tenant: str
) -> Conversation:
    """Create a Bedrock session for `user` and record it."""
    request: dict = {
        "tags": {"user": user, "tenant": tenant, "app": settings.app_name},
        "sessionMetadata": {"user": user, "tenant": tenant, "app": settings.app_name},
    }
    if settings.kms_key_arn:
        request["encryptionKeyArn"] = settings.kms_key_arn
    created = client.create_session(**request)
    conversation = Conversation(session_id=created["sessionId"], user=user, tenant=tenant)
    with Session(engine) as db:
        db.add(conversation)
        db.commit()
        db.refresh(conversation)
    return conversation


def get_conversation(engine: Engine, session_id: str) -> Conversation | None:
    """The recorded conversation with this session id, if any."""
    with Session(engine) as db:
        return db.get(Conversation, session_id)


def open_conversation(client, engine: Engine, session_id: str, *, user: str) -> Conversation:
    """The conversation `user` may continue, with its status refreshed from Bedrock.

    Raises ConversationError when the id is unknown, belongs to someone else, or was deleted.
    """
    conversation = get_conversation(engine, session_id)
    if conversation is None or conversation.user != user:
        # Someone else's session is reported exactly like a missing one: no existence leak.
        raise ConversationError(f"No conversation {session_id!r} for {user}.")
    try:
        status = client.get_session(sessionIdentifier=session_id)["sessionStatus"]
    except Exception as error:
        if error_code(error) == "ResourceNotFoundException":
            _set_status(engine, session_id, "DELETED")
            raise ConversationError(f"Conversation {session_id} no longer exists.") from error
        raise
    if status != conversation.status:
        conversation = _set_status(engine, session_id, status)
    return conversation


def list_conversations(engine: Engine, user: str | None = None) -> list[Conversation]:
    """Conversations of `user` (all users when None), most recently active first."""
    with Session(engine) as db:
        query = select(Conversation).where(Conversation.status != "DELETED")
        if user is not None:
            query = query.where(Conversation.user == user)
        return list(db.exec(query.order_by(Conversation.updated_at.desc())))


def touch(engine: Engine, session_id: str, title: str | None = None) -> None:
    """Mark the conversation active now; set its title from the first message."""
    with Session(engine) as db:
        conversation = db.get(Conversation, session_id)
        if conversation is None:
            return
        conversation.updated_at = datetime.now(UTC)
        if title and conversation.title == "New conversation":
            conversation.title = title[:80]
        db.add(conversation)
        db.commit()


def end_conversation(client, engine: Engine, session_id: str) -> None:
    """End the Bedrock session: it stays readable but accepts no more turns."""
    client.end_session(sessionIdentifier=session_id)
    _set_status(engine, session_id, "ENDED")


def delete_conversation(client, engine: Engine, session_id: str) -> None:
    """End (if needed) and delete the Bedrock session and forget the conversation."""
    try:
        client.end_session(sessionIdentifier=session_id)
        client.delete_session(sessionIdentifier=session_id)
    except Exception as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
    _set_status(engine, session_id, "DELETED")


def cleanup(
    client,
    engine: Engine,
    *,
    older_than: timedelta,
    progress: Callable[[Iterable], Iterable] = lambda items: items,
) -> list[str]:
    """End and delete every conversation idle for longer than `older_than`; return their ids."""
    cutoff = datetime.now(UTC) - older_than
    with Session(engine) as db:
        stale = [
            conversation.session_id
            for conversation in db.exec(
                select(Conversation).where(Conversation.status != "DELETED")
            )
            if _aware(conversation.updated_at) < cutoff
        ]
    for session_id in progress(stale):
        delete_conversation(client, engine, session_id)
    return stale


def _aware(moment: datetime) -> datetime:
    # SQLite hands datetimes back without their zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _set_status(engine: Engine, session_id: str, status: str) -> Conversation | None:
    with Session(engine) as db:
        conversation = db.get(Conversation, session_id)
        if conversation is None:
            return None
        conversation.status = status
        conversation.updated_at = datetime.now(UTC)
        db.add(conversation)
        db.commit()
        db.refresh(conversation)
        return conversation
