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

The shopper may withdraw a waiting checkout (`cancel`): the same claim, so of an operator's
decision and the shopper's cancellation exactly one happens; the graph resumes with the
cancellation (nothing is ordered, the cart stays) and the approval ends "cancelled".

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
from assistant.agent.checkout import (
    CheckoutOutcome,
    OperatorDecision,
    checkout_outcome,
    line_key,
    order_lines,
)
from assistant.application.context import ShopContext
from assistant.application.conversations import session_is_gone
from assistant.application.errors import AlreadyDecided, ApprovalError, TurnError
from assistant.application.turns import current, record_pending, resume
from assistant.application.views import (
    ApprovalView,
    DecisionPreview,
    OrderLineView,
    OrderView,
    TurnResult,
    from_row,
)

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


def approval_decision(
    items: list[dict], quantities: dict[str, int], discount_pct: float, note: str | None = None
) -> dict:
    """The decision that approves a checkout of `items` with these quantities (keyed by
    `line_key`) and discount: "approve" when nothing differs from what the shopper asked,
    "edit" otherwise, so an approval with changes is recorded as one. `note` goes to the
    shopper."""
    asked = {line_key(line): int(line["quantity"]) for line in items}
    wanted = {key: int(quantities.get(key, quantity)) for key, quantity in asked.items()}
    note = (note or "").strip() or None
    if wanted == asked and not discount_pct:
        return {"action": "approve", "reason": note}
    return {"action": "edit", "quantities": wanted, "discount_pct": discount_pct, "reason": note}


def preview(ctx: ShopContext, approval_id: str, decision: dict) -> DecisionPreview:
    """What approving with `decision` would order and charge, priced by the very code that
    prices the order (`shopdb.quote_order`), for the lines the checkout tool would order.

    Raises ApprovalError for an unknown approval, a malformed decision or one that does not
    approve (a rejection has no total).
    """
    parsed = _parsed(decision)
    if parsed.action not in ("approve", "edit"):
        raise ApprovalError("Only an approval has a total to preview.")
    approval = shopdb.get_approval(ctx.engine, approval_id)
    if approval is None:
        raise ApprovalError(f"No approval {approval_id!r}.")
    lines = order_lines(approval.items, parsed)
    priced, subtotal, total = [], 0.0, 0.0
    if lines:
        try:
            quote = shopdb.quote_order(ctx.engine, lines, parsed.discount_pct)
        except shopdb.InvalidOrder as error:
            raise ApprovalError(str(error)) from error
        priced = [from_row(OrderLineView, line) for line in quote.lines]
        subtotal, total = quote.subtotal, quote.total
    return DecisionPreview(
        action=parsed.action,
        lines=priced,
        subtotal=subtotal,
        discount_pct=parsed.discount_pct,
        total=total,
        asked_total=approval.total,
    )


def decide(
    ctx: ShopContext, approval_id: str, decision: dict, *, expected_total: float | None = None
) -> TurnResult:
    """Validate, claim and apply one operator decision; return the shopper's resulting turn.

    `expected_total` is the total the operator saw previewed: an approval whose order would
    cost anything else is refused before anything is claimed (what is approved is what was
    shown). Raises AlreadyDecided when someone decided first (or the shopper cancelled),
    ApprovalError when the checkout is no longer waiting, the decision is malformed or the
    total is not the one shown, TurnError when the decision was recorded but could not be
    applied yet (it then completes by itself, see `recover`).
    """
    parsed = _parsed(decision)
    if parsed.action == "cancel":
        raise ApprovalError("Only the shopper can cancel a checkout; reject it with a reason.")
    approval = shopdb.get_approval(ctx.engine, approval_id)
    if approval is None:
        raise ApprovalError(f"No approval {approval_id!r}.")
    if approval.status != "pending":
        raise AlreadyDecided(approval)
    if expected_total is not None and parsed.action != "reject":
        total = preview(ctx, approval_id, decision).total
        if round(total, 2) != round(expected_total, 2):
            raise ApprovalError(
                f"This approval would charge ${total:,.2f}, not the ${expected_total:,.2f} "
                "shown; nothing was decided. Check the new total and approve again."
            )
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


