"""Replay and fork around an approved checkout: never a second order, never stock taken twice.

Every step of a conversation is a checkpoint in the Bedrock session, so the shopper can replay
from any step or fork a branch with an edited message. Checkpoints taken before an approved
checkout still hold the checkout tool call; running them again pauses again for the store, and
approving that pause must find the order already placed (same idempotency key) rather than
place another (DESIGN decision 6).
"""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from sqlmodel import Session, func, select

from assistant.application import CheckpointView, branch_count
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

    # Replay and fork are refused while the store has not decided.
    with pytest.raises(TurnError, match="waiting for store approval"):
        shop.replay(alice, session_id, checkout_call(before_approval).checkpoint_id)

    shop.decide(olga, approval_id, APPROVE)
    [order] = recent_orders(shop.engine)
    assert stock_by_size(shop.engine, product_id)[9.0] == stock_before - 1
    return {
        "session_id": session_id,
        "product_id": product_id,
        "stock_before": stock_before,
        "order_id": order.id,
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
    paused = checkout_call(approved_checkout["before_approval"])

    replayed = shop.replay(alice, session_id, paused.checkpoint_id)

    again = replayed.pending_approval
    assert again is not None and again.status == "pending"
    assert again.id != get_approval(shop.engine, again.id).order_id  # a new queue entry
    assert order_count(shop) == 1  # pausing places nothing
    decided = shop.decide(olga, again.id, APPROVE)
    assert approved_checkout["order_id"] in decided.reply
    assert get_approval(shop.engine, again.id).order_id == approved_checkout["order_id"]
    assert decided.cart == []
    assert_still_one_order(shop, approved_checkout)


def test_forking_before_the_checkout_with_an_edited_message_finds_the_same_order(
    shop: Shop, approved_checkout: dict, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id = approved_checkout["session_id"]
    asked = shopper_said(approved_checkout["before_approval"], "checkout")

    forked = shop.fork(alice, session_id, asked.checkpoint_id, message="please check out now")

    assert forked.pending_approval is not None
    human = [m.text for m in shop.messages(alice, session_id) if isinstance(m, HumanMessage)]
    assert human[-1] == "please check out now" and "checkout" not in human
    decided = shop.decide(olga, forked.pending_approval.id, APPROVE)
    assert approved_checkout["order_id"] in decided.reply
    assert_still_one_order(shop, approved_checkout)
    assert branch_count(shop.history(alice, session_id)) >= 2


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

    replayed = shop.replay(alice, session_id, ordered.checkpoint_id)
    assert replayed.pending_approval is None
    assert approved_checkout["order_id"] in replayed.reply
    assert_still_one_order(shop, approved_checkout)

    # Fork from before the checkout with the cart emptied: the branch has no cart to buy.
    added = shopper_said(after, "checkout")
    emptied = shop.fork(alice, session_id, added.checkpoint_id, cart=[])
    assert emptied.cart == [] and emptied.pending_approval is None

    # Back to the original branch: its state comes back, and still nothing is ordered.
    switched = shop.switch_branch(alice, session_id, newest.checkpoint_id)
    assert switched.cart == [] and approved_checkout["order_id"] in switched.reply
    assert shop.history(alice, session_id)[0].message_count == newest.message_count
    carted = shop.switch_branch(alice, session_id, added.checkpoint_id)
    assert [line["product_id"] for line in carted.cart] == [approved_checkout["product_id"]]
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
        result = shop.replay(alice, session_id, view.checkpoint_id)
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
