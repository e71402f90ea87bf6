"""The shop's tools, run by a real LangGraph ToolNode so InjectedState and Command really work."""

import json
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from langgraph.prebuilt import ToolNode
from sqlmodel import Session, select

from assistant.agent import tools
from assistant.agent.state import ShopState
from assistant.agent.tools import SHOP_TOOLS
from assistant.shopdb import Product, StockLevel, get_engine, init_db, size_label

CONTRACT_TOOLS = {
    "search_products": {"query", "category", "brand", "color", "size", "gender", "min_price",
                        "max_price", "limit"},
    "get_product_details": {"product_id"},
    "add_to_cart": {"product_id", "size", "quantity"},
    "update_cart_item": {"product_id", "size", "quantity", "new_size"},
    "remove_from_cart": {"product_id", "size"},
    "view_cart": set(),
}  # fmt: skip


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):
    """A seeded catalog; the cart tools only read it."""
    engine = get_engine(f"sqlite:///{tmp_path_factory.mktemp('shop') / 'shop.db'}")
    init_db(engine)
    return engine


@pytest.fixture(scope="module")
def graph():
    """The smallest graph that runs the tools the way the shop's graph does."""
    builder = StateGraph(ShopState)
    builder.add_node("tools", ToolNode(SHOP_TOOLS))
    builder.add_edge(START, "tools")
    builder.add_edge("tools", END)
    return builder.compile()


class Shop:
    """Calls one tool through the graph and keeps the resulting state, like a conversation."""

    def __init__(self, graph, engine):
        self.graph = graph
        self.engine = engine
        self.state: dict = {"cart": [], "last_seen": [], "user": "alice", "tenant": "tenant-a"}
        self.calls = 0

    def call(self, name: str, **args) -> dict:
        self.calls += 1
        request = AIMessage("", tool_calls=[{"name": name, "args": args, "id": f"c{self.calls}"}])
        out = self.graph.invoke(
            {**self.state, "messages": [request]}, {"configurable": {"engine": self.engine}}
        )
        answer = out["messages"][-1]
        assert isinstance(answer, ToolMessage) and answer.tool_call_id == f"c{self.calls}"
        assert answer.name == name
        body = json.loads(answer.content)
        assert (answer.status == "error") == (body.get("ok") is False)
        self.state = {key: value for key, value in out.items() if key != "messages"}
        return body


@pytest.fixture
def shop(graph, engine) -> Shop:
    return Shop(graph, engine)


@pytest.fixture(scope="module")
def stocked(engine) -> dict:
    """A product with a well-stocked size, a sold-out size and a size it is not made in."""
    with Session(engine) as session:
        for product in session.exec(select(Product).order_by(Product.product_id)):
            levels = {level.size: level.quantity for level in product.stock_levels}
            plenty = [size for size, quantity in levels.items() if quantity >= 6]
            sold_out = [size for size, quantity in levels.items() if quantity == 0]
            if len(plenty) >= 2 and sold_out:
                return {
                    "product_id": product.product_id,
                    "name": product.display_name,
                    "price": product.price,
                    "size": plenty[0],
                    "other_size": plenty[1],
                    "stock": levels,
                    "sold_out": sold_out[0],
                    "not_made": 15.5,
                }
    raise AssertionError("the catalog has no product suitable for these tests")


def _scarce(engine) -> tuple[str, float, int]:
    with Session(engine) as session:
        level = session.exec(select(StockLevel).where(StockLevel.quantity.between(1, 3))).first()
        return level.product_id, level.size, level.quantity


# --- the contract --------------------------------------------------------------------------


def test_tool_names_and_arguments_match_the_contract() -> None:
    assert {
        tool.name: set(tool.tool_call_schema.model_json_schema().get("properties", {}))
        for tool in SHOP_TOOLS
    } == CONTRACT_TOOLS
    assert "checkout" not in {tool.name for tool in SHOP_TOOLS}


def test_every_tool_has_a_description_for_the_model() -> None:
    for tool in SHOP_TOOLS:
        assert len(tool.description) > 30, tool.name


# --- search and details --------------------------------------------------------------------


