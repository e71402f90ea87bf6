"""The cart: lines with − / + and remove, and the total.

On a wide screen the cart is a column beside the chat; on a narrow one (a phone) that column
would sit far below the conversation, so the page shows a cart button at the top instead, whose
popover holds the same cart (theme.css picks one or the other by screen width). Every change
is a turn of the conversation run through the graph (`Shop.change_quantity`,
`Shop.remove_from_cart`), checkpointed like a typed "make it two".
"""

from __future__ import annotations

import streamlit as st

from assistant.application import ApprovalView, cart_total
from ui.components.chat import markdown_escape
from ui.components.controls import ShopperControls, click


def line_slug(line: dict) -> str:
    """A cart line as a key fragment (CSS classes cannot hold dots): "TRL-003-8_5"."""
    return f"{line.get('product_id')}-{float(line.get('size', 0)):g}".replace(".", "_")


def cart_summary(
    cart: list[dict],
    *,
    pending_approval: ApprovalView | None = None,
    controls: ShopperControls | None = None,
) -> None:
    """The cart behind a button at the top of the page, for narrow screens."""
    count = sum(int(line.get("quantity", 0)) for line in cart)
    with st.popover(
        f"Cart ({count}) · \\${cart_total(cart):,.2f}",
        icon=":material/shopping_cart:",
        key="cart-summary",
    ):
        cart_panel(cart, pending_approval=pending_approval, controls=controls, where="top")


def cart_panel(
    cart: list[dict],
    *,
    pending_approval: ApprovalView | None = None,
    controls: ShopperControls | None = None,
    where: str = "side",
) -> None:
    """The cart with its total; says so when the cart is waiting for the store's approval."""
    with st.container(border=True, key="cart-panel" if where == "side" else f"cart-panel-{where}"):
        count = sum(int(line.get("quantity", 0)) for line in cart)
        st.subheader(f":material/shopping_cart: Cart ({count})", anchor=False)
        if not cart:
            st.caption("Your cart is empty. Pick a size on a product card and add it.")
        for line in cart:
            cart_line(line, controls=controls, key=f"{where}-{line_slug(line)}")
        st.divider()
        st.metric("Total", f"${cart_total(cart):,.2f}")
        if pending_approval is not None:
            st.badge("Waiting for store approval", icon=":material/hourglass_top:", color="orange")


def cart_line(line: dict, *, controls: ShopperControls | None, key: str) -> None:
    """One line: the shoe, its size and price, − quantity + and remove, the line's total."""
    quantity = int(line.get("quantity", 0))
    price = float(line.get("unit_price", 0))
    size = float(line.get("size", 0))
    with st.container(gap=None, key=f"cart-line-{key}"):
        st.markdown(
            f"**{markdown_escape(str(line.get('name', 'A shoe')))}**  \n"
            f":gray[Size {size:g} · {quantity} × \\${price:,.2f} =] **\\${quantity * price:,.2f}**"
        )
        if controls is None:
            return
        change = (controls, line["product_id"], size)
        with st.container(horizontal=True, vertical_alignment="center", gap="small"):
            st.button(
                "",
                key=f"cart-less-{key}",
                icon=":material/remove:",
                help="One pair less" if quantity > 1 else "Remove from the cart",
                disabled=not controls.writable,
                on_click=_set_quantity,
                args=(*change, quantity - 1),
            )
            st.markdown(f"**{quantity}**", width="content")
            st.button(
                "",
                key=f"cart-more-{key}",
                icon=":material/add:",
                help="One pair more",
                disabled=not controls.writable,
                on_click=_set_quantity,
                args=(*change, quantity + 1),
            )
            st.button(
                "Remove",
                key=f"cart-remove-{key}",
                icon=":material/delete:",
                type="tertiary",
                help="Remove from the cart",
                disabled=not controls.writable,
                on_click=_remove,
                args=change,
            )


def _set_quantity(controls: ShopperControls, product_id: str, size: float, quantity: int) -> None:
    shop = controls.shop
    click(controls, "changing the cart", shop.change_quantity, product_id, size, quantity)


def _remove(controls: ShopperControls, product_id: str, size: float) -> None:
    click(controls, "removing from the cart", controls.shop.remove_from_cart, product_id, size)
