"""The Shop page as a chat app: starter prompts, product cards with a size picker, a cart with
− + and remove, edits and ‹1/2› in the chat, a failed send that keeps its text and says why in
the conversation, and the shopper's words as plain text. Run headless with Streamlit's AppTest
against a real local session service; set-up goes through the same Shop the page uses."""

from __future__ import annotations

import pytest
from app_pages import (
    chat_text,
    conversation_with_cart,
    open_app,
    pending_checkout,
    say,
    texts,
    who,
)

from assistant.application import MAX_MESSAGE_CHARS, TurnError

pytestmark = pytest.mark.timeout(180)

SEARCH = "trail shoes under $150 in size 8.5"


def searched(shop, user: str = "alice") -> str:
    """A conversation where `user` searched trail shoes (product cards on screen)."""
    session_id = shop.new_conversation(who(shop, user))
    shop.send(who(shop, user), session_id, SEARCH)
    return session_id


def keys(app, prefix: str) -> list[str]:
    """Keys of the buttons on screen that start with `prefix`."""
    return [button.key for button in app.button if (button.key or "").startswith(prefix)]


def click(app, key: str):
    """Click a button and let the page finish its run."""
    app.button(key=key).click().run()
    assert not app.exception, app.exception
    return app


def cart_quantities(shop, session_id: str) -> list[int]:
    return [line["quantity"] for line in shop.current(who(shop, "alice"), session_id).cart]


def test_a_starter_prompt_sends_itself_and_starts_the_conversation(shop) -> None:
    app = open_app("carol")
    prompts = [app.button(key=key).label for key in keys(app, "starter-")]
    assert len(prompts) >= 3
    click(app, "starter-0")
    [conversation] = shop.conversations(who(shop, "carol"))
    assert [turn.shopper for turn in shop.chat(who(shop, "carol"), conversation.session_id)] == [
        prompts[0]
    ]
    assert prompts[0] in chat_text(app)
    assert not keys(app, "starter-")  # only on an empty chat


def test_a_product_card_adds_the_size_picked_and_the_chat_says_you_added(shop) -> None:
    session_id = searched(shop)
    product = shop.current(who(shop, "alice"), session_id).products[1]
    app = open_app("alice", session_id)
    [picker] = [box for box in app.selectbox if box.key.endswith(product["product_id"])]
    stock = shop.stock(who(shop, "alice"), product["product_id"])
    assert picker.options == [
        f"{size:g} · " + (f"only {pairs} left" if pairs <= 3 else f"{pairs} in stock")
        for size, pairs in sorted(stock.items())
        if pairs
    ]
    assert picker.value == 8.5  # alice's shoe size, in stock
    picker.set_value(9.0).run()
    click(app, "add-" + picker.key.removeprefix("size-"))

    [line] = shop.current(who(shop, "alice"), session_id).cart
    assert (line["product_id"], line["size"], line["quantity"]) == (product["product_id"], 9.0, 1)
    assert "Cart (1)" in texts(app.subheader)
    assert "You added 1 × " in texts(app.caption)
    # Cards and cart show names, sizes and prices, never the catalog's product ids.
    on_screen = texts(app.markdown) + texts(app.caption) + texts(app.text)
    assert product["product_id"] not in on_screen


def test_the_carts_minus_plus_and_remove_go_through_the_graph(shop) -> None:
    session_id = conversation_with_cart(shop)
    app = open_app("alice", session_id)
    [more] = [key for key in keys(app, "cart-more-side-")]
    line = more.removeprefix("cart-more-")
    click(app, more)
    assert cart_quantities(shop, session_id) == [2]
    assert "Cart (2)" in texts(app.subheader)
    click(app, f"cart-less-{line}")
    assert cart_quantities(shop, session_id) == [1]
    click(app, f"cart-remove-{line}")
    assert cart_quantities(shop, session_id) == []
    assert "Cart (0)" in texts(app.subheader)
    tools = [
        call["name"]
        for message in shop.messages(who(shop, "alice"), session_id)
        for call in getattr(message, "tool_calls", None) or []
    ]
    assert tools[-3:] == ["update_cart_item", "update_cart_item", "remove_from_cart"]


