"""Product results as cards: picture, name, brand, price, sizes in stock, colours, rating.

Pictures are the offline PNGs made by `data/build_catalog.py` (`data/images/<product_id>.png`);
nothing is fetched from the internet.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistant.application import product_image

CARDS_PER_ROW = 2


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


def product_cards(products: list[dict], *, key: str) -> None:
    """A grid of product cards; `key` keeps element keys unique when shown more than once."""
    for start in range(0, len(products), CARDS_PER_ROW):
        row = products[start : start + CARDS_PER_ROW]
        columns = st.columns(CARDS_PER_ROW, gap="small")
        for column, product in zip(columns, row, strict=False):
            with column:
                product_card(product, key=f"{key}-{start}")


def product_card(product: dict, *, key: str) -> None:
    """One product card (picture beside the facts), with a CSS hook `st-key-product-<...>`."""
    product_id = product.get("product_id", "?")
    with st.container(
        border=True, horizontal=True, key=f"product-{key}-{product_id}", vertical_alignment="center"
    ):
        image = picture(product_id)
        if image is not None:
            st.image(str(image), width=120)
        with st.container(gap=None):
            st.markdown(f"**{product.get('name', product_id)}** · {product.get('brand', '')}")
            st.markdown(
                f"**${product.get('price', 0):,.2f}** "
                f":gray[{stars(float(product.get('rating', 0)))}]"
            )
            sizes = product.get("sizes_in_stock")
            if sizes is None and isinstance(product.get("stock"), dict):
                sizes = [float(size) for size, count in product["stock"].items() if count > 0]
            st.caption(
                f"Sizes {sizes_text(sorted(sizes or []))}  \n"
                f"{', '.join(product.get('colors', [])) or '—'} · `{product_id}`"
            )
