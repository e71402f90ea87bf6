"""Each page's logic, run headless with Streamlit's AppTest against a real local session service.

The app script (`ui/app.py`) runs exactly as in the browser: it signs the user in (a sign-in
token in the browser session, as after the sign-in form), restores the conversation from
`?session=`, and runs the page the navigation picks. Set-up that
is not the subject of a test goes through the same `Shop` facade the pages use.
"""

from __future__ import annotations

import socket

import pytest
from app_pages import (
    RUN_TIMEOUT,
    chat_text,
    conversation_with_cart,
    metric,
    open_app,
    pending_checkout,
    say,
    signed_in,
    texts,
    who,
)
from streamlit.testing.v1 import AppTest

from conftest import APP, PROJECT_ROOT

pytestmark = pytest.mark.timeout(180)


def url_session(app) -> str:
    """The `session` query parameter as the browser's URL would carry it."""
    value = app.query_params["session"]
    return value[0] if isinstance(value, list) else value


# --- Shop page -------------------------------------------------------------------------------


def test_shop_page_has_the_model_and_store_in_about_this_session_and_starter_prompts(
    shop,
) -> None:
    app = open_app("alice")
    assert app.title[0].value == "Shoe shop"
    badges = texts(app.get_by_key("about-session").markdown)  # a popover, closed at first
    assert "offline rule-based model" in badges
    assert "local session service" in badges
    assert "starter-0" in [button.key for button in app.button]


def test_first_message_starts_a_conversation_and_shows_reply_and_product_cards(shop) -> None:
    app = open_app("alice")
    before = {c.session_id for c in shop.conversations(who(shop, "alice"))}
    say(app, "trail shoes under $150 in size 8.5")
    started = [c for c in shop.conversations(who(shop, "alice")) if c.session_id not in before]
    assert len(started) == 1
    assert [m.name for m in app.chat_message] == ["user", "assistant"]
    chat = chat_text(app)
    assert "trail shoes under $150 in size 8.5" in chat
    assert "trail shoes" in chat.split("\n", 1)[1]  # the assistant's reply talks about them
    products = shop.current(who(shop, "alice"), started[0].session_id).products
    assert products, "the search returned products"
    assert all(f"**{p['name']}**" in chat for p in products)  # one card per product
    assert len(app.get("image")) >= len(products)  # each card has its picture


def test_adding_to_cart_updates_the_cart_panel_total(shop) -> None:
    session_id = shop.new_conversation(who(shop, "alice"))
    shop.send(who(shop, "alice"), session_id, "trail shoes under $150 in size 8.5")
    app = open_app("alice", session_id)
    assert "Cart (0)" in texts(app.subheader)
    say(app, "add the second one")
    assert "Cart (1)" in texts(app.subheader)
    assert [m.value for m in app.get_by_key("cart-panel").metric] == ["$130.00"]


def test_checkout_shows_waiting_state_and_disables_the_chat(shop) -> None:
    session_id = conversation_with_cart(shop)
    app = open_app("alice", session_id)
    say(app, "checkout")
    assert app.chat_input(key="shop-chat-input").proto.disabled
    assert "Waiting for store approval" in texts(app.markdown)
    assert shop.pending_approval(who(shop, "alice"), session_id) is not None


def test_shopper_sees_the_stores_decision_in_the_chat(shop) -> None:
    session_id, approval_id = pending_checkout(shop)
    shop.decide(who(shop, "olga"), approval_id, {"action": "approve"})
    app = open_app("alice", session_id)
    assert "approved" in texts(app.success)
    assert "Waiting for store approval" not in texts(app.markdown)
    assert not app.chat_input(key="shop-chat-input").proto.disabled


def test_rejection_reason_reaches_the_shopper(shop) -> None:
    session_id, approval_id = pending_checkout(shop)
    shop.decide(who(shop, "olga"), approval_id, {"action": "reject", "reason": "out of laces"})
    app = open_app("alice", session_id)
    assert "out of laces" in texts(app.error)


