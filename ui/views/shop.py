"""Shop page: chat with the assistant, see products and the cart, wait for the store's approval."""

from __future__ import annotations

import streamlit as st

from ui.backend import get_shop
from ui.components.approval import waiting_for_store
from ui.components.badges import page_header
from ui.components.cart import cart_panel
from ui.components.chat import conversation, stream_turn
from ui.components.conversations import open_conversation, start_conversation
from ui.errors import attempt
from ui.identity import current_user
from ui.notices import notify_after_rerun, show_notices

shop = get_shop()
user = current_user()
opened = open_conversation(shop, user)
session_id = opened.session_id if opened else None
ended = opened is not None and opened.status != "ACTIVE"

page_header(
    "Shoe shop",
    shop,
    caption=f"Hi {user.display_name}! Ask for shoes by category, brand, colour, size or price.",
)

state = (
    attempt(shop.current, user, session_id, doing="loading the conversation")
    if session_id
    else None
)
turns = (attempt(shop.chat, user, session_id, doing="loading the messages") or []) if state else []
pending = state.pending_approval if state else None

if ended:
    placeholder = "This conversation has ended: start a new one from the sidebar"
elif pending:
    placeholder = "Waiting for the store's decision…"
else:
    placeholder = "Trail shoes under $150 in size 8.5"
prompt = st.chat_input(placeholder, key="shop-chat-input", disabled=ended or pending is not None)

chat_column, cart_column = st.columns([2.3, 1], gap="medium")
with chat_column:
    with st.container(key="chat", height=560, autoscroll=True):
        if not turns and not prompt:
            st.info(
                "Try: *running shoes for women under $120*, then *add the second one in size 8*, "
                "then *checkout*. A store operator approves the order.",
                icon=":material/waving_hand:",
            )
        conversation(turns)
        if prompt:
            session_id = session_id or start_conversation(shop, user)
            if session_id:
                _, error = stream_turn(shop, user, session_id, prompt)
                if error:
                    notify_after_rerun("error", error, scope="shop")
                st.rerun()
    show_notices("shop")
    if pending is not None and session_id:
        waiting_for_store(shop, user, session_id)

with cart_column:
    cart_panel(state.cart if state else [], pending_approval=pending)
