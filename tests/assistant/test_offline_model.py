"""OfflineShopModel over plain message lists (no graph): intents, references, replies, streaming.

Tool results are written here in the agent contract's JSON shapes, the way the real tools answer.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from assistant.models import MODEL_NAME, OfflineShopModel
from assistant.models.offline_parse import parse_request
from assistant.models.offline_vocabulary import ShopVocabulary, load_vocabulary

TOOL_NAMES = [
    "search_products",
    "get_product_details",
    "add_to_cart",
    "update_cart_item",
    "remove_from_cart",
    "view_cart",
    "checkout",
]


def tool_schema(name: str) -> dict:
    """A minimal OpenAI-format tool; the offline model only looks at the name."""
    return {
        "type": "function",
        "function": {"name": name, "description": name, "parameters": {"type": "object"}},
    }


PROFILE = SystemMessage(
    "Be helpful.\nShopper profile: "
    '{"user": "alice", "name": "Alice", "shoe_size": 8.5, "gender": "women", '
    '"preferred_category": "running"}'
)

RIDGE = {
    "product_id": "TRL-001",
    "name": "Ridge GTX",
    "brand": "Northpeak",
    "category": "trail",
    "gender": "women",
    "colors": ["black", "blue"],
    "price": 139.0,
    "rating": 4.6,
    "sizes_in_stock": [8.0, 8.5, 9.0, 9.5, 10.0, 11.0],
}
SCREE = {
    "product_id": "TRL-002",
    "name": "Scree Runner",
    "brand": "Cairnline",
    "category": "trail",
    "gender": "women",
    "colors": ["red", "grey"],
    "price": 119.5,
    "rating": 4.4,
    "sizes_in_stock": [9.0, 10.0],
}
MOSS = {
    "product_id": "TRL-003",
    "name": "Mossback",
    "brand": "Timberhold",
    "category": "trail",
    "gender": "unisex",
    "colors": ["green"],
    "price": 99.0,
    "rating": 4.1,
    "sizes_in_stock": [7.0, 9.0],
}


@pytest.fixture
def catalog_file(tmp_path: Path) -> Path:
    """A small catalog data file like the one the catalog helper writes."""
    path = tmp_path / "catalog.json"
    products = [
        {"brand": "Northpeak", "category": "trail", "colors": ["black", "blue"]},
        {"brand": "Switchback Trail Co.", "category": "trail", "colors": ["gray", "orange"]},
        {"brand": "Cobble & Vine", "category": "formal", "colors": ["burgundy"]},
    ]
    path.write_text(json.dumps({"version": 1, "products": products}))
    return path


@pytest.fixture
def model(catalog_file: Path):
    """The offline model with every shop tool bound."""
    return OfflineShopModel(catalog_path=catalog_file).bind_tools(
        [tool_schema(n) for n in TOOL_NAMES]
    )


class Chat:
    """Builds a conversation the way the graph does: AI tool calls answered by ToolMessages."""

    def __init__(self, *messages: BaseMessage) -> None:
        self.messages: list[BaseMessage] = [PROFILE, *messages]
        self._ids = 0

    def human(self, text: str) -> Chat:
        self.messages.append(HumanMessage(text))
        return self

    def tool(self, name: str, args: dict, result: dict | str) -> Chat:
        """An AI call to `name` and its result."""
        self._ids += 1
        call_id = f"call_{self._ids}"
        self.messages.append(
            AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id}])
        )
        content = result if isinstance(result, str) else json.dumps(result)
        self.messages.append(ToolMessage(content, tool_call_id=call_id, name=name))
        return self

    def searched(self, args: dict, *products: dict, total: int | None = None) -> Chat:
        payload = {"results": list(products), "total_matches": total or len(products)}
        return self.human("show me shoes").tool("search_products", args, payload)

    def ai(self, text: str) -> Chat:
        self.messages.append(AIMessage(text))
        return self


def cart_result(*lines: dict, message: str = "Done.") -> dict:
    total = round(sum(line["quantity"] * line["unit_price"] for line in lines), 2)
    return {"ok": True, "message": message, "cart": list(lines), "cart_total": total}


def line(product: dict, size: float, quantity: int = 1) -> dict:
    return {
        "product_id": product["product_id"],
        "name": product["name"],
        "size": size,
        "quantity": quantity,
        "unit_price": product["price"],
    }


def only_call(message: AIMessage) -> tuple[str, dict]:
    assert len(message.tool_calls) == 1, message
    return message.tool_calls[0]["name"], message.tool_calls[0]["args"]


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("show me running shoes", {"intent": "search", "category": "running"}),
        ("trail runners", {"category": "trail"}),
        ("waterproof hiking boots", {"category": "hiking", "query": "waterproof"}),
        ("casual sneakers", {"category": "casual", "query": ""}),
        ("dress shoes for a wedding", {"category": "formal"}),
        ("flip flops", {"category": "sandals"}),
        ("hoops shoes", {"category": "basketball"}),
        ("women's trail shoes", {"gender": "women", "category": "trail"}),
        ("mens sandals", {"gender": "men"}),
        ("shoes for my daughter", {"gender": "kids"}),
        ("girls sneakers", {"gender": "kids"}),
        ("something in grey", {"colour": "gray"}),
        ("navy blue loafers", {"colour": "navy", "category": "formal"}),
        ("Northpeak boots", {"brand": "Northpeak", "category": "hiking"}),
        # "trail" belongs to the brand here, not to the category.
        ("switchback trail shoes", {"brand": "Switchback Trail Co.", "category": None}),
        ("switchback hiking boots", {"brand": "Switchback Trail Co.", "category": "hiking"}),
        ("cobble and vine oxfords", {"brand": "Cobble & Vine", "category": "formal"}),
        ("running shoes under $120", {"max_price": 120.0, "min_price": None}),
        ("between 80 and 150", {"min_price": 80.0, "max_price": 150.0}),
        ("sandals less than 100", {"max_price": 100.0}),
        ("$60-$90 sneakers", {"min_price": 60.0, "max_price": 90.0}),
        ("hiking boots over $200", {"min_price": 200.0}),
        ("around $100", {"min_price": 80.0, "max_price": 120.0}),
        ("cheap sandals", {"cheap": True}),
        ("running shoes size 10", {"size": 10.0}),
        ("trail shoes in a 9", {"size": 9.0}),
        ("10.5", {"intent": "size_only", "size": 10.5}),
        ("size 9 1/2", {"size": 9.5}),
        ("under $120 in size 11", {"max_price": 120.0, "size": 11.0}),
        ("add the second one in size 10", {"intent": "add", "size": 10.0}),
        ("add it x2", {"intent": "add", "quantity": 2}),
        ("add two pairs of the first", {"intent": "add", "quantity": 2}),
        ("i'd like the blue ones", {"intent": "add", "colour": "blue"}),
        ("I want to buy trail shoes", {"intent": "search"}),
        ("buy the second one", {"intent": "add"}),
        ("details on the first", {"intent": "details"}),
        ("tell me more about it", {"intent": "details"}),
        ("change the size to 9", {"intent": "update", "size": 9.0}),
        ("make it 2 pairs", {"intent": "update", "quantity": 2}),
        ("remove the Northpeak", {"intent": "remove", "brand": "Northpeak"}),
        ("empty my cart", {"intent": "clear_cart"}),
        ("what's in my cart?", {"intent": "view_cart"}),
        ("checkout", {"intent": "checkout"}),
        ("Place the order please", {"intent": "checkout"}),
        ("don't check out yet", {"intent": "no_checkout"}),
        ("cheaper", {"intent": "search", "cheaper": True}),
        ("show me more", {"intent": "search", "more": True}),
        ("in blue instead", {"intent": "search", "colour": "blue", "instead": True}),
        ("hello!", {"intent": "greeting"}),
        ("what can you do?", {"intent": "help"}),
        ("thanks a lot", {"intent": "thanks"}),
        ("qwzx plorf", {"intent": "unknown"}),
        ("actually make it a 10", {"intent": "update", "size": 10.0, "quantity": None}),
        ("swap to a 9.5", {"intent": "update", "size": 9.5}),
        ("I'll take two", {"intent": "add", "quantity": 2}),
        ("can I get the first one in 8.5?", {"intent": "add", "size": 8.5}),
        ("delete everything", {"intent": "clear_cart"}),
        ("I wear size 9", {"intent": "size_only", "size": 9.0}),
        ("how much is the second one?", {"intent": "details"}),
        ("what sizes does it come in?", {"intent": "details"}),
        ("ok buy them", {"intent": "checkout"}),
    ],
)
def test_parser_reads_the_shop_vocabulary(text: str, expected: dict, catalog_file: Path):
    request = parse_request(text, load_vocabulary(catalog_file))
    for field, value in expected.items():
        assert getattr(request, field) == value, (text, field, request)


def test_parser_reads_references(catalog_file: Path):
    vocabulary = load_vocabulary(catalog_file)
    assert parse_request("the second one", vocabulary).reference.ordinal == 2
    assert parse_request("add the last one", vocabulary).reference.ordinal == -1
    assert parse_request("details on #3", vocabulary).reference.ordinal == 3
    assert parse_request("add the cheapest one", vocabulary).reference.superlative == "cheapest"
    assert parse_request("add that one", vocabulary).reference.pronoun
    # "that" inside a description is not a reference.
    assert not parse_request("shoes that breathe", vocabulary).reference.pronoun


def test_vocabulary_without_catalog_file_still_knows_colours(tmp_path: Path):
    vocabulary = load_vocabulary(tmp_path / "missing.json")
    assert vocabulary.brands == {}
    assert vocabulary.colours["gray"] == "grey"
    (tmp_path / "broken.json").write_text("{not json")
    assert load_vocabulary(tmp_path / "broken.json").brands == {}


def test_vocabulary_spells_colours_the_catalog_way(catalog_file: Path):
    # The file says "gray", so "grey" from the shopper becomes "gray" for the search tool.
    assert load_vocabulary(catalog_file).colours["grey"] == "gray"


def test_real_catalog_brands_are_known():
    path = Path(__file__).resolve().parents[2] / "data" / "catalog.json"
    brands = json.loads(path.read_text())["products"]
    vocabulary = load_vocabulary(path)
    for product in brands:
        assert product["brand"] in vocabulary.brands.values()


# --- searching -----------------------------------------------------------------------------


def test_search_uses_filters_and_profile_gender_default(model):
    reply = model.invoke(Chat().human("red trail shoes under $150 in size 9").messages)
    assert only_call(reply) == (
        "search_products",
        {
            "category": "trail",
            "color": "red",
            "size": 9.0,
            "gender": "women",
            "max_price": 150.0,
        },
    )
    assert reply.response_metadata["model_name"] == MODEL_NAME


def test_explicit_gender_beats_the_profile(model):
    _, args = only_call(model.invoke(Chat().human("men's running shoes").messages))
    assert args["gender"] == "men"
    _, args = only_call(model.invoke(Chat().human("running shoes for any gender").messages))
    assert "gender" not in args


def test_refinements_merge_the_previous_search(model):
    chat = Chat().searched({"category": "trail", "gender": "women"}, RIDGE, SCREE, MOSS)
    _, args = only_call(model.invoke(chat.human("in blue instead").messages))
    assert args == {"category": "trail", "color": "blue", "gender": "women"}

    chat = Chat().searched({"category": "trail", "gender": "women"}, RIDGE, SCREE, MOSS)
    _, args = only_call(model.invoke(chat.human("cheaper").messages))
    # Below the average price shown: (139 + 119.5 + 99) / 3 = 119.17.
    assert args == {"category": "trail", "gender": "women", "max_price": 119.0}

    chat = Chat().searched({"category": "trail"}, RIDGE, SCREE, MOSS, total=12)
    _, args = only_call(model.invoke(chat.human("show me more").messages))
    assert args == {"category": "trail", "limit": 10}


def test_new_category_starts_a_fresh_search(model):
    chat = Chat().searched({"category": "trail", "color": "blue", "max_price": 90.0}, MOSS)
    _, args = only_call(model.invoke(chat.human("show me sandals").messages))
    assert args == {"category": "sandals", "gender": "women"}


def test_search_results_are_summarised_in_display_order(model):
    chat = (
        Chat()
        .human("trail shoes")
        .tool(
            "search_products",
            {"category": "trail", "max_price": 150.0},
            {"results": [RIDGE, SCREE], "total_matches": 7},
        )
    )
    reply = model.invoke(chat.messages)
    assert reply.tool_calls == []
    lines = reply.content.splitlines()
    assert lines[0] == "I found 7 trail shoes under $150; here are the first 2:"
    assert lines[1] == "1. Northpeak Ridge GTX — $139, 4.6★, sizes 8-10, 11, black/blue"
    assert lines[2] == "2. Cairnline Scree Runner — $119.50, 4.4★, sizes 9, 10, red/grey"


def test_empty_search_relays_the_tools_hint(model):
    chat = (
        Chat()
        .human("pink formal")
        .tool(
            "search_products",
            {"category": "formal", "color": "pink"},
            {"results": [], "total_matches": 0, "message": "No shoes matched; try another colour."},
        )
    )
    reply = model.invoke(chat.messages)
    assert reply.content == (
        "I couldn't find any pink formal shoes. No shoes matched; try another colour."
    )


# --- references ----------------------------------------------------------------------------


def shown(*products: dict) -> Chat:
    return Chat().searched({"category": "trail"}, *products)


@pytest.mark.parametrize(
    ("text", "product_id", "size"),
    [
        ("add the second one in size 10", "TRL-002", 10.0),
        ("add the first in a 9", "TRL-001", 9.0),
        ("add the last one size 7", "TRL-003", 7.0),
        ("add the blue ones in 9.5", "TRL-001", 9.5),
        ("add the Cairnline in size 9", "TRL-002", 9.0),
        ("add the scree runner in size 9", "TRL-002", 9.0),
        ("I'll take the cheapest one in size 9", "TRL-003", 9.0),
        ("add the best rated in size 11", "TRL-001", 11.0),
    ],
)
def test_add_resolves_references_against_the_last_results(model, text, product_id, size):
    reply = model.invoke(shown(RIDGE, SCREE, MOSS).human(text).messages)
    assert only_call(reply) == (
        "add_to_cart",
        {"product_id": product_id, "size": size, "quantity": 1},
    )


def test_add_quantity(model):
    reply = model.invoke(shown(RIDGE, SCREE).human("add two pairs of the first in 9").messages)
    assert only_call(reply)[1] == {"product_id": "TRL-001", "size": 9.0, "quantity": 2}


def test_add_without_size_uses_the_profile_size_when_in_stock(model):
    reply = model.invoke(shown(RIDGE, SCREE).human("add the first one").messages)
    assert only_call(reply)[1] == {"product_id": "TRL-001", "size": 8.5, "quantity": 1}
    assert "your usual size, 8.5" in reply.content


def test_add_without_size_prefers_the_size_searched_for(model):
    chat = Chat().searched({"category": "trail", "size": 10.0}, RIDGE, SCREE)
    reply = model.invoke(chat.human("add the second one").messages)
    assert only_call(reply)[1] == {"product_id": "TRL-002", "size": 10.0, "quantity": 1}
    assert reply.content == "I'll add Cairnline Scree Runner in the size you searched for, 10."


def test_add_without_size_asks_when_profile_size_is_out_of_stock(model):
    chat = shown(RIDGE, SCREE).human("add the second one")
    reply = model.invoke(chat.messages)
    assert reply.tool_calls == []
    assert reply.content == "Which size would you like for Cairnline Scree Runner? In stock: 9, 10."
    # A bare size answers the question.
    reply = model.invoke(chat.ai(reply.content).human("10").messages)
    assert only_call(reply)[1] == {"product_id": "TRL-002", "size": 10.0, "quantity": 1}


def test_it_means_the_shoe_just_looked_at(model):
    chat = (
        shown(RIDGE, SCREE, MOSS)
        .human("details on the third")
        .tool(
            "get_product_details",
            {"product_id": "TRL-003"},
            {"product": {**MOSS, "stock": {"7": 1, "9": 2}, "description": "Soft."}},
        )
    )
    chat.ai("Mossback ...")
    reply = model.invoke(chat.human("add it in size 9").messages)
    assert only_call(reply)[1] == {"product_id": "TRL-003", "size": 9.0, "quantity": 1}


def test_it_is_ambiguous_after_a_list(model):
    reply = model.invoke(shown(RIDGE, SCREE).human("add it").messages)
    assert reply.tool_calls == []
    assert reply.content.startswith("Which one do you mean?")


def test_ordinal_beyond_the_list_asks(model):
    reply = model.invoke(shown(RIDGE, SCREE).human("add the fourth one in 9").messages)
    assert reply.tool_calls == []
    assert "pick a number from 1 to 2" in reply.content


def test_reference_with_nothing_shown_asks(model):
    reply = model.invoke(Chat().human("add the second one").messages)
    assert reply.tool_calls == []
    assert reply.content.startswith("I haven't shown you any shoes yet.")


def test_details_on_the_first(model):
    reply = model.invoke(shown(RIDGE, SCREE).human("details on the first").messages)
    assert only_call(reply) == ("get_product_details", {"product_id": "TRL-001"})


def test_details_reply_lists_stock_and_colours(model):
    chat = (
        shown(RIDGE)
        .human("tell me about it")
        .tool(
            "get_product_details",
            {"product_id": "TRL-001"},
            {"product": {**RIDGE, "description": "Grippy.", "stock": {"8": 2, "8.5": 0, "9": 1}}},
        )
    )
    reply = model.invoke(chat.messages)
    assert reply.content.splitlines()[:4] == [
        "Northpeak Ridge GTX — $139, 4.6★ (women's trail).",
        "Grippy.",
        "Colours: black, blue.",
        "In stock in sizes 8, 9.",
    ]


# --- cart ----------------------------------------------------------------------------------


def with_cart(*lines: dict) -> Chat:
    chat = shown(RIDGE, SCREE, MOSS).human("add it")
    first = lines[0]
    return chat.tool(
        "add_to_cart",
        {"product_id": first["product_id"], "size": first["size"], "quantity": 1},
        cart_result(*lines),
    )


def test_change_size_of_the_item_just_added(model):
    chat = with_cart(line(RIDGE, 9.0)).human("change the size to 9.5")
    assert only_call(model.invoke(chat.messages)) == (
        "update_cart_item",
        {"product_id": "TRL-001", "size": 9.0, "new_size": 9.5},
    )


def test_make_it_two_pairs(model):
    chat = with_cart(line(RIDGE, 9.0)).human("make it 2 pairs")
    assert only_call(model.invoke(chat.messages)) == (
        "update_cart_item",
        {"product_id": "TRL-001", "size": 9.0, "quantity": 2},
    )


def test_remove_by_brand_picks_the_matching_line(model):
    chat = with_cart(line(RIDGE, 9.0), line(SCREE, 10.0)).human("remove the Cairnline")
    assert only_call(model.invoke(chat.messages)) == (
        "remove_from_cart",
        {"product_id": "TRL-002", "size": 10.0},
    )


def test_clear_cart_removes_every_line_in_parallel(model):
    chat = with_cart(line(RIDGE, 9.0), line(SCREE, 10.0)).human("empty my cart")
    reply = model.invoke(chat.messages)
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("remove_from_cart", {"product_id": "TRL-001", "size": 9.0}),
        ("remove_from_cart", {"product_id": "TRL-002", "size": 10.0}),
    ]
    assert len({c["id"] for c in reply.tool_calls}) == 2


def test_parallel_results_are_all_summarised(model):
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
    reply = model.invoke(chat.messages)
    assert reply.tool_calls == []
    assert reply.content == (
        "Removed A. Your cart: 1 pair, total $119.50.\n\nRemoved B. Your cart is empty."
    )


def test_view_cart_and_its_summary(model):
    reply = model.invoke(Chat().human("what's in my cart").messages)
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
    reply = model.invoke(chat.messages)
    assert reply.content.splitlines() == [
        "Here's your cart:",
        "- Ridge GTX — size 9 × 2 at $139 = $278",
        'Total: $278. Say "checkout" when you\'re ready.',
    ]


def test_tool_error_is_relayed_plainly(model):
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
    reply = model.invoke(chat.messages)
    assert reply.tool_calls == []
    assert reply.content == f"Sorry, that didn't work: {error}"


def test_non_json_tool_result_is_relayed_not_crashed_on(model):
    chat = Chat().human("cart").tool("view_cart", {}, "Error: database is locked")
    reply = model.invoke(chat.messages)
    assert reply.content == "Sorry, something went wrong: Error: database is locked"


# --- checkout ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["checkout", "check out please", "place the order", "buy it"])
def test_checkout_only_when_asked(model, text):
    reply = model.invoke(with_cart(line(RIDGE, 9.0)).human(text).messages)
    assert only_call(reply) == ("checkout", {})


@pytest.mark.parametrize(
    "text",
    ["I want to buy trail shoes", "don't check out yet", "add it in size 9", "what's in my cart"],
)
def test_no_checkout_when_not_asked(model, text):
    reply = model.invoke(with_cart(line(RIDGE, 9.0)).human(text).messages)
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
def test_checkout_outcome_is_reported(model, result, expected):
    chat = with_cart(line(RIDGE, 9.0)).human("checkout").tool("checkout", {}, result)
    reply = model.invoke(chat.messages)
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
def test_any_message_gives_a_message_and_never_an_unrequested_checkout(model, words):
    text = " ".join(words)
    reply = model.invoke(with_cart(line(RIDGE, 9.0)).human(text).messages)
    assert isinstance(reply, AIMessage)
    assert reply.content or reply.tool_calls
    if not re.search(r"check ?out|order|buy|pay|purchase", text.lower()):
        assert "checkout" not in [c["name"] for c in reply.tool_calls]


# --- talk ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("hi", "Hi Alice! I'm the shop's offline assistant."),
        ("help", "I can search shoes by category"),
        ("thanks!", "You're welcome!"),
        ("qwzx plorf", "Sorry, I didn't understand that."),
        ("", "I can only read text messages."),
    ],
)
def test_small_talk_and_gibberish_get_plain_replies(model, text, start):
    reply = model.invoke(Chat().human(text).messages)
    assert reply.tool_calls == []
    assert reply.content.startswith(start)


def test_non_text_content_is_not_understood_politely(model):
    image = HumanMessage(content=[{"type": "image_url", "image_url": {"url": "data:,"}}])
    reply = model.invoke([PROFILE, image])
    assert reply.tool_calls == []
    assert reply.content.startswith("I can only read text messages.")


def test_huge_message_is_cut_and_answered_quickly(model):
    text = "red trail shoes " + "blah " * 200_000
    started = time.perf_counter()
    reply = model.invoke(Chat().human(text).messages)
    assert time.perf_counter() - started < 5
    assert only_call(reply)[1]["category"] == "trail"


def test_no_reply_needed_after_an_ai_message(model):
    reply = model.invoke([PROFILE, AIMessage("Hello")])
    assert reply.tool_calls == []
    assert reply.content


# --- chat-model interface -------------------------------------------------------------------


def test_only_bound_tools_are_called(catalog_file: Path):
    search_only = OfflineShopModel(catalog_path=catalog_file).bind_tools(
        [tool_schema("search_products")]
    )
    assert only_call(search_only.invoke(Chat().human("trail shoes").messages))[0] == (
        "search_products"
    )
    reply = search_only.invoke(Chat().human("what's in my cart").messages)
    assert reply.tool_calls == []
    assert "view_cart isn't connected" in reply.content

    unbound = OfflineShopModel(catalog_path=catalog_file)
    reply = unbound.invoke(Chat().human("trail shoes").messages)
    assert reply.tool_calls == []
    assert reply.content


def test_bind_tools_accepts_langchain_tools_and_keeps_the_openai_shape(catalog_file: Path):
    from langchain_core.tools import tool

    @tool
    def view_cart() -> str:
        """Show the cart."""
        return "{}"

    bound = OfflineShopModel(catalog_path=catalog_file).bind_tools([view_cart])
    assert bound.kwargs["tools"][0]["function"]["name"] == "view_cart"
    assert only_call(bound.invoke(Chat().human("my cart").messages))[0] == "view_cart"


def test_tool_call_ids_are_deterministic(model):
    first = model.invoke(shown(RIDGE, SCREE).human("add the first in 9").messages)
    again = model.invoke(shown(RIDGE, SCREE).human("add the first in 9").messages)
    other = model.invoke(shown(RIDGE, SCREE).human("add the second in 9").messages)
    assert first.tool_calls[0]["id"] == again.tool_calls[0]["id"]
    assert first.tool_calls[0]["id"].startswith("call_")
    assert first.tool_calls[0]["id"] != other.tool_calls[0]["id"]


def test_message_ids_do_not_change_tool_call_ids(model):
    messages = shown(RIDGE).human("add it in 9").messages
    renamed = [m.model_copy(update={"id": f"random-{i}"}) for i, m in enumerate(messages)]
    assert model.invoke(messages).tool_calls == model.invoke(renamed).tool_calls


def test_streamed_chunks_add_up_to_the_invoked_message(model):
    chat = (
        Chat()
        .human("trail shoes")
        .tool(
            "search_products",
            {"category": "trail"},
            {"results": [RIDGE, SCREE], "total_matches": 2},
        )
    )
    chunks = list(model.stream(chat.messages))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert len(chunks) > 10, "text should stream word by word"
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.content == model.invoke(chat.messages).content


def test_streamed_tool_calls_add_up_to_the_invoked_calls(model):
    messages = shown(RIDGE, SCREE).human("add the first one").messages
    chunks = list(model.stream(messages))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    invoked = model.invoke(messages)
    assert total.tool_calls == invoked.tool_calls
    assert total.content == invoked.content


def test_model_identity():
    model = OfflineShopModel()
    assert model.model_name == "offline-shop-model"
    assert model._llm_type == "offline-shop"


def test_works_before_the_catalog_file_exists(tmp_path: Path):
    model = OfflineShopModel(catalog_path=tmp_path / "none.json").bind_tools(
        [tool_schema(n) for n in TOOL_NAMES]
    )
    # Brands are learned from results in the conversation.
    chat = shown(RIDGE, SCREE).human("add the Northpeak in size 9")
    assert only_call(model.invoke(chat.messages))[1]["product_id"] == "TRL-001"
    assert ShopVocabulary().with_brands(["Northpeak"]).brands["northpeak"] == "Northpeak"


def test_reply_says_when_the_size_came_from_the_profile(model):
    chat = (
        shown(RIDGE)
        .human("add it")
        .tool(
            "add_to_cart",
            {"product_id": "TRL-001", "size": 8.5, "quantity": 1},
            cart_result(line(RIDGE, 8.5), message="Added 1 × Ridge GTX in size 8.5 to the cart."),
        )
    )
    reply = model.invoke(chat.messages)
    assert reply.content == (
        "I used your usual size, 8.5. Added 1 × Ridge GTX in size 8.5 to the cart. "
        "Your cart: 1 pair, total $139."
    )


def test_ordinal_after_a_single_result_points_at_it(model):
    reply = model.invoke(shown(MOSS).human("add the second one in 9").messages)
    assert reply.tool_calls == []
    assert reply.content == 'I only showed one shoe, Timberhold Mossback; say "add it".'


def test_only_catalog_words_go_into_the_query(tmp_path: Path):
    path = tmp_path / "catalog.json"
    product = {"brand": "Cairnline", "name": "Aspen Mid Waterproof", "description": "Grippy."}
    path.write_text(json.dumps({"products": [product]}))
    vocabulary = load_vocabulary(path)
    # "comfy" matches no product and would only empty the results.
    assert parse_request("comfy waterproof hiking boots", vocabulary).query == "waterproof"


def test_new_free_text_starts_a_fresh_search(model):
    chat = Chat().searched({"category": "formal", "gender": "men"}, RIDGE)
    _, args = only_call(model.invoke(chat.human("looking for something waterproof").messages))
    assert args == {"query": "waterproof", "gender": "women"}


def test_refining_an_empty_search_drops_its_free_text(model):
    chat = (
        Chat()
        .human("comfy sneakers")
        .tool("search_products", {"category": "casual", "query": "zzz"}, {"results": []})
    )
    _, args = only_call(model.invoke(chat.human("in blue").messages))
    assert args == {"category": "casual", "color": "blue"}


async def test_async_invoke_and_stream_match_sync(model):
    messages = shown(RIDGE, SCREE).human("add the second one in size 9").messages
    sync = model.invoke(messages)
    assert (await model.ainvoke(messages)).tool_calls == sync.tool_calls
    chunks = [chunk async for chunk in model.astream(messages)]
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.tool_calls == sync.tool_calls
