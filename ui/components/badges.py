"""Which model answers and which session store keeps the conversation, always on screen."""

from __future__ import annotations

import streamlit as st

from assistant.application import Shop


def page_header(title: str, shop: Shop, *, caption: str | None = None) -> None:
    """A page title with the model and session-store badges under it."""
    st.title(title, anchor=False)
    with st.container(horizontal=True, gap="small", key="runtime-badges"):
        st.badge(shop.model_label, icon=":material/smart_toy:", color="violet")
        st.badge(shop.store_label, icon=":material/database:", color="blue")
    if caption:
        st.caption(caption)