def test_search_returns_results_and_remembers_them(shop: Shop) -> None:
    body = shop.call("search_products", query="trail", gender="women", size=8.5, limit=3)
    assert len(body["results"]) == 3 and body["total_matches"] >= 3
    assert body["filters"] == {"query": "trail", "gender": "women", "size": 8.5}
    first = body["results"][0]
    assert set(first) == {
        "product_id",
        "name",
        "brand",
        "category",
        "gender",
        "colors",
        "price",
        "rating",
        "sizes_in_stock",
    }
    assert all(8.5 in result["sizes_in_stock"] for result in body["results"])
    assert all(result["gender"] in ("women", "unisex") for result in body["results"])
    assert shop.state["last_seen"] == [result["product_id"] for result in body["results"]]


def test_search_limit_is_capped(shop: Shop) -> None:
    assert len(shop.call("search_products", limit=100)["results"]) == tools.MAX_RESULTS


def test_search_without_matches_explains_and_keeps_the_last_list(shop: Shop) -> None:
    shown = shop.call("search_products", category="sandals")["results"]
    body = shop.call("search_products", category="formal", color="pink", gender="kids")
    assert body["results"] == [] and body["total_matches"] == 0
    assert body["message"].startswith("No shoes matched") and "without color" in body["message"]
    assert shop.state["last_seen"] == [result["product_id"] for result in shown]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"category": "skates"}, "categories are"),
        ({"color": "plaid"}, "colours are"),
        ({"gender": "robots"}, "women, men or kids"),
        ({"min_price": 200, "max_price": 100}, "above max_price"),
    ],
)
def test_search_with_bad_filters_answers_an_error(shop: Shop, args: dict, message: str) -> None:
    body = shop.call("search_products", **args)
    assert body["ok"] is False and message in body["error"]
    assert shop.state["last_seen"] == []


def test_product_details_show_stock_and_become_the_last_seen(shop: Shop, stocked: dict) -> None:
    body = shop.call("get_product_details", product_id=stocked["product_id"].lower())
    product = body["product"]
    assert product["product_id"] == stocked["product_id"]
    assert product["description"]
    assert product["stock"] == {size_label(s): q for s, q in stocked["stock"].items()}
    assert shop.state["last_seen"] == [stocked["product_id"]]


def test_details_of_an_unknown_product_point_to_the_last_results(shop: Shop) -> None:
    shown = [r["product_id"] for r in shop.call("search_products", query="hiking")["results"]]
    body = shop.call("get_product_details", product_id="ZZZ-404")
    assert body["ok"] is False and "Unknown product 'ZZZ-404'" in body["error"]
    assert shown[0] in body["error"]
    assert shop.state["last_seen"] == shown


# --- adding to the cart ---------------------------------------------------------------------


def test_add_to_cart_adds_a_priced_line(shop: Shop, stocked: dict) -> None:
    body = shop.call(
        "add_to_cart", product_id=stocked["product_id"], size=stocked["size"], quantity=2
    )
    line = {
        "product_id": stocked["product_id"],
        "name": stocked["name"],
        "size": stocked["size"],
        "quantity": 2,
        "unit_price": stocked["price"],
    }
    assert body["ok"] is True and body["cart"] == [line] and shop.state["cart"] == [line]
    assert body["cart_total"] == round(2 * stocked["price"], 2)
    assert stocked["name"] in body["message"]


def test_adding_the_same_size_again_adds_pairs(shop: Shop, stocked: dict) -> None:
    for _ in range(2):
        shop.call("add_to_cart", product_id=stocked["product_id"], size=stocked["size"])
    shop.call("add_to_cart", product_id=stocked["product_id"], size=stocked["other_size"])
    quantities = {line["size"]: line["quantity"] for line in shop.state["cart"]}
    assert quantities == {stocked["size"]: 2, stocked["other_size"]: 1}


