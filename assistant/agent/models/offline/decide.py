"""What the offline model does next, given the whole conversation.

`decide()` is a pure function of the messages and the bound tool names, so the same conversation
always gives the same answer. It either calls shop tools (search, details, cart, checkout) or
writes a reply; after tool results arrive it summarises them, except for the one supported chain
"find red running shoes and add the first in size 9" (search, then add once the results are in).

Nothing here can approve an order: checkout is only *requested* when the shopper says so, and
the checkout tool itself waits for a store operator (enforced in code, see
`assistant/agent/checkout.py`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage
from pydantic import ValidationError

from assistant.agent.models.offline.conversation import Conversation, sizes_in_stock
from assistant.agent.models.offline.parse import (
    ADD,
    CHEAP_MAX_PRICE,
    CHECKOUT,
    CLEAR_CART,
    DETAILS,
    GOODBYE,
    GREETING,
    HELP,
    NO_CHECKOUT,
    REMOVE,
    SEARCH,
    SIZE_ONLY,
    THANKS,
    UPDATE,
    VIEW_CART,
    ShopperRequest,
    parse_request,
)
from assistant.agent.models.offline.replies import (
    CAPABILITIES,
    EXAMPLES,
    product_title,
    reply_for,
    search_reply,
    size_text,
    sizes_text,
)
from assistant.shopdb.search import SearchFilters
from assistant.shopdb.vocabulary import ShopVocabulary

#: The question asked when an add has no size; a bare "9" in the next message answers it.
ASK_SIZE = "Which size would you like for"
#: Result lists grow by this many on "show me more", up to MAX_LIMIT.
PAGE_SIZE, MAX_LIMIT = 5, 10
NOT_UNDERSTOOD = "Sorry, I didn't understand that. " + EXAMPLES
_ANY_GENDER = re.compile(r"\b(?:any|all) genders?\b|\bunisex\b|\bfor anyone\b|\beveryone\b")


@dataclass(frozen=True)
class Decision:
    """The model's next message: some text, and the tool calls to make (name, args)."""

    text: str = ""
    tool_calls: tuple[tuple[str, dict[str, Any]], ...] = ()


class _Ask(Exception):
    """Raised inside a resolver to answer the shopper with a question instead of a call."""

    def __init__(self, question: str) -> None:
        super().__init__(question)
        self.question = question


def decide(
    messages: Sequence[BaseMessage],
    tool_names: Sequence[str] | None,
    vocabulary: ShopVocabulary,
) -> Decision:
    """Decide the next AI message for `messages`, calling only tools named in `tool_names`.

    `tool_names` None means no tools are bound: the model then only writes text.
    """
    conversation = Conversation(messages)
    shop = _Shop(conversation, tuple(tool_names or ()), vocabulary)
    if not messages:
        return Decision("Hi! " + CAPABILITIES + " " + EXAMPLES)
    if isinstance(messages[-1], ToolMessage):
        return shop.after_tool_results()
    if isinstance(messages[-1], HumanMessage):
        return shop.answer_shopper()
    return Decision("How can I help you find shoes today? " + EXAMPLES)


