""" "Where is my order?": the offline model answers from the checkouts of this conversation (the
checkout outcomes recorded in its messages), and never calls a tool for it."""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from offline_model_support import RIDGE, Chat, line, with_cart

from assistant.agent.graph import INTERRUPTED_TOOL_RESULT


def checked_out(chat: Chat, result: dict | str | None) -> Chat:
    """The shopper asked to check out; `result` is the checkout's answer (None: not yet)."""
    chat.human("checkout")
    call_id = f"checkout_{len(chat.messages)}"
    call = {"name": "checkout", "args": {}, "id": call_id}
    chat.messages.append(AIMessage("", tool_calls=[call]))
    if result is not None:
        content = result if isinstance(result, str) else json.dumps(result)
        chat.messages.append(ToolMessage(content, tool_call_id=call_id, name="checkout"))
        chat.ai("...")
    return chat


def answer(model, chat: Chat, text: str) -> str:
    reply = model.invoke(chat.human(text).messages)
    assert reply.tool_calls == []
    return reply.content


def test_no_checkout_yet_says_there_is_no_order(offline_model):
    chat = with_cart(line(RIDGE, 9.0, 2))
    assert answer(offline_model, chat, "any news on my order?") == (
        "You haven't checked out in this conversation, so there's no order yet. "
        'Your cart has 2 pairs; say "checkout" when you\'re ready.'
    )


def test_a_checkout_without_an_answer_is_waiting_for_the_store(offline_model):
    chat = checked_out(with_cart(line(RIDGE, 9.0)), None)
    assert answer(offline_model, chat, "has the store approved my purchase yet?") == (
        "Your checkout is waiting for the store's approval; you'll see their decision here."
    )


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"status": "approved", "order_id": "ORD-42", "total": 139.0, "reason": None},
            "Your order ORD-42 is confirmed — total $139.",
        ),
        (
            {
                "status": "edited",
                "order_id": "ORD-43",
                "total": 125.1,
                "discount_pct": 10,
                "reason": "Welcome discount.",
            },
            "Your order ORD-43 was approved with changes (10% off) — total $125.10. "
            "Note from the store: Welcome discount.",
        ),
        (
            {"status": "rejected", "reason": "Size 9 is being recalled."},
            "The store didn't approve your checkout: Size 9 is being recalled. "
            "No order was placed.",
        ),
        (
            {"status": "cancelled", "message": "You cancelled this checkout."},
            "You cancelled your checkout, so nothing was ordered.",
        ),
        (
            {"ok": False, "error": "The cart is empty; add shoes first."},
            "Your checkout didn't go through: The cart is empty; add shoes first. "
            "Nothing was ordered.",
        ),
        (
            INTERRUPTED_TOOL_RESULT,
            "Your checkout stopped before the store decided, so nothing was ordered. "
            'Say "checkout" to send your cart to the store again.',
        ),
    ],
)
def test_the_outcome_of_the_checkout_is_told(offline_model, result, expected):
    chat = checked_out(with_cart(line(RIDGE, 9.0)), result)
    assert answer(offline_model, chat, "did the store accept it? what's my order status") == (
        expected
    )


def test_every_checkout_of_the_conversation_is_listed(offline_model):
    chat = with_cart(line(RIDGE, 9.0))
    checked_out(chat, {"status": "rejected", "reason": "Out of laces"})
    checked_out(chat, {"status": "approved", "order_id": "ORD-9", "total": 139.0})
    assert answer(offline_model, chat, "is my order confirmed?").splitlines() == [
        "Your checkouts in this conversation, latest last:",
        "- The store didn't approve your checkout: Out of laces. No order was placed.",
        "- Your order ORD-9 is confirmed — total $139.",
    ]
