"""The offline model driving a real LangGraph tool loop (StateGraph + ToolNode) over many turns.

The tools here are small fakes that return the agent contract's JSON shapes; the real tools and
graph are tested elsewhere. What this guards: the model's calls are valid for ToolNode, references
("the second one", "it") resolve against the results the tools returned, and the conversation
survives several turns through a checkpointer.
"""

from __future__ import annotations

import json
from typing import Annotated, TypedDict

import pytest
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode, tools_condition

from assistant.agent.models.offline.model import OfflineShopModel

PRODUCTS = [
    {
        "product_id": "TRL-001",
        "brand": "Northpeak",
        "name": "Ridge GTX",
        "category": "trail",
        "gender": "women",
        "colors": ["black", "blue"],
        "price": 139.0,
        "rating": 4.6,
        "stock": {"8": 2, "8.5": 3, "9": 4, "9.5": 1, "10": 0},
    },
    {
        "product_id": "TRL-002",
        "brand": "Switchback Trail Co.",
        "name": "Scree Runner",
        "category": "trail",
        "gender": "women",
        "colors": ["red", "grey"],
        "price": 119.5,
        "rating": 4.4,
        "stock": {"8": 1, "9": 5, "9.5": 2, "10": 3},
    },
    {
        "product_id": "TRL-003",
        "brand": "Cairnline",
        "name": "Mossback",
        "category": "trail",
        "gender": "unisex",
        "colors": ["blue", "green"],
        "price": 99.0,
        "rating": 4.1,
        "stock": {"7": 2, "9": 1, "11": 4},
    },
    {
        "product_id": "RUN-001",
        "brand": "Fleetwing",
        "name": "Cadence Rise 4",
        "category": "running",
        "gender": "women",
        "colors": ["red", "white"],
        "price": 129.95,
        "rating": 4.3,
        "stock": {"8.5": 3, "9": 2},
    },
]


class FakeShop:
    """Contract-shaped tools over the products above, with the cart kept in this object."""

    def __init__(self) -> None:
        self.cart: list[dict] = []
        self.checkouts = 0

    def product(self, product_id: str) -> dict | None:
        return next((p for p in PRODUCTS if p["product_id"] == product_id), None)

    def cart_json(self, message: str) -> str:
        total = round(sum(line["quantity"] * line["unit_price"] for line in self.cart), 2)
        return json.dumps({"ok": True, "message": message, "cart": self.cart, "cart_total": total})

    def tools(self) -> list:
        shop = self

        @tool
        def search_products(
            query: str = "",
            category: str | None = None,
            brand: str | None = None,
            color: str | None = None,
            size: float | None = None,
            gender: str | None = None,
            min_price: float | None = None,
            max_price: float | None = None,
            limit: int = 5,
        ) -> str:
            """Search the shoe catalog."""
            found = [
                p
                for p in PRODUCTS
                if (category is None or p["category"] == category)
                and (brand is None or p["brand"] == brand)
                and (color is None or color in p["colors"])
                and (gender is None or p["gender"] in (gender, "unisex"))
                and (min_price is None or p["price"] >= min_price)
                and (max_price is None or p["price"] <= max_price)
                and (size is None or p["stock"].get(f"{size:g}", 0) > 0)
            ]
            found.sort(key=lambda p: -p["rating"])
            results = [
                {
                    **{k: v for k, v in p.items() if k != "stock"},
                    "sizes_in_stock": sorted(float(s) for s, n in p["stock"].items() if n > 0),
                }
                for p in found[:limit]
            ]
            if not results:
                message = "No shoes matched; try fewer filters."
                return json.dumps({"results": [], "total_matches": 0, "message": message})
            return json.dumps({"results": results, "total_matches": len(found), "filters": {}})

        @tool
        def get_product_details(product_id: str) -> str:
            """Details of one shoe."""
            product = shop.product(product_id)
            if product is None:
                return json.dumps({"ok": False, "error": f"No product {product_id}."})
            return json.dumps({"product": {**product, "description": "A shoe."}})

        @tool
        def add_to_cart(product_id: str, size: float, quantity: int = 1) -> str:
            """Add a pair to the cart."""
            product = shop.product(product_id)
            if product is None:
                return json.dumps({"ok": False, "error": f"No product {product_id}."})
            if product["stock"].get(f"{size:g}", 0) < quantity:
                in_stock = ", ".join(s for s, n in product["stock"].items() if n > 0)
                return json.dumps(
                    {
                        "ok": False,
                        "error": f"Size {size:g} is not available for {product['name']}; "
                        f"sizes in stock: {in_stock}",
                    }
                )
            shop.cart.append(
                {
                    "product_id": product_id,
                    "name": product["name"],
                    "size": float(size),
                    "quantity": quantity,
                    "unit_price": product["price"],
                }
            )
            return shop.cart_json(f"Added {product['name']} (size {size:g}) to your cart.")

        @tool
        def update_cart_item(
            product_id: str,
            size: float,
            quantity: int | None = None,
            new_size: float | None = None,
        ) -> str:
            """Change quantity and/or size of a cart line."""
            for line in shop.cart:
                if line["product_id"] == product_id and line["size"] == size:
                    if quantity is not None:
                        line["quantity"] = quantity
                    if new_size is not None:
                        line["size"] = float(new_size)
                    return shop.cart_json(f"Updated {line['name']}.")
            error = f"{product_id} size {size:g} is not in the cart."
            return json.dumps({"ok": False, "error": error})

        @tool
        def remove_from_cart(product_id: str, size: float | None = None) -> str:
            """Remove a cart line."""
            shop.cart = [
                line
                for line in shop.cart
                if not (line["product_id"] == product_id and size in (None, line["size"]))
            ]
            return shop.cart_json("Removed it from your cart.")

        @tool
        def view_cart() -> str:
            """Show the cart."""
            total = round(sum(line["quantity"] * line["unit_price"] for line in shop.cart), 2)
            return json.dumps(
                {"cart": shop.cart, "cart_total": total, "item_count": len(shop.cart)}
            )

        @tool
        def checkout() -> str:
            """Ask the store to approve the order."""
            shop.checkouts += 1
            return json.dumps({"status": "approved", "order_id": "ORD-1", "total": 1.0})

        return [
            search_products,
            get_product_details,
            add_to_cart,
            update_cart_item,
            remove_from_cart,
            view_cart,
            checkout,
        ]


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


