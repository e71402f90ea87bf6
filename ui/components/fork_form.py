"""The "Fork from here" form: edit the shopper's message and/or the cart at a checkpoint.

The form only collects the edits; `Shop.fork` decides what changed (a message or cart equal to
the checkpoint's own counts as unchanged) and refuses what cannot be forked.
"""

from __future__ import annotations

import streamlit as st

from assistant.application import CheckpointState, Principal, Shop
from ui.errors import shown_errors
from ui.notices import notify_after_rerun


def fork_form(shop: Shop, who: Principal, session_id: str, state: CheckpointState) -> None:
    """The form; on submit, forks a new branch and reruns the page on it."""
    with st.form("fork-form", border=True):
        st.markdown("**Fork from here** with an edited shopper message and/or cart")
        message = st.text_area(
            "Shopper's message",
            value=state.shopper_message,
            key=f"fork-message-{state.checkpoint_id}",
            height=90,
        )
        cart = (
            st.data_editor(
                [dict(line) for line in state.cart],
                key=f"fork-cart-{state.checkpoint_id}",
                hide_index=True,
                width="stretch",
                disabled=["product_id", "name", "size", "unit_price"],
                column_config={
                    "quantity": st.column_config.NumberColumn(min_value=0, max_value=10, step=1),
                    "unit_price": st.column_config.NumberColumn(format="$%.2f"),
                },
            )
            if state.cart
            else []
        )
        if st.form_submit_button("Fork from here", icon=":material/call_split:", type="primary"):
            with shown_errors("forking"), st.spinner("Forking a new branch…"):
                shop.fork(
                    who,
                    session_id,
                    state.checkpoint_id,
                    message=message,
                    cart=[dict(line) for line in cart],
                )
                notify_after_rerun(
                    "success",
                    f"Forked from step {state.step}: the chat now follows the new branch.",
                    scope="history",
                )
                st.rerun()
