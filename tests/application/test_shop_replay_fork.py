"""Replay and fork around an approved checkout: never a second order, never stock taken twice.

Every step of a conversation is a checkpoint in the Bedrock session, so the shopper can replay
from any step or fork a branch with an edited message. Checkpoints taken before an approved
checkout still hold the checkout tool call; running them again pauses again for the store, and
approving that pause must find the order already placed (same idempotency key) rather than
place another (DESIGN decision 6). Because that goes to the store, outside the conversation,
a replay or fork that re-runs a checkout needs the shopper's confirmation first, and what the
shopper reads afterwards names the order that stands and its real total.
"""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from sqlmodel import Session, func, select

from assistant.application import CheckpointView, ConfirmationNeeded
from assistant.application.shop import Shop, TurnError
from assistant.shopdb import Order, get_approval, recent_orders, stock_by_size

APPROVE = {"action": "approve"}


def order_count(shop: Shop) -> int:
    """Orders in the catalog database, all sessions."""
    with Session(shop.engine) as db:
        return db.exec(select(func.count()).select_from(Order)).one()


def checkout_call(views: list[CheckpointView]) -> CheckpointView:
    """The newest checkpoint paused before running the checkout tool."""
    return next(v for v in views if v.next == ["tools"] and v.tool_calls == ["checkout({})"])


def shopper_said(views: list[CheckpointView], text: str) -> CheckpointView:
    """The newest checkpoint whose last message is the shopper saying `text`."""
    return next(v for v in views if v.last_message_type == "human" and v.last_message == text)


@pytest.fixture
def approved_checkout(shop: Shop, signed_in) -> dict:
    """alice bought one pair of the first trail shoe in size 9; the store approved it."""
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes")
    added = shop.send(alice, session_id, "add the first one in size 9")
    product_id = added.cart[0]["product_id"]
    stock_before = stock_by_size(shop.engine, product_id)[9.0]
    waiting = shop.send(alice, session_id, "checkout")
    before_approval = shop.history(alice, session_id)
    approval_id = waiting.pending_approval.id
    assert waiting.pending_approval.replay_of_order is None  # a first purchase

    # Replay and fork are refused while the store has not decided.
    with pytest.raises(TurnError, match="waiting for store approval"):
        shop.replay(alice, session_id, checkout_call(before_approval).checkpoint_id, confirmed=True)

    # The store approves with a discount: the order's total is not the cart's.
    shop.decide(olga, approval_id, {"action": "edit", "discount_pct": 10})
    [order] = recent_orders(shop.engine)
    assert order.total == round(order.subtotal * 0.9, 2)
    assert stock_by_size(shop.engine, product_id)[9.0] == stock_before - 1
    return {
        "session_id": session_id,
        "product_id": product_id,
        "stock_before": stock_before,
        "order_id": order.id,
        "order_total": order.total,
        "before_approval": before_approval,
        "after_approval": shop.history(alice, session_id),
    }


def assert_still_one_order(shop: Shop, bought: dict) -> None:
    assert order_count(shop) == 1
    assert recent_orders(shop.engine)[0].id == bought["order_id"]
    assert stock_by_size(shop.engine, bought["product_id"])[9.0] == bought["stock_before"] - 1


