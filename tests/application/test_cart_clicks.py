"""Clicks in the shop that change the cart (a product card's "Add to cart", the cart's + − and
remove) are turns of the graph: checkpointed, shown in history as a turn, safe to replay, and
run as the exact cart tool call without asking the model."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from assistant.application import NotAllowed, NotSignedIn
from assistant.application.shop import Shop, TurnError
from assistant.shopdb import stock_by_size


@pytest.fixture
def searched(shop: Shop, signed_in) -> dict:
    """alice searched trail shoes in size 8.5; the second result is the one she clicks."""
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    found = shop.send(alice, session_id, "trail shoes under $150 in size 8.5")
    product = found.products[1]
    return {"who": alice, "session_id": session_id, "product": product}


def latest_turn(shop: Shop, who, session_id: str) -> list:
    """The messages of the latest turn, from the shopper's message on."""
    messages = shop.messages(who, session_id)
    start = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
    return messages[start:]


def test_add_to_cart_is_a_turn_the_graph_runs_as_that_exact_tool_call(
    shop: Shop, searched: dict, monkeypatch
) -> None:
    who, session_id, product = searched["who"], searched["session_id"], searched["product"]
    before = len(shop.history(who, session_id))

    def no_model(*args, **kwargs):
        raise AssertionError("a click must not ask the model")

    monkeypatch.setattr(type(shop.model), "_generate", no_model)
    result = shop.add_to_cart(who, session_id, product["product_id"], 8.5)

    name = f"{product['brand']} {product['name']}"
    assert result.reply == f"You added 1 × {name} in size 8.5 to the cart."
    assert [(line["product_id"], line["size"], line["quantity"]) for line in result.cart] == [
        (product["product_id"], 8.5, 1)
    ]
    shopper, call, answer, reply = latest_turn(shop, who, session_id)
    assert shopper.text == f"Add 1 × {name} in size 8.5 to my cart."
    assert call.tool_calls[0]["name"] == "add_to_cart"
    assert call.tool_calls[0]["args"] == {
        "product_id": product["product_id"],
        "size": 8.5,
        "quantity": 1,
    }
    assert isinstance(answer, ToolMessage) and isinstance(reply, AIMessage)
    # Checkpointed step by step, and History reads it as a turn like any typed one.
    views = shop.history(who, session_id)
    assert len(views) > before
    newest_first = [(v.last_message_type, v.last_message) for v in views[:4]]
    assert [kind for kind, _ in newest_first] == ["ai", "tool", "ai", "human"]
    assert newest_first[0][1].startswith("You added 1 ×")
    assert newest_first[2][1] == "calls add_to_cart"
    assert newest_first[3][1].startswith("Add 1 ×")
    click = shop.chat(who, session_id)[-1].click
    assert click is not None and click.ok and click.outcome.startswith("You added")


def test_plus_minus_and_remove_change_the_cart_through_the_graph(
    shop: Shop, searched: dict
) -> None:
    who, session_id, product = searched["who"], searched["session_id"], searched["product"]
    product_id = product["product_id"]
    shop.add_to_cart(who, session_id, product_id, 8.5)
    more = shop.change_quantity(who, session_id, product_id, 8.5, 2)
    assert [line["quantity"] for line in more.cart] == [2]
    assert more.reply.startswith("You now have 2 pairs of")
    less = shop.change_quantity(who, session_id, product_id, 8.5, 1)
    assert [line["quantity"] for line in less.cart] == [1]
    gone = shop.remove_from_cart(who, session_id, product_id, 8.5)
    assert gone.cart == [] and gone.reply.startswith("You removed")
    calls = [
        call["name"]
        for message in shop.messages(who, session_id)
        for call in getattr(message, "tool_calls", None) or []
    ]
    assert calls[-4:] == ["add_to_cart", "update_cart_item", "update_cart_item", "remove_from_cart"]
    kinds = [turn.click.tool for turn in shop.chat(who, session_id) if turn.click]
    assert kinds == ["add_to_cart", "update_cart_item", "update_cart_item", "remove_from_cart"]


