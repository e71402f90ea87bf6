"""Approve a checkout: the queue between a paused checkout and a store operator, in one place.

When a turn ends on the checkout interrupt, the pending checkout is recorded in the shop database
(`turns.record_pending`), where any process sees it: the web app, the CLI of another terminal.
A decision is a small state machine (docs/approvals.md) whose every step is safe to repeat:

1. validate the decision; claim the approval (pending → deciding, with a lease): a second
   operator is refused;
2. resume the session's graph with `Command(resume=...)` if it still waits on that interrupt
   (the checkout tool places the order under an idempotency key: same checkout, same order);
3. read the outcome the checkout tool wrote into the conversation and finish the approval:
   approved with its order, rejected, or failed with the reason (stock ran out, say).

A process that dies anywhere in between leaves the approval "deciding" with a lease. Once the
lease has expired, `recover` (run when a Shop starts, by every command that touches approvals
and by the running app's periodic sweep) takes the approval over and repeats the steps from 2:
a resume that already happened is not repeated, an order already placed is found again. When the
conversation can never be resumed (it ended or was deleted), an order the decision placed is
cancelled and its stock returned, and the approval fails with the reason: never both.
"""

from __future__ import annotations

import logging

from langchain_core.messages import ToolMessage
from pydantic import ValidationError

from assistant import shopdb
from assistant.agent.checkout import CheckoutOutcome, OperatorDecision, checkout_outcome
from assistant.application.context import ShopContext
from assistant.application.conversations import session_is_gone
from assistant.application.errors import AlreadyDecided, ApprovalError, TurnError
from assistant.application.turns import current, resume
from assistant.application.views import ApprovalView, OrderView, TurnResult

log = logging.getLogger(__name__)


def list_approvals(
    ctx: ShopContext, status: str | None = "pending", *, tenant: str | None = None
) -> list[ApprovalView]:
    """Checkouts in the approvals queue (of one tenant when given); pending ones oldest first."""
    rows = shopdb.list_approvals(ctx.engine, status=status, tenant=tenant)
    return [ApprovalView.of(row) for row in rows]


def recent_orders(
    ctx: ShopContext, limit: int = 20, *, user: str | None = None, tenant: str | None = None
) -> list[OrderView]:
    """The most recent orders (of one user and/or tenant when given), newest first."""
    rows = shopdb.recent_orders(ctx.engine, user=user, tenant=tenant, limit=limit)
    return [OrderView.of(row) for row in rows]


def decide(ctx: ShopContext, approval_id: str, decision: dict) -> TurnResult:
    """Validate, claim and apply one operator decision; return the shopper's resulting turn.

    Raises AlreadyDecided when someone decided first, ApprovalError when the checkout is no
    longer waiting or the decision is malformed, TurnError when the decision was recorded but
    could not be applied yet (it then completes by itself, see `recover`).
    """
    try:
        parsed = OperatorDecision.model_validate(decision)
    except ValidationError as error:
        problems = "; ".join(item["msg"] for item in error.errors())
        raise ApprovalError(f"Invalid decision: {problems}") from error
    approval = shopdb.get_approval(ctx.engine, approval_id)
    if approval is None:
        raise ApprovalError(f"No approval {approval_id!r}.")
    if approval.status != "pending":
        raise AlreadyDecided(approval)
    if approval.interrupt_id not in {
        item.id for item in ctx.snapshot(approval.session_id).interrupts
    }:
        latest = shopdb.get_approval(ctx.engine, approval_id)
        if latest is not None and latest.status != "pending":
            raise AlreadyDecided(latest)  # another operator decided (and resumed) meanwhile
        shopdb.close_stale(ctx.engine, approval_id, "The conversation no longer waits for it.")
        raise ApprovalError(
            f"The checkout of approval {approval_id} is no longer waiting (the conversation "
            "moved on or was replayed); it has left the queue."
        )
    claimed = shopdb.claim_decision(
        ctx.engine,
        approval_id,
        parsed.model_dump(),
        parsed.operator,
        lease_seconds=ctx.settings.approval_lease_seconds,
    )
    return complete(ctx, claimed)


def complete(ctx: ShopContext, approval) -> TurnResult:
    """Steps 2 and 3 for an approval this process holds in "deciding"; safe to repeat.

    Raises TurnError when the session store failed: the approval stays "deciding" and is
    finished by `recover` once its lease expires.
    """
    waiting = {item.id for item in ctx.snapshot(approval.session_id).interrupts}
    result = None
    if approval.interrupt_id in waiting:
        try:
            result = resume(ctx, approval.session_id, approval.interrupt_id, approval.decision)
        except Exception as error:
            if session_is_gone(ctx, approval.session_id):
                _undo(ctx, approval, "The conversation ended before the decision was applied.")
                raise TurnError(
                    f"Approval {approval.id} could not be applied: the conversation has ended. "
                    "Any order it placed was cancelled."
                ) from error
            shopdb.note_error(ctx.engine, approval.id, f"{type(error).__name__}: {error}")
            raise TurnError(
                f"The decision on {approval.id} is recorded but the session store failed while "
                f"applying it ({error}); it will be applied automatically."
            ) from error
    _finish(ctx, approval, _checkout_outcome(ctx, approval.session_id))
    return result if result is not None else current(ctx, approval.session_id)


def recover(ctx: ShopContext) -> int:
    """Finish every decision whose holder stopped before the end (lease expired); return how many
    were finished. Safe to run from several processes at once: each approval is taken over by
    exactly one of them."""
    finished = 0
    for expired in shopdb.expired_claims(ctx.engine):
        approval = shopdb.reclaim_expired(
            ctx.engine, expired.id, lease_seconds=ctx.settings.approval_lease_seconds
        )
        if approval is None:
            continue  # another process took it over
        try:
            complete(ctx.of_tenant(approval.tenant), approval)
            finished += 1
        except Exception as error:  # recorded on the approval; the next sweep tries again
            log.warning("approval %s not finished yet: %s", approval.id, error)
    return finished


def _finish(ctx: ShopContext, approval, outcome: CheckoutOutcome | None) -> None:
    action = (approval.decision or {}).get("action")
    if outcome is not None and outcome.order_id:
        shopdb.finish_decision(ctx.engine, approval.id, "approved", order_id=outcome.order_id)
    elif action == "reject":
        shopdb.finish_decision(ctx.engine, approval.id, "rejected")
    else:
        # Approved, but the shop could not fill it (stock ran out meanwhile): say so in the queue.
        reason = (outcome.reason if outcome else None) or "No order was placed."
        shopdb.finish_decision(ctx.engine, approval.id, "failed", reason=reason)


def _undo(ctx: ShopContext, approval, reason: str) -> None:
    """The decision can never reach its conversation: release what it placed, then fail it."""
    attached = {
        row.order_id for row in shopdb.list_approvals(ctx.engine, session_id=approval.session_id)
    }
    for order in shopdb.orders_of_session(ctx.engine, approval.session_id):
        if order.created_at >= approval.created_at and order.id not in attached:
            shopdb.cancel_order(ctx.engine, order.id)
    shopdb.finish_decision(ctx.engine, approval.id, "failed", reason=reason)


def _checkout_outcome(ctx: ShopContext, session_id: str) -> CheckoutOutcome | None:
    """What the newest checkout tool result told the shopper (None if it cannot be read)."""
    messages = (ctx.snapshot(session_id).values or {}).get("messages", [])
    for message in reversed(messages):
        if isinstance(message, ToolMessage) and message.name == "checkout":
            return checkout_outcome(message)
    return None
