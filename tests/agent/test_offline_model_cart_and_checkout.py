"""The offline model edits the cart it is shown, relays tool errors plainly, and calls checkout
only when the shopper asks for it."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, ToolMessage
from offline_model_support import RIDGE, SCREE, Chat, cart_result, line, only_call, shown, with_cart


def test_change_size_of_the_item_just_added(offline_model):
    chat = with_cart(line(RIDGE, 9.0)).human("change the size to 9.5")
    assert only_call(offline_model.invoke(chat.messages)) == (
        "update_cart_item",
        {"product_id": "TRL-001", "size": 9.0, "new_size": 9.5},
    )


def test_make_it_two_pairs(offline_model):
    chat = with_cart(line(RIDGE, 9.0)).human("make it 2 pairs")
    assert only_call(offline_model.invoke(chat.messages)) == (
        "update_cart_item",
        {"product_id": "TRL-001", "size": 9.0, "quantity": 2},
    )


def test_remove_by_brand_picks_the_matching_line(offline_model):
    chat = with_cart(line(RIDGE, 9.0), line(SCREE, 10.0)).human("remove the Cairnline")
    assert only_call(offline_model.invoke(chat.messages)) == (
        "remove_from_cart",
        {"product_id": "TRL-002", "size": 10.0},
    )


def test_clear_cart_removes_every_line_in_parallel(offline_model):
    chat = with_cart(line(RIDGE, 9.0), line(SCREE, 10.0)).human("empty my cart")
    reply = offline_model.invoke(chat.messages)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("remove_from_cart", {"product_id": "TRL-001", "size": 9.0}),
        ("remove_from_cart", {"product_id": "TRL-002", "size": 10.0}),
    ]
    assert len({c["id"] for c in reply.tool_calls}) == 2


def test_parallel_results_are_all_summarised(offline_model):
    chat = Chat().human("empty my cart")
    chat.messages.append(
        AIMessage(
            "",
            tool_calls=[
                {"name": "remove_from_cart", "args": {"product_id": "A"}, "id": "r1"},
                {"name": "remove_from_cart", "args": {"product_id": "B"}, "id": "r2"},
            ],
        )
    )
    first = cart_result(line(SCREE, 10), message="Removed A.")
    chat.messages.append(ToolMessage(json.dumps(first), tool_call_id="r1"))
    second = cart_result(message="Removed B.")
    chat.messages.append(ToolMessage(json.dumps(second), tool_call_id="r2"))
    reply = offline_model.invoke(chat.messages)
    assert reply.tool_calls == []
    assert reply.content == (
        "Removed A. Your cart: 1 pair, total $119.50.\n\nRemoved B. Your cart is empty."
    )


def test_view_cart_and_its_summary(offline_model):
    reply = offline_model.invoke(Chat().human("what's in my cart").messages)
    assert only_call(reply) == ("view_cart", {})
    chat = (
        Chat()
        .human("cart?")
        .tool(
            "view_cart",
            {},
            {"cart": [line(RIDGE, 9.0, 2)], "cart_total": 278.0, "item_count": 1},
        )
    )
    reply = offline_model.invoke(chat.messages)
    assert reply.content.splitlines() == [
        "Here's your cart:",
        "- Ridge GTX — size 9 × 2 at $139 = $278",
        'Total: $278. Say "checkout" when you\'re ready.',
    ]


def test_tool_error_is_relayed_plainly(offline_model):
    error = "Size 15 is not available for Ridge GTX; sizes in stock: 8, 8.5, 9"
    chat = (
        shown(RIDGE)
        .human("add it in size 15")
        .tool(
            "add_to_cart",
            {"product_id": "TRL-001", "size": 15.0},
            {"ok": False, "error": error},
        )
    )
    reply = offline_model.invoke(chat.messages)
    assert reply.tool_calls == []
    assert reply.content == f"Sorry, that didn't work: {error}"


def test_non_json_tool_result_is_relayed_not_crashed_on(offline_model):
    chat = Chat().human("cart").tool("view_cart", {}, "Error: database is locked")
    reply = offline_model.invoke(chat.messages)
    assert reply.content == "Sorry, something went wrong: Error: database is locked"


# --- checkout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["checkout", "check out please", "place the order", "buy it"])
def test_checkout_only_when_asked(offline_model, text):
    reply = offline_model.invoke(with_cart(line(RIDGE, 9.0)).human(text).messages)
    assert only_call(reply) == ("checkout", {})


@pytest.mark.parametrize(
    "text",
    ["I want to buy trail shoes", "don't check out yet", "add it in size 9", "what's in my cart"],
)
def test_no_checkout_when_not_asked(offline_model, text):
    reply = offline_model.invoke(with_cart(line(RIDGE, 9.0)).human(text).messages)
    assert "checkout" not in [c["name"] for c in reply.tool_calls]


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"status": "approved", "order_id": "ORD-7", "total": 278.0, "reason": None},
            "Your order ORD-7 is confirmed — total $278.",
        ),
        (
            {
                "status": "edited",
                "order_id": "ORD-8",
                "total": 250.2,
                "discount_pct": 10.0,
                "reason": "Loyalty discount",
                "message": "Order ORD-8 placed.",
            },
            "The store approved your order ORD-8 with changes (10% off) — total $250.20. "
            "Note from the store: Loyalty discount",
        ),
        (
            {"status": "rejected", "reason": "Size 9 is back-ordered"},
            "The store didn't approve this order: Size 9 is back-ordered. No order was placed.",
        ),
    ],
)
def test_checkout_outcome_is_reported(offline_model, result, expected):
    chat = with_cart(line(RIDGE, 9.0)).human("checkout").tool("checkout", {}, result)
    reply = offline_model.invoke(chat.messages)
    assert reply.tool_calls == []
    assert reply.content == expected


SHOP_WORDS = [
    "add",
    "the",
    "second",
    "one",
    "it",
    "blue",
    "trail",
    "size",
    "9",
    "under",
    "$100",
    "cart",
    "remove",
    "change",
    "make",
    "2",
    "pairs",
    "show",
    "me",
    "more",
    "cheaper",
    "details",
    "hello",
    "women's",
    "Northpeak",
    "x2",
    "please",
    "instead",
    "what's",
    "in",
    "my",
    "first",
    "last",
    "cheapest",
    "sandals",
    "qwerty",
    "10.5",
    "boots",
]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from(SHOP_WORDS) | st.text(max_size=12),
        max_size=12,
    )
)
def test_any_message_gives_a_message_and_never_an_unrequested_checkout(offline_model, words):
    text = " ".join(words)
    reply = offline_model.invoke(with_cart(line(RIDGE, 9.0)).human(text).messages)
    assert isinstance(reply, AIMessage)
    assert reply.content or reply.tool_calls
    if not re.search(r"check ?out|order|buy|pay|purchase", text.lower()):
        assert "checkout" not in [c["name"] for c in reply.tool_calls]