def test_minus_on_the_last_pair_removes_the_line(shop: Shop, searched: dict) -> None:
    who, session_id, product = searched["who"], searched["session_id"], searched["product"]
    shop.add_to_cart(who, session_id, product["product_id"], 8.5)
    result = shop.change_quantity(who, session_id, product["product_id"], 8.5, 0)
    assert result.cart == []
    assert latest_turn(shop, who, session_id)[1].tool_calls[0]["name"] == "remove_from_cart"


def test_a_click_the_cart_tool_refuses_says_why_and_changes_nothing(
    shop: Shop, searched: dict
) -> None:
    who, session_id, product = searched["who"], searched["session_id"], searched["product"]
    stock = stock_by_size(shop.engine, product["product_id"])
    sold_out = next((size for size, pairs in stock.items() if pairs == 0), None)
    assert sold_out is not None, "the catalog has a sold-out size for this shoe"
    result = shop.add_to_cart(who, session_id, product["product_id"], sold_out)
    assert result.cart == []
    click = shop.chat(who, session_id)[-1].click
    assert click is not None and not click.ok
    assert "sold out" in click.outcome and click.outcome == result.reply


def test_a_stale_cart_line_or_unknown_product_is_refused_before_anything_is_written(
    shop: Shop, searched: dict
) -> None:
    who, session_id = searched["who"], searched["session_id"]
    before = len(shop.history(who, session_id))
    with pytest.raises(TurnError, match="no longer in your cart"):
        shop.change_quantity(who, session_id, searched["product"]["product_id"], 8.5, 2)
    with pytest.raises(TurnError, match="no longer in the catalog"):
        shop.add_to_cart(who, session_id, "NOPE-999", 8.5)
    assert len(shop.history(who, session_id)) == before


def test_clicks_follow_the_same_rules_as_typed_messages(
    shop: Shop, searched: dict, signed_in
) -> None:
    who, session_id, product = searched["who"], searched["session_id"], searched["product"]
    shop.add_to_cart(who, session_id, product["product_id"], 8.5)
    shop.send(who, session_id, "checkout")  # waits for the store
    with pytest.raises(TurnError, match="waiting for store approval"):
        shop.change_quantity(who, session_id, product["product_id"], 8.5, 2)
    with pytest.raises(TurnError, match="No conversation"):
        shop.add_to_cart(signed_in(shop, "carol"), session_id, product["product_id"], 8.5)
    with pytest.raises(NotAllowed):
        shop.change_quantity(signed_in(shop, "olga"), session_id, product["product_id"], 8.5, 2)
    with pytest.raises(NotSignedIn):
        shop.remove_from_cart(None, session_id, product["product_id"], 8.5)


def test_replaying_a_click_runs_the_same_call_on_the_cart_of_its_checkpoint(
    shop: Shop, searched: dict
) -> None:
    who, session_id, product = searched["who"], searched["session_id"], searched["product"]
    shop.add_to_cart(who, session_id, product["product_id"], 8.5)
    shop.change_quantity(who, session_id, product["product_id"], 8.5, 3)
    views = shop.history(who, session_id)
    plus = next(
        v for v in views if v.last_message_type == "human" and "Make it 3" in v.last_message
    )
    replayed = shop.replay(who, session_id, plus.checkpoint_id)
    assert [line["quantity"] for line in replayed.cart] == [3]
    assert replayed.reply.startswith("You now have 3 pairs")
    # The first click, replayed, starts again from the cart of its checkpoint: an empty one.
    added = next(
        v for v in views if v.last_message_type == "human" and v.last_message.startswith("Add 1")
    )
    assert shop.replay(who, session_id, added.checkpoint_id).cart[0]["quantity"] == 1


def test_the_model_reads_a_click_like_the_shopper_had_typed_it(shop: Shop, searched: dict) -> None:
    who, session_id, product = searched["who"], searched["session_id"], searched["product"]
    shop.add_to_cart(who, session_id, product["product_id"], 8.5)
    viewed = shop.send(who, session_id, "what's in my cart")
    assert product["name"] in viewed.reply
    waiting = shop.send(who, session_id, "checkout")
    assert waiting.pending_approval is not None
    assert waiting.pending_approval.items[0]["product_id"] == product["product_id"]


def test_stock_is_read_now_per_size(shop: Shop, searched: dict) -> None:
    product_id = searched["product"]["product_id"]
    assert shop.stock(searched["who"], product_id) == stock_by_size(shop.engine, product_id)
