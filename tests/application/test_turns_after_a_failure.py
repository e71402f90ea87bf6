"""A turn that fails part-way says what was saved, and repeating it never doubles an effect.

The model is scripted: it asks for a tool, then fails on the next call (a throttled or lost
connection to the model), the way a real turn dies between steps. Every other part is real: the
local session service, the checkpointer, the graph and the shop database.
"""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from assistant.agent.graph import INTERRUPTED_TOOL_RESULT, close_dangling_tool_calls
from assistant.application import Shop, TurnError
from assistant.settings import Settings


class FlakyModel(FakeMessagesListChatModel):
    """Replies from a script, but its call number `fail_on_call` fails (lost connection)."""

    fail_on_call: int = 2
    calls: int = 0

    def bind_tools(self, tools, **kwargs):
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise ConnectionError("model connection lost")
        return super()._generate(messages, stop, run_manager, **kwargs)


def add(call_id: str) -> AIMessage:
    call = {"name": "add_to_cart", "args": {"product_id": "RUN-003", "size": 9}, "id": call_id}
    return AIMessage("", tool_calls=[call])


@pytest.fixture
def flaky_shop(shop_settings: Settings):
    replies = [add("a1"), AIMessage("Added.")]
    shop = Shop(settings=shop_settings, model=FlakyModel(responses=replies))
    yield shop
    shop.engine.dispose()


def test_a_failed_turn_says_what_was_saved_and_the_retry_adds_the_pair_once(
    flaky_shop: Shop, signed_in
) -> None:
    alice = signed_in(flaky_shop, "alice")
    session_id = flaky_shop.new_conversation(alice)

    with pytest.raises(TurnError) as failure:
        flaky_shop.send(alice, session_id, "add the swift flow in size 9")
    message = str(failure.value)
    assert "model could not answer" in message
    assert "Saved up to step" in message and "Send the same message again" in message
    # The tool ran and its effect is saved: one pair in the cart already.
    assert [line["quantity"] for line in flaky_shop.current(alice, session_id).cart] == [1]

    again = flaky_shop.send(alice, session_id, "add the swift flow in size 9")

    assert again.reply == "Added."
    assert [line["quantity"] for line in again.cart] == [1]  # not 2
    shopper_messages = [
        m for m in flaky_shop.messages(alice, session_id) if isinstance(m, HumanMessage)
    ]
    assert len(shopper_messages) == 1  # the message was not added twice


def test_a_different_message_after_a_failure_starts_a_new_turn(flaky_shop: Shop, signed_in) -> None:
    alice = signed_in(flaky_shop, "alice")
    session_id = flaky_shop.new_conversation(alice)
    with pytest.raises(TurnError):
        flaky_shop.send(alice, session_id, "add the swift flow in size 9")

    # The script's next reply is "Added." for whatever comes next.
    result = flaky_shop.send(alice, session_id, "what's in my cart?")

    assert result.reply == "Added."
    texts = [m.text for m in flaky_shop.messages(alice, session_id) if isinstance(m, HumanMessage)]
    assert texts == ["add the swift flow in size 9", "what's in my cart?"]


def test_a_tool_call_left_without_its_result_is_answered_before_the_next_model_call() -> None:
    dangling = AIMessage(
        "",
        tool_calls=[
            {"name": "add_to_cart", "args": {}, "id": "t1"},
            {"name": "view_cart", "args": {}, "id": "t2"},
        ],
    )
    answered = ToolMessage("{}", tool_call_id="t2", name="view_cart")
    history = [HumanMessage("add it"), dangling, HumanMessage("and now?"), answered]

    closed = close_dangling_tool_calls(history)

    # Every call is followed by its results, in call order, before anything else.
    assert [type(m).__name__ for m in closed] == [
        "HumanMessage",
        "AIMessage",
        "ToolMessage",
        "ToolMessage",
        "HumanMessage",
    ]
    assert [m.tool_call_id for m in closed[2:4]] == ["t1", "t2"]
    assert json.loads(closed[2].content) == json.loads(INTERRUPTED_TOOL_RESULT)
    assert closed[3] is answered
    assert history[2].text == "and now?"  # the input is not changed
    assert close_dangling_tool_calls(closed) == closed  # already closed: nothing to do


def test_the_same_message_id_sent_again_never_runs_the_turn_twice(shop: Shop, signed_in) -> None:
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes in size 9")
    first = shop.send(alice, session_id, "add the first one in size 9", message_id="m-1")
    checkpoints = len(shop.history(alice, session_id))

    # The client never heard back and sends it again: the saved result, nothing re-run.
    again = shop.send(alice, session_id, "add the first one in size 9", message_id="m-1")

    assert again.cart == first.cart and [line["quantity"] for line in again.cart] == [1]
    assert len(shop.history(alice, session_id)) == checkpoints
    # A new id is a new message: the shopper really wants another pair.
    more = shop.send(alice, session_id, "add the first one in size 9", message_id="m-2")
    assert sum(line["quantity"] for line in more.cart) == 2


def test_a_message_id_of_a_turn_that_stopped_carries_it_on(
    shop_settings: Settings, signed_in
) -> None:
    shop = Shop(settings=shop_settings, model=FlakyModel(responses=[add("a1"), AIMessage("ok")]))
    try:
        alice = signed_in(shop, "alice")
        session_id = shop.new_conversation(alice)
        with pytest.raises(TurnError):
            shop.send(alice, session_id, "add it", message_id="m-9")
        done = shop.send(alice, session_id, "add it", message_id="m-9")
        assert done.reply == "ok" and [line["quantity"] for line in done.cart] == [1]
    finally:
        shop.engine.dispose()
