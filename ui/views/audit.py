"""Audit page: the raw Bedrock session data of a conversation, decoded, and its export as JSON."""

from __future__ import annotations

import json

import streamlit as st

from ui.backend import get_shop
from ui.components.badges import page_header
from ui.components.conversations import open_session_id
from ui.components.session_data import invocations_table, session_summary, steps_view
from ui.errors import attempt
from ui.identity import current_user

shop = get_shop()
user = current_user()

page_header(
    "Audit",
    shop,
    caption="What the session store holds for a conversation: the session, its tags, its "
    "invocations and their steps, each as the raw payload and decoded with the saver's serializer.",
)

# The Shop decides what is listed: a shopper's own, an operator's tenant's, all for an admin.
conversations = attempt(shop.conversations, user, doing="listing sessions") or []
if not conversations:
    st.info("No conversations yet.", icon=":material/chat:")
    st.stop()
by_id = {c.session_id: c for c in conversations}
default = open_session_id()
session_id = st.selectbox(
    "Session",
    options=list(by_id),
    index=list(by_id).index(default) if default in by_id else 0,
    format_func=lambda sid: f"{by_id[sid].title} · {by_id[sid].user} · {by_id[sid].status} · {sid}",
    key="audit-session",
)

audit = attempt(shop.audit, user, session_id, doing="reading the session data")
if audit is None:
    st.stop()

with st.container(horizontal=True, vertical_alignment="bottom", key="audit-export"):
    st.download_button(
        "Download as JSON",
        data=json.dumps(audit, indent=2, default=str),
        file_name=f"session-{session_id}.json",
        mime="application/json",
        icon=":material/download:",
        key="audit-download",
        on_click="ignore",
    )
session_summary(audit)
invocations_table(audit)
steps_view(audit)