def test_replaying_the_checkout_call_pauses_again_and_approving_finds_the_same_order(
    shop: Shop, approved_checkout: dict, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id = approved_checkout["session_id"]
    order_id, total = approved_checkout["order_id"], approved_checkout["order_total"]
    paused = checkout_call(approved_checkout["before_approval"])
    checkpoints = len(shop.history(alice, session_id))

    # Without a confirmation nothing runs, and the warning says what would happen.
    warning = shop.replay_warning(alice, session_id, paused.checkpoint_id)
    assert warning is not None and warning.reused_order == order_id
    assert warning.reused_total == total
    assert "goes to the store again" in warning.text and "charged twice" in warning.text
    with pytest.raises(ConfirmationNeeded) as refused:
        shop.replay(alice, session_id, paused.checkpoint_id)
    assert refused.value.warning == warning
    assert len(shop.history(alice, session_id)) == checkpoints

    replayed = shop.replay(alice, session_id, paused.checkpoint_id, confirmed=True)

    again = replayed.pending_approval
    assert again is not None and again.status == "pending"
    assert again.replay_of_order == order_id  # the operator's card can say so
    assert shop.approvals(olga)[0].replay_of_order == order_id
    assert order_id in replayed.reply and f"${total:.2f}" in replayed.reply
    assert order_count(shop) == 1  # pausing places nothing
    # The operator approves this time without a discount: the order placed stands as it was.
    decided = shop.decide(olga, again.id, APPROVE)
    assert order_id in decided.reply and f"${total:g}" in decided.reply
    # What the chat shows of the store's answer: that order, its own total and discount.
    shown = next(r.checkout for r in shop.chat(alice, session_id)[-1].replies if r.checkout)
    assert shown.order_id == order_id and shown.total == total
    assert shown.reused and shown.discount_pct == 10
    assert get_approval(shop.engine, again.id).order_id == order_id
    assert decided.cart == []
    assert_still_one_order(shop, approved_checkout)


def test_forking_before_the_checkout_with_an_edited_message_finds_the_same_order(
    shop: Shop, approved_checkout: dict, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id = approved_checkout["session_id"]
    asked = shopper_said(approved_checkout["before_approval"], "checkout")
    with pytest.raises(ConfirmationNeeded, match="would be a new order"):
        shop.fork(alice, session_id, asked.checkpoint_id, message="please check out now")

    forked = shop.fork(
        alice, session_id, asked.checkpoint_id, message="please check out now", confirmed=True
    )

    assert forked.pending_approval is not None
    human = [m.text for m in shop.messages(alice, session_id) if isinstance(m, HumanMessage)]
    assert human[-1] == "please check out now" and "checkout" not in human
    decided = shop.decide(olga, forked.pending_approval.id, APPROVE)
    assert approved_checkout["order_id"] in decided.reply
    assert_still_one_order(shop, approved_checkout)
    assert shop.turns(alice, session_id).branches == 2


def test_replaying_after_the_approval_and_switching_branches_place_nothing(
    shop: Shop, approved_checkout: dict, signed_in
) -> None:
    alice = signed_in(shop, "alice")
    session_id = approved_checkout["session_id"]
    after = approved_checkout["after_approval"]
    # The step where the checkout tool had returned the order, before the confirmation reply.
    ordered = next(v for v in after if v.last_message.startswith("checkout: "))
    assert approved_checkout["order_id"] in ordered.last_message
    newest = after[0]

    # Nothing after this step goes to the store: no confirmation is asked for.
    assert shop.replay_warning(alice, session_id, ordered.checkpoint_id) is None
    replayed = shop.replay(alice, session_id, ordered.checkpoint_id)
    assert replayed.pending_approval is None
    assert approved_checkout["order_id"] in replayed.reply
    assert_still_one_order(shop, approved_checkout)

    # Fork from before the checkout with the cart emptied: the branch has no cart to buy.
    added = shopper_said(after, "checkout")
    emptied = shop.fork(alice, session_id, added.checkpoint_id, cart=[])
    assert emptied.cart == [] and emptied.pending_approval is None

    branches = shop.turns(alice, session_id)
    assert branches.branches == 3  # the purchase, its replayed reply, the emptied cart

    # Back to the original branch: its state comes back, and still nothing is ordered.
    switched = shop.switch_branch(alice, session_id, newest.checkpoint_id)
    assert switched.cart == [] and approved_checkout["order_id"] in switched.reply
    assert shop.history(alice, session_id)[0].message_count == newest.message_count
    assert shop.turns(alice, session_id).branches == 3
    # The middle of a branch is not a branch to switch to (that would start a new one).
    with pytest.raises(TurnError, match="Only the end of a branch"):
        shop.switch_branch(alice, session_id, added.checkpoint_id)
    emptied_end = next(t for t in branches.turns if t.kind == "cart").end_checkpoint_id
    back = shop.switch_branch(alice, session_id, emptied_end)
    assert back.cart == [] and back.pending_approval is None
    assert shop.turns(alice, session_id).branches == 3
    assert_still_one_order(shop, approved_checkout)


def test_replaying_every_checkpoint_before_the_approval_never_orders_twice(
    shop: Shop, approved_checkout: dict, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id = approved_checkout["session_id"]
    # Every step of the conversation before the approval; each replay either pauses for the
    # store (then the store approves it again) or runs to a reply.
    candidates = [view for view in approved_checkout["before_approval"] if view.step >= 0]
    assert len(candidates) >= 10
    for view in candidates:
        result = shop.replay(alice, session_id, view.checkpoint_id, confirmed=True)
        if result.pending_approval is not None:
            decided = shop.decide(olga, result.pending_approval.id, APPROVE)
            assert approved_checkout["order_id"] in decided.reply
        assert_still_one_order(shop, approved_checkout)


def test_buying_the_same_cart_again_later_in_the_conversation_is_a_new_order(
    shop: Shop, approved_checkout: dict, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    # A replay must not order twice, but a shopper who comes back for a second pair must.
    session_id = approved_checkout["session_id"]
    shop.send(alice, session_id, "trail shoes")
    again = shop.send(alice, session_id, "add the first one in size 9")
    assert [line["product_id"] for line in again.cart] == [approved_checkout["product_id"]]
    waiting = shop.send(alice, session_id, "checkout")

    decided = shop.decide(olga, waiting.pending_approval.id, APPROVE)

    assert order_count(shop) == 2
    assert approved_checkout["order_id"] not in decided.reply
    stock = stock_by_size(shop.engine, approved_checkout["product_id"])[9.0]
    assert stock == approved_checkout["stock_before"] - 2
