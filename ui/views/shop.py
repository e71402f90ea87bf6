"""Shop page: chat with the assistant, pick from product cards, keep the cart, wait for the store.

The conversation is the page itself (no scroll box inside a scrolling page), the chat box is
pinned at the bottom, and the cart sits beside the chat, or, on a phone, behind a cart button at
the top (theme.css). Everything the shopper does, typed or clicked, is a turn of the graph.
"""

from __future__ import annotations

import streamlit as st

from ui.backend import get_shop
from ui.components.approval import waiting_for_store
from ui.components.badges import page_header
from ui.components.cart import cart_panel, cart_summary
from ui.components.chat import conversation, stream_turn
from ui.components.chat_edits import stop_editing
from ui.components.composer import (
    clear_failure,
    composer,
    failure_message,
    report_failure,
    starter_prompts,
)
from ui.components.controls import ShopperControls
from ui.components.conversations import open_conversation, start_conversation
from ui.errors import attempt
from ui.identity import current_user
from ui.notices import show_notices

shop = get_shop()
user = current_user()
opened = open_conversation(shop, user)
session_id = opened.session_id if opened else None
ended = opened is not None and opened.status != "ACTIVE"

page_header(
    "Shoe shop",
    shop,
    caption=f"Hi {user.display_name}! Ask for shoes by category, brand, colour, size or price.",
    session_id=session_id,
)

state = (
    attempt(shop.current, user, session_id, doing="loading the conversation")
    if session_id
    else None
)
turns = (attempt(shop.chat, user, session_id, doing="loading the messages") or []) if state else []
pending = state.pending_approval if state else None
cart = state.cart if state else []

if ended:
    placeholder = "This conversation has ended: start a new one from the sidebar"
elif pending:
    placeholder = "Waiting for the store's decision…"
else:
    placeholder = "Trail shoes under $150 in size 8.5"
prompt = composer(placeholder, disabled=ended or pending is not None)

controls = None
if session_id and state is not None:
    versions = attempt(shop.chat_versions, user, session_id, doing="reading the versions") or []
    profile = attempt(shop.profile, user, doing="reading your profile")
    controls = ShopperControls(
        shop=shop,
        who=user,
        session_id=session_id,
        writable=not ended and pending is None,
        versions=versions,
        shoe_size=profile.shoe_size if profile else None,
    )

cart_summary(cart, pending_approval=pending, controls=controls)  # narrow screens only
chat_column, cart_column = st.columns([2.3, 1], gap="medium")
with chat_column:
    with st.container(key="chat"):
        if not turns and not prompt:
            starter_prompts()
        conversation(turns, controls=controls)
        failure_message(session_id)
        show_notices("shop")
        if prompt:
            clear_failure()
            stop_editing()
            session_id = session_id or start_conversation(shop, user)
            if session_id:
                _, error = stream_turn(shop, user, session_id, prompt)
                if error:
                    report_failure(session_id, error, unsent=prompt)
                st.rerun()
    if pending is not None and session_id:
        waiting_for_store(shop, user, session_id)

with cart_column, st.container(key="cart-column"):
    cart_panel(cart, pending_approval=pending, controls=controls)
