"""A click in the shop is answered by the agent node itself: the exact cart call, then a reply
from the tool's answer; typed words, and anything that is not one of the cart tools, go to the
model."""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from assistant.agent.actions import ACTION_KEY, ShopAction, action_message, planned_step

ADD = ShopAction(
    tool="add_to_cart",
    args={"product_id": "TRL-003", "size": 8.5, "quantity": 1},
    done="You added 1 × Scree Ultra 5 in size 8.5 to the cart.",
)


def test_a_click_is_answered_with_its_exact_tool_call_then_a_reply_from_the_result() -> None:
    click = action_message(ADD, "Add 1 × Scree Ultra 5 in size 8.5 to my cart.", "m-1")
    call = planned_step([HumanMessage("trail shoes", id="m-0"), AIMessage("Found 4."), click])
    assert call is not None and call.text == ""
    [tool_call] = call.tool_calls
    assert (tool_call["name"], tool_call["args"]) == ("add_to_cart", ADD.args)

    result = ToolMessage(
        json.dumps({"ok": True, "message": "Added."}),
        tool_call_id=tool_call["id"],
        name="add_to_cart",
    )
    reply = planned_step([click, call, result])
    assert reply is not None and reply.text == ADD.done and not reply.tool_calls
    assert planned_step([click, call, result, reply]) is None  # the turn is over


def test_a_refused_click_is_answered_with_the_tools_reason() -> None:
    click = action_message(ADD, "Add …", "m-1")
    call = planned_step([click])
    refused = ToolMessage(
        json.dumps({"ok": False, "error": "Size 8.5 is sold out."}),
        tool_call_id=call.tool_calls[0]["id"],
        name="add_to_cart",
        status="error",
    )
    assert planned_step([click, call, refused]).text == "Size 8.5 is sold out."


def test_typed_words_and_anything_but_a_cart_tool_go_to_the_model() -> None:
    assert planned_step([HumanMessage("add the second one")]) is None
    forged = HumanMessage(
        "checkout",
        additional_kwargs={ACTION_KEY: {"tool": "checkout", "args": {}, "done": "Bought!"}},
    )
    assert planned_step([forged]) is None
    assert planned_step([]) is None
