"""The offline model's words: short replies that summarise tool results for the shopper."""

from __future__ import annotations

from typing import Any

from assistant.agent.models.offline.conversation import (
    CheckoutRecord,
    ToolExchange,
    sizes_in_stock,
)
from assistant.shopdb.vocabulary import CATEGORY_NOUNS, GENDER_ADJECTIVES

#: Longest tool text relayed word for word when a result is not the JSON the contract promises.
MAX_RELAYED_CHARS = 300

CAPABILITIES = (
    "I can search shoes by category, brand, colour, size and price, show a shoe's details, "
    "manage your cart and check out (a store operator approves each order)."
)
EXAMPLES = (
    'Try "show me women\'s trail shoes under $150", "add the second one in size 9", '
    '"what\'s in my cart?" or "checkout".'
)


def money(amount: object) -> str:
    """ "$139" for whole amounts, "$119.95" otherwise; "?" when the amount is missing."""
    try:
        value = float(amount)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "?"
    return f"${value:,.0f}" if value.is_integer() else f"${value:,.2f}"


def size_text(size: object) -> str:
    """9.0 -> "9", 9.5 -> "9.5"."""
    try:
        value = float(size)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(size)
    return f"{value:g}"


def sizes_text(sizes: list[float]) -> str:
    """Compress sizes into runs of half sizes: [8, 8.5, 9, 10] -> "8-9, 10"."""
    if not sizes:
        return "none"
    runs: list[list[float]] = [[sizes[0]]]
    for size in sizes[1:]:
        if size - runs[-1][-1] == 0.5:
            runs[-1].append(size)
        else:
            runs.append([size])
    return ", ".join(
        size_text(run[0]) if len(run) == 1 else f"{size_text(run[0])}-{size_text(run[-1])}"
        for run in runs
    )


def product_title(product: dict[str, Any]) -> str:
    """ "Northpeak Ridge GTX": brand and name, without repeating a brand the name starts with."""
    name = str(product.get("name") or product.get("product_id") or "this shoe")
    brand = product.get("brand")
    if isinstance(brand, str) and brand and not name.lower().startswith(brand.lower()):
        return f"{brand} {name}"
    return name


def describe_search(args: dict[str, Any]) -> str:
    """Say what a search looked for: "red women's trail shoes in size 9 under $150"."""
    words = []
    if args.get("color"):
        words.append(str(args["color"]))
    if args.get("gender") in GENDER_ADJECTIVES:
        words.append(GENDER_ADJECTIVES[args["gender"]])
    if args.get("brand"):
        words.append(str(args["brand"]))
    words.append(CATEGORY_NOUNS.get(str(args.get("category")), "shoes"))
    if args.get("size"):
        words.append(f"in size {size_text(args['size'])}")
    low, high = args.get("min_price"), args.get("max_price")
    if low and high:
        words.append(f"between {money(low)} and {money(high)}")
    elif high:
        words.append(f"under {money(high)}")
    elif low:
        words.append(f"over {money(low)}")
    if args.get("query"):
        words.append(f'matching "{args["query"]}"')
    return " ".join(words)


def result_line(position: int, product: dict[str, Any]) -> str:
    """One numbered line of a result list."""
    parts = [money(product.get("price"))]
    if product.get("rating") is not None:
        parts.append(f"{product['rating']}★")
    sizes = sizes_in_stock(product)
    if sizes is not None:
        parts.append(f"sizes {sizes_text(sizes)}" if sizes else "out of stock")
    colours = product.get("colors")
    if isinstance(colours, list) and colours:
        parts.append("/".join(str(c) for c in colours))
    return f"{position}. {product_title(product)} — {', '.join(parts)}"


