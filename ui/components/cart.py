"""The cart panel: lines, quantities and the total, next to the chat on the Shop page."""

from __future__ import annotations

import streamlit as st

from assistant.application import ApprovalView, cart_total


def cart_panel(cart: list[dict], *, pending_approval: ApprovalView | None = None) -> None:
    """The cart with its total; says so when the cart is waiting for the store's approval."""
    with st.container(border=True, key="cart-panel"):
        count = sum(int(line.get("quantity", 0)) for line in cart)
        st.subheader(f":material/shopping_cart: Cart ({count})", anchor=False)
        if not cart:
            st.caption("Your cart is empty. Ask for shoes, then say “add the first one”.")
        for line in cart:
            quantity = int(line.get("quantity", 0))
            price = float(line.get("unit_price", 0))
            st.markdown(
                f"**{line.get('name', line.get('product_id'))}**  \n"
                f"Size {float(line.get('size', 0)):g} · {quantity} × ${price:,.2f} "
                f"= **${quantity * price:,.2f}**"
            )
        st.divider()
        st.metric("Total", f"${cart_total(cart):,.2f}")
        if pending_approval is not None:
            st.badge("Waiting for store approval", icon=":material/hourglass_top:", color="orange")
