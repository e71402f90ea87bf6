"""Product results as cards: picture, name, brand, price, rating, colours and the sizes in stock.

On the Shop page each card has a size picker (the sizes in stock now, with the pairs left in
each) and "Add to cart". The click is a turn of the conversation (`Shop.add_to_cart`): the graph
runs the cart tool with exactly that product and size, and the turn is checkpointed like a typed
request. Pictures are the offline PNGs made by `data/build_catalog.py`; nothing is fetched from
the internet. Product ids are the catalog's business, not the shopper's: cards never show them.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistant.application import product_image
from ui.components.controls import ShopperControls, click

CARDS_PER_ROW = 2
FEW_LEFT = 3  # from this many pairs down, a size says how few are left


def picture(product_id: str) -> Path | None:
    """The product's picture file, or None when the catalog has none."""
    return product_image(product_id)


def sizes_text(sizes: list[float]) -> str:
    """Sizes in stock as ranges of consecutive half sizes: [5, 5.5, 6, 8] -> "5–6, 8"."""
    if not sizes:
        return "sold out"
    runs: list[list[float]] = []
    for size in sorted(sizes):
        if runs and size - runs[-1][-1] == 0.5:
            runs[-1].append(size)
        else:
            runs.append([size])
    return ", ".join(f"{run[0]:g}" if len(run) == 1 else f"{run[0]:g}–{run[-1]:g}" for run in runs)


def stars(rating: float) -> str:
    """A rating as stars plus the number, e.g. "★★★★☆ 4.3"."""
    full = round(rating)
    return "★" * full + "☆" * (5 - full) + f" {rating:.1f}"


def size_option(size: float, pairs: int) -> str:
    """A size in the picker: "8.5 · 12 in stock", "9 · only 2 left"."""
    left = f"only {pairs} left" if pairs <= FEW_LEFT else f"{pairs} in stock"
    return f"{size:g} · {left}"


def product_cards(
    products: list[dict], *, key: str, controls: ShopperControls | None = None
) -> None:
    """A grid of product cards; `key` keeps element keys unique when shown more than once."""
    for start in range(0, len(products), CARDS_PER_ROW):
        row = products[start : start + CARDS_PER_ROW]
        columns = st.columns(CARDS_PER_ROW, gap="small")
        for column, product in zip(columns, row, strict=False):
            with column:
                product_card(product, key=f"{key}-{start}", controls=controls)


def product_card(product: dict, *, key: str, controls: ShopperControls | None = None) -> None:
    """One product card (picture beside the facts; on the Shop page the size picker and "Add to
    cart" under them), with a CSS hook `st-key-product-<...>`."""
    product_id = product.get("product_id", "?")
    with st.container(border=True, key=f"product-{key}-{product_id}"):
        with st.container(horizontal=True, vertical_alignment="center"):
            image = picture(product_id)
            if image is not None:
                st.image(str(image), width=120)
            with st.container(gap=None):
                st.markdown(f"**{product.get('name', product_id)}** · {product.get('brand', '')}")
                st.markdown(
                    f"**${product.get('price', 0):,.2f}** "
                    f":gray[{stars(float(product.get('rating', 0)))}]"
                )
                colours = ", ".join(product.get("colors", [])) or "—"
                if controls is None:
                    sizes = product.get("sizes_in_stock")
                    if sizes is None and isinstance(product.get("stock"), dict):
                        sizes = [float(size) for size, count in product["stock"].items() if count]
                    st.caption(f"Sizes {sizes_text(sorted(sizes or []))}  \n{colours}")
                    return
                # The stock now, not when the search ran: orders may have taken some since.
                stock = {
                    size: pairs
                    for size, pairs in controls.shop.stock(controls.who, product_id).items()
                    if pairs > 0
                }
                st.caption(f"Sizes {sizes_text(sorted(stock))}  \n{colours}")
        if stock:
            add_to_cart(product_id, stock, key=f"{key}-{product_id}", controls=controls)


def add_to_cart(
    product_id: str, stock: dict[float, int], *, key: str, controls: ShopperControls
) -> None:
    """The size picker (sizes in stock, pairs left in each) and the "Add to cart" button."""
    sizes = sorted(stock)
    picker = f"size-{key}"
    start = sizes.index(controls.shoe_size) if controls.shoe_size in stock else None
    row = st.container(horizontal=True, vertical_alignment="bottom", gap="small")
    size = row.selectbox(
        "Size",
        sizes,
        index=start,
        format_func=lambda size: size_option(size, stock[size]),
        placeholder="Pick a size",
        key=picker,
        label_visibility="collapsed",
        disabled=not controls.writable,
        width=170,
    )
    row.button(
        "Add to cart",
        key=f"add-{key}",
        icon=":material/add_shopping_cart:",
        disabled=not controls.writable or size is None,
        help=None if size is not None else "Pick a size first",
        on_click=_add,
        args=(controls, product_id, picker),
    )


def _add(controls: ShopperControls, product_id: str, picker: str) -> None:
    size = st.session_state.get(picker)
    if size is not None:
        click(controls, "adding to the cart", controls.shop.add_to_cart, product_id, size)
