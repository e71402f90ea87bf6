"""Versions of a message in the chat (`Shop.chat_versions`): an edit or a regeneration is a branch
of the checkpoint tree, and ‹1/2› under the message moves between those branches."""

from __future__ import annotations

import pytest

from assistant.application.shop import Shop


@pytest.fixture
def chat(shop: Shop, signed_in) -> dict:
    """alice searched trail shoes, then added the second one (two turns)."""
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes under $150 in size 8.5")
    shop.send(alice, session_id, "add the second one")
    return {"who": alice, "session_id": session_id}


def shopper_messages(shop: Shop, chat: dict) -> list[str]:
    return [turn.shopper for turn in shop.chat(chat["who"], chat["session_id"])]


def test_a_conversation_without_edits_has_one_version_of_everything(shop: Shop, chat: dict) -> None:
    versions = shop.chat_versions(chat["who"], chat["session_id"])
    assert len(versions) == len(shop.chat(chat["who"], chat["session_id"])) == 2
    assert all(v.message is None and v.reply is None for v in versions)
    # Each turn can be edited from the checkpoint where its message is the latest one.
    for turn, version in zip(shop.chat(chat["who"], chat["session_id"]), versions, strict=True):
        state = shop.checkpoint(chat["who"], chat["session_id"], version.edit_from)
        assert state.shopper_message == turn.shopper and state.next == ["agent"]


def test_editing_an_earlier_message_makes_two_versions_and_switching_goes_back(
    shop: Shop, chat: dict
) -> None:
    who, session_id = chat["who"], chat["session_id"]
    first = shop.chat_versions(who, session_id)[0]
    shop.fork(who, session_id, first.edit_from, message="running shoes under $120")

    assert shopper_messages(shop, chat) == ["running shoes under $120"]
    [edited] = shop.chat_versions(who, session_id)
    assert edited.message is not None
    assert (edited.message.current, edited.message.count) == (1, 2)

    shop.switch_branch(who, session_id, edited.message.branches[0])
    assert shopper_messages(shop, chat) == [
        "trail shoes under $150 in size 8.5",
        "add the second one",
    ]
    original = shop.chat_versions(who, session_id)
    assert (original[0].message.current, original[0].message.count) == (0, 2)
    assert original[1].message is None  # the second turn exists in one version only
    assert len(shop.current(who, session_id).cart) == 1  # the cart came back with the branch

    shop.switch_branch(who, session_id, original[0].message.branches[1])
    assert shopper_messages(shop, chat) == ["running shoes under $120"]


def test_editing_an_edited_message_adds_a_third_version(shop: Shop, chat: dict) -> None:
    who, session_id = chat["who"], chat["session_id"]
    shop.fork(
        who, session_id, shop.chat_versions(who, session_id)[1].edit_from, message="add the first"
    )
    second = shop.chat_versions(who, session_id)[1]
    shop.fork(who, session_id, second.edit_from, message="add the third one")
    versions = shop.chat_versions(who, session_id)
    assert versions[0].message is None  # the first message was never edited
    assert (versions[1].message.current, versions[1].message.count) == (2, 3)


def test_regenerating_a_reply_makes_versions_of_the_reply_not_of_the_message(
    shop: Shop, chat: dict
) -> None:
    who, session_id = chat["who"], chat["session_id"]
    latest = shop.chat_versions(who, session_id)[-1]
    shop.replay(who, session_id, latest.edit_from)
    versions = shop.chat_versions(who, session_id)
    assert len(versions) == 2
    assert versions[1].message is None
    assert (versions[1].reply.current, versions[1].reply.count) == (1, 2)
    assert shopper_messages(shop, chat)[-1] == "add the second one"
