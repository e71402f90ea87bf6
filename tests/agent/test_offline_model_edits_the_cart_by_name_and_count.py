"""The offline model edits the cart line the shopper names, by a distinctive part of the shoe's
name, and tells a number of pairs from a size ("change the quantity to 4" is never size 4)."""

from __future__ import annotations

from offline_model_support import MOSS, RIDGE, SCREE, cart_result, line, only_call, with_cart


def test_a_quantity_change_keeps_the_size(offline_model):
    chat = with_cart(line(RIDGE, 9.0)).human("please update the qty to four")
    assert only_call(offline_model.invoke(chat.messages)) == (
        "update_cart_item",
        {"product_id": "TRL-001", "size": 9.0, "quantity": 4},
    )


def test_a_size_change_keeps_the_quantity(offline_model):
    chat = with_cart(line(RIDGE, 9.0, 2)).human("actually, make that a 10")
    assert only_call(offline_model.invoke(chat.messages)) == (
        "update_cart_item",
        {"product_id": "TRL-001", "size": 9.0, "new_size": 10.0},
    )


def test_the_line_named_by_part_of_its_name_is_changed(offline_model):
    # The last change was the Ridge; the message names the Scree Runner.
    chat = with_cart(line(RIDGE, 9.0), line(SCREE, 10.0))
    reply = offline_model.invoke(chat.human("set the quantity of the scree runner to 3").messages)
    assert only_call(reply) == (
        "update_cart_item",
        {"product_id": "TRL-002", "size": 10.0, "quantity": 3},
    )


def test_the_name_that_fits_best_wins(offline_model):
    canvas_low = {**RIDGE, "product_id": "CAS-002", "name": "Canvas Low", "brand": "Harbor Lane"}
    canvas_sneaker = {**SCREE, "product_id": "CAS-012", "name": "Canvas Sneaker"}
    chat = with_cart(line(canvas_low, 9.0), line(canvas_sneaker, 9.0))
    reply = offline_model.invoke(chat.human("bump the canvas sneaker up to 2 pairs").messages)
    assert only_call(reply)[1] == {"product_id": "CAS-012", "size": 9.0, "quantity": 2}


def test_removing_a_shown_shoe_that_is_not_in_the_cart_says_so(offline_model):
    chat = with_cart(line(RIDGE, 9.0)).human("take the mossback out of my basket")
    reply = offline_model.invoke(chat.messages)
    assert reply.tool_calls == []
    assert reply.content == (
        "Timberhold Mossback isn't in your cart, so there's nothing to remove. "
        "Your cart has: Ridge GTX (size 9)."
    )


def test_a_quantity_for_a_shown_shoe_not_in_the_cart_adds_it(offline_model):
    chat = with_cart(line(RIDGE, 9.0)).human("set the number of pairs of the mossback to 2")
    reply = offline_model.invoke(chat.messages)
    # Not a change to the Ridge: the Mossback is added, and its size asked (8.5 isn't made).
    assert reply.tool_calls == []
    assert reply.content == "Which size would you like for Timberhold Mossback? In stock: 7, 9."
    reply = offline_model.invoke(chat.ai(reply.content).human("9 please").messages)
    assert only_call(reply) == (
        "add_to_cart",
        {"product_id": "TRL-003", "size": 9.0, "quantity": 2},
    )


def test_a_bare_count_sets_the_quantity_of_the_shoe_just_added(offline_model):
    chat = with_cart(line(RIDGE, 9.0)).human("three of those please")
    assert only_call(offline_model.invoke(chat.messages)) == (
        "update_cart_item",
        {"product_id": "TRL-001", "size": 9.0, "quantity": 3},
    )


def test_more_pairs_are_added_to_the_shoe_just_added(offline_model):
    chat = with_cart(line(RIDGE, 9.0)).human("two more")
    assert only_call(offline_model.invoke(chat.messages)) == (
        "add_to_cart",
        {"product_id": "TRL-001", "size": 9.0, "quantity": 2},
    )


def test_i_will_take_a_number_just_after_adding_means_that_many_pairs(offline_model):
    chat = with_cart(line(RIDGE, 9.0)).human("I'll take two")
    assert only_call(offline_model.invoke(chat.messages)) == (
        "update_cart_item",
        {"product_id": "TRL-001", "size": 9.0, "quantity": 2},
    )


def test_a_count_and_size_add_the_shoe_just_looked_at(offline_model):
    chat = (
        with_cart(line(RIDGE, 9.0))
        .human("details on the third")
        .tool(
            "get_product_details",
            {"product_id": "TRL-003"},
            {"product": {**MOSS, "stock": {"7": 1, "9": 4}, "description": "Soft."}},
        )
        .ai("Mossback ...")
        .human("two of them in size 9")
    )
    assert only_call(offline_model.invoke(chat.messages)) == (
        "add_to_cart",
        {"product_id": "TRL-003", "size": 9.0, "quantity": 2},
    )


def test_a_bare_count_with_several_lines_and_no_shoe_in_focus_asks_which(offline_model):
    chat = with_cart(line(RIDGE, 9.0), line(SCREE, 10.0))
    # A new search with several results: no shoe is in focus any more.
    chat.searched({"category": "trail"}, RIDGE, SCREE, MOSS).human("I need 4")
    reply = offline_model.invoke(chat.messages)
    assert reply.tool_calls == []
    assert reply.content == (
        "Which shoe should have 4 pairs? Your cart has: Ridge GTX (size 9); Scree Runner (size 10)."
    )


def test_a_count_answers_the_size_question_too(offline_model):
    chat = with_cart(line(RIDGE, 9.0)).human("add the scree runner")
    reply = offline_model.invoke(chat.messages)
    assert reply.content.startswith("Which size would you like for Cairnline Scree Runner?")
    reply = offline_model.invoke(chat.ai(reply.content).human("2 pairs in a 10").messages)
    assert only_call(reply) == (
        "add_to_cart",
        {"product_id": "TRL-002", "size": 10.0, "quantity": 2},
    )


def test_an_edit_after_the_cart_was_emptied_says_the_cart_is_empty(offline_model):
    chat = with_cart(line(RIDGE, 9.0)).human("empty my cart")
    chat.tool("remove_from_cart", {"product_id": "TRL-001", "size": 9.0}, cart_result())
    reply = offline_model.invoke(chat.human("change the quantity to 2").messages)
    assert reply.tool_calls == []
    assert reply.content == "Your cart is empty, so there's nothing to change yet."


def test_more_pairs_in_another_size_add_that_size(offline_model):
    chat = with_cart(line(RIDGE, 9.0)).human("two more in size 10")
    assert only_call(offline_model.invoke(chat.messages)) == (
        "add_to_cart",
        {"product_id": "TRL-001", "size": 10.0, "quantity": 2},
    )
