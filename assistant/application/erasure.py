"""Erasure and retention: removing everything a shopper or an old conversation left behind.

`erase_shopper` is "delete my data" (a shopper about themself: the account stays, empty) and
"delete this shopper" (the admin: the account goes too). `cleanup` is the retention period's
clean-up, conversation by conversation through the same `erase_conversation`. Every step is
idempotent, so an erasure that stopped (a crash, the store unreachable) is finished by running it
again, and each returns a receipt of what it removed.

What goes: every Bedrock session of the shopper (ended, then deleted: checkpoints, the cart in
them, every message), their rows in the conversations registry, their approvals, their sign-ins,
and their data key, which makes any copy of their sealed titles unreadable, backups included
(crypto-shredding). What stays: their orders with lines, totals and dates, which a shop must
keep for its accounts and which hold no conversation text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from assistant import shopdb
from assistant.application.context import ShopContext
from assistant.application.conversations import delete_conversation
from assistant.shopdb import erasure as rows


@dataclass
class ErasureReceipt:
    """What an erasure removed and what it kept (never the data itself)."""

    subject: str
    requested_by: str
    started_at: datetime
    finished_at: datetime | None = None
    sessions_deleted: list[str] = field(default_factory=list)
    registry_rows_removed: int = 0
    approvals_removed: int = 0
    sign_ins_revoked: int = 0
    data_key_destroyed: bool = False
    account_removed: bool = False
    orders_kept: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The receipt as JSON-ready values (for the CLI and for records)."""
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
        }


def erase_conversation(ctx: ShopContext, session_id: str) -> tuple[bool, int, int]:
    """Delete one conversation's session and remove its registry row and approvals.

    Returns (the session was deleted now, registry rows removed, approvals removed). The
    session is deleted with its own tenant's credentials.
    """
    row = shopdb.get_conversation(ctx.engine, session_id)
    deleted = False
    if row is not None and row.status != "DELETED":
        delete_conversation(ctx.of_tenant(row.tenant), session_id)
        deleted = True
    approvals = rows.remove_approvals(ctx.engine, session_id=session_id)
    return deleted, rows.remove_conversation_row(ctx.engine, session_id), approvals


def erase_shopper(
    ctx: ShopContext,
    username: str,
    *,
    requested_by: str,
    remove_account: bool,
    progress: Callable[[Iterable], Iterable] = lambda items: items,
) -> ErasureReceipt:
    """Remove everything `username` left behind (see module docstring); return the receipt."""
    receipt = ErasureReceipt(username, requested_by, datetime.now(UTC))
    receipt.sign_ins_revoked = rows.revoke_sign_ins_of(ctx.engine, username)
    for session_id in progress(rows.conversation_ids_of(ctx.engine, username)):
        deleted, registry, approvals = erase_conversation(ctx, session_id)
        if deleted:
            receipt.sessions_deleted.append(session_id)
        receipt.registry_rows_removed += registry
        receipt.approvals_removed += approvals
    receipt.approvals_removed += rows.remove_approvals(ctx.engine, user=username)
    receipt.data_key_destroyed = ctx.sealer.forget(username)
    if remove_account:
        receipt.account_removed = bool(rows.remove_account(ctx.engine, username))
    else:
        rows.clear_profile(ctx.engine, username)
    receipt.orders_kept = rows.order_ids_of(ctx.engine, username)
    receipt.finished_at = datetime.now(UTC)
    return receipt


def cleanup(
    ctx: ShopContext,
    *,
    older_than: timedelta,
    user: str | None = None,
    progress: Callable[[Iterable], Iterable] = lambda items: items,
) -> list[str]:
    """Erase every conversation (of `user` when given) idle for longer than `older_than`;
    return their session ids. The same path as an erasure, one conversation at a time."""
    stale = shopdb.idle_conversations(ctx.engine, datetime.now(UTC) - older_than, user=user)
    for session_id in progress(stale):
        erase_conversation(ctx, session_id)
    return stale