def search_reply(exchange: ToolExchange, lead: str = "", note: str = "") -> str:
    """Summarise a search: count, what was searched, then one line per shoe.

    `lead` opens the reply (e.g. that "gym" was searched as running shoes); `note` follows the
    results (the filters kept from before and how to drop them).
    """
    result = exchange.result or {}
    products = [p for p in result.get("results") or [] if isinstance(p, dict)]
    what = describe_search(exchange.args)
    if not products:
        hint = result.get("message") or "Try fewer filters or a wider price range."
        return "\n".join(
            part for part in (lead, f"I couldn't find any {what}. {hint}", note) if part
        )
    total = result.get("total_matches")
    count = len(products)
    if isinstance(total, int) and total > count:
        head = f"I found {total} {what}; here are the first {count}:"
    else:
        head = f"I found {count} {what}:" if count > 1 else f"I found one match for {what}:"
    lines = [result_line(i, p) for i, p in enumerate(products, start=1)]
    if isinstance(result.get("message"), str) and result["message"]:
        # e.g. the tool relaxed a filter that matched nothing: the shopper should know.
        head = f"{head[:-1]} ({result['message'].rstrip('.')}):"
    tail = 'Say "details on the first" or "add the second one in size 9".'
    # The list is one Markdown block; what follows it is a paragraph of its own (a line right
    # after a list item would be read as part of that item).
    listing = "\n".join(part for part in (lead, head, *lines) if part)
    return "\n\n".join(part for part in (listing, note, tail) if part)


def details_reply(exchange: ToolExchange) -> str:
    """Describe one shoe: price, rating, colours, sizes in stock, description."""
    product = (exchange.result or {}).get("product")
    if not isinstance(product, dict):
        return "I couldn't load that shoe's details."
    head = f"{product_title(product)} — {money(product.get('price'))}"
    if product.get("rating") is not None:
        head += f", {product['rating']}★"
    kind = " ".join(
        str(x)
        for x in (GENDER_ADJECTIVES.get(str(product.get("gender")), ""), product.get("category"))
        if x
    )
    lines = [f"{head} ({kind})." if kind else f"{head}."]
    if product.get("description"):
        lines.append(str(product["description"]))
    colours = product.get("colors")
    if isinstance(colours, list) and colours:
        lines.append("Colours: " + ", ".join(str(c) for c in colours) + ".")
    sizes = sizes_in_stock(product)
    if sizes is not None:
        lines.append(f"In stock in sizes {sizes_text(sizes)}." if sizes else "Out of stock.")
    lines.append('Say "add it in size 9" to put a pair in your cart.')
    return "\n".join(lines)


def cart_lines(cart: list[dict[str, Any]]) -> list[str]:
    """One line per cart line: "Cadence Rise 4 — size 9 × 2 at $119.95 = $239.90"."""
    lines = []
    for line in cart:
        quantity = line.get("quantity", 1)
        try:
            subtotal = money(float(line.get("unit_price", 0)) * int(quantity))
        except (TypeError, ValueError):
            subtotal = "?"
        lines.append(
            f"- {line.get('name') or line.get('product_id')} — size {size_text(line.get('size'))}"
            f" × {quantity} at {money(line.get('unit_price'))} = {subtotal}"
        )
    return lines


def cart_summary(result: dict[str, Any]) -> str:
    """ "Your cart: 3 pairs, total $359.85." from a cart-returning result."""
    cart = [line for line in result.get("cart") or [] if isinstance(line, dict)]
    if not cart:
        return "Your cart is empty."
    pairs = sum(int(line.get("quantity", 1) or 1) for line in cart)
    noun = "pair" if pairs == 1 else "pairs"
    return f"Your cart: {pairs} {noun}, total {money(result.get('cart_total'))}."


def cart_change_reply(exchange: ToolExchange) -> str:
    """Confirm an add, update or remove, then the new cart total."""
    result = exchange.result or {}
    message = result.get("message")
    if not message:
        message = {
            "add_to_cart": "Added to your cart.",
            "update_cart_item": "Updated your cart.",
            "remove_from_cart": "Removed from your cart.",
        }.get(exchange.name, "Done.")
    return f"{message} {cart_summary(result)}"


def view_cart_reply(exchange: ToolExchange) -> str:
    """List the cart with a total."""
    result = exchange.result or {}
    cart = [line for line in result.get("cart") or [] if isinstance(line, dict)]
    if not cart:
        return "Your cart is empty. Ask me to find some shoes!"
    return "\n".join(
        [
            "Here's your cart:",
            *cart_lines(cart),
            f'Total: {money(result.get("cart_total"))}. Say "checkout" when you\'re ready.',
        ]
    )


