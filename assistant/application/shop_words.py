"""What the assistant did, in the shop's words: one short line per tool call or result.

The History page tells a turn as a shopper would ("searched trail shoes in size 8.5: 4 found",
"added 1 × Scree Ultra 5 (8.5) to the cart", "the store approved order ord-1a2b ($117.00)"),
not as LangGraph does (nodes, tool calls, checkpoint sources). Every line is made here, from
the messages a checkpoint holds, so no page parses a tool's JSON.
"""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage

from assistant.agent.checkout import checkout_outcome

TOOL_INTENTS = {
    "search_products": "search the catalog",
    "get_product_details": "look at a product",
    "add_to_cart": "add to the cart",
    "update_cart_item": "change the cart",
    "remove_from_cart": "remove from the cart",
    "view_cart": "show the cart",
    "checkout": "check out",
}


def money(amount: float | None) -> str:
    """$1,234.50"""
    return f"${float(amount or 0):,.2f}"


def short(text: str, width: int = 80) -> str:
    """`text` on one line, cut to `width` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def intentions(message: AIMessage) -> str:
    """What the assistant decided to do with its tool calls: "search the catalog, add to…"."""
    names = [call["name"] for call in message.tool_calls or []]
    return ", ".join(TOOL_INTENTS.get(name, name) for name in names)


def asked_the_store(cart_total: float) -> str:
    """The line for a checkout call: the order goes to the store for approval."""
    return f"asked the store to approve the order ({money(cart_total)})"


def tool_result(message: ToolMessage) -> str:
    """One line for what a tool answered."""
    if message.name == "checkout":
        return checkout_result(message)
    try:
        body = json.loads(message.content) if isinstance(message.content, str) else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if body.get("ok") is False or message.status == "error":
        return f"could not {TOOL_INTENTS.get(message.name, message.name)}: " + short(
            str(body.get("error") or message.content), 120
        )
    if message.name == "search_products":
        return searched(body)
    if message.name == "get_product_details":
        product = body.get("product") or {}
        return f"looked at {product.get('name') or product.get('product_id') or 'a product'}"
    if message.name == "view_cart":
        return f"showed the cart ({money(body.get('cart_total'))})"
    if body.get("message"):
        text = short(str(body["message"]).rstrip("."), 120)
        return text[:1].lower() + text[1:]
    return f"used {message.name}"


def searched(body: dict) -> str:
    """ "searched women trail shoes, size 8.5, under $150: 4 found"."""
    filters = body.get("filters") or {}
    words = [
        str(filters[key]) for key in ("color", "brand", "gender", "category") if filters.get(key)
    ]
    what = " ".join(words) or str(filters.get("query") or "").strip()
    what = f"{what} shoes" if words else (what or "shoes")
    extras = []
    if filters.get("size"):
        extras.append(f"size {filters['size']}")
    if filters.get("min_price"):
        extras.append(f"from ${float(filters['min_price']):g}")
    if filters.get("max_price"):
        extras.append(f"under ${float(filters['max_price']):g}")
    found = body.get("total_matches", len(body.get("results") or []))
    result = f"{found} found" if found else "nothing found"
    return f"searched {', '.join([what, *extras])}: {result}"


def checkout_result(message: ToolMessage) -> str:
    """The store's decision on a checkout, as the shopper reads it."""
    outcome = checkout_outcome(message)
    if outcome is None:
        return "checked out"
    if outcome.error:
        return f"could not check out: {outcome.error}"
    if outcome.status in ("approved", "edited"):
        changes = " with changes" if outcome.status == "edited" else ""
        reused = ", placed earlier: not charged again" if outcome.reused else ""
        return (
            f"the store approved order {outcome.order_id}{changes} ({money(outcome.total)}{reused})"
        )
    if outcome.status == "rejected":
        return f"the store declined the order: {outcome.reason or 'no reason given'}"
    if outcome.status == "cancelled":
        return "you cancelled the checkout; nothing was ordered"
    return "checked out"


def step_lines(messages: list[BaseMessage], cart_total: float) -> list[str]:
    """The lines for the messages one step added (`cart_total`: the cart at that step, which a
    checkout call sends to the store)."""
    lines = []
    for message in messages:
        if isinstance(message, AIMessage):
            if any(call["name"] == "checkout" for call in message.tool_calls or []):
                lines.append(asked_the_store(cart_total))
        elif isinstance(message, ToolMessage):
            lines.append(tool_result(message))
    return lines
