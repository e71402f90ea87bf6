"""Which shoe or cart line a message means: "the second one", "the cheapest", "it", "the Northpeak",
"the blue ones", or a distinctive part of the shoe's name ("the canvas sneaker", "the scree").

Names are matched word by word against each shoe's brand and name; the shoe that matches most
words wins (ties go to the one shown first). Category words count too when the name holds them,
so "the canvas sneaker" is the Canvas Sneaker and not the Canvas Court; a category word alone
("the running shoe") names no particular shoe.

A cart edit looks among the cart lines. When the shoe it names is not in the cart but was shown
(in the last results, or looked at earlier), `NotInCart` says so, rather than quietly changing
another line.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.agent.models.offline.conversation import Conversation
from assistant.agent.models.offline.parse import ShopperRequest
from assistant.agent.models.offline.replies import EXAMPLES, product_title, size_text


class Ask(Exception):
    """Raised while resolving to answer the shopper with a question instead of a call."""

    def __init__(self, question: str) -> None:
        super().__init__(question)
        self.question = question


class NotInCart(Ask):
    """The message names a shoe that was shown but is not in the cart."""

    def __init__(self, product: dict[str, Any]) -> None:
        self.product = product
        super().__init__(f"{product_title(product)} isn't in your cart.")


def resolve_product(conversation: Conversation, request: ShopperRequest) -> dict[str, Any]:
    """The product a message points at, from the latest results (raises Ask if unclear)."""
    shown = conversation.shown_products()
    known = conversation.known_products()
    reference = request.reference
    if reference.ordinal is not None:
        if not shown:
            raise Ask("I haven't shown you any shoes yet. " + EXAMPLES)
        index = reference.ordinal - 1 if reference.ordinal > 0 else len(shown) - 1
        if not 0 <= index < len(shown) and len(shown) == 1:
            raise Ask(f'I only showed one shoe, {product_title(shown[0])}; say "add it".')
        if not 0 <= index < len(shown):
            raise Ask(f"I only showed {len(shown)}; pick a number from 1 to {len(shown)}.")
        return shown[index]
    # Results in display order first, then anything else seen (details, older searches).
    pool = _seen(conversation)
    if reference.superlative is not None and shown:
        return superlative(shown, reference.superlative)
    if names_a_shoe(request) or reference.kind_words:
        matches = name_matches(pool, request)
        if matches and (names_a_shoe(request) or len(matches) == 1):
            return matches[0]
        if names_a_shoe(request) and not reference.pronoun:
            raise Ask(_no_match_question(request, bool(shown)))
    focus = conversation.focus_product_id()
    if focus is not None:
        return known.get(focus, {"product_id": focus})
    if len(shown) == 1:
        return shown[0]
    if shown:
        raise Ask('Which one do you mean? Say "the first", "the second", … or the shoe\'s name.')
    raise Ask("I haven't shown you any shoes yet. " + EXAMPLES)


def resolve_cart_line(conversation: Conversation, request: ShopperRequest) -> dict[str, Any]:
    """The cart line a message points at.

    Raises NotInCart when it names a shoe that is not in the cart, and Ask when the cart is
    empty or the message could mean several lines.
    """
    cart = conversation.cart()
    if cart is None:
        change = conversation.last_cart_change()
        args = change.args if change is not None else {}
        cart = (
            [
                {
                    "product_id": args.get("product_id"),
                    "size": args.get("new_size", args.get("size")),
                    "name": None,
                }
            ]
            if change is not None
            else []
        )
    reference = request.reference
    known = conversation.known_products()
    if names_a_shoe(request) or reference.kind_words:
        described = [{**known.get(line["product_id"], {}), **line} for line in cart]
        score, matches = best_matches(described, request)
        if names_a_shoe(request) and not reference.given:
            # A shoe that was shown fits the words better than any cart line: it is not there.
            shown_score, shown = best_matches(_seen(conversation), request)
            if shown and shown_score > score:
                raise NotInCart(shown[0])
        if matches and (names_a_shoe(request) or len(matches) == 1):
            return cart[described.index(matches[0])]
    if not cart:
        raise Ask("Your cart is empty, so there's nothing to change yet.")
    if reference.ordinal is not None or reference.superlative is not None:
        # "the second one" counts the result list; find that shoe in the cart.
        try:
            product = resolve_product(conversation, request)
        except Ask:
            product = {}
        for line in cart:
            if line.get("product_id") == product.get("product_id"):
                return line
        if product:
            raise NotInCart(product)
    change = conversation.last_cart_change()
    if change is not None:
        product_id = change.args.get("product_id")
        size = change.args.get("new_size", change.args.get("size"))
        for line in cart:
            if line.get("product_id") == product_id and line.get("size") == size:
                return line
        for line in cart:
            if line.get("product_id") == product_id:
                return line
    if len(cart) == 1:
        return cart[0]
    raise Ask(f"Which item do you mean? Your cart has: {cart_names(cart)}.")


def cart_names(cart: list[dict[str, Any]]) -> str:
    """ "Ridge GTX (size 9); Scree Runner (size 10)"."""
    return "; ".join(
        f"{line.get('name') or line['product_id']} (size {size_text(line.get('size'))})"
        for line in cart
    )


def _seen(conversation: Conversation) -> list[dict[str, Any]]:
    """The shoes of the last results in display order, then every other shoe seen."""
    shown = conversation.shown_products()
    shown_ids = {product["product_id"] for product in shown}
    known = conversation.known_products()
    return shown + [product for pid, product in known.items() if pid not in shown_ids]


def names_a_shoe(request: ShopperRequest) -> bool:
    """Does the message name a shoe by brand, colour or words of its name?"""
    return bool(request.brand or request.colour or request.reference.words)


def name_matches(products: list[dict[str, Any]], request: ShopperRequest) -> list[dict[str, Any]]:
    """The products that best fit the brand, colour and name words of a message, in order."""
    return best_matches(products, request)[1]


def best_matches(
    products: list[dict[str, Any]], request: ShopperRequest
) -> tuple[int, list[dict[str, Any]]]:
    """The best score and the products that have it, in order (0 and [] when none fits).

    A product must have the brand and colour said, and hold at least one of the name words
    said (when any was); its score is how many of the message's words (category words
    included) its brand and name hold.
    """
    words, kind_words = request.reference.words, request.reference.kind_words
    scored: list[tuple[int, dict[str, Any]]] = []
    for product in products:
        if request.brand and product.get("brand") and product.get("brand") != request.brand:
            continue
        colours = product.get("colors")
        if request.colour and not (isinstance(colours, list) and request.colour in colours):
            continue
        title = f"{product.get('brand') or ''} {product.get('name') or ''}".lower()
        title_words = re.findall(r"[a-z0-9][a-z0-9'-]*", title)
        named = sum(_in_name(word, title_words) for word in words)
        if words and not named:
            continue
        score = named + sum(_in_name(word, title_words) for word in kind_words)
        if score or request.brand or request.colour:
            scored.append((score, product))
    if not scored:
        return 0, []
    best = max(score for score, _ in scored)
    return best, [product for score, product in scored if score == best]


def _in_name(word: str, title_words: list[str]) -> bool:
    """Is `word` one of the name's words, give or take a plural ("sneakers" ~ "sneaker")?"""
    stem = word.removesuffix("s")
    return any(stem == other.removesuffix("s") for other in title_words)


def superlative(products: list[dict[str, Any]], which: str) -> dict[str, Any]:
    """The cheapest, priciest or best-rated product; ties go to the earlier one."""

    def number(product: dict[str, Any], key: str) -> float:
        try:
            return float(product.get(key) or 0)
        except (TypeError, ValueError):
            return 0.0

    if which == "cheapest":
        return min(products, key=lambda p: number(p, "price"))
    if which == "priciest":
        return max(products, key=lambda p: number(p, "price"))
    return max(products, key=lambda p: number(p, "rating"))


def _no_match_question(request: ShopperRequest, shown_any: bool) -> str:
    """Say which words matched nothing, so the shopper can rephrase."""
    said = " ".join(str(x) for x in (request.colour, request.brand, *request.reference.words) if x)
    if not shown_any:
        return f'I haven\'t shown any shoes matching "{said}" yet. Try "show me {said} shoes".'
    return f'None of the shoes I showed match "{said}". Say "the first", "the second", … instead.'
