"""The views the UI gets: chat turns built from messages, the one checkout-outcome parser."""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from assistant.agent.checkout import checkout_outcome
from assistant.application.views import chat_turns


def test_turns_start_at_each_shopper_message_and_keep_their_products() -> None:
    search = AIMessage("", tool_calls=[{"name": "search_products", "args": {}, "id": "c1"}])
    results = ToolMessage(
        json.dumps({"results": [{"product_id": "TRL-003", "name": "Scree Ultra 5"}]}),
        tool_call_id="c1",
        name="search_products",
    )
    turns = chat_turns(
        [HumanMessage("trail shoes"), search, results, AIMessage("Found one."), HumanMessage("hi")]
    )
    assert [turn.shopper for turn in turns] == ["trail shoes", "hi"]
    assert [p["product_id"] for p in turns[0].products] == ["TRL-003"]
    assert [reply.tool_calls for reply in turns[0].replies] == [["search_products()"], []]
    assert turns[0].replies[-1].text == "Found one."
    assert turns[1].products == [] and turns[1].replies == []


def test_the_checkout_outcome_is_parsed_once_for_the_chat_and_the_approvals_flow() -> None:
    call = AIMessage("", tool_calls=[{"name": "checkout", "args": {}, "id": "c9"}])
    body = {"status": "edited", "order_id": "ord-1", "total": 90.0, "discount_pct": 10}
    result = ToolMessage(json.dumps(body), tool_call_id="c9", name="checkout")
    [turn] = chat_turns([HumanMessage("checkout"), call, result])
    outcome = turn.replies[-1].checkout
    assert outcome is not None and outcome == checkout_outcome(result)
    assert (outcome.status, outcome.order_id, outcome.total) == ("edited", "ord-1", 90.0)
    assert outcome.placed_order


def test_unreadable_or_foreign_tool_results_are_not_checkout_outcomes() -> None:
    broken = ToolMessage("not json", tool_call_id="c1", name="checkout")
    other = ToolMessage(json.dumps({"status": "approved"}), tool_call_id="c2", name="view_cart")
    assert checkout_outcome(broken) is None and checkout_outcome(other) is None
    [turn] = chat_turns([HumanMessage("checkout"), broken])
    assert turn.replies == []


def test_the_models_relay_of_a_checkout_outcome_is_not_shown_a_second_time() -> None:
    call = AIMessage("", tool_calls=[{"name": "checkout", "args": {}, "id": "c9"}])
    body = {"status": "edited", "order_id": "ord-1", "total": 104.0, "discount_pct": 20}
    result = ToolMessage(json.dumps(body), tool_call_id="c9", name="checkout")
    relay = AIMessage("The store approved your order ord-1 with changes (20% off) — total $104.")
    messages = [HumanMessage("checkout"), call, result, relay]

    [turn] = chat_turns(messages)

    assert [(reply.text, reply.checkout is not None) for reply in turn.replies] == [
        ("", False),  # the checkout call's line
        ("", True),  # the outcome, once
    ]
    assert messages[-1] is relay  # the conversation itself keeps the model's reply


def test_a_reply_after_the_relay_is_shown() -> None:
    call = AIMessage("", tool_calls=[{"name": "checkout", "args": {}, "id": "c9"}])
    result = ToolMessage(json.dumps({"status": "cancelled"}), tool_call_id="c9", name="checkout")
    relay = AIMessage("You cancelled it.")
    [first, second] = chat_turns(
        [HumanMessage("checkout"), call, result, relay, HumanMessage("hi"), AIMessage("Hello!")]
    )
    assert [reply.checkout.status for reply in first.replies if reply.checkout] == ["cancelled"]
    assert "You cancelled it." not in [reply.text for reply in first.replies]
    assert [reply.text for reply in second.replies] == ["Hello!"]