def test_session_in_the_url_reopens_the_same_conversation(shop) -> None:
    session_id = conversation_with_cart(shop)
    app = open_app("alice", session_id)
    assert "trail shoes under $150 in size 8.5" in chat_text(app)
    assert "Cart (1)" in texts(app.subheader)
    assert url_session(app) == session_id


def test_someone_elses_session_in_the_url_is_not_opened(shop) -> None:
    session_id = conversation_with_cart(shop, "alice")
    app = open_app("bob", session_id)
    assert "not one of yours" in texts(app.sidebar.warning)
    assert not app.chat_message


def test_ended_conversation_stays_readable_and_takes_no_more_messages(shop) -> None:
    session_id = conversation_with_cart(shop)
    shop.end(who(shop, "alice"), session_id)
    app = open_app("alice", session_id)
    assert "trail shoes under $150 in size 8.5" in chat_text(app)
    chat_input = app.chat_input(key="shop-chat-input")
    assert chat_input.proto.disabled
    assert "has ended" in chat_input.placeholder
    assert "conversation-end" not in [button.key for button in app.button]


def test_conversation_ended_in_another_tab_takes_no_message_and_says_so(shop) -> None:
    session_id = conversation_with_cart(shop)
    app = open_app("alice", session_id)
    count = len(shop.messages(who(shop, "alice"), session_id))
    shop.end(who(shop, "alice"), session_id)  # ended in another tab after this page was drawn
    say(app, "add the first one")
    assert "has ended" in app.chat_input(key="shop-chat-input").placeholder
    assert "trail shoes under $150 in size 8.5" in chat_text(app)
    assert len(shop.messages(who(shop, "alice"), session_id)) == count


def test_empty_message_is_refused_with_a_hint(shop) -> None:
    session_id = conversation_with_cart(shop)
    app = open_app("alice", session_id)
    count = len(shop.messages(who(shop, "alice"), session_id))
    say(app, "   ")
    assert "empty" in texts(app.error)
    assert len(shop.messages(who(shop, "alice"), session_id)) == count


def test_sidebar_starts_and_ends_conversations(shop) -> None:
    app = open_app("carol")
    app.button(key="conversation-new").click().run()
    mine = shop.conversations(who(shop, "carol"))
    assert len(mine) == 1 and mine[0].status == "ACTIVE"
    app.button(key="conversation-end").click().run()
    assert not app.exception
    assert shop.conversations(who(shop, "carol"))[0].status == "ENDED"
    assert "Conversation ended" in texts(app.info)


# --- Roles -----------------------------------------------------------------------------------


def test_operator_console_refuses_a_shopper(shop) -> None:
    page = AppTest.from_file(
        str(PROJECT_ROOT / "ui" / "views" / "operator_console.py"), default_timeout=RUN_TIMEOUT
    )
    page.session_state["identity.principal"] = who(shop, "alice")
    page.run()
    assert "Only store operators" in texts(page.error)
    assert not page.button


def test_nobody_is_signed_in_without_a_password_or_a_token(shop) -> None:
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    app.query_params["user"] = "olga"  # the URL used to say who you were
    app.run()
    assert not app.exception
    assert [s.value for s in app.subheader] == ["Sign in"]
    assert not app.chat_input and "Operator console" not in texts(app.title)


def test_sign_in_form_signs_in_and_a_forged_token_does_not(shop) -> None:
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    app.text_input[0].input("carol")
    app.text_input[1].input("demo-carol")
    app.button[0].click().run()
    assert not app.exception
    assert app.title[0].value == "Shoe shop"
    assert "Signed in as **Carol**" in texts(app.sidebar.markdown)

    forged = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    token = signed_in(shop, "alice")[1]
    forged.session_state["identity.token"] = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    forged.run()
    assert "not valid" in texts(forged.info)
    assert [s.value for s in forged.subheader] == ["Sign in"]