def test_editing_an_earlier_message_in_the_chat_and_switching_between_versions(shop) -> None:
    session_id = conversation_with_cart(shop)
    app = open_app("alice", session_id)
    click(app, "edit-0")
    app.text_area(key="edit-text-0").set_value("running shoes under $120")
    click(app, "edit-send-0")

    shopper = [turn.shopper for turn in shop.chat(who(shop, "alice"), session_id)]
    assert shopper == ["running shoes under $120"]
    assert "running shoes under $120" in chat_text(app)
    assert "2/2" in texts(app.get_by_key("versions-message-0").markdown)

    click(app, "message-0-previous")
    assert "1/2" in texts(app.get_by_key("versions-message-0").markdown)
    assert "add the second one" in chat_text(app)
    assert cart_quantities(shop, session_id) == [1]  # the cart of that branch came back


def test_regenerating_the_latest_reply_adds_a_version_of_the_reply(shop) -> None:
    session_id = searched(shop)
    app = open_app("alice", session_id)
    click(app, "regenerate-0")
    assert "2/2" in texts(app.get_by_key("versions-reply-0").markdown)
    assert "versions-message-0" not in [c.key for c in app.container]


def test_regenerating_a_checkout_asks_first_and_goes_ahead_once_confirmed(shop) -> None:
    session_id, approval_id = pending_checkout(shop)
    shop.decide(who(shop, "olga"), approval_id, {"action": "approve"})
    app = open_app("alice", session_id)
    latest = len(shop.chat(who(shop, "alice"), session_id)) - 1
    click(app, f"regenerate-{latest}")
    assert "goes to the store again" in texts(app.warning)
    assert shop.pending_approval(who(shop, "alice"), session_id) is None  # nothing sent yet
    click(app, f"confirm-regenerate-{latest}-yes")
    assert shop.pending_approval(who(shop, "alice"), session_id) is not None
    assert app.chat_input(key="shop-chat-input").proto.disabled  # waiting for the store


def test_a_failed_send_keeps_the_text_in_the_box_and_says_why_in_the_chat(
    shop, monkeypatch
) -> None:
    session_id = searched(shop)
    app = open_app("alice", session_id)

    def refused(*args, **kwargs):
        raise TurnError("The model could not answer (throttled). Your conversation is saved.")

    monkeypatch.setattr(shop, "stream", refused)
    say(app, "add the first one in size 9")
    box = app.chat_input(key="shop-chat-input")
    assert box.proto.value == "add the first one in size 9" and box.proto.set_value
    [*_, last] = app.chat_message
    assert last.name == "assistant"
    assert "could not answer" in texts(last.error)


def test_the_box_knows_the_length_limit_before_sending(shop) -> None:
    app = open_app("alice")
    assert app.chat_input(key="shop-chat-input").proto.max_chars == MAX_MESSAGE_CHARS


def test_the_shoppers_words_are_plain_text_never_markdown(shop) -> None:
    session_id = shop.new_conversation(who(shop, "alice"))
    app = open_app("alice", session_id)
    words = "![shoe](http://example.com/track.png) **trail** shoes"
    say(app, words)
    shopper = app.chat_message[0]
    assert shopper.name == "user"
    assert [text.value for text in shopper.text] == [words]
    assert not shopper.markdown and not shopper.get("image")


def test_a_waiting_checkout_disables_every_change(shop) -> None:
    session_id = conversation_with_cart(shop)
    shop.send(who(shop, "alice"), session_id, "checkout")
    app = open_app("alice", session_id)
    for prefix in ("cart-more-", "cart-less-", "cart-remove-", "add-"):
        assert keys(app, prefix)
        assert all(app.button(key=key).disabled for key in keys(app, prefix)), prefix
    assert not keys(app, "edit-") and not keys(app, "regenerate-")


def test_the_store_address_is_only_in_about_this_session(shop) -> None:
    session_id = searched(shop)
    app = open_app("alice", session_id)
    about = app.get_by_key("about-session")
    assert session_id in texts(about.caption)
    endpoint = shop.settings.resolved_session_endpoint
    assert endpoint in texts(about.markdown)
    outside = [m for m in app.markdown if m not in list(about.markdown)]
    assert endpoint not in texts(outside) + texts(app.caption)
