"""What running part of a conversation again does outside it: the checkout, and only that.

Replay and fork re-run steps of the graph. Every step but one changes only the conversation (the
messages and the cart, kept in the checkpoints); the checkout asks the store, which places an
order and takes stock. So before a replay or a fork re-runs a checkout, the shopper is told
what will happen and must confirm (`checkout_warning`, `ConfirmationNeeded`):

* the checkout goes to the store again, and the chat waits until the store decides;
* placing an order is idempotent (`agent/checkout.py`: the key is the session, the orders
  already placed on the branch and the exact cart), so if the store approves the same cart
  again, the order already placed is reused: nothing is charged twice, no stock is taken twice.

`reused_order` finds that order for a checkout waiting in the queue, so the operator's card can
say the checkout replays it (`ApprovalView.replay_of_order`).
"""

from __future__ import annotations

from assistant import shopdb
from assistant.agent.checkout import checkout_outcome, idempotency_key, orders_placed
from assistant.agent.state import cart_total
from assistant.application.context import ShopContext
from assistant.application.errors import TurnError
from assistant.application.shop_words import money
from assistant.application.turn_history import (
    Point,
    checkout_calls_after,
    history_snapshots,
    points_of,
)
from assistant.application.views import CheckoutWarning


class ConfirmationNeeded(TurnError):
    """A replay or fork would send a checkout to the store again; `warning` says what happens.
    Call again with `confirmed=True` once the shopper has agreed."""

    def __init__(self, warning: CheckoutWarning):
        self.warning = warning
        super().__init__(warning.text)


def order_for(ctx: ShopContext, session_id: str, messages: list, cart: list[dict]):
    """The placed order a checkout of `cart` after `messages` would get back, if any."""
    if not cart:
        return None
    key = idempotency_key(session_id, cart, orders_placed(messages))
    order = shopdb.order_by_key(ctx.engine, key)
    return order if order is not None and order.status == "placed" else None


def reused_order(ctx: ShopContext, session_id: str, items: list[dict]) -> str | None:
    """The order that approving the checkout now waiting in `session_id` would reuse: one
    already placed for this very cart at this point of the conversation (a replay, or a fork
    that bought the same cart), else None."""
    messages = (ctx.snapshot(session_id).values or {}).get("messages", [])
    order = order_for(ctx, session_id, messages, items)
    return order.id if order is not None else None


def checkout_warning(
    ctx: ShopContext, session_id: str, checkpoint_id: str
) -> CheckoutWarning | None:
    """What re-running the conversation from `checkpoint_id` (a replay, or a fork answering an
    edited message there) does at the store, or None when it reaches no checkout."""
    points = points_of(history_snapshots(ctx, session_id))
    if checkpoint_id not in points:
        return None
    calls = checkout_calls_after(points, checkpoint_id)
    if not calls:
        return None
    call = calls[0]
    order = order_for(ctx, session_id, call.messages, call.cart)
    text = (
        f"Turn {call.humans} went to checkout ({_outcome(call)}). Replaying it, or forking it "
        "with an edited message, runs that checkout again, so it goes to the store again: the "
        "chat waits until the store decides, and so do replay, fork and switching branches. "
    )
    if order is not None:
        text += (
            f"If the store approves the same cart, order {order.id} ({money(order.total)}) is "
            "reused: nothing is charged twice and no stock is taken again. A different cart "
            "(after an edit) would be a new order."
        )
    else:
        text += "No order was placed for that cart, so if the store approves, a new order is."
    return CheckoutWarning(
        checkpoint_id=checkpoint_id,
        text=text,
        reused_order=order.id if order is not None else None,
        reused_total=order.total if order is not None else None,
    )


def _outcome(call: Point) -> str:
    """What the store decided about the checkout sent at `call` (on its newest branch)."""
    for child in sorted(call.children, key=lambda c: c.view.created_at, reverse=True):
        for message in child.messages[len(call.messages) :]:
            outcome = checkout_outcome(message)
            if outcome is None:
                continue
            if outcome.order_id:
                return f"the store approved order {outcome.order_id}, {money(outcome.total)}"
            if outcome.status == "rejected":
                return f"the store declined: {outcome.reason or 'no reason given'}"
            if outcome.status:
                return f"the checkout was {outcome.status}"
            return outcome.error or "the checkout did not go through"
    return f"an order of {money(cart_total(call.cart))}"


def confirm(ctx: ShopContext, session_id: str, checkpoint_id: str, *, confirmed: bool) -> None:
    """Raise ConfirmationNeeded unless `confirmed` or nothing is sent to the store again."""
    if confirmed:
        return
    warning = checkout_warning(ctx, session_id, checkpoint_id)
    if warning is not None:
        raise ConfirmationNeeded(warning)
