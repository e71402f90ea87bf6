""" "The second one", "it", "the blue ones": the offline model resolves references against the
results it showed, and picks a size the shopper did not say only when it can say where from."""

from __future__ import annotations

from pathlib import Path

import pytest
from offline_model_support import (
    MOSS,
    RIDGE,
    SCREE,
    TOOL_NAMES,
    Chat,
    cart_result,
    line,
    only_call,
    shown,
    tool_schema,
)

from assistant.agent.models import OfflineShopModel
from assistant.shopdb.vocabulary import ShopVocabulary


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
def test_add_resolves_references_against_the_last_results(offline_model, text, product_id, size):
    reply = offline_model.invoke(shown(RIDGE, SCREE, MOSS).human(text).messages)
    assert only_call(reply) == (
        "add_to_cart",
        {"product_id": product_id, "size": size, "quantity": 1},
    )


def test_add_quantity(offline_model):
    reply = offline_model.invoke(
        shown(RIDGE, SCREE).human("add two pairs of the first in 9").messages
    )
    assert only_call(reply)[1] == {"product_id": "TRL-001", "size": 9.0, "quantity": 2}


def test_add_without_size_uses_the_profile_size_when_in_stock(offline_model):
    reply = offline_model.invoke(shown(RIDGE, SCREE).human("add the first one").messages)
    assert only_call(reply)[1] == {"product_id": "TRL-001", "size": 8.5, "quantity": 1}
    assert "your usual size, 8.5" in reply.content


def test_add_without_size_prefers_the_size_searched_for(offline_model):
    chat = Chat().searched({"category": "trail", "size": 10.0}, RIDGE, SCREE)
    reply = offline_model.invoke(chat.human("add the second one").messages)
    assert only_call(reply)[1] == {"product_id": "TRL-002", "size": 10.0, "quantity": 1}
    assert reply.content == "I'll add Cairnline Scree Runner in the size you searched for, 10."


def test_add_without_size_asks_when_profile_size_is_out_of_stock(offline_model):
    chat = shown(RIDGE, SCREE).human("add the second one")
    reply = offline_model.invoke(chat.messages)
    assert reply.tool_calls == []
    assert reply.content == "Which size would you like for Cairnline Scree Runner? In stock: 9, 10."
    # A bare size answers the question.
    reply = offline_model.invoke(chat.ai(reply.content).human("10").messages)
    assert only_call(reply)[1] == {"product_id": "TRL-002", "size": 10.0, "quantity": 1}


def test_reply_says_when_the_size_came_from_the_profile(offline_model):
    chat = (
        shown(RIDGE)
        .human("add it")
        .tool(
            "add_to_cart",
            {"product_id": "TRL-001", "size": 8.5, "quantity": 1},
            cart_result(line(RIDGE, 8.5), message="Added 1 × Ridge GTX in size 8.5 to the cart."),
        )
    )
    reply = offline_model.invoke(chat.messages)
    assert reply.content == (
        "I used your usual size, 8.5. Added 1 × Ridge GTX in size 8.5 to the cart. "
        "Your cart: 1 pair, total $139."
    )


def test_it_means_the_shoe_just_looked_at(offline_model):
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
    reply = offline_model.invoke(chat.human("add it in size 9").messages)
    assert only_call(reply)[1] == {"product_id": "TRL-003", "size": 9.0, "quantity": 1}


def test_it_is_ambiguous_after_a_list(offline_model):
    reply = offline_model.invoke(shown(RIDGE, SCREE).human("add it").messages)
    assert reply.tool_calls == []
    assert reply.content.startswith("Which one do you mean?")


def test_ordinal_beyond_the_list_asks(offline_model):
    reply = offline_model.invoke(shown(RIDGE, SCREE).human("add the fourth one in 9").messages)
    assert reply.tool_calls == []
    assert "pick a number from 1 to 2" in reply.content


def test_ordinal_after_a_single_result_points_at_it(offline_model):
    reply = offline_model.invoke(shown(MOSS).human("add the second one in 9").messages)
    assert reply.tool_calls == []
    assert reply.content == 'I only showed one shoe, Timberhold Mossback; say "add it".'


def test_reference_with_nothing_shown_asks(offline_model):
    reply = offline_model.invoke(Chat().human("add the second one").messages)
    assert reply.tool_calls == []
    assert reply.content.startswith("I haven't shown you any shoes yet.")


def test_works_before_the_catalog_file_exists(tmp_path: Path):
    model = OfflineShopModel(catalog_path=tmp_path / "none.json").bind_tools(
        [tool_schema(n) for n in TOOL_NAMES]
    )
    # Brands are learned from results in the conversation.
    chat = shown(RIDGE, SCREE).human("add the Northpeak in size 9")
    assert only_call(model.invoke(chat.messages))[1]["product_id"] == "TRL-001"
    assert ShopVocabulary().with_brands(["Northpeak"]).brands["northpeak"] == "Northpeak"


def test_details_on_the_first(offline_model):
    reply = offline_model.invoke(shown(RIDGE, SCREE).human("details on the first").messages)
    assert only_call(reply) == ("get_product_details", {"product_id": "TRL-001"})


def test_details_reply_lists_stock_and_colours(offline_model):
    chat = (
        shown(RIDGE)
        .human("tell me about it")
        .tool(
            "get_product_details",
            {"product_id": "TRL-001"},
            {"product": {**RIDGE, "description": "Grippy.", "stock": {"8": 2, "8.5": 0, "9": 1}}},
        )
    )
    reply = offline_model.invoke(chat.messages)
    assert reply.content.splitlines()[:4] == [
        "Northpeak Ridge GTX — $139, 4.6★ (women's trail).",
        "Grippy.",
        "Colours: black, blue.",
        "In stock in sizes 8, 9.",
    ]
