"""The offline model's searches say which filters they kept and how to drop them, never rerun
the last search when asked for a brand or kind of shoe the shop does not sell, and search
running shoes for the gym, saying so.

The rule for filters carried over is in `assistant/agent/models/offline/searches.py`: a message
naming only filters refines the last search (every other filter kept, and named in the reply);
a new category or new words start a fresh search (nothing kept; the profile's gender is the one
default, and named too); "start over" drops everything.
"""

from __future__ import annotations

import pytest
from offline_model_support import MOSS, RIDGE, SCREE, TOOL_NAMES, Chat, tool_schema

from assistant.agent.models import OfflineShopModel

FOUND = {"search_products": {"results": [RIDGE, SCREE, MOSS], "total_matches": 3}}
NONE_FOUND = {"search_products": {"results": [], "total_matches": 0}}


@pytest.fixture
def shop_model():
    """The offline model reading the shop's own catalog data (its brands per category)."""
    return OfflineShopModel().bind_tools([tool_schema(name) for name in TOOL_NAMES])


def test_a_refinement_names_the_filters_it_kept_and_how_to_drop_them(offline_model):
    chat = Chat()
    chat.turn(offline_model, "women's trail shoes under $150", FOUND)
    call, reply = chat.turn(offline_model, "in black please", FOUND)
    assert call == (
        "search_products",
        {"category": "trail", "color": "black", "gender": "women", "max_price": 150.0},
    )
    assert reply.split("\n\n")[-2] == (
        "Kept from your last search: trail shoes, women's, under $150. "
        'Say "any gender", "any price" or "start over" to widen.'
    )


def test_what_the_shopper_said_is_not_repeated_as_kept(offline_model):
    chat = Chat()
    _, reply = chat.turn(offline_model, "men's trail shoes under $150", FOUND)
    assert "Kept" not in reply and "profile" not in reply


def test_the_profile_gender_of_a_fresh_search_is_named(offline_model):
    chat = Chat()
    call, reply = chat.turn(offline_model, "something for the beach", FOUND)
    assert call == ("search_products", {"category": "sandals", "gender": "women"})
    assert 'From your profile: women\'s. Say "any gender" or "start over" to widen.' in reply


def test_a_new_category_keeps_nothing_from_the_last_search(offline_model):
    chat = Chat()
    chat.turn(offline_model, "red men's trail shoes under $150 in size 10", FOUND)
    call, _ = chat.turn(offline_model, "do you have basketball shoes", FOUND)
    assert call == ("search_products", {"category": "basketball", "gender": "women"})


def test_the_same_category_said_again_keeps_the_rest_and_says_so(offline_model):
    chat = Chat()
    chat.turn(offline_model, "kids' sneakers", FOUND)
    call, reply = chat.turn(offline_model, "blue sneakers", FOUND)
    assert call == ("search_products", {"category": "casual", "color": "blue", "gender": "kids"})
    assert "Kept from your last search: kids'." in reply


@pytest.mark.parametrize(
    ("text", "dropped"),
    [
        ("forget the price limit", "max_price"),
        ("either gender is fine", "gender"),
        ("remove the colour filter", "color"),
        ("whatever size", "size"),
    ],
)
def test_a_filter_can_be_dropped_by_name(offline_model, text, dropped):
    chat = Chat()
    chat.turn(offline_model, "black women's trail shoes under $150 in size 9", FOUND)
    call, _ = chat.turn(offline_model, text, FOUND)
    before = {"category": "trail", "color": "black", "gender": "women", "max_price": 150.0}
    before["size"] = 9.0
    assert call == ("search_products", {k: v for k, v in before.items() if k != dropped})


def test_start_over_drops_every_filter_for_the_next_search(offline_model):
    chat = Chat()
    chat.turn(offline_model, "men's trail shoes under $150", FOUND)
    call, reply = chat.turn(offline_model, "let's start again")
    assert call == ()
    assert reply.startswith("OK, starting over: no filters from earlier searches now.")
    call, _ = chat.turn(offline_model, "in navy", FOUND)
    assert call == ("search_products", {"color": "navy", "gender": "women"})


