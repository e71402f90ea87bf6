"""The offline model in the shop's own graph (`build_graph`: the real tools, the approval-gated
checkout) against the real catalog in SQLite, with the phrasings shoppers use: counts of pairs
apart from sizes, cart edits by part of a shoe's name, gym words, "where is my order?", brands the
shop does not sell, and search filters kept, shown and dropped.
"""

from __future__ import annotations

import itertools

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from assistant.agent.graph import build_graph
from assistant.agent.models import OfflineShopModel
from assistant.shopdb import get_engine, get_order, init_db

_threads = itertools.count()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    """The shop's catalog, seeded from data/*.json, in a database of its own."""
    engine = get_engine(f"sqlite:///{tmp_path_factory.mktemp('shop') / 'shop.db'}")
    init_db(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def graph():
    return build_graph(OfflineShopModel(), InMemorySaver())


class Shopper:
    """One demo shopper's conversation with the shop graph."""

    def __init__(self, graph, engine, user: str) -> None:
        self.graph = graph
        self.user = user
        thread = f"{user}-{next(_threads)}"
        self.config = {"configurable": {"thread_id": thread, "engine": engine}}

    def say(self, text: str) -> tuple[str, list[dict]]:
        """Send a message; the reply and the tool calls of this turn (name, args)."""
        before = len(self.state.values.get("messages", []))
        message = {"messages": [HumanMessage(text)], "user": self.user, "tenant": "tenant-a"}
        return self._run(message, before)

    def store_decides(self, **decision) -> tuple[str, list[dict]]:
        """A store operator decides the waiting checkout."""
        before = len(self.state.values.get("messages", []))
        return self._run(Command(resume={"operator": "olga", **decision}), before)

    def _run(self, graph_input, before: int) -> tuple[str, list[dict]]:
        out = self.graph.invoke(graph_input, self.config)
        new = out["messages"][before:]
        calls = [
            {"name": call["name"], "args": call["args"]}
            for message in new
            if isinstance(message, AIMessage)
            for call in message.tool_calls
        ]
        return ("" if self.waiting else out["messages"][-1].content), calls

    @property
    def state(self):
        return self.graph.get_state(self.config)

    @property
    def waiting(self) -> bool:
        return bool(self.state.interrupts)

    @property
    def cart(self) -> list[tuple[str, float, int]]:
        return [
            (line["product_id"], line["size"], line["quantity"])
            for line in self.state.values.get("cart", [])
        ]


@pytest.mark.timeout(120)
def test_counts_of_pairs_and_sizes_change_the_right_thing(graph, engine):
    bob = Shopper(graph, engine, "bob")  # men, size 10.5
    bob.say("men's canvas sneakers")
    bob.say("add the canvas sneaker in 10")
    assert bob.cart == [("CAS-012", 10.0, 1)]

    _, calls = bob.say("please update the qty to four")
    assert calls == [
        {
            "name": "update_cart_item",
            "args": {"product_id": "CAS-012", "size": 10.0, "quantity": 4},
        }
    ]
    assert bob.cart == [("CAS-012", 10.0, 4)]

    bob.say("actually, make that a 9")
    assert bob.cart == [("CAS-012", 9.0, 4)]

    reply, _ = bob.say("two more")
    assert bob.cart == [("CAS-012", 9.0, 6)]
    assert reply.endswith("Your cart: 6 pairs, total $330.")


@pytest.mark.timeout(120)
def test_a_cart_line_is_edited_by_part_of_its_name(graph, engine):
    bob = Shopper(graph, engine, "bob")
    bob.say("men's canvas sneakers")
    bob.say("add the canvas low in 9")
    bob.say("add the canvas sneaker in a 10")
    assert bob.cart == [("CAS-002", 9.0, 1), ("CAS-012", 10.0, 1)]

    # The last line added is the Canvas Sneaker; the message names the Canvas Low.
    bob.say("bump the canvas low up to 2 pairs")
    assert bob.cart == [("CAS-002", 9.0, 2), ("CAS-012", 10.0, 1)]

    reply, calls = bob.say("take the canvas court out of my basket")
    assert calls == []
    assert reply.startswith("Harbor Lane Canvas Court isn't in your cart")
    assert bob.cart == [("CAS-002", 9.0, 2), ("CAS-012", 10.0, 1)]

    bob.say("get rid of the canvas sneaker")
    assert bob.cart == [("CAS-002", 9.0, 2)]


@pytest.mark.timeout(120)
def test_gym_words_find_running_shoes_and_say_so(graph, engine):
    alice = Shopper(graph, engine, "alice")  # women, size 8.5
    reply, calls = alice.say("anything for crossfit?")
    assert calls == [
        {"name": "search_products", "args": {"category": "running", "gender": "women"}}
    ]
    lines = reply.splitlines()
    assert (
        lines[0] == 'The shop has no "crossfit" category, so I searched running shoes, the closest.'
    )
    assert lines[1].startswith("I found ") and "women's running shoes" in lines[1]
    assert all(seen.startswith("RUN-") for seen in alice.state.values["last_seen"])


@pytest.mark.timeout(120)
def test_the_order_status_follows_the_checkout(graph, engine):
    alice = Shopper(graph, engine, "alice")
    reply, _ = alice.say("any news on my order?")
    assert reply.startswith("You haven't checked out in this conversation")

    alice.say("women's trail shoes")
    alice.say("add the first one in 8.5")
    alice.say("check out please")
    assert alice.waiting
    confirmation, _ = alice.store_decides(action="approve")
    order_id = confirmation.split()[2]
    assert get_order(engine, order_id) is not None

    reply, calls = alice.say("has the store approved my purchase yet?")
    assert calls == []
    assert reply.startswith(f"Your order {order_id} is confirmed — total $")


@pytest.mark.timeout(120)
def test_a_rejected_checkout_is_reported_as_no_order(graph, engine):
    alice = Shopper(graph, engine, "alice")
    alice.say("women's trail shoes")
    alice.say("add the first one in 8.5")
    alice.say("check out")
    alice.store_decides(action="reject", reason="That size is being restocked")
    reply, _ = alice.say("so what's the status of my order")
    assert reply == (
        "The store didn't approve your checkout: That size is being restocked. No order was placed."
    )
    assert alice.cart == [("TRL-021", 8.5, 1)]


@pytest.mark.timeout(120)
def test_a_brand_the_shop_does_not_sell_gets_a_plain_answer_and_a_suggestion(graph, engine):
    bob = Shopper(graph, engine, "bob")
    bob.say("hiking boots under $160")
    seen = bob.state.values["last_seen"]
    reply, calls = bob.say("got any Adidas?")
    assert calls == []
    assert reply.startswith("Sorry, we don't carry Adidas.")
    assert bob.state.values["last_seen"] == seen  # the last search was not run again

    reply, calls = bob.say("yes please")
    assert calls == [{"name": "search_products", "args": {"category": "running", "gender": "men"}}]
    assert "men's running shoes" in reply.splitlines()[0]


@pytest.mark.timeout(120)
def test_filters_are_kept_shown_and_dropped(graph, engine):
    alice = Shopper(graph, engine, "alice")
    alice.say("women's trail shoes under $150")
    reply, calls = alice.say("in black please")
    assert calls[0]["args"] == {
        "category": "trail",
        "color": "black",
        "gender": "women",
        "max_price": 150.0,
    }
    assert (
        "Kept from your last search: trail shoes, women's, under $150. "
        'Say "any gender", "any price" or "start over" to widen.'
    ) in reply

    _, calls = alice.say("forget the price limit")
    assert calls[0]["args"] == {"category": "trail", "color": "black", "gender": "women"}

    # A new category starts fresh: no colour carried over; the profile's gender is named.
    reply, calls = alice.say("show me sandals")
    assert calls[0]["args"] == {"category": "sandals", "gender": "women"}
    assert 'From your profile: women\'s. Say "any gender" or "start over" to widen.' in reply

    alice.say("let's start again")
    _, calls = alice.say("in navy")
    assert calls[0]["args"] == {"color": "navy", "gender": "women"}
