"""The offline model as a LangChain chat model: plain replies to small talk, only bound tools
called, deterministic tool-call ids, streaming and async that add up to invoke."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from offline_model_support import PROFILE, RIDGE, SCREE, Chat, only_call, shown, tool_schema

from assistant.agent.models import OfflineShopModel


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
def test_small_talk_and_gibberish_get_plain_replies(offline_model, text, start):
    reply = offline_model.invoke(Chat().human(text).messages)
    assert reply.tool_calls == []
    assert reply.content.startswith(start)


def test_non_text_content_is_not_understood_politely(offline_model):
    image = HumanMessage(content=[{"type": "image_url", "image_url": {"url": "data:,"}}])
    reply = offline_model.invoke([PROFILE, image])
    assert reply.tool_calls == []
    assert reply.content.startswith("I can only read text messages.")


def test_huge_message_is_cut_and_answered_quickly(offline_model):
    text = "red trail shoes " + "blah " * 200_000
    started = time.perf_counter()
    reply = offline_model.invoke(Chat().human(text).messages)
    assert time.perf_counter() - started < 5
    assert only_call(reply)[1]["category"] == "trail"


def test_no_reply_needed_after_an_ai_message(offline_model):
    reply = offline_model.invoke([PROFILE, AIMessage("Hello")])
    assert reply.tool_calls == []
    assert reply.content


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


def test_tool_call_ids_are_deterministic(offline_model):
    first = offline_model.invoke(shown(RIDGE, SCREE).human("add the first in 9").messages)
    again = offline_model.invoke(shown(RIDGE, SCREE).human("add the first in 9").messages)
    other = offline_model.invoke(shown(RIDGE, SCREE).human("add the second in 9").messages)
    assert first.tool_calls[0]["id"] == again.tool_calls[0]["id"]
    assert first.tool_calls[0]["id"].startswith("call_")
    assert first.tool_calls[0]["id"] != other.tool_calls[0]["id"]


def test_message_ids_do_not_change_tool_call_ids(offline_model):
    messages = shown(RIDGE).human("add it in 9").messages
    renamed = [m.model_copy(update={"id": f"random-{i}"}) for i, m in enumerate(messages)]
    assert offline_model.invoke(messages).tool_calls == offline_model.invoke(renamed).tool_calls


def test_streamed_chunks_add_up_to_the_invoked_message(offline_model):
    chat = (
        Chat()
        .human("trail shoes")
        .tool(
            "search_products",
            {"category": "trail"},
            {"results": [RIDGE, SCREE], "total_matches": 2},
        )
    )
    chunks = list(offline_model.stream(chat.messages))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert len(chunks) > 10, "text should stream word by word"
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.content == offline_model.invoke(chat.messages).content


def test_streamed_tool_calls_add_up_to_the_invoked_calls(offline_model):
    messages = shown(RIDGE, SCREE).human("add the first one").messages
    chunks = list(offline_model.stream(messages))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    invoked = offline_model.invoke(messages)
    assert total.tool_calls == invoked.tool_calls
    assert total.content == invoked.content


async def test_async_invoke_and_stream_match_sync(offline_model):
    messages = shown(RIDGE, SCREE).human("add the second one in size 9").messages
    sync = offline_model.invoke(messages)
    assert (await offline_model.ainvoke(messages)).tool_calls == sync.tool_calls
    chunks = [chunk async for chunk in offline_model.astream(messages)]
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    assert total.tool_calls == sync.tool_calls


def test_model_identity():
    model = OfflineShopModel()
    assert model.model_name == "offline-shop-model"
    assert model._llm_type == "offline-shop"


@pytest.mark.parametrize(
    ("text", "said_first"),
    [
        (
            "red trail shoes under $150 in size 9",
            "Looking for red women's trail shoes in size 9 under $150…",
        ),
        ("what's in my cart?", "Checking your cart…"),
    ],
)
def test_before_calling_tools_the_model_says_what_it_is_doing_and_streams_that_first(
    offline_model, text, said_first
):
    messages = Chat().human(text).messages
    chunks = list(offline_model.stream(messages))
    first_text = next(chunk for chunk in chunks if chunk.content)
    first_call = next(i for i, chunk in enumerate(chunks) if chunk.tool_call_chunks)
    assert chunks.index(first_text) < first_call  # words before the tool runs
    reply = offline_model.invoke(messages)
    assert reply.content == said_first
    assert reply.tool_calls
