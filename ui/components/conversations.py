"""The shopper's conversations: which one is open, and the sidebar to start, resume or end one.

One conversation is one Bedrock session. The open session id lives in `st.session_state` and is
mirrored in the URL (`?session=<id>`), so a browser reload (a new Streamlit session) comes back to
the same conversation. A session id from the URL is only honoured if it belongs to the signed-in
shopper: `Shop.conversations(user)` lists only their own.
"""

from __future__ import annotations

import streamlit as st

from assistant.application import ConversationView as Conversation
from assistant.application import Principal, Shop
from ui.errors import attempt, readable
from ui.notices import notify_after_rerun

SESSION_PARAM = "session"
_OPEN = "conversation.session_id"
_SHOWN_IN_SIDEBAR = 12


def select_conversation(session_id: str | None) -> None:
    """Open `session_id` (None: no conversation open; the next message starts one)."""
    st.session_state[_OPEN] = session_id


def open_session_id() -> str | None:
    """The session id of the open conversation, if any."""
    return st.session_state.get(_OPEN)


def open_conversation(shop: Shop, user: Principal) -> Conversation | None:
    """The open conversation's record (title, status), if one is open and is the user's."""
    session_id = open_session_id()
    if not session_id:
        return None
    mine = attempt(shop.conversations, user, doing="reading the conversation") or []
    return next((c for c in mine if c.session_id == session_id), None)


def restore_conversation(shop: Shop, user: Principal) -> list[Conversation]:
    """Settle which conversation is open (from state, else the URL); return the user's list."""
    mine = attempt(shop.conversations, user, doing="listing your conversations") or []
    ids = {conversation.session_id for conversation in mine}
    if _OPEN not in st.session_state:
        wanted = st.query_params.get(SESSION_PARAM)
        if wanted and wanted not in ids:
            st.sidebar.warning("The conversation in the link is not one of yours; not opened.")
            wanted = None
        select_conversation(wanted)
    elif open_session_id() not in ids:
        select_conversation(None)
    if open_session_id():
        st.query_params[SESSION_PARAM] = open_session_id()
    elif SESSION_PARAM in st.query_params:
        del st.query_params[SESSION_PARAM]
    return mine


def conversation_sidebar(shop: Shop, user: Principal, mine: list[Conversation]) -> None:
    """Sidebar: new conversation, the recent ones to resume, and ending the open one."""
    sidebar = st.sidebar
    sidebar.subheader("Conversations", anchor=False)
    sidebar.button(
        "New conversation",
        icon=":material/add_comment:",
        key="conversation-new",
        on_click=_start,
        args=(shop, user),
        width="stretch",
    )
    current = open_session_id()
    with sidebar.container(key="conversation-list", gap="small"):
        for conversation in mine[:_SHOWN_IN_SIDEBAR]:
            ended = conversation.status != "ACTIVE"
            st.button(
                conversation.title,
                key=f"conversation-{conversation.session_id}",
                icon=":material/lock:" if ended else ":material/chat:",
                type="secondary" if conversation.session_id == current else "tertiary",
                help=f"{conversation.status.title()} · {conversation.updated_at:%Y-%m-%d %H:%M} UTC"
                f" · session {conversation.session_id}",
                on_click=select_conversation,
                args=(conversation.session_id,),
                width="stretch",
            )
        if len(mine) > _SHOWN_IN_SIDEBAR:
            st.caption(f"{len(mine) - _SHOWN_IN_SIDEBAR} older conversations not shown.")
    opened = next((c for c in mine if c.session_id == current), None)
    if opened is not None and opened.status == "ACTIVE":
        sidebar.button(
            "End this conversation",
            icon=":material/logout:",
            key="conversation-end",
            on_click=_end,
            args=(shop, user, opened.session_id),
            width="stretch",
        )
    if current:
        sidebar.caption(f"Session `{current}`")


def start_conversation(shop: Shop, user: Principal) -> str | None:
    """Start a new conversation (a new Bedrock session), open it and return its id."""
    session_id = attempt(shop.new_conversation, user, doing="starting a conversation")
    if session_id:
        select_conversation(session_id)
    return session_id


# Button callbacks run before the page script; what they report is shown by the page's notices.
def _start(shop: Shop, user: Principal) -> None:
    try:
        select_conversation(shop.new_conversation(user))
    except Exception as error:
        notify_after_rerun("error", readable(error, "starting a conversation"))


def _end(shop: Shop, user: Principal, session_id: str) -> None:
    try:
        shop.end(user, session_id)
    except Exception as error:
        notify_after_rerun("error", readable(error, "ending the conversation"))
        return
    notify_after_rerun("info", "Conversation ended. It stays readable; start a new one to shop.")
