"""Conversations: one conversation is one Bedrock session, listed through the shop's registry.

A session is created with tags (user, tenant, app), which is what IAM uses to keep tenants apart
on AWS (see infra/), and with metadata (user, tenant, app). Bedrock's ListSessions cannot filter
(it lists every session of the account), so the shop database keeps a registry of conversations
(`assistant.shopdb.conversations`) to list a user's sessions in one query; Bedrock stays the
source of truth for the session's status and content.
"""

from __future__ import annotations

from assistant import shopdb
from assistant.application.clients import error_code
from assistant.application.context import ShopContext
from assistant.application.errors import TurnError, readable_errors
from assistant.application.views import ConversationView


def create_conversation(ctx: ShopContext, *, user: str, tenant: str) -> ConversationView:
    """Create a Bedrock session for `user` and record it."""
    tags = {"user": user, "tenant": tenant, "app": ctx.settings.app_name}
    request: dict = {"tags": tags, "sessionMetadata": dict(tags)}
    if ctx.settings.kms_key_arn:
        request["encryptionKeyArn"] = ctx.settings.kms_key_arn
    created = ctx.client.create_session(**request)
    row = shopdb.add_conversation(
        ctx.engine, session_id=created["sessionId"], user=user, tenant=tenant
    )
    return view_of(ctx, row)


def open_conversation(ctx: ShopContext, session_id: str, *, user: str) -> ConversationView:
    """The conversation `user` may continue, with its status refreshed from Bedrock.

    Raises TurnError when the id is unknown, belongs to someone else, or was deleted.
    """
    row = shopdb.get_conversation(ctx.engine, session_id)
    if row is None or row.user != user:
        # Someone else's session is reported exactly like a missing one: no existence leak.
        raise TurnError(f"No conversation {session_id!r} for {user}.")
    with readable_errors(ctx.settings):
        try:
            status = ctx.client.get_session(sessionIdentifier=session_id)["sessionStatus"]
        except Exception as error:
            if error_code(error) == "ResourceNotFoundException":
                shopdb.set_conversation_status(ctx.engine, session_id, "DELETED")
                raise TurnError(f"Conversation {session_id} no longer exists.") from error
            raise
    if status != row.status:
        row = shopdb.set_conversation_status(ctx.engine, session_id, status) or row
    return view_of(ctx, row)


def session_is_gone(ctx: ShopContext, session_id: str) -> bool:
    """True when the Bedrock session can take no more writes: ended, expired or deleted.

    False when it is active or when the store cannot be asked right now (a failure to ask is
    not an answer).
    """
    try:
        status = ctx.client.get_session(sessionIdentifier=session_id)["sessionStatus"]
    except Exception as error:
        return error_code(error) == "ResourceNotFoundException"
    return status != "ACTIVE"


def list_conversations(
    ctx: ShopContext, user: str | None = None, *, tenant: str | None = None
) -> list[ConversationView]:
    """Conversations of `user` and/or `tenant` (every one when both are None), most recently
    active first."""
    rows = shopdb.list_conversations(ctx.engine, user, tenant=tenant)
    return [view_of(ctx, row) for row in rows]


def view_of(ctx: ShopContext, row) -> ConversationView:
    """The view of a registry row, its title opened with the shopper's data key."""
    title = ctx.sealer.unseal(row.user, row.title_sealed, context=row.session_id)
    return ConversationView.of(row, title=title or shopdb.NEW_TITLE)


def set_title(ctx: ShopContext, session_id: str, user: str, title: str) -> None:
    """Give a conversation its title (once), sealed with the shopper's data key."""
    title = title.strip()[: shopdb.TITLE_CHARS]
    if title:
        sealed = ctx.sealer.seal(user, title, context=session_id)
        shopdb.touch_conversation(ctx.engine, session_id, title_sealed=sealed)
    else:
        shopdb.touch_conversation(ctx.engine, session_id)


def seal_legacy_titles(ctx: ShopContext) -> int:
    """Seal titles that databases from before kept in clear; return how many."""
    sealed = 0
    for row in shopdb.list_conversations(ctx.engine, include_deleted=True):
        if row.title != shopdb.NEW_TITLE and row.title_sealed is None:
            shopdb.replace_title(
                ctx.engine,
                row.session_id,
                ctx.sealer.seal(row.user, row.title, context=row.session_id),
            )
            sealed += 1
    return sealed


def end_conversation(ctx: ShopContext, session_id: str) -> None:
    """End the Bedrock session: it stays readable but accepts no more turns."""
    ctx.client.end_session(sessionIdentifier=session_id)
    shopdb.set_conversation_status(ctx.engine, session_id, "ENDED")


def delete_conversation(ctx: ShopContext, session_id: str) -> None:
    """End (if needed) and delete the Bedrock session, and mark the conversation deleted."""
    try:
        ctx.client.end_session(sessionIdentifier=session_id)
        ctx.client.delete_session(sessionIdentifier=session_id)
    except Exception as error:
        if error_code(error) != "ResourceNotFoundException":
            raise
    shopdb.set_conversation_status(ctx.engine, session_id, "DELETED")
    ctx.history.forget(session_id)  # no decrypted copy of it stays in this process
