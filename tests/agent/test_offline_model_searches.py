"""The offline model's search calls: filters from the message and the profile, refinements
that keep or drop the last search's filters, and how results are summarised."""

from __future__ import annotations

from offline_model_support import MOSS, RIDGE, SCREE, Chat, only_call

from assistant.agent.models import MODEL_NAME


def test_search_uses_filters_and_profile_gender_default(offline_model):
    reply = offline_model.invoke(Chat().human("red trail shoes under $150 in size 9").messages)
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


def test_explicit_gender_beats_the_profile(offline_model):
    _, args = only_call(offline_model.invoke(Chat().human("men's running shoes").messages))
    assert args["gender"] == "men"
    _, args = only_call(offline_model.invoke(Chat().human("running shoes for any gender").messages))
    assert "gender" not in args


def test_refinements_merge_the_previous_search(offline_model):
    chat = Chat().searched({"category": "trail", "gender": "women"}, RIDGE, SCREE, MOSS)
    _, args = only_call(offline_model.invoke(chat.human("in blue instead").messages))
    assert args == {"category": "trail", "color": "blue", "gender": "women"}

    chat = Chat().searched({"category": "trail", "gender": "women"}, RIDGE, SCREE, MOSS)
    _, args = only_call(offline_model.invoke(chat.human("cheaper").messages))
    # Below the average price shown: (139 + 119.5 + 99) / 3 = 119.17.
    assert args == {"category": "trail", "gender": "women", "max_price": 119.0}

    chat = Chat().searched({"category": "trail"}, RIDGE, SCREE, MOSS, total=12)
    _, args = only_call(offline_model.invoke(chat.human("show me more").messages))
    assert args == {"category": "trail", "limit": 10}


def test_new_category_starts_a_fresh_search(offline_model):
    chat = Chat().searched({"category": "trail", "color": "blue", "max_price": 90.0}, MOSS)
    _, args = only_call(offline_model.invoke(chat.human("show me sandals").messages))
    assert args == {"category": "sandals", "gender": "women"}


def test_new_free_text_starts_a_fresh_search(offline_model):
    chat = Chat().searched({"category": "formal", "gender": "men"}, RIDGE)
    _, args = only_call(
        offline_model.invoke(chat.human("looking for something waterproof").messages)
    )
    assert args == {"query": "waterproof", "gender": "women"}


def test_refining_an_empty_search_drops_its_free_text(offline_model):
    chat = (
        Chat()
        .human("comfy sneakers")
        .tool("search_products", {"category": "casual", "query": "zzz"}, {"results": []})
    )
    _, args = only_call(offline_model.invoke(chat.human("in blue").messages))
    assert args == {"category": "casual", "color": "blue"}


def test_search_results_are_summarised_in_display_order(offline_model):
    chat = (
        Chat()
        .human("trail shoes")
        .tool(
            "search_products",
            {"category": "trail", "max_price": 150.0},
            {"results": [RIDGE, SCREE], "total_matches": 7},
        )
    )
    reply = offline_model.invoke(chat.messages)
    assert reply.tool_calls == []
    lines = reply.content.splitlines()
    assert lines[0] == "I found 7 trail shoes under $150; here are the first 2:"
    assert lines[1] == "1. Northpeak Ridge GTX — $139, 4.6★, sizes 8-10, 11, black/blue"
    assert lines[2] == "2. Cairnline Scree Runner — $119.50, 4.4★, sizes 9, 10, red/grey"


def test_empty_search_relays_the_tools_hint(offline_model):
    chat = (
        Chat()
        .human("pink formal")
        .tool(
            "search_products",
            {"category": "formal", "color": "pink"},
            {"results": [], "total_matches": 0, "message": "No shoes matched; try another colour."},
        )
    )
    reply = offline_model.invoke(chat.messages)
    assert reply.content == (
        "I couldn't find any pink formal shoes. No shoes matched; try another colour."
    )


def test_a_bad_filter_in_an_earlier_search_call_is_dropped_when_refining(offline_model):
    # Another model wrote the earlier call; its size is no number.
    chat = Chat().searched({"category": "trail", "size": "nine"}, RIDGE, SCREE)
    _, args = only_call(offline_model.invoke(chat.human("in blue").messages))
    assert args == {"category": "trail", "color": "blue"}