PROFILE = SystemMessage(
    'You sell shoes.\nShopper profile: {"user": "alice", "name": "Alice", "shoe_size": 8.5, '
    '"gender": "women", "preferred_category": "running"}'
)


def build(shop: FakeShop):
    """The usual agent ⇄ tools loop with the offline model."""
    tools = shop.tools()
    model = OfflineShopModel().bind_tools(tools)

    def agent(state: State) -> dict:
        return {"messages": [model.invoke([PROFILE, *state["messages"]])]}

    graph = StateGraph(State)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode(tools))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition, {"tools": "tools", END: END})
    graph.add_edge("tools", "agent")
    return graph.compile(checkpointer=InMemorySaver())


def turn(graph, text: str, thread: str = "t1") -> tuple[str, list[dict]]:
    """Send one shopper message; return the final reply and the tool calls made this turn."""
    config = {"configurable": {"thread_id": thread}}
    before = len(graph.get_state(config).values.get("messages", []))
    out = graph.invoke({"messages": [HumanMessage(text)]}, config)
    new = out["messages"][before:]
    calls = [call for m in new if isinstance(m, AIMessage) for call in m.tool_calls]
    return out["messages"][-1].content, calls


@pytest.mark.timeout(60)
def test_multi_turn_search_refine_add_change_size_view_cart():
    shop = FakeShop()
    graph = build(shop)

    reply, calls = turn(graph, "show me trail shoes under $150")
    assert [c["name"] for c in calls] == ["search_products"]
    # The profile's gender is the default filter of a fresh search.
    assert calls[0]["args"] == {"category": "trail", "max_price": 150.0, "gender": "women"}
    assert reply.startswith("I found 3 women's trail shoes under $150:")
    assert "1. Northpeak Ridge GTX — $139, 4.6★, sizes 8-9.5, black/blue" in reply

    reply, calls = turn(graph, "in blue instead")
    assert calls[0]["name"] == "search_products"
    # A refinement keeps the earlier filters and changes only what was said.
    assert calls[0]["args"] == {
        "category": "trail",
        "color": "blue",
        "gender": "women",
        "max_price": 150.0,
    }
    assert reply.startswith("I found 2 blue women's trail shoes under $150:")
    assert "1. Northpeak Ridge GTX" in reply and "2. Cairnline Mossback" in reply

    reply, calls = turn(graph, "add the second one in size 9")
    assert calls == [
        {
            "name": "add_to_cart",
            "args": {"product_id": "TRL-003", "size": 9.0, "quantity": 1},
            "id": calls[0]["id"],
            "type": "tool_call",
        }
    ]
    assert reply == "Added Mossback (size 9) to your cart. Your cart: 1 pair, total $99."

    reply, calls = turn(graph, "change the size to 9.5")
    assert calls[0]["name"] == "update_cart_item"
    assert calls[0]["args"] == {"product_id": "TRL-003", "size": 9.0, "new_size": 9.5}
    assert reply == "Updated Mossback. Your cart: 1 pair, total $99."
    assert shop.cart[0]["size"] == 9.5

    reply, calls = turn(graph, "what's in my cart?")
    assert [c["name"] for c in calls] == ["view_cart"]
    assert "- Mossback — size 9.5 × 1 at $99 = $99" in reply
    assert "Total: $99." in reply
    assert shop.checkouts == 0, "checkout must never be called unless the shopper asks"