class _Shop:
    """The decision rules, with the conversation and vocabulary at hand."""

    def __init__(
        self, conversation: Conversation, tools: tuple[str, ...], vocabulary: ShopVocabulary
    ) -> None:
        self.conversation = conversation
        self.tools = tools
        # Brands seen in results count too, so the model works before data/catalog.json exists.
        self.vocabulary = vocabulary.with_brands(conversation.brands_seen())

    # --- entry points --------------------------------------------------------------------

    def answer_shopper(self) -> Decision:
        """Answer the latest HumanMessage."""
        text = self.conversation.last_human_text()
        if not text.strip():
            return Decision("I can only read text messages. " + EXAMPLES)
        request = parse_request(text, self.vocabulary)
        try:
            return self.act(request)
        except _Ask as ask:
            return Decision(ask.question)

    def after_tool_results(self) -> Decision:
        """Summarise the tool results that end the conversation, or continue the one chain."""
        results = self.conversation.pending_results()
        if not results:
            return Decision("Done. What else can I do for you?")
        request = parse_request(self.conversation.last_human_text(), self.vocabulary)
        searched = [e for e in results if e.name == "search_products" and e.ok]
        added_this_turn = any(e.name == "add_to_cart" for e in self.conversation.this_turn())
        if request.then is not None and searched and not added_this_turn:
            found = search_reply(searched[-1]).rsplit("\n", 1)[0]
            if not self.conversation.shown_products():
                return Decision(search_reply(searched[-1]) + " So there was nothing to add.")
            try:
                add = self.act(request.then)
            except _Ask as ask:
                return Decision(f"{found}\n\n{ask.question}")
            return replace(add, text="\n\n".join(t for t in (found, add.text) if t))
        replies = [reply_for(exchange) for exchange in results]
        said_size = (request.then or request).size
        for index, exchange in enumerate(results):
            # Say so when the size was chosen for the shopper rather than said by them.
            source = self.size_source(exchange.args.get("size"))
            if exchange.name == "add_to_cart" and said_size is None and source:
                size = size_text(exchange.args["size"])
                replies[index] = f"I used {source}, {size}. {replies[index]}"
        return Decision("\n\n".join(replies))

    def act(self, request: ShopperRequest) -> Decision:
        """Dispatch one parsed request to its rule."""
        rules = {
            SEARCH: self.search,
            DETAILS: self.details,
            ADD: self.add,
            UPDATE: self.update,
            REMOVE: self.remove,
            CLEAR_CART: self.clear_cart,
            VIEW_CART: lambda _request: self.call("view_cart", {}),
            CHECKOUT: lambda _request: self.call("checkout", {}),
            NO_CHECKOUT: lambda _request: Decision(
                "No problem, I won't check out. Your cart stays as it is."
            ),
            SIZE_ONLY: self.size_only,
            GREETING: self.greet,
            HELP: lambda _request: Decision(CAPABILITIES + " " + EXAMPLES),
            THANKS: lambda _request: Decision("You're welcome! Anything else I can find for you?"),
            GOODBYE: lambda _request: Decision(
                "Thanks for shopping with us! Your cart stays in this conversation for next time."
            ),
        }
        rule = rules.get(request.intent)
        return rule(request) if rule else Decision(NOT_UNDERSTOOD)

    # --- tool calls ----------------------------------------------------------------------

    def call(self, name: str, args: dict[str, Any], text: str = "") -> Decision:
        """Call one tool, if it is bound; otherwise say plainly that it is not available."""
        return self.calls([(name, args)], text)

    def calls(self, calls: list[tuple[str, dict[str, Any]]], text: str = "") -> Decision:
        """Call several tools in parallel, if all are bound."""
        missing = [name for name, _ in calls if name not in self.tools]
        if missing:
            return Decision(
                f"I can't do that right now: the shop tool {missing[0]} isn't connected to me."
            )
        return Decision(text=text, tool_calls=tuple(calls))

    # --- rules ---------------------------------------------------------------------------

    def greet(self, _request: ShopperRequest) -> Decision:
        """A short welcome that says what the assistant can do."""
        name = self.conversation.profile().get("name")
        hello = f"Hi {name}!" if isinstance(name, str) and name else "Hi!"
        return Decision(f"{hello} I'm the shop's offline assistant. {CAPABILITIES} {EXAMPLES}")

    def search(self, request: ShopperRequest) -> Decision:
        """Search, merging the previous search's filters when the message refines it."""
        return self.call("search_products", self.search_args(request))

    def search_args(self, request: ShopperRequest) -> dict[str, Any]:
        """Arguments for search_products: fresh, or the previous search refined."""
        previous = self.conversation.last_search()
        previous_args = dict(previous.args) if previous else {}
        # Filters alone ("in blue", "Northpeak ones", "under $100") refine the last search;
        # a new category or new free-text words start a fresh one unless "instead"/"cheaper".
        refines = previous is not None and (
            request.instead
            or request.cheaper
            or request.more
            or (not request.query and request.category in (None, previous_args.get("category")))
        )
        args: dict[str, Any] = (
            _search_filters(previous_args).model_dump(exclude_defaults=True) if refines else {}
        )
        if previous is not None and not self.conversation.shown_products():
            # The last search found nothing: its free text is what to drop, not to keep.
            args.pop("query", None)
        if refines and "limit" in previous_args and not request.more:
            args["limit"] = previous_args["limit"]
        for key, value in (
            ("category", request.category),
            ("brand", request.brand),
            ("color", request.colour),
            ("gender", request.gender),
            ("size", request.size),
            ("query", request.query or None),
        ):
            if value is not None:
                args[key] = value
        if request.min_price is not None or request.max_price is not None:
            args.pop("min_price", None)
            args.pop("max_price", None)
            if request.min_price is not None:
                args["min_price"] = request.min_price
            if request.max_price is not None:
                args["max_price"] = request.max_price
        elif request.cheap:
            args["max_price"] = min(args.get("max_price", CHEAP_MAX_PRICE), CHEAP_MAX_PRICE)
        if request.cheaper:
            args["max_price"] = self.cheaper_ceiling(args.get("max_price"))
            args.pop("min_price", None)
        if request.more:
            args["limit"] = min(int(previous_args.get("limit", PAGE_SIZE)) + PAGE_SIZE, MAX_LIMIT)
        if _ANY_GENDER.search(request.text):
            args.pop("gender", None)
        elif not refines and "gender" not in args:
            # The profile's gender is only a default for a fresh search; words always win.
            gender = self.conversation.profile().get("gender")
            if gender in ("women", "men", "kids"):
                args["gender"] = gender
        limit = args.pop("limit", None)
        filters = SearchFilters(**args).model_dump(exclude_defaults=True)
        return filters if limit is None else {**filters, "limit": limit}

    def cheaper_ceiling(self, current_max: float | None) -> float:
        """A price ceiling for "cheaper": below the average price of the shoes just shown.

        Below the average rather than below the cheapest, so a short list still leaves its
        cheaper half (and whatever else costs less) instead of nothing at all.
        """
        prices = []
        for product in self.conversation.shown_products():
            try:
                prices.append(float(product["price"]))
            except (KeyError, TypeError, ValueError):
                continue
        if prices:
            ceiling = float(math.floor(sum(prices) / len(prices)))
        elif current_max:
            ceiling = float(math.floor(float(current_max) * 0.8))
        else:
            ceiling = CHEAP_MAX_PRICE
        return min(ceiling, float(current_max)) if current_max else ceiling

    def details(self, request: ShopperRequest) -> Decision:
        """Show one shoe's details; an unknown name with filters falls back to a search."""
        try:
            product = self.resolve_product(request)
        except _Ask:
            if request.brand or request.colour or request.category:
                return self.search(replace(request, intent=SEARCH))
            raise
        return self.call("get_product_details", {"product_id": product["product_id"]})

    def add(self, request: ShopperRequest) -> Decision:
        """Add a referenced shoe; without a size use the profile's size if it is in stock."""
        product = self.resolve_product(request)
        title = product_title(product) if product.get("name") else "that shoe"
        in_stock = sizes_in_stock(product)
        size, note = request.size, ""
        if size is None:
            if in_stock == []:
                raise _Ask(f"Sorry, {title} is out of stock in every size.")
            # The size of the search that listed it, else the profile's size, if in stock.
            for candidate in (self.searched_size(), self.profile_size()):
                if candidate is not None and in_stock is not None and candidate in in_stock:
                    size = candidate
                    note = f"I'll add {title} in {self.size_source(size)}, {size_text(size)}."
                    break
            else:
                stock_note = f" In stock: {sizes_text(in_stock)}." if in_stock else ""
                raise _Ask(f"{ASK_SIZE} {title}?{stock_note}")
        args = {
            "product_id": product["product_id"],
            "size": size,
            "quantity": request.quantity or 1,
        }
        return self.call("add_to_cart", args, text=note)

    def update(self, request: ShopperRequest) -> Decision:
        """Change the size and/or quantity of a cart line."""
        line = self.resolve_cart_line(request)
        if request.size is None and request.quantity is None:
            raise _Ask(
                f"What should I change for {line.get('name') or 'that item'}: "
                'the size (e.g. "change the size to 9") or the quantity ("make it 2 pairs")?'
            )
        args: dict[str, Any] = {"product_id": line["product_id"], "size": line["size"]}
        if request.quantity is not None:
            args["quantity"] = request.quantity
        if request.size is not None and request.size != line["size"]:
            args["new_size"] = request.size
        if len(args) == 2:
            raise _Ask(f"{line.get('name') or 'That item'} is already in size {request.size:g}.")
        return self.call("update_cart_item", args)

    def remove(self, request: ShopperRequest) -> Decision:
        """Remove a cart line."""
        line = self.resolve_cart_line(request)
        return self.call(
            "remove_from_cart", {"product_id": line["product_id"], "size": line["size"]}
        )

    def clear_cart(self, _request: ShopperRequest) -> Decision:
        """Remove every cart line, in parallel calls."""
        cart = self.conversation.cart()
        if cart is None:
            return self.call("view_cart", {}, text="Let me check your cart first.")
        if not cart:
            return Decision("Your cart is already empty.")
        return self.calls(
            [
                ("remove_from_cart", {"product_id": line["product_id"], "size": line["size"]})
                for line in cart
                if "product_id" in line
            ]
        )

    def size_only(self, request: ShopperRequest) -> Decision:
        """A bare size: answers "which size?" if asked, else narrows the search to that size."""
        if self.conversation.previous_ai_text().startswith(ASK_SIZE):
            earlier = parse_request(self.conversation.previous_human_text(), self.vocabulary)
            if earlier.intent == ADD:
                return self.add(replace(earlier, size=request.size))
        return self.search(replace(request, intent=SEARCH))

    # --- resolving references ------------------------------------------------------------

    def searched_size(self) -> float | None:
        """The size filter of the latest search, if it had one."""
        search = self.conversation.last_search()
        try:
            return float(search.args["size"]) if search else None
        except (KeyError, TypeError, ValueError):
            return None

    def size_source(self, size: object) -> str | None:
        """Where a size the shopper did not say came from, in words (None if from nowhere)."""
        if size is None:
            return None
        if size == self.searched_size():
            return "the size you searched for"
        if size == self.profile_size():
            return "your usual size"
        return None

    def profile_size(self) -> float | None:
        """The profile's shoe size, if it has a usable one."""
        try:
            return float(self.conversation.profile()["shoe_size"])
        except (KeyError, TypeError, ValueError):
            return None

    def resolve_product(self, request: ShopperRequest) -> dict[str, Any]:
        """The product a message points at, from the latest results (raises _Ask if unclear)."""
        shown = self.conversation.shown_products()
        known = self.conversation.known_products()
        reference = request.reference
        if reference.ordinal is not None:
            if not shown:
                raise _Ask("I haven't shown you any shoes yet. " + EXAMPLES)
            index = reference.ordinal - 1 if reference.ordinal > 0 else len(shown) - 1
            if not 0 <= index < len(shown) and len(shown) == 1:
                raise _Ask(f'I only showed one shoe, {product_title(shown[0])}; say "add it".')
            if not 0 <= index < len(shown):
                raise _Ask(f"I only showed {len(shown)}; pick a number from 1 to {len(shown)}.")
            return shown[index]
        # Results in display order first, then anything else seen (details, older searches).
        shown_ids = [product["product_id"] for product in shown]
        pool = shown + [p for pid, p in known.items() if pid not in shown_ids]
        if reference.superlative is not None and shown:
            return _superlative(shown, reference.superlative)
        if request.brand or request.colour or reference.words:
            matches = [p for p in pool if _matches(p, request)]
            if matches:
                return matches[0]
            if not reference.pronoun:
                raise _Ask(_no_match_question(request, bool(shown)))
        focus = self.conversation.focus_product_id()
        if focus is not None:
            return known.get(focus, {"product_id": focus})
        if len(shown) == 1:
            return shown[0]
        if shown:
            raise _Ask(
                'Which one do you mean? Say "the first", "the second", … or the shoe\'s name.'
            )
        raise _Ask("I haven't shown you any shoes yet. " + EXAMPLES)

    def resolve_cart_line(self, request: ShopperRequest) -> dict[str, Any]:
        """The cart line a message points at (raises _Ask if there is none or it is unclear)."""
        cart = self.conversation.cart()
        if cart is None:
            change = self.conversation.last_cart_change()
            if change is None:
                raise _Ask("Your cart is empty, so there's nothing to change yet.")
            args = change.args
            cart = [
                {
                    "product_id": args.get("product_id"),
                    "size": args.get("new_size", args.get("size")),
                    "name": None,
                }
            ]
        if not cart:
            raise _Ask("Your cart is empty, so there's nothing to change yet.")
        reference = request.reference
        known = self.conversation.known_products()
        if request.brand or request.colour or reference.words:
            matches = [
                line
                for line in cart
                if _matches({**known.get(line["product_id"], {}), **line}, request)
            ]
            if matches:
                return matches[0]
        if reference.ordinal is not None:
            # "the second one" counts the result list; find that shoe in the cart.
            try:
                product = self.resolve_product(request)
            except _Ask:
                product = {}
            for line in cart:
                if line.get("product_id") == product.get("product_id"):
                    return line
        change = self.conversation.last_cart_change()
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
        names = "; ".join(
            f"{line.get('name') or line['product_id']} (size {size_text(line.get('size'))})"
            for line in cart
        )
        raise _Ask(f"Which item do you mean? Your cart has: {names}.")


def _matches(product: dict[str, Any], request: ShopperRequest) -> bool:
    """Does a product fit the brand, colour and name words of a message?"""
    if request.brand and product.get("brand") and product.get("brand") != request.brand:
        return False
    colours = product.get("colors")
    if request.colour and not (isinstance(colours, list) and request.colour in colours):
        return False
    words = request.reference.words
    if words:
        title = f"{product.get('brand') or ''} {product.get('name') or ''}".lower()
        name_words = re.findall(r"[a-z0-9][a-z0-9'-]*", title)
        if not any(word in name_words for word in words):
            return False
    return bool(request.brand or request.colour or words)


def _search_filters(args: dict[str, Any]) -> SearchFilters:
    """The `SearchFilters` among an earlier search call's `args`, leaving out bad values.

    Another model may have written that call; one bad value must not stop the shopper from
    refining the search. Arguments that are no filter (`limit`) are ignored.
    """
    try:
        return SearchFilters.model_validate(args)
    except ValidationError as error:
        bad = {str(problem["loc"][0]) for problem in error.errors() if problem["loc"]}
        return SearchFilters.model_validate({k: v for k, v in args.items() if k not in bad})


def _superlative(products: list[dict[str, Any]], which: str) -> dict[str, Any]:
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
