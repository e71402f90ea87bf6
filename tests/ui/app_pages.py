"""What the AppTest page tests share: opening the app signed in, reading what it shows, and the
conversations they start from (made through the same `Shop` the pages use)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from conftest import APP

RUN_TIMEOUT = 60  # seconds for one script run; the machine is small and shared

_SIGN_INS: dict[tuple[int, str], tuple] = {}


def signed_in(shop, user: str):
    """(principal, token) of a demo account signed in on `shop` (once per shop and user)."""
    key = (id(shop), user)
    if key not in _SIGN_INS:
        _SIGN_INS[key] = shop.sign_in(user, f"demo-{user}")
    return _SIGN_INS[key]


def who(shop, user: str = "alice"):
    """The principal of a demo account, for set-up through the Shop."""
    return signed_in(shop, user)[0]


def open_app(user: str, session_id: str | None = None) -> AppTest:
    """The app as `user` opens it after signing in (optionally on a conversation), one run."""
    from ui.backend import get_shop

    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    app.session_state["identity.token"] = signed_in(get_shop(), user)[1]
    if session_id:
        app.query_params["session"] = session_id
    app.run()
    assert not app.exception, app.exception
    return app


def texts(elements) -> str:
    """All the text of a list of AppTest elements, joined for `in` checks."""
    return "\n".join(str(element.value) for element in elements)


def metric(app: AppTest, label: str) -> str:
    return next(m.value for m in app.metric if m.label == label)


def chat_text(app: AppTest) -> str:
    """The text of every chat message on screen (the shopper's is plain text, not Markdown)."""
    return "\n".join(
        texts(message.text) + "\n" + texts(message.markdown) for message in app.chat_message
    )


def say(app: AppTest, text: str) -> AppTest:
    """Send a chat message and let the page finish (it reruns itself after the turn)."""
    app.chat_input(key="shop-chat-input").set_value(text).run()
    assert not app.exception, app.exception
    return app


def conversation_with_cart(shop, user: str = "alice") -> str:
    """A session where `user` searched trail shoes and added the second one to the cart."""
    session_id = shop.new_conversation(who(shop, user))
    shop.send(who(shop, user), session_id, "trail shoes under $150 in size 8.5")
    shop.send(who(shop, user), session_id, "add the second one")
    return session_id


def pending_checkout(shop, user: str = "alice") -> tuple[str, str]:
    """A session whose checkout of one pair waits for the store: (session id, approval id)."""
    session_id = conversation_with_cart(shop, user)
    result = shop.send(who(shop, user), session_id, "checkout")
    assert result.pending_approval is not None
    return session_id, result.pending_approval.id
