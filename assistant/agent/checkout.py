"""The approval-gated checkout tool.

Checkout is the only tool with a side effect outside the graph (an order and a stock decrement),
so it is the only one gated by a human. The tool pauses the graph with `interrupt()` carrying the
order summary; only an operator's decision, sent with `Command(resume=...)` by
`assistant.application.approvals.decide`, resumes it with an order (the shopper may also withdraw
the checkout, `approvals.cancel`, which orders nothing). The gate is code, not prompt: no message
a shopper types reaches `place_order`, because the only value that does is the resume value.

The node re-runs from its start when resumed, so nothing before `interrupt()` has side effects.
Placing the order is idempotent: the key is the session plus the exact cart, so a replay or a fork
of a checkpoint taken before an approved checkout finds the existing order instead of placing a
second one (and never decrements stock twice).
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import InjectedToolCallId, tool
from langgraph.prebuilt import InjectedState
from langgraph.types import Command, interrupt
from pydantic import BaseModel, Field, ValidationError, model_validator

from assistant.agent.state import CartLine, cart_total
from assistant.agent.tools import engine_from
from assistant.shopdb import InvalidOrder, OutOfStock, order_by_key, place_order


class OperatorDecision(BaseModel):
    """What a store operator decided about one pending checkout, or the shopper's cancellation.

    "cancel" comes only from the shopper whose checkout it is (`Shop.cancel_checkout`, which
    puts the shopper's name in `operator`); an operator refuses an order with "reject".
    """

    action: Literal["approve", "edit", "reject", "cancel"]
    operator: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(None, max_length=500)
    discount_pct: float = Field(0, ge=0, le=50)
    quantities: dict[str, int] = Field(
        default_factory=dict,
        description='New quantity per cart line, keyed "product_id|size"; 0 removes the line.',
    )

    @model_validator(mode="after")
    def _reason_for_rejection(self) -> OperatorDecision:
        if self.action == "reject" and not (self.reason or "").strip():
            raise ValueError("a rejection needs a reason the shopper can read")
        return self


class CheckoutOutcome(BaseModel):
    """What the checkout tool answered, read back from its ToolMessage: the one parser of it.

    `status` is "approved", "edited", "rejected" or "cancelled" (by the shopper); an empty cart
    answers with `error` only.
    """

    status: Literal["approved", "edited", "rejected", "cancelled"] | None = None
    order_id: str | None = None
    total: float | None = None
    discount_pct: float = 0
    items: list[dict] = Field(default_factory=list)
    reason: str | None = None
    error: str | None = None
    reused: bool = False  # the order was placed before (a replay or fork): not charged again

    @property
    def placed_order(self) -> bool:
        """True when the checkout placed an order."""
        return bool(self.order_id)


def checkout_outcome(message: Any) -> CheckoutOutcome | None:
    """The outcome carried by a checkout ToolMessage; None for any other message or bad JSON."""
    if not isinstance(message, ToolMessage) or message.name != "checkout":
        return None
    try:
        return CheckoutOutcome.model_validate_json(message.content)
    except (TypeError, ValueError):
        return None


def line_key(line: CartLine) -> str:
    """The key of a cart line in `OperatorDecision.quantities`."""
    return f"{line['product_id']}|{line['size']:g}"


def order_summary(cart: list[CartLine], user: str, tenant: str, session_id: str) -> dict:
    """The payload the checkout interrupt carries to the operator."""
    return {
        "type": "checkout_approval",
        "user": user,
        "tenant": tenant,
        "session_id": session_id,
        "items": [dict(line) for line in cart],
        "subtotal": cart_total(cart),
    }


def pending_checkout(summary: Any) -> dict:
    """The approval fields (user, tenant, items, subtotal) of a checkout interrupt's payload."""
    summary = summary if isinstance(summary, dict) else {}
    return {
        "user": summary.get("user", ""),
        "tenant": summary.get("tenant", ""),
        "items": summary.get("items", []),
        "subtotal": summary.get("subtotal", 0.0),
    }


def idempotency_key(session_id: str, cart: list[CartLine], orders_before: int = 0) -> str:
    """Same session, same earlier purchases and same cart → same key → at most one order.

    `orders_before` counts the orders already placed earlier on this branch, so buying the same
    cart again later in the conversation is a new order, while a replay or fork of a checkpoint
    before an approval (same count, same cart) finds the order it already placed.
    """
    canonical = json.dumps(
        sorted([line["product_id"], float(line["size"]), line["quantity"]] for line in cart)
    )
    return hashlib.sha256(f"{session_id}|{orders_before}|{canonical}".encode()).hexdigest()[:32]


def orders_placed(messages: list) -> int:
    """How many checkouts on this branch of the conversation placed an order."""
    return sum(
        1 for message in messages if (outcome := checkout_outcome(message)) and outcome.placed_order
    )


def order_lines(cart: list[CartLine], decision: OperatorDecision) -> list[CartLine]:
    """The lines an approving decision orders: the operator's edit of the cart, or the cart.

    The checkout tool orders exactly these, and the operator's preview prices exactly these.
    """
    return apply_edit(cart, decision) if decision.action == "edit" else list(cart)


def apply_edit(cart: list[CartLine], decision: OperatorDecision) -> list[CartLine]:
    """The cart with the operator's quantity changes applied (lines set to 0 are dropped)."""
    edited: list[CartLine] = []
    for line in cart:
        quantity = decision.quantities.get(line_key(line), line["quantity"])
        if quantity > 0:
            edited.append({**line, "quantity": int(quantity)})
    return edited


CANCELLED_MESSAGE = "You cancelled this checkout; nothing was ordered and your cart is unchanged."


ORDER_LINE_FIELDS = ("product_id", "name", "size", "quantity", "unit_price")


def reused_order_body(order: Any) -> dict:
    """The checkout's answer when this cart was already bought at this point of the
    conversation (a replay, or a fork that bought the same cart): the order placed then is
    found again, and its own lines, discount and total stand, whatever this decision said."""
    return {
        "status": "approved",
        "order_id": order.id,
        "total": order.total,
        "discount_pct": order.discount_pct,
        "items": [
            {name: getattr(line, name) for name in ORDER_LINE_FIELDS} for line in order.lines
        ],
        "reused": True,
        "message": f"Order {order.id} was already placed for this cart earlier in this "
        f"conversation; it stands (total ${order.total:,.2f}) and nothing is charged again.",
    }


def _reply(tool_call_id: str, body: dict, **update: Any) -> Command:
    message = ToolMessage(json.dumps(body), tool_call_id=tool_call_id, name="checkout")
    return Command(update={"messages": [message], **update})


@tool
def checkout(
    state: Annotated[dict, InjectedState],
    tool_call_id: Annotated[str, InjectedToolCallId],
    config: RunnableConfig,
) -> Command:
    """Send the cart to the store for approval and place the order once a store operator approves.

    Call this only when the shopper asks to check out, buy or place the order. The conversation
    waits until the store decides; the result says whether the order was approved (with the order
    id and total), edited by the store, or rejected (with the reason).
    """
    cart: list[CartLine] = list(state.get("cart") or [])
    if not cart:
        return _reply(tool_call_id, {"ok": False, "error": "The cart is empty; add shoes first."})
    session_id = config["configurable"]["thread_id"]
    user, tenant = state.get("user", ""), state.get("tenant", "")

    raw_decision = interrupt(order_summary(cart, user, tenant, session_id))

    try:
        decision = OperatorDecision.model_validate(raw_decision)
    except ValidationError:
        # Anything but a well-formed operator decision is not an approval.
        return _reply(
            tool_call_id,
            {"status": "rejected", "reason": "The store could not process the approval."},
        )
    if decision.action == "reject":
        return _reply(tool_call_id, {"status": "rejected", "reason": decision.reason})
    if decision.action == "cancel":  # the cart stays, so the shopper can change it and buy again
        return _reply(tool_call_id, {"status": "cancelled", "message": CANCELLED_MESSAGE})

    lines = order_lines(cart, decision)
    if not lines:
        return _reply(
            tool_call_id,
            {"status": "rejected", "reason": decision.reason or "The store removed every item."},
        )
    try:
        key = idempotency_key(session_id, cart, orders_placed(state.get("messages") or []))
        earlier = order_by_key(engine_from(config), key)
        order = place_order(
            engine_from(config),
            idempotency_key=key,
            user=user,
            tenant=tenant,
            session_id=session_id,
            lines=lines,
            discount_pct=decision.discount_pct,
        )
    except (OutOfStock, InvalidOrder) as error:
        return _reply(tool_call_id, {"status": "rejected", "reason": str(error)})
    if earlier is not None:
        return _reply(tool_call_id, reused_order_body(order), cart=[])
    body = {
        "status": "edited" if decision.action == "edit" else "approved",
        "order_id": order.id,
        "total": order.total,
        "discount_pct": decision.discount_pct,
        "items": [dict(line) for line in lines],
        "reason": decision.reason,
        "message": f"Order {order.id} placed.",
    }
    return _reply(tool_call_id, body, cart=[])
