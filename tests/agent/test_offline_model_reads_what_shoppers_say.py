"""What the offline model reads in the way shoppers actually talk: a count of pairs apart from a
size, a shoe named by part of its name, gym words, order questions, brands and kinds of shoe the
shop does not sell, and words that drop a search filter. Parser level; the replies these lead
to are tested beside it, and the whole shop graph in `test_offline_model_in_the_shop_graph.py`.
"""

from __future__ import annotations

import pytest

from assistant.agent.models.offline.parse import parse_request
from assistant.shopdb.vocabulary import (
    CATEGORY_OF,
    CATEGORY_STAND_INS,
    CLOSEST_CATEGORY,
    OTHER_BRAND_NAMES,
    OTHER_BRANDS,
    UNSOLD_KIND_WORDS,
    load_vocabulary,
)


def read(text: str):
    return parse_request(text, load_vocabulary())


@pytest.mark.parametrize(
    ("text", "intent", "quantity", "size"),
    [
        ("please update the qty to four", "update", 4, None),
        ("could you set the number of pairs to 3", "update", 3, None),
        ("bump it up to 3 pairs", "update", 3, None),
        ("three of those please", "quantity_only", 3, None),
        ("I need 4", "quantity_only", 4, None),
        ("two more", "quantity_only", 2, None),
        ("two of them in size 10", "quantity_only", 2, 10.0),
        ("actually, make that a 9", "update", None, 9.0),
        ("switch it to an 11", "update", None, 11.0),
        ("I'll take a 9.5", "add", None, 9.5),
        # A bare number above five after a verb is no count of pairs.
        ("I need 10", "unknown", None, None),
    ],
)
def test_a_count_of_pairs_is_told_from_a_size(text, intent, quantity, size):
    request = read(text)
    assert (request.intent, request.quantity, request.size) == (intent, quantity, size)
    assert request.max_price is None  # "up to 3 pairs" is no price


def test_a_price_keeps_its_whole_number_before_a_size():
    request = read("hiking boots over $200 size 10")
    assert (request.min_price, request.max_price, request.size) == (200.0, None, 10.0)


@pytest.mark.parametrize(
    ("text", "intent", "words", "kind_word"),
    [
        ("set the quantity of the union sneaker to 3", "update", ("union",), "sneaker"),
        ("increase the ridge to 3 pairs", "update", ("ridge",), None),
        ("take the lynx trail out of my basket", "remove", ("lynx",), "trail"),
        ("remove the canvas court", "remove", ("canvas",), "court"),
    ],
)
def test_a_cart_edit_keeps_the_name_of_the_shoe_it_edits(text, intent, words, kind_word):
    request = read(text)
    assert request.intent == intent
    assert request.reference.words == words
    # A category word in the name ("sneaker") stays a word of the name, not a new search.
    if kind_word:
        assert kind_word in request.reference.kind_words


@pytest.mark.parametrize(
    ("text", "stand_in", "gender"),
    [
        ("shoes for working out", "working out", None),
        ("anything for crossfit?", "crossfit", None),
        ("women's training shoes under $100", "training", "women"),
    ],
)
def test_gym_words_mean_running_shoes_and_say_which_word(text, stand_in, gender):
    request = read(text)
    assert (request.intent, request.category) == ("search", "running")
    assert (request.stand_in, request.gender) == (stand_in, gender)


def test_a_category_said_outright_beats_a_gym_word():
    request = read("trail shoes I can also wear to the gym")
    assert (request.category, request.stand_in) == ("trail", None)


@pytest.mark.parametrize(
    "text",
    [
        "any news on my order?",
        "has the store approved my purchase yet?",
        "what's the status of my order",
        "is my order confirmed?",
        "what happened to my checkout?",
    ],
)
def test_questions_about_an_order_ask_for_its_status(text):
    assert read(text).intent == "order_status"


@pytest.mark.parametrize("text", ["place my order", "order them now", "ok, check out"])
def test_asking_to_order_is_still_a_checkout(text):
    assert read(text).intent == "checkout"


@pytest.mark.parametrize(
    ("text", "brand", "kind", "category"),
    [
        ("got any Adidas?", "Adidas", None, None),
        ("do you sell Birkenstocks?", "Birkenstock", None, None),
        ("under armor running shoes", "Under Armour", None, "running"),
        ("I'm after soccer cleats", None, "football boots", None),
        ("waterproof rain boots", None, "rain boots", None),
        ("tennis shoes for women under $90", None, "tennis shoes", None),
    ],
)
def test_brands_and_kinds_of_shoe_the_shop_does_not_sell_are_named(text, brand, kind, category):
    request = read(text)
    assert request.intent == "search"
    assert (request.other_brand, request.unsold_kind, request.category) == (brand, kind, category)


def test_a_category_said_outside_a_kind_the_shop_does_not_sell_wins():
    request = read("casual shoes I can golf in")
    assert (request.category, request.unsold_kind) == ("casual", None)


@pytest.mark.parametrize(
    ("text", "intent", "clear"),
    [
        ("forget the price limit", "search", {"price"}),
        # "remove" here is about the search, not the cart.
        ("remove the colour filter", "search", {"color"}),
        ("whatever brand", "search", {"brand"}),
        ("size doesn't matter", "search", {"size"}),
        ("either gender is fine", "search", {"gender"}),
        ("let's start again", "start_over", {"all"}),
        ("begin from scratch", "start_over", {"all"}),
        ("new search: hiking boots for men", "search", {"all"}),
    ],
)
def test_words_that_drop_search_filters(text, intent, clear):
    request = read(text)
    assert (request.intent, set(request.clear)) == (intent, clear)


def test_start_over_no_longer_empties_the_cart():
    assert read("start over").intent == "start_over"
    assert read("empty my basket and start over").intent == "clear_cart"


@pytest.mark.parametrize(
    ("text", "intent"),
    [("yeah, go ahead", "affirm"), ("yes please", "affirm"), ("ok", "affirm")],
)
def test_a_plain_yes_is_an_affirmation(text, intent):
    assert read(text).intent == intent


def test_thanks_stays_thanks():
    assert read("great, thanks").intent == "thanks"


def test_words_the_shop_does_not_know_are_kept_apart_from_the_query():
    request = read("have you got anything in corduroy?")
    assert (request.intent, request.query, request.reference.words) == (
        "search",
        "",
        ("corduroy",),
    )


def test_the_tables_of_what_the_shop_does_not_sell_are_consistent():
    # Every kind has a closest category, every brand is known for one the shop sells.
    assert set(CLOSEST_CATEGORY) == set(UNSOLD_KIND_WORDS)
    assert set(CLOSEST_CATEGORY.values()) | set(OTHER_BRANDS.values()) <= set(CATEGORY_OF.values())
    assert set(OTHER_BRAND_NAMES.values()) == set(OTHER_BRANDS)
    # No such word is also a word of the shop's own: categories, or the brands it sells.
    sold = {*CATEGORY_OF, *load_vocabulary().brands}
    unsold = {word for words in UNSOLD_KIND_WORDS.values() for word in words}
    assert not (unsold | set(OTHER_BRAND_NAMES)) & sold
    assert set(CATEGORY_STAND_INS) <= set(CATEGORY_OF.values())
