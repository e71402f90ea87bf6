"""Cart changes the shopper makes by clicking, run by the graph without asking the model.

A product card's "Add to cart" and the cart's +, − and remove are turns like a typed request:
the shopper's message (what they would have typed, "Add 1 × Scree Ultra 5 in size 8.5 to my
cart.") goes into the conversation and every step is a checkpoint, so History, replay and fork
treat it as any other turn. The message also carries the exact tool call in
`additional_kwargs["shop_action"]`, and the agent node answers it without the model: first with
that tool call, then, once the tool has answered, with a reply made from its result ("You added
…", or the tool's reason why not). Nothing is left to the model's guesswork, and replaying the
click runs the same call on the cart the checkpoint holds.

Only the application puts an action on a message (typed text never becomes one), and only the
cart tools can be named: a click can never check out.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import BaseModel, ValidationError

ACTION_KEY = "shop_action"


class ShopAction(BaseModel):
    """One click: the cart tool to run, its arguments, and the reply when it succeeds."""

    tool: Literal["add_to_cart", "update_cart_item", "remove_from_cart"]
    args: dict[str, Any]
    done: str  # e.g. "You added 1 × Scree Ultra 5 in size 8.5 to the cart."


def action_message(action: ShopAction, text: str, message_id: str) -> HumanMessage:
    """The shopper's message for a click: `text` in words, the exact call alongside."""
    return HumanMessage(text, id=message_id, additional_kwargs={ACTION_KEY: action.model_dump()})


def action_of(message: BaseMessage) -> ShopAction | None:
    """The click a shopper message stands for; None for a typed message."""
    if not isinstance(message, HumanMessage):
        return None
    raw = (message.additional_kwargs or {}).get(ACTION_KEY)
    if raw is None:
        return None
    try:
        return ShopAction.model_validate(raw)
    except ValidationError:  # not one of ours: treat it as words
        return None


def click_turn(messages: list[BaseMessage]) -> tuple[ShopAction, list[BaseMessage]] | None:
    """The latest turn when it is a click: its action and the messages after the click."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            action = action_of(messages[index])
            return (action, messages[index + 1 :]) if action is not None else None
    return None


def planned_step(messages: list[BaseMessage]) -> AIMessage | None:
    """What the agent says next when the latest shopper message is a click, else None.

    Right after the click: the click's tool call. After the tool's answer: the reply. None
    means the model decides (a typed message, or anything this module did not plan).
    """
    turn = click_turn(messages)
    if turn is None:
        return None
    action, later = turn
    if not later:
        call_id = f"click_{messages[-1].id or 'call'}"[:64]  # Converse allows 64 characters
        return AIMessage("", tool_calls=[{"name": action.tool, "args": action.args, "id": call_id}])
    results = [message for message in later if isinstance(message, ToolMessage)]
    if results and isinstance(later[-1], ToolMessage):
        return AIMessage(click_outcome(action, results[-1])[1])
    return None


def click_outcome(action: ShopAction, result: ToolMessage) -> tuple[bool, str]:
    """(succeeded, what to tell the shopper) from the tool's answer to a click."""
    try:
        body = json.loads(result.text)
    except (TypeError, ValueError):
        body = {}
    body = body if isinstance(body, dict) else {}
    failed = result.status == "error" or body.get("ok") is False
    if failed:
        return False, str(body.get("error") or "That did not work; the cart is unchanged.")
    return True, action.done
