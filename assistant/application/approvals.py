"""Approve a checkout: the queue between a paused checkout and a store operator, in one place.

When a turn ends on the checkout interrupt, the pending checkout is recorded in the shop database
(`turns.record_pending`), where any process sees it: the web app, the CLI of another terminal. A
decision is validated, then claims the record atomically (pending → decided: a second operator is
refused), checks that the session still waits on that very interrupt, and resumes the session's
graph with `Command(resume=...)`; the order the checkout tool placed is then attached to the
record, or the record says why no order was placed.
"""

from __future__ import annotations

from langchain_core.messages import ToolMessage
from pydantic import ValidationError

from assistant import shopdb
from assistant.agent.checkout import CheckoutOutcome, OperatorDecision, checkout_outcome
from assistant.application.context import ShopContext
from assistant.application.errors import AlreadyDecided, ApprovalError, readable_errors
from assistant.application.turns import resume
from assistant.application.views import ApprovalView, OrderView, TurnResult


def list_approvals(ctx: ShopContext, status: str | None = "pending") -> list[ApprovalView]:
    """Checkouts in the approvals queue (all sessions); pending ones oldest first."""
    return [ApprovalView.of(row) for row in shopdb.list_approvals(ctx.engine, status=status)]


def recent_orders(ctx: ShopContext, limit: int = 20) -> list[OrderView]:
    """The most recent orders, newest first."""
    return [OrderView.of(row) for row in shopdb.recent_orders(ctx.engine, limit=limit)]


def decide(ctx: ShopContext, approval_id: str, decision: dict) -> TurnResult:
    """Validate, claim and apply one operator decision; return the shopper's resulting turn.

    Raises AlreadyDecided when someone decided first, ApprovalError when the checkout is no
    longer waiting or the decision is malformed.
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
    snapshot = ctx.snapshot(approval.session_id)
    if approval.interrupt_id not in {pending.id for pending in snapshot.interrupts}:
        latest = shopdb.get_approval(ctx.engine, approval_id)
        if latest is not None and latest.status != "pending":
            raise AlreadyDecided(latest)  # another operator decided (and resumed) meanwhile
        raise ApprovalError(
            f"The checkout of approval {approval_id} is no longer waiting "
            "(the conversation moved on or was replayed)."
        )
    value = parsed.model_dump()
    shopdb.claim_decision(ctx.engine, approval_id, value, parsed.operator)
    try:
        with readable_errors(ctx.settings):
            result = resume(ctx, approval.session_id, approval.interrupt_id, value)
    except Exception:
        # The session did not move on: put the checkout back in the queue.
        shopdb.release_claim(ctx.engine, approval_id)
        raise
    outcome = _checkout_outcome(ctx, approval.session_id)
    if outcome is not None and outcome.order_id:
        shopdb.attach_order(ctx.engine, approval_id, outcome.order_id)
    elif parsed.action != "reject":
        # Approved, but the shop could not fill it (stock ran out meanwhile): say so in the queue.
        reason = (outcome.reason if outcome else None) or "No order was placed."
        shopdb.record_failure(ctx.engine, approval_id, reason)
    return result


def _checkout_outcome(ctx: ShopContext, session_id: str) -> CheckoutOutcome | None:
    """What the newest checkout tool result told the shopper (None if it cannot be read)."""
    messages = (ctx.snapshot(session_id).values or {}).get("messages", [])
    for message in reversed(messages):
        if isinstance(message, ToolMessage) and message.name == "checkout":
            return checkout_outcome(message)
    return None
