"""Each page's title, and "About this session": which model answers, which session store keeps it.

Which model answers and where the conversation is kept is one click away on every page, in a
popover beside the title, rather than badges in everyone's face: the store's URL is developer
detail a shopper need not read.
"""

from __future__ import annotations

import streamlit as st

from assistant.application import Shop


def page_header(
    title: str, shop: Shop, *, caption: str | None = None, session_id: str | None = None
) -> None:
    """The page title with "About this session" beside it, and an optional caption under it."""
    with st.container(horizontal=True, vertical_alignment="center", gap="small", key="page-header"):
        st.title(title, anchor=False, width="content")
        st.space("stretch")
        about_session(shop, session_id)
    if caption:
        st.caption(caption)


def about_session(shop: Shop, session_id: str | None = None) -> None:
    """The popover with the model and session-store badges (and the open session's id)."""
    with st.popover(
        "About this session", icon=":material/info:", type="tertiary", key="about-session"
    ):
        st.caption("Who answers, and where every step of the conversation is kept")
        with st.container(gap="small", key="runtime-badges"):
            st.badge(shop.model_label, icon=":material/smart_toy:", color="violet")
            st.badge(shop.store_label, icon=":material/database:", color="blue")
        if session_id:
            st.caption(f"Bedrock session `{session_id}`; every step is a checkpoint in it.")
