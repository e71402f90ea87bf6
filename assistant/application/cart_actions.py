"""Clicks on the Shop page that change the cart, as turns of the conversation.

"Add to cart" on a product card, and +, − and remove in the cart, each become the shopper's
message in words ("Add 1 × Scree Ultra 5 in size 8.5 to my cart.") carrying the exact cart tool
call (`assistant.agent.actions`). `turns.stream_turn` runs it like a typed message, so the same
rules hold (not in an ended conversation, not while a checkout waits) and every step is a
checkpoint: History shows the click as a turn, and replaying it runs the same call again.

The functions here only word the click and name the call; the cart tools still check the
product, the size, the stock and the quantity, and say why when they refuse.
"""

from __future__ import annotations

from assistant import shopdb
from assistant.agent.actions import ShopAction
from assistant.application.context import ShopContext
from assistant.application.errors import TurnError
from assistant.shopdb import size_label


def pairs(quantity: int) -> str:
    """ "1 pair", "3 pairs"."""
    return f"{quantity} pair" + ("" if quantity == 1 else "s")


def add(
    ctx: ShopContext, product_id: str, size: float, quantity: int = 1
) -> tuple[str, ShopAction]:
    """The shopper's words and the call for adding `quantity` pairs of a product in `size`."""
    product = shopdb.find_product(ctx.engine, product_id)
    if product is None or product.product_id != str(product_id).upper():
        raise TurnError("That shoe is no longer in the catalog.")
    what = f"{quantity} × {product.display_name} in size {size_label(float(size))}"
    action = ShopAction(
        tool="add_to_cart",
        args={"product_id": product.product_id, "size": float(size), "quantity": int(quantity)},
        done=f"You added {what} to the cart.",
    )
    return f"Add {what} to my cart.", action


def set_quantity(
    ctx: ShopContext, session_id: str, product_id: str, size: float, quantity: int
) -> tuple[str, ShopAction]:
    """The words and the call for changing a cart line to `quantity` pairs (0 removes it)."""
    if quantity <= 0:
        return remove(ctx, session_id, product_id, size)
    line = cart_line(ctx, session_id, product_id, size)
    what = f"{line['name']} in size {size_label(float(size))}"
    action = ShopAction(
        tool="update_cart_item",
        args={"product_id": line["product_id"], "size": float(size), "quantity": int(quantity)},
        done=f"You now have {pairs(quantity)} of {what} in the cart.",
    )
    return f"Make it {pairs(quantity)} of {what}.", action


def remove(
    ctx: ShopContext, session_id: str, product_id: str, size: float
) -> tuple[str, ShopAction]:
    """The words and the call for removing one line (a product in one size) from the cart."""
    line = cart_line(ctx, session_id, product_id, size)
    what = f"{line['name']} in size {size_label(float(size))}"
    action = ShopAction(
        tool="remove_from_cart",
        args={"product_id": line["product_id"], "size": float(size)},
        done=f"You removed {what} from the cart.",
    )
    return f"Remove {what} from my cart.", action


def cart_line(ctx: ShopContext, session_id: str, product_id: str, size: float) -> dict:
    """The cart line of a product in one size, as the conversation holds it now."""
    cart = (ctx.snapshot(session_id).values or {}).get("cart") or []
    for line in cart:
        if line["product_id"] == product_id and float(line["size"]) == float(size):
            return dict(line)
    raise TurnError("That pair is no longer in your cart; the cart on screen was out of date.")