def test_too_many_wrong_passwords_lock_the_account_with_a_clear_message(shop) -> None:
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    for _ in range(shop.settings.sign_in_max_failures):
        app.text_input[0].input("oscar")
        app.text_input[1].input("guess")
        app.button[0].click().run()
    assert "locked" in texts(app.error)
    app.text_input[1].input("demo-oscar")  # even the right password, while locked
    app.button[0].click().run()
    assert "locked" in texts(app.error)
    assert [s.value for s in app.subheader] == ["Sign in"]


def test_operator_lands_on_the_console(shop) -> None:
    app = open_app("olga")
    assert app.title[0].value == "Operator console"
    assert not app.chat_input  # operators do not get the Shop page


# --- Operator console (its decision form and the shopper's cancel: test_operator_console.py) --


def test_operator_approves_a_pending_checkout_and_the_order_is_listed(shop) -> None:
    session_id, approval_id = pending_checkout(shop)
    app = open_app("olga")
    assert approval_id in texts(app.markdown)
    app.button(key=f"approve-{approval_id}").click().run()
    assert not app.exception
    assert f"Checkout {approval_id} approved" in texts(app.success)
    assert approval_id not in texts(app.markdown)  # left the queue
    assert shop.pending_approval(who(shop, "alice"), session_id) is None
    order_id = next(
        a.order_id for a in shop.approvals(who(shop, "olga"), None) if a.id == approval_id
    )
    orders = next(table.value for table in app.dataframe if "Order" in table.value.columns)
    assert order_id in orders["Order"].tolist()


def test_deciding_twice_is_refused_with_a_clear_message(shop) -> None:
    _, approval_id = pending_checkout(shop)
    first, second = open_app("olga"), open_app("olga")  # two operators see the same card
    first.button(key=f"approve-{approval_id}").click().run()
    second.button(key=f"approve-{approval_id}").click().run()
    assert not second.exception
    assert "already approved by olga" in texts(second.error)


# --- History page: test_history_page.py ------------------------------------------------------


# --- Audit page ------------------------------------------------------------------------------


def test_audit_shows_the_raw_session_data_and_offers_the_json_export(shop) -> None:
    session_id = conversation_with_cart(shop)
    app = open_app("alice", session_id)
    app.switch_page("views/audit.py").run()
    assert not app.exception
    assert app.selectbox(key="audit-session").value == session_id
    assert metric(app, "Status") == "ACTIVE"
    audit = shop.audit(who(shop, "alice"), session_id)
    assert metric(app, "Invocations") == str(len(audit["invocations"]))
    assert "user: alice" in texts(app.markdown)  # the session's tags
    assert len(app.get("download_button")) == 1
    assert app.dataframe[0].value["Invocation"].tolist() == [
        invocation["invocationId"] for invocation in audit["invocations"]
    ]


def test_shoppers_audit_only_their_own_sessions_and_operators_their_tenants(shop) -> None:
    alice_session = conversation_with_cart(shop, "alice")
    bob_session = shop.new_conversation(who(shop, "bob"))
    app = open_app("bob", bob_session)
    app.switch_page("views/audit.py").run()
    assert alice_session not in app.selectbox(key="audit-session").options
    operator = open_app("olga")
    operator.switch_page("views/audit.py").run()
    options = operator.selectbox(key="audit-session").options
    assert any(alice_session in option for option in options)
    assert not any(bob_session in option for option in options)  # tenant-b is not olga's


# --- Failures --------------------------------------------------------------------------------


def test_unreachable_session_service_shows_a_readable_error_not_a_traceback(
    shop, tmp_path, monkeypatch
) -> None:
    from assistant.settings import get_settings
    from ui.backend import get_shop

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", dead)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    get_settings.cache_clear()
    get_shop.clear()
    try:
        app = open_app("alice")
        say(app, "trail shoes")
        assert not app.exception
        assert "session store" in texts(app.error).lower()
    finally:
        get_settings.cache_clear()
        get_shop.clear()