def test_the_state_cart_is_never_changed_in_place(graph, engine, stocked: dict) -> None:
    line = {
        "product_id": stocked["product_id"],
        "name": stocked["name"],
        "size": stocked["size"],
        "quantity": 1,
        "unit_price": stocked["price"],
    }
    cart = [line]
    request = AIMessage(
        "",
        tool_calls=[
            {
                "name": "add_to_cart",
                "id": "c1",
                "args": {"product_id": stocked["product_id"], "size": stocked["size"]},
            }
        ],
    )
    out = graph.invoke({"cart": cart, "messages": [request]}, {"configurable": {"engine": engine}})
    assert out["cart"][0]["quantity"] == 2
    assert cart == [line] and line["quantity"] == 1


def test_add_unknown_product_is_an_error(shop: Shop) -> None:
    body = shop.call("add_to_cart", product_id="NOPE-1", size=9)
    assert body["ok"] is False and "Unknown product" in body["error"]
    assert shop.state["cart"] == []


def test_add_a_size_not_made_lists_the_sizes_in_stock(shop: Shop, stocked: dict) -> None:
    body = shop.call("add_to_cart", product_id=stocked["product_id"], size=stocked["not_made"])
    in_stock = ", ".join(size_label(s) for s, q in stocked["stock"].items() if q > 0)
    assert body == {
        "ok": False,
        "error": f"Size 15.5 is not available for {stocked['name']}; sizes in stock: {in_stock}.",
    }


def test_add_a_sold_out_size_is_an_error(shop: Shop, stocked: dict) -> None:
    body = shop.call("add_to_cart", product_id=stocked["product_id"], size=stocked["sold_out"])
    assert body["ok"] is False and "sold out" in body["error"]
    assert size_label(stocked["size"]) in body["error"]


@pytest.mark.parametrize("quantity", [0, -1, 11])
def test_add_a_quantity_outside_1_to_10_is_an_error(
    shop: Shop, stocked: dict, quantity: int
) -> None:
    body = shop.call(
        "add_to_cart", product_id=stocked["product_id"], size=stocked["size"], quantity=quantity
    )
    assert body["ok"] is False and "Quantity must be 1-10" in body["error"]


def test_add_more_than_in_stock_is_an_error(shop: Shop, engine) -> None:
    product_id, size, quantity = _scarce(engine)
    body = shop.call("add_to_cart", product_id=product_id, size=size, quantity=quantity + 1)
    assert body["ok"] is False
    assert f"ask for at most {quantity}" in body["error"]
    shop.call("add_to_cart", product_id=product_id, size=size, quantity=quantity)
    again = shop.call("add_to_cart", product_id=product_id, size=size)
    assert again["ok"] is False and f"{quantity} in the cart" in again["error"]
    assert shop.state["cart"][0]["quantity"] == quantity


def test_more_than_ten_pairs_of_one_size_is_an_error(shop: Shop, engine) -> None:
    with Session(engine) as session:
        level = session.exec(select(StockLevel).where(StockLevel.quantity >= 12)).first()
    shop.call("add_to_cart", product_id=level.product_id, size=level.size, quantity=8)
    body = shop.call("add_to_cart", product_id=level.product_id, size=level.size, quantity=3)
    assert body["ok"] is False and "At most 10 pairs" in body["error"]


# --- changing and removing lines ---------------------------------------------------------


@pytest.fixture
def with_line(shop: Shop, stocked: dict) -> Shop:
    shop.call("add_to_cart", product_id=stocked["product_id"], size=stocked["size"], quantity=2)
    return shop


def test_update_quantity(with_line: Shop, stocked: dict) -> None:
    body = with_line.call(
        "update_cart_item", product_id=stocked["product_id"], size=stocked["size"], quantity=3
    )
    assert body["ok"] is True and with_line.state["cart"][0]["quantity"] == 3
    assert body["cart_total"] == round(3 * stocked["price"], 2)


def test_update_size_moves_the_line(with_line: Shop, stocked: dict) -> None:
    with_line.call(
        "update_cart_item",
        product_id=stocked["product_id"],
        size=stocked["size"],
        new_size=stocked["other_size"],
    )
    assert [(line["size"], line["quantity"]) for line in with_line.state["cart"]] == [
        (stocked["other_size"], 2)
    ]


