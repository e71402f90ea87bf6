"""Forking a turn: ask it differently (an edited message, answered again on a new branch), or
change the cart as it was after it (a new branch that waits for the next message).

The forms only collect the edits; `Shop.fork` decides what changed (a message or cart equal to
the turn's own counts as unchanged) and refuses what cannot be forked. An edited message whose
turn went to checkout is answered afresh, which may send a checkout to the store again: the
form says so and the fork needs the shopper's tick first (`Shop.fork(confirmed=...)`).
"""

from __future__ import annotations

import streamlit as st

from assistant.application import CheckoutWarning, Principal, Shop, TurnView
from ui.errors import shown_errors
from ui.notices import notify_after_rerun


def confirm_checkout(warning: CheckoutWarning | None, *, key: str) -> bool:
    """The tick that lets an action send a checkout to the store again (what happens is in
    `warning.text`, shown above the actions); True when nothing needs one."""
    if warning is None:
        return True
    return st.checkbox(
        "Ask the store again", key=key, help="The checkout goes to the store: " + warning.text
    )


def message_form(
    shop: Shop,
    who: Principal,
    session_id: str,
    turn: TurnView,
    warning: CheckoutWarning | None,
    *,
    on_done,
) -> None:
    """Fork at the turn's start with an edited shopper message; the assistant answers it."""
    with st.form(f"fork-form-{turn.turn_id}", border=True):
        st.markdown(f"**Ask differently** · edit your message of turn {turn.number}")
        message = st.text_area(
            "Your message",
            value=turn.shopper,
            key=f"fork-message-{turn.turn_id}",
            height=80,
        )
        confirmed = confirm_checkout(warning, key=f"fork-confirm-{turn.turn_id}")
        if st.form_submit_button("Fork with this message", icon=":material/call_split:"):
            with shown_errors("forking"), st.spinner("Answering the edited message…"):
                shop.fork(
                    who, session_id, turn.start_checkpoint_id, message=message, confirmed=confirmed
                )
                on_done(f"Forked turn {turn.number} with your edited message: a new branch.")


def cart_form(shop: Shop, who: Principal, session_id: str, turn: TurnView, *, on_done) -> None:
    """Fork after the turn with an edited cart; the new branch waits for the next message."""
    with st.form(f"fork-cart-form-{turn.turn_id}", border=True):
        st.markdown(f"**Change the cart** as it was after turn {turn.number}")
        cart = st.data_editor(
            [dict(line) for line in turn.cart],
            key=f"fork-cart-{turn.turn_id}",
            hide_index=True,
            width="stretch",
            disabled=["product_id", "name", "size", "unit_price"],
            column_order=["name", "size", "quantity", "unit_price"],
            column_config={
                "name": st.column_config.TextColumn("Shoe"),
                "size": st.column_config.NumberColumn("Size", width="small"),
                "quantity": st.column_config.NumberColumn(
                    "Pairs", min_value=0, max_value=10, step=1, width="small"
                ),
                "unit_price": st.column_config.NumberColumn("Price", format="$%.2f"),
            },
        )
        if st.form_submit_button("Fork with this cart", icon=":material/shopping_cart:"):
            with shown_errors("forking"), st.spinner("Forking a new branch…"):
                shop.fork(
                    who, session_id, turn.end_checkpoint_id, cart=[dict(line) for line in cart]
                )
                on_done(f"Forked after turn {turn.number} with the edited cart: a new branch.")


def done_and_rerun(picker_key: str):
    """What a successful action does: say so after the rerun, select the new current turn."""

    def done(text: str) -> None:
        notify_after_rerun("success", f"{text} The chat now follows it.", scope="history")
        st.session_state.pop(picker_key, None)
        st.rerun()

    return done
