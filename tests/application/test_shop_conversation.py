"""A whole shopping conversation through `Shop`: the offline model, the real graph and tools,
persisted in the local Bedrock session service, with every operator decision (reject, edit,
approve), then read back by a brand-new `shoe-assistant` process.
"""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import HumanMessage

from assistant.agent.checkout import line_key
from assistant.application.shop import Shop, TurnError
from assistant.shopdb import get_approval, get_order, recent_orders, stock_by_size

CART_FIELDS = {"product_id", "name", "size", "quantity", "unit_price"}


def cart_rows(cart: list[dict]) -> list[tuple]:
    """A cart as comparable tuples."""
    fields = ("product_id", "name", "size", "quantity", "unit_price")
    return [tuple(float(line[f]) if f == "size" else line[f] for f in fields) for line in cart]


def test_search_refine_add_resize_view_and_checkout_then_every_operator_decision(
    shop: Shop, shop_cli, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id = shop.new_conversation(alice)

    # Search, then refine the same search.
    found = shop.send(alice, session_id, "trail shoes under $150")
    assert found.products, found.reply
    assert all(p["category"] == "trail" and p["price"] <= 150 for p in found.products)
    assert found.tool_activity and found.tool_activity[0].startswith("search_products(")
    refined = shop.send(alice, session_id, "only in black")
    assert refined.products and len(refined.products) < len(found.products)
    assert all("black" in p["colors"] and p["price"] <= 150 for p in refined.products)
    second = refined.products[1]

    # Add "the second one", change its size, look at the cart.
    added = shop.send(alice, session_id, "add the second one in size 8.5")
    assert cart_rows(added.cart) == [
        (second["product_id"], f"{second['brand']} {second['name']}", 8.5, 1, second["price"])
    ]
    assert all(set(line) == CART_FIELDS for line in added.cart)
    resized = shop.send(alice, session_id, "change the size to 9")
    assert [(line["product_id"], line["size"]) for line in resized.cart] == [
        (second["product_id"], 9.0)
    ]
    doubled = shop.send(alice, session_id, "make it 2 pairs")
    assert doubled.cart[0]["quantity"] == 2
    viewed = shop.send(alice, session_id, "what's in my cart")
    assert second["name"] in viewed.reply
    assert f"{2 * second['price']:.2f}" in viewed.reply

    # Checkout pauses for the store; the shopper cannot talk past it.
    waiting = shop.send(alice, session_id, "checkout")
    pending = waiting.pending_approval
    assert pending is not None and pending.status == "pending"
    assert pending.user == "alice" and pending.session_id == session_id
    assert cart_rows(pending.items) == cart_rows(doubled.cart)
    assert pending.total == pytest.approx(2 * second["price"])
    assert pending.id in waiting.reply and "approval" in waiting.reply
    assert [a.id for a in shop.approvals(olga)] == [pending.id]
    with pytest.raises(TurnError, match="waiting for store approval"):
        shop.send(alice, session_id, "hello?")

    # 1. Rejected with a reason: the shopper reads the reason, keeps the cart, no order.
    rejected = shop.decide(
        olga,
        pending.id,
        {"action": "reject", "reason": "That size is being restocked"},
    )
    assert "That size is being restocked" in rejected.reply
    assert rejected.pending_approval is None
    assert cart_rows(rejected.cart) == cart_rows(doubled.cart)
    assert recent_orders(shop.engine) == []
    assert shop.approvals(olga) == []
    assert shop.approvals(olga, "rejected")[0].reason == "That size is being restocked"

    # 2. Edited by the store: one pair instead of two, 10% off.
    stock_before = stock_by_size(shop.engine, second["product_id"])[9.0]
    again = shop.send(alice, session_id, "checkout")
    line = again.cart[0]
    edited = shop.decide(
        olga,
        again.pending_approval.id,
        {
            "action": "edit",
            "quantities": {line_key(line): 1},
            "discount_pct": 10,
            "reason": "one pair per customer",
        },
    )
    [edited_order] = recent_orders(shop.engine)
    assert edited_order.id in edited.reply
    assert "one pair per customer" in edited.reply
    assert edited_order.discount_pct == 10
    assert edited_order.total == pytest.approx(round(second["price"] * 0.9, 2))
    assert [(ol.product_id, ol.size, ol.quantity) for ol in edited_order.lines] == [
        (second["product_id"], 9.0, 1)
    ]
    assert stock_by_size(shop.engine, second["product_id"])[9.0] == stock_before - 1
    assert edited.cart == []
    decided = get_approval(shop.engine, again.pending_approval.id)
    assert (decided.status, decided.decision["action"]) == ("approved", "edit")
    assert decided.order_id == edited_order.id

    # 3. Approved as asked.
    shop.send(alice, session_id, "trail shoes under $150")
    first = shop.send(alice, session_id, "add the first one in size 10")
    assert len(first.cart) == 1
    approved_id = shop.send(alice, session_id, "checkout").pending_approval.id
    approved = shop.decide(olga, approved_id, {"action": "approve"})
    orders = recent_orders(shop.engine)
    assert len(orders) == 2
    assert orders[0].id in approved.reply and "confirmed" in approved.reply
    assert get_order(shop.engine, orders[0].id).total == pytest.approx(first.cart[0]["unit_price"])
    assert approved.cart == []

    # Something left in the cart for the next process to find.
    shop.send(alice, session_id, "add the first one in size 7.5")
    kept = shop.current(alice, session_id).cart
    assert len(kept) == 1 and kept[0]["size"] == 7.5
    shopper_messages = [
        m.text for m in shop.messages(alice, session_id) if isinstance(m, HumanMessage)
    ]

    # A new process (the CLI, as workshop scripts use it) continues the same conversation.
    process = shop_cli.run(
        "chat", "--session", session_id, "--json", "what's in my cart", as_user="alice"
    )
    assert process.returncode == 0, process.stderr
    answer = json.loads(process.stdout)
    assert answer["session_id"] == session_id
    assert answer["pending_approval"] is None
    assert cart_rows(answer["cart"]) == cart_rows(kept)
    assert all(set(line) == CART_FIELDS for line in answer["cart"])
    assert kept[0]["name"] in answer["reply"]

    # ...and what it wrote is in the same session, after everything said before.
    after = [m.text for m in shop.messages(alice, session_id) if isinstance(m, HumanMessage)]
    assert after == [*shopper_messages, "what's in my cart"]
    assert shop.current(alice, session_id).reply == answer["reply"]
    assert len(recent_orders(shop.engine)) == 2


def test_conversation_survives_a_new_shop_on_the_same_stores(
    shop: Shop, shop_settings, signed_in
) -> None:
    bob = signed_in(shop, "bob")
    session_id = shop.new_conversation(bob)
    shop.send(bob, session_id, "running shoes")
    added = shop.send(bob, session_id, "add the first one in size 10")
    waiting = shop.send(bob, session_id, "checkout")

    # A restart: a new Shop (new boto3 client, new graph) on the same service and catalog.
    restarted = Shop(settings=shop_settings)
    try:
        bob, oscar = signed_in(restarted, "bob"), signed_in(restarted, "oscar")  # signed in anew
        assert [c.session_id for c in restarted.conversations(bob)] == [session_id]
        current = restarted.current(bob, session_id)
        assert current.cart == added.cart
        assert current.pending_approval.id == waiting.pending_approval.id
        # bob's store's operator decides from the restarted process; the first one sees it.
        restarted.decide(oscar, current.pending_approval.id, {"action": "approve"})
        assert shop.current(bob, session_id).cart == []
        assert shop.pending_approval(bob, session_id) is None
        assert "confirmed" in shop.current(bob, session_id).reply
    finally:
        restarted.engine.dispose()