def test_update_size_onto_an_existing_line_merges_them(with_line: Shop, stocked: dict) -> None:
    with_line.call("add_to_cart", product_id=stocked["product_id"], size=stocked["other_size"])
    with_line.call(
        "update_cart_item",
        product_id=stocked["product_id"],
        size=stocked["other_size"],
        new_size=stocked["size"],
    )
    assert [(line["size"], line["quantity"]) for line in with_line.state["cart"]] == [
        (stocked["size"], 3)
    ]


def test_update_to_quantity_zero_removes_the_line(with_line: Shop, stocked: dict) -> None:
    body = with_line.call(
        "update_cart_item", product_id=stocked["product_id"], size=stocked["size"], quantity=0
    )
    assert body["ok"] is True and body["cart"] == [] and with_line.state["cart"] == []
    assert body["cart_total"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"size": 4.0, "quantity": 1}, "not in the cart; the cart has:"),
        ({"quantity": 11}, "Quantity must be 0-10"),
        ({"quantity": -2}, "Quantity must be 0-10"),
        ({}, "Say the new quantity"),
        ({"new_size": 15.5}, "is not available"),
    ],
)
def test_bad_updates_are_errors_and_change_nothing(
    with_line: Shop, stocked: dict, args: dict, message: str
) -> None:
    before = list(with_line.state["cart"])
    body = with_line.call(
        "update_cart_item",
        **{"product_id": stocked["product_id"], "size": stocked["size"], **args},
    )
    assert body["ok"] is False and message in body["error"]
    assert with_line.state["cart"] == before


def test_update_to_a_sold_out_size_is_an_error(with_line: Shop, stocked: dict) -> None:
    body = with_line.call(
        "update_cart_item",
        product_id=stocked["product_id"],
        size=stocked["size"],
        new_size=stocked["sold_out"],
    )
    assert body["ok"] is False and "sold out" in body["error"]


def test_remove_one_size_or_every_size(with_line: Shop, stocked: dict) -> None:
    with_line.call("add_to_cart", product_id=stocked["product_id"], size=stocked["other_size"])
    body = with_line.call(
        "remove_from_cart", product_id=stocked["product_id"], size=stocked["size"]
    )
    assert [line["size"] for line in body["cart"]] == [stocked["other_size"]]
    body = with_line.call("remove_from_cart", product_id=stocked["product_id"])
    assert body["ok"] is True and body["cart"] == [] and with_line.state["cart"] == []


def test_remove_what_is_not_in_the_cart_is_an_error(shop: Shop) -> None:
    body = shop.call("remove_from_cart", product_id="RUN-001", size=9)
    assert body == {
        "ok": False,
        "error": "RUN-001 in size 9 is not in the cart; the cart is empty.",
    }


def test_view_cart_totals(with_line: Shop, stocked: dict) -> None:
    with_line.call("add_to_cart", product_id=stocked["product_id"], size=stocked["other_size"])
    body = with_line.call("view_cart")
    assert body["item_count"] == 3
    assert body["cart_total"] == round(3 * stocked["price"], 2)
    assert body["cart"] == with_line.state["cart"]


# --- where the engine comes from -----------------------------------------------------------


def test_engine_from_takes_the_run_config(engine) -> None:
    assert tools.engine_from({"configurable": {"engine": engine}}) is engine


@pytest.mark.parametrize("config", [None, {}, {"configurable": {"thread_id": "t"}}])
def test_engine_from_a_config_without_an_engine_raises(config) -> None:
    with pytest.raises(tools.MissingEngine, match=r'config\["configurable"\]\["engine"\]'):
        tools.engine_from(config)


def test_a_tool_run_without_an_engine_fails_instead_of_using_some_default_database(
    graph, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Were there a fallback, it would be the database DATABASE_URL names.
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'default.db'}")
    request = AIMessage("", tool_calls=[{"name": "search_products", "args": {}, "id": "c1"}])
    with pytest.raises(tools.MissingEngine):
        graph.invoke({"cart": [], "messages": [request]}, {"configurable": {"thread_id": "t"}})
    assert not (tmp_path / "default.db").exists()