def cancel(ctx: ShopContext, session_id: str, shopper: str) -> TurnResult:
    """The shopper withdraws the checkout waiting in `session_id`; return the resulting turn.

    Takes the approval's claim as a decision does, so of this and an operator's decision at
    the same moment exactly one happens (the other is refused with AlreadyDecided); then it
    resumes the graph with the cancellation: nothing is ordered, the cart stays, the
    conversation carries on. Cancelling again is not an error: the conversation is returned as
    it stands. Raises ApprovalError when no checkout waits, TurnError as `complete`.
    """
    waiting = ctx.snapshot(session_id).interrupts
    approval = record_pending(ctx, session_id, waiting[0]) if waiting else None
    if approval is None:
        newest = shopdb.list_approvals(ctx.engine, session_id=session_id, limit=1)
        if newest and _is_cancel(newest[0]):
            return current(ctx, session_id)  # cancelled already: nothing more to do
        if newest and newest[0].status != "pending":
            raise AlreadyDecided(newest[0])  # the store decided first: too late to cancel
        raise ApprovalError("No checkout of this conversation is waiting for the store.")
    if approval.status != "pending":
        if _is_cancel(approval):
            return current(ctx, session_id)  # being cancelled; `recover` finishes a stopped one
        raise AlreadyDecided(approval)
    decision = OperatorDecision(action="cancel", operator=shopper).model_dump()
    try:
        claimed = shopdb.claim_decision(
            ctx.engine,
            approval.id,
            decision,
            shopper,
            lease_seconds=ctx.settings.approval_lease_seconds,
        )
    except AlreadyDecided as lost:
        if _is_cancel(lost.approval):  # the same shopper's other tab cancelled first
            return current(ctx, session_id)
        raise
    return complete(ctx, claimed)


def _is_cancel(approval) -> bool:
    return (approval.decision or {}).get("action") == "cancel"


def _parsed(decision: dict) -> OperatorDecision:
    """The decision checked, or ApprovalError saying what is wrong with it."""
    try:
        return OperatorDecision.model_validate(decision)
    except ValidationError as error:
        problems = "; ".join(item["msg"].removeprefix("Value error, ") for item in error.errors())
        raise ApprovalError(f"Invalid decision: {problems}.") from error


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
    elif action == "cancel":
        shopdb.finish_decision(ctx.engine, approval.id, "cancelled")
    elif action == "reject":
        shopdb.finish_decision(ctx.engine, approval.id, "rejected")
    else:
        # Approved, but the shop could not fill it (stock ran out meanwhile): say so in the queue.
        reason = (outcome.reason if outcome else None) or "No order was placed."
        shopdb.finish_decision(ctx.engine, approval.id, "failed", reason=reason)


def _undo(ctx: ShopContext, approval, reason: str) -> None:
    """The decision can never reach its conversation: release what it placed, then fail it (a
    shopper's cancellation, which placed nothing, ends cancelled all the same)."""
    attached = {
        row.order_id for row in shopdb.list_approvals(ctx.engine, session_id=approval.session_id)
    }
    for order in shopdb.orders_of_session(ctx.engine, approval.session_id):
        if order.created_at >= approval.created_at and order.id not in attached:
            shopdb.cancel_order(ctx.engine, order.id)
    status = "cancelled" if _is_cancel(approval) else "failed"
    shopdb.finish_decision(ctx.engine, approval.id, status, reason=reason)


def _checkout_outcome(ctx: ShopContext, session_id: str) -> CheckoutOutcome | None:
    """What the newest checkout tool result told the shopper (None if it cannot be read)."""
    messages = (ctx.snapshot(session_id).values or {}).get("messages", [])
    for message in reversed(messages):
        if isinstance(message, ToolMessage) and message.name == "checkout":
            return checkout_outcome(message)
    return None
