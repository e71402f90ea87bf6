"""Several tool calls in one model reply run one after another, each seeing the last one's cart.

Claude does send "add the 9.5 and the 10" as two add_to_cart calls in one reply. Run in parallel
on the same state (ToolNode's way), both would start from the same cart and one would be lost, or
LangGraph would refuse two values for `cart` in one step.
"""

from __future__ import annotations

from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage

from assistant.application.shop import Shop
from assistant.settings import Settings


class ScriptedModel(FakeMessagesListChatModel):
    """Replies from a fixed list; tools are bound by the graph, the script names them itself."""

    def bind_tools(self, tools, **kwargs):
        return self


def call(name: str, call_id: str, **args) -> dict:
    return {"name": name, "args": args, "id": call_id}


def test_two_adds_and_a_checkout_in_one_reply_all_count(shop_settings: Settings, signed_in) -> None:
    replies = [
        AIMessage(
            "",
            tool_calls=[
                call("add_to_cart", "a", product_id="RUN-003", size=9),
                call("add_to_cart", "b", product_id="RUN-004", size=9, quantity=2),
                call("checkout", "c"),
            ],
        ),
        AIMessage("Both pairs are ordered."),
    ]
    shop = Shop(settings=shop_settings, model=ScriptedModel(responses=replies))
    try:
        alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
        session_id = shop.new_conversation(alice)
        waiting = shop.send(alice, session_id, "add both and check out")

        pending = waiting.pending_approval
        assert pending is not None
        assert [(item["product_id"], item["quantity"]) for item in pending.items] == [
            ("RUN-003", 1),
            ("RUN-004", 2),
        ]
        done = shop.decide(olga, pending.id, {"action": "approve"})
        assert done.reply == "Both pairs are ordered."
        assert done.cart == []
        [order] = shop.orders(alice)
        assert sorted((line.product_id, line.quantity) for line in order.lines) == [
            ("RUN-003", 1),
            ("RUN-004", 2),
        ]
    finally:
        shop.engine.dispose()


def test_a_tool_error_in_the_middle_does_not_lose_the_calls_around_it(
    shop_settings: Settings, signed_in
) -> None:
    replies = [
        AIMessage(
            "",
            tool_calls=[
                call("add_to_cart", "a", product_id="RUN-003", size=9),
                call("add_to_cart", "b", product_id="NOPE-999", size=9),
                call("add_to_cart", "c", product_id="RUN-004", size=9),
            ],
        ),
        AIMessage("Added what I could."),
    ]
    shop = Shop(settings=shop_settings, model=ScriptedModel(responses=replies))
    try:
        alice = signed_in(shop, "alice")
        session_id = shop.new_conversation(alice)
        result = shop.send(alice, session_id, "add three")
        assert [line["product_id"] for line in result.cart] == ["RUN-003", "RUN-004"]
        tool_messages = [m for m in shop.messages(alice, session_id) if m.type == "tool"]
        assert [m.tool_call_id for m in tool_messages] == ["a", "b", "c"]
        assert '"ok": false' in tool_messages[1].content
    finally:
        shop.engine.dispose()