@pytest.mark.timeout(60)
def test_default_size_from_profile_then_quantity_and_checkout_only_when_asked():
    shop = FakeShop()
    graph = build(shop)
    turn(graph, "red running shoes")
    reply, calls = turn(graph, "add it")
    # One result, so "it" is that shoe; no size given, the profile's 8.5 is in stock.
    assert calls[0]["args"] == {"product_id": "RUN-001", "size": 8.5, "quantity": 1}
    assert (
        "in your usual size, 8.5"
        in graph.get_state({"configurable": {"thread_id": "t1"}}).values["messages"][-3].content
    )
    reply, calls = turn(graph, "make it 2 pairs")
    assert calls[0]["args"] == {"product_id": "RUN-001", "size": 8.5, "quantity": 2}
    assert "total $259.90" in reply
    assert shop.checkouts == 0
    reply, calls = turn(graph, "ok, place the order")
    assert [c["name"] for c in calls] == ["checkout"]
    assert calls[0]["args"] == {}
    assert reply.startswith("Your order ORD-1 is confirmed")


@pytest.mark.timeout(60)
def test_compound_request_searches_then_adds_after_results_arrive():
    shop = FakeShop()
    graph = build(shop)
    reply, calls = turn(graph, "find red trail shoes and add the first in size 9")
    assert [c["name"] for c in calls] == ["search_products", "add_to_cart"]
    assert calls[1]["args"] == {"product_id": "TRL-002", "size": 9.0, "quantity": 1}
    assert reply == "Added Scree Runner (size 9) to your cart. Your cart: 1 pair, total $119.50."


@pytest.mark.timeout(60)
def test_unavailable_size_is_relayed_with_sizes_in_stock():
    shop = FakeShop()
    graph = build(shop)
    turn(graph, "trail shoes")
    reply, calls = turn(graph, "add the first one in size 10")
    assert calls[0]["args"]["size"] == 10.0
    assert reply.startswith("Sorry, that didn't work: Size 10 is not available for Ridge GTX")
    assert "8, 8.5, 9, 9.5" in reply
    assert shop.cart == []


@pytest.mark.timeout(60)
def test_replaying_a_checkpoint_repeats_the_same_tool_call_ids():
    graph = build(FakeShop())
    config = {"configurable": {"thread_id": "t1"}}
    turn(graph, "trail shoes")
    _, calls = turn(graph, "add the first one in size 9")
    original = calls[0]["id"]
    # The checkpoint where the agent is about to answer "add the first one in size 9".
    before_agent = next(
        snapshot
        for snapshot in graph.get_state_history(config)
        if snapshot.next == ("agent",)
        and isinstance(snapshot.values["messages"][-1], HumanMessage)
        and snapshot.values["messages"][-1].content == "add the first one in size 9"
    )
    replayed = graph.invoke(None, before_agent.config)
    replayed_calls = [
        call for m in replayed["messages"] if isinstance(m, AIMessage) for call in m.tool_calls
    ]
    assert replayed_calls[-1]["id"] == original
    assert replayed_calls[-1]["args"] == {"product_id": "TRL-001", "size": 9.0, "quantity": 1}
