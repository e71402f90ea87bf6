"""The graph's state: the conversation, the cart and what the shopper last saw.

The cart lives here, not in the database, so that replaying or forking a checkpoint restores the
cart together with the conversation (DESIGN decision 5).
"""

from __future__ import annotations

from typing import Annotated, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class CartLine(TypedDict):
    """One line of the cart: a product in one size."""

    product_id: str
    name: str
    size: float
    quantity: int
    unit_price: float


class ShopState(TypedDict, total=False):
    """State of one conversation, checkpointed after every step."""

    messages: Annotated[list[AnyMessage], add_messages]
    cart: list[CartLine]
    last_seen: list[str]
    user: str
    tenant: str


def cart_total(cart: list[CartLine] | None) -> float:
    """Sum of quantity × unit price over the cart, rounded to cents."""
    return round(sum(line["quantity"] * line["unit_price"] for line in cart or []), 2)