def test_a_new_search_with_filters_keeps_nothing_from_before(offline_model):
    chat = Chat()
    chat.turn(offline_model, "black trail shoes under $150", FOUND)
    call, reply = chat.turn(offline_model, "new search: men's running shoes", FOUND)
    assert call == ("search_products", {"category": "running", "gender": "men"})
    assert "Kept" not in reply


def test_an_empty_result_says_which_kept_filters_to_drop(offline_model):
    chat = Chat()
    chat.turn(offline_model, "women's trail shoes under $150", FOUND)
    _, reply = chat.turn(offline_model, "in purple", NONE_FOUND)
    assert reply.splitlines() == [
        "I couldn't find any purple women's trail shoes under $150. "
        "Try fewer filters or a wider price range.",
        "Kept from your last search: trail shoes, women's, under $150. "
        'Say "any gender", "any price" or "start over" to widen.',
    ]


def test_gym_words_search_running_shoes_and_say_so(offline_model):
    chat = Chat()
    call, reply = chat.turn(offline_model, "I need shoes for working out", FOUND)
    assert call == ("search_products", {"category": "running", "gender": "women"})
    assert reply.splitlines()[0] == (
        'The shop has no "working out" category, so I searched running shoes, the closest.'
    )
    assert reply.splitlines()[1] == "I found 3 women's running shoes:"


def test_a_search_made_by_another_model_gets_no_notes(offline_model):
    # The call in the conversation is not the one the offline model would make.
    chat = Chat().human("training shoes")
    chat.tool("search_products", {"category": "running", "limit": 3}, FOUND["search_products"])
    reply = offline_model.invoke(chat.messages)
    assert reply.content.startswith("I found 3 running shoes:")


def test_a_brand_the_shop_does_not_sell_is_said_plainly_not_searched(shop_model):
    chat = Chat()
    chat.turn(shop_model, "women's trail shoes", FOUND)
    call, reply = chat.turn(shop_model, "got any Adidas?")
    assert call == ()  # never a quiet rerun of the last search
    assert reply == (
        "Sorry, we don't carry Adidas. The closest we have are our running shoes, from "
        'Fleetwing, Pacecraft, Puddlejump and Stridewell. Say "show me running shoes" (or just '
        '"yes") to see them.'
    )


def test_yes_accepts_the_suggestion(shop_model):
    chat = Chat()
    chat.turn(shop_model, "do you sell Birkenstocks?")
    call, _ = chat.turn(shop_model, "yeah, go ahead", FOUND)
    assert call == ("search_products", {"category": "sandals", "gender": "women"})


def test_a_kind_of_shoe_the_shop_does_not_sell_suggests_the_closest_with_the_same_filters(
    shop_model,
):
    call, reply = Chat().turn(shop_model, "tennis shoes for men under $90")
    assert call == ()
    assert reply == (
        "Sorry, we don't sell tennis shoes. The closest we have are our basketball shoes, from "
        'Hoopforge, Puddlejump and Skyrise. Say "show me men\'s basketball shoes under $90" (or '
        'just "yes") to see them.'
    )


def test_an_edit_naming_a_brand_the_shop_does_not_sell_changes_nothing(shop_model):
    call, reply = Chat().searched({"category": "trail"}, RIDGE).turn(shop_model, "add the nike")
    assert call == ()
    assert reply.startswith("Sorry, we don't carry Nike.")


def test_words_the_shop_does_not_know_do_not_rerun_the_last_search(shop_model):
    chat = Chat()
    chat.turn(shop_model, "women's trail shoes", FOUND)
    call, reply = chat.turn(shop_model, "have you got anything in corduroy?")
    assert call == ()
    assert reply == (
        'Sorry, nothing in the shop goes by "corduroy". We sell running, trail, hiking, casual, '
        'basketball and formal shoes, and sandals: try "show me running shoes", or name a '
        "brand, colour or price."
    )


def test_a_category_with_instead_keeps_the_other_filters_and_names_them(offline_model):
    chat = Chat()
    chat.turn(offline_model, "red trail shoes under $150", FOUND)
    call, reply = chat.turn(offline_model, "how about sandals instead", FOUND)
    assert call == (
        "search_products",
        {"category": "sandals", "color": "red", "gender": "women", "max_price": 150.0},
    )
    assert "Kept from your last search: women's, red, under $150." in reply