def checkout_reply(exchange: ToolExchange) -> str:
    """Relay the store's decision on a checkout: approved, edited or rejected."""
    result = exchange.result or {}
    status = result.get("status")
    order = result.get("order_id")
    note = f" Note from the store: {result['reason']}" if result.get("reason") else ""
    if status == "approved":
        return f"Your order {order} is confirmed — total {money(result.get('total'))}.{note}"
    if status == "edited":
        discount = result.get("discount_pct") or 0
        change = f" ({discount:g}% off)" if discount else ""
        return (
            f"The store approved your order {order} with changes{change} — total "
            f"{money(result.get('total'))}.{note}"
        )
    if status == "rejected":
        reason = f": {result['reason']}." if result.get("reason") else "."
        return f"The store didn't approve this order{reason} No order was placed."
    return str(result.get("message") or "Your checkout is waiting for the store's decision.")


def checkout_status_line(record: CheckoutRecord) -> str:
    """What became of one checkout, for "where is my order?"."""
    reason = (record.reason or "").strip().rstrip(".")
    if record.status == "waiting":
        return "Your checkout is waiting for the store's approval; you'll see their decision here."
    if record.status in ("approved", "edited"):
        note = f" Note from the store: {reason}." if reason else ""
        if record.status == "edited":
            discount = f" ({record.discount_pct:g}% off)" if record.discount_pct else ""
            how = f"was approved with changes{discount}"
        else:
            how = "is confirmed"
        return f"Your order {record.order_id} {how} — total {money(record.total)}.{note}"
    if record.status == "rejected":
        why = f": {reason}" if reason else ""
        return f"The store didn't approve your checkout{why}. No order was placed."
    if record.status == "cancelled":
        return "You cancelled your checkout, so nothing was ordered."
    if record.status == "interrupted":
        return (
            "Your checkout stopped before the store decided, so nothing was ordered. "
            'Say "checkout" to send your cart to the store again.'
        )
    why = f": {reason}" if reason else ""
    return f"Your checkout didn't go through{why}. Nothing was ordered."


def order_status_reply(records: list[CheckoutRecord], cart: list[dict[str, Any]] | None) -> str:
    """Answer "where is my order?" from the checkouts of this conversation."""
    if not records:
        pairs = sum(int(line.get("quantity", 1) or 1) for line in cart or [])
        ready = (
            f' Your cart has {pairs} {"pair" if pairs == 1 else "pairs"}; say "checkout" when '
            "you're ready."
            if pairs
            else ""
        )
        return f"You haven't checked out in this conversation, so there's no order yet.{ready}"
    if len(records) == 1:
        return checkout_status_line(records[0])
    lines = [f"- {checkout_status_line(record)}" for record in records]
    return "\n".join(["Your checkouts in this conversation, latest last:", *lines])


def error_reply(exchange: ToolExchange) -> str:
    """Relay a tool's error so the shopper can act on it."""
    if exchange.result is not None:
        error = exchange.result.get("error") or exchange.result.get("message") or "it failed"
        return f"Sorry, that didn't work: {error}"
    text = exchange.text.strip() or "the tool returned nothing"
    return f"Sorry, something went wrong: {text[:MAX_RELAYED_CHARS]}"


def reply_for(exchange: ToolExchange) -> str:
    """The reply text for one answered tool call."""
    if exchange.name == "checkout" and exchange.result is not None and "status" in exchange.result:
        return checkout_reply(exchange)
    if not exchange.ok:
        return error_reply(exchange)
    if exchange.name == "search_products":
        return search_reply(exchange)
    if exchange.name == "get_product_details":
        return details_reply(exchange)
    if exchange.name in ("add_to_cart", "update_cart_item", "remove_from_cart"):
        return cart_change_reply(exchange)
    if exchange.name == "view_cart":
        return view_cart_reply(exchange)
    if exchange.name == "checkout":
        return checkout_reply(exchange)
    return str((exchange.result or {}).get("message") or "Done.")


def lead_in(tool_calls: tuple[tuple[str, dict[str, Any]], ...]) -> str:
    """What the model says before it calls tools, as Claude does ("Looking for red trail
    shoes…"): the shopper reads words at once, while the tools run."""
    if not tool_calls:
        return ""
    name, args = tool_calls[0]
    if name == "search_products":
        return f"Looking for {describe_search(args)}…"
    return LEAD_INS.get(name, "One moment…")


LEAD_INS = {
    "get_product_details": "Let me get the details…",
    "add_to_cart": "Adding it to your cart…",
    "update_cart_item": "Changing your cart…",
    "remove_from_cart": "Taking it out of your cart…",
    "view_cart": "Checking your cart…",
    "checkout": "Sending your order to the store…",
}
