"""Who is using the app: the single place that knows the signed-in user.

The demo has no passwords: the sidebar offers the demo users (`Shop.users()`). Everything else
asks `current_user()`, so replacing this module's `sign_in` with a real login (for example
Streamlit's `st.login` and `st.user`, mapped to a shop user) changes nothing elsewhere.

The username is also kept in the URL (`?user=alice`) so a browser reload keeps the person.
"""

from __future__ import annotations

import streamlit as st

from assistant.application import Shop
from assistant.application import UserView as User
from ui.errors import attempt

USER_PARAM = "user"
_PICKED = "identity.username"  # the sidebar widget's key
_USER = "identity.user"  # the signed-in User, for pages


def sign_in(shop: Shop) -> User:
    """Show the demo-user picker in the sidebar and return the signed-in user.

    Stops the page with a readable message when the users cannot be loaded.
    """
    users = attempt(shop.users, doing="loading the demo users") or []
    if not users:
        st.warning("No demo users in the shop database; run `shoe-assistant up` to load them.")
        st.stop()
    by_name = {user.username: user for user in users}
    if st.session_state.get(_PICKED) not in by_name:
        # First run of this browser session (or a reload): the URL says who it was.
        wanted = (st.query_params.get(USER_PARAM) or "").lower()
        shoppers = [user.username for user in users if not user.is_operator]
        st.session_state[_PICKED] = wanted if wanted in by_name else (shoppers or list(by_name))[0]
    st.sidebar.selectbox(
        "Signed in as",
        options=list(by_name),
        format_func=lambda name: f"{by_name[name].display_name} · {by_name[name].role}",
        key=_PICKED,
        on_change=_forget_conversation,
        help="Demo users: shoppers chat and buy, operators approve checkouts.",
    )
    user = by_name[st.session_state[_PICKED]]
    st.session_state[_USER] = user
    st.query_params[USER_PARAM] = user.username
    return user


def current_user() -> User:
    """The signed-in user (set by `sign_in`, which `ui/app.py` runs before any page)."""
    user = st.session_state.get(_USER)
    if user is None:
        st.error("Nobody is signed in. Open the app from its start page.")
        st.stop()
    return user


def _forget_conversation() -> None:
    # A conversation belongs to one user; another user starts without one.
    from ui.components.conversations import select_conversation

    select_conversation(None)
