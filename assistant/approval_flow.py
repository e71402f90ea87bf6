"""The approvals queue between a paused checkout and a store operator.

When a turn ends on the checkout interrupt, the pending checkout is recorded in the shop
database (where any process sees it: the web app, the CLI of another terminal) with the session
and the interrupt id. A decision first claims the record atomically (pending → decided: a second
operator is refused), then checks that the session still waits on that very interrupt, then
resumes the session's graph with `Command(resume=...)`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from langchain_core.messages import ToolMessage
from langgraph.types import Interrupt
from pydantic import ValidationError

from assistant.catalog import (
    AlreadyDecided,
    ApprovalError,
    attach_order,
    claim_decision,
    create_pending,
    get_approval,
    record_failure,
    release_claim,
)
from assistant.checkout import OperatorDecision

if TYPE_CHECKING:
    from assistant.shop import Shop
    from assistant.turns import TurnResult


def record_pending(engine, session_id: str, pending: Interrupt):
    """The approval record of a checkout interrupt (created the first time it is seen)."""
    summary = pending.value if isinstance(pending.value, dict) else {}
    return create_pending(
        engine,
        session_id=session_id,
        interrupt_id=pending.id,
        user=summary.get("user", ""),
        tenant=summary.get("tenant", ""),
        items=summary.get("items", []),
        subtotal=summary.get("subtotal", 0.0),
    )


def decide_checkout(shop: Shop, approval_id: str, decision: dict) -> TurnResult:
    """Validate, claim and apply one operator decision; return the shopper's resulting turn."""
    try:
        parsed = OperatorDecision.model_validate(decision)
    except ValidationError as error:
        problems = "; ".join(item["msg"] for item in error.errors())
        raise ApprovalError(f"Invalid decision: {problems}") from error
    approval = get_approval(shop.engine, approval_id)
    if approval is None:
        raise ApprovalError(f"No approval {approval_id!r}.")
    if approval.status != "pending":
        raise AlreadyDecided(approval)
    snapshot = shop.graph.get_state(shop.config_for(approval.session_id))
    waiting = {pending.id for pending in snapshot.interrupts}
    if approval.interrupt_id not in waiting:
        latest = get_approval(shop.engine, approval_id)
        if latest is not None and latest.status != "pending":
            raise AlreadyDecided(latest)  # another operator decided (and resumed) meanwhile
        raise ApprovalError(
            f"The checkout of approval {approval_id} is no longer waiting "
            "(the conversation moved on or was replayed)."
        )
    claim_decision(shop.engine, approval_id, parsed.model_dump(), parsed.operator)
    try:
        result = shop.resume(approval.session_id, approval.interrupt_id, parsed.model_dump())
    except Exception:
        # The session did not move on: put the checkout back in the queue.
        release_claim(shop.engine, approval_id)
        raise
    outcome = _checkout_outcome(shop, approval.session_id)
    if outcome.get("order_id"):
        attach_order(shop.engine, approval_id, outcome["order_id"])
    elif parsed.action != "reject":
        # Approved, but the shop could not fill it (stock ran out meanwhile): say so in the queue.
        record_failure(shop.engine, approval_id, outcome.get("reason") or "No order was placed.")
    return result


def _checkout_outcome(shop: Shop, session_id: str) -> dict:
    """The result the checkout tool reported to the shopper, as JSON."""
    for message in reversed(shop.messages(session_id)):
        if isinstance(message, ToolMessage) and message.name == "checkout":
            try:
                return json.loads(message.content)
            except (TypeError, ValueError):
                return {}
    return {}
