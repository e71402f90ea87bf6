"""What the offline model does next, given the whole conversation.

`decide()` is a pure function of the messages and the bound tool names, so the same conversation
always gives the same answer. It either calls shop tools (search, details, cart, checkout) or
writes a reply; after tool results arrive it summarises them, except for the one supported chain
"find red running shoes and add the first in size 9" (search, then add once the results are in).
Because it is pure, what to say with a search's results (which filters were kept, that "gym"
meant running shoes) is found by deciding the earlier turn again (`_Shop.search_summary`).

How searches are built, and which filters carry over from the last one, is `searches.py`; which
shoe or cart line a message means is `references.py`.

Nothing here can approve an order: checkout is only *requested* when the shopper says so, and
the checkout tool itself waits for a store operator (enforced in code, see
`assistant/agent/checkout.py`). "Where is my order?" is answered from the checkout outcomes
recorded in the conversation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage

from assistant.agent.models.offline.conversation import Conversation, ToolExchange, sizes_in_stock
from assistant.agent.models.offline.parse import (
    ADD,
    AFFIRM,
    CHECKOUT,
    CLEAR_CART,
    DETAILS,
    GOODBYE,
    GREETING,
    HELP,
    NO_CHECKOUT,
    ORDER_STATUS,
    QUANTITY_ONLY,
    REMOVE,
    SEARCH,
    SIZE_ONLY,
    START_OVER,
    THANKS,
    UNKNOWN,
    UPDATE,
    VIEW_CART,
    ShopperRequest,
    parse_request,
    says_start_over,
)
from assistant.agent.models.offline.references import (
    Ask,
    NotInCart,
    cart_names,
    names_a_shoe,
    resolve_cart_line,
    resolve_product,
)
from assistant.agent.models.offline.replies import (
    CAPABILITIES,
    EXAMPLES,
    order_status_reply,
    product_title,
    reply_for,
    search_reply,
    size_text,
    sizes_text,
)
from assistant.agent.models.offline.searches import (
    filters_note,
    not_sold_reply,
    plan_search,
    stand_in_lead,
    unknown_words_reply,
)
from assistant.shopdb.vocabulary import ShopVocabulary

#: The question asked when an add has no size; a bare "9" in the next message answers it.
ASK_SIZE = "Which size would you like for"
NOT_UNDERSTOOD = "Sorry, I didn't understand that. " + EXAMPLES
#: A reply that offers a search the shopper can accept with "yes": 'say "show me ..."'.
_SUGGESTION = re.compile(r'[Ss]ay "(show me [^"]+)"')
_MORE_PAIRS = re.compile(r"\b(?:more|extra|additional|another)\b")
# Intents that name a shoe: one the shop does not sell gets `not_sold_reply`, not a tool call.
_NAMING = {SEARCH, DETAILS, ADD, UPDATE, REMOVE, SIZE_ONLY, QUANTITY_ONLY, UNKNOWN}


@dataclass(frozen=True)
class Decision:
    """The model's next message: some text, and the tool calls to make (name, args).

    `lead` and `note` are not sent now: they are said with the results of the search this
    decision calls (what it searched instead, and which filters were not in the message).
    """

    text: str = ""
    tool_calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    lead: str = ""
    note: str = ""


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
        self.shop_vocabulary = vocabulary
        # Brands seen in results count too, so the model works before data/catalog.json exists.
        self.vocabulary = vocabulary.with_brands(conversation.brands_seen())

    def parse(self, text: str) -> ShopperRequest:
        return parse_request(text, self.vocabulary)

    # --- entry points --------------------------------------------------------------------

    def answer_shopper(self) -> Decision:
        """Answer the latest HumanMessage."""
        text = self.conversation.last_human_text()
        if not text.strip():
            return Decision("I can only read text messages. " + EXAMPLES)
        try:
            return self.act(self.parse(text))
        except Ask as ask:
            return Decision(ask.question)

    def after_tool_results(self) -> Decision:
        """Summarise the tool results that end the conversation, or continue the one chain."""
        results = self.conversation.pending_results()
        if not results:
            return Decision("Done. What else can I do for you?")
        request = self.parse(self.conversation.last_human_text())
        searched = [e for e in results if e.name == "search_products" and e.ok]
        added_this_turn = any(e.name == "add_to_cart" for e in self.conversation.this_turn())
        if request.then is not None and searched and not added_this_turn:
            summary = self.search_summary(searched[-1])
            if not self.conversation.shown_products():
                return Decision(summary + " So there was nothing to add.")
            found = summary.rsplit("\n", 1)[0]
            try:
                add = self.act(request.then)
            except Ask as ask:
                return Decision(f"{found}\n\n{ask.question}")
            return replace(add, text="\n\n".join(t for t in (found, add.text) if t))
        replies = [
            self.search_summary(e) if e.name == "search_products" and e.ok else reply_for(e)
            for e in results
        ]
        said_size = (request.then or request).size
        for index, exchange in enumerate(results):
            # Say so when the size was chosen for the shopper rather than said by them.
            source = self.size_source(exchange.args.get("size"))
            if exchange.name == "add_to_cart" and said_size is None and source:
                size = size_text(exchange.args["size"])
                replies[index] = f"I used {source}, {size}. {replies[index]}"
        return Decision("\n\n".join(replies))

    def search_summary(self, exchange: ToolExchange) -> str:
        """The reply to a search's results, with what the decision that made it wanted said.

        That decision is found by deciding again on the conversation up to the call; it is
        used only if it made this very call (another model may have made it).
        """
        index = self.conversation.call_index(exchange.call_id)
        earlier = Decision()
        if index > 0:
            messages = self.conversation.messages[:index]
            earlier = decide(messages, self.tools or None, self.shop_vocabulary)
        if ("search_products", exchange.args) not in earlier.tool_calls:
            earlier = Decision()
        return search_reply(exchange, lead=earlier.lead, note=earlier.note)

    def act(self, request: ShopperRequest) -> Decision:
        """Dispatch one parsed request to its rule."""
        if request.not_sold and request.intent in _NAMING:
            return Decision(not_sold_reply(request, self.vocabulary))
        rules = {
            SEARCH: self.search,
            DETAILS: self.details,
            ADD: self.add,
            UPDATE: self.update,
            REMOVE: self.remove,
            CLEAR_CART: self.clear_cart,
            QUANTITY_ONLY: self.set_quantity,
            SIZE_ONLY: self.size_only,
            ORDER_STATUS: self.order_status,
            AFFIRM: self.affirm,
            VIEW_CART: lambda _request: self.call("view_cart", {}),
            CHECKOUT: lambda _request: self.call("checkout", {}),
            NO_CHECKOUT: lambda _request: Decision(
                "No problem, I won't check out. Your cart stays as it is."
            ),
            START_OVER: lambda _request: Decision(
                "OK, starting over: no filters from earlier searches now. What are you looking "
                'for? Try "running shoes under $120" or "sandals in size 9".'
            ),
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
        """Search, refining the previous search or starting fresh (see `searches.py`)."""
        if _names_nothing_known(request):
            # Rerunning the last search would pretend to have understood: say so instead.
            return Decision(unknown_words_reply(request))
        plan = plan_search(request, self.conversation, self.previous_search(request))
        decision = self.call("search_products", plan.args)
        return replace(decision, lead=stand_in_lead(request), note=filters_note(plan))

    def previous_search(self, request: ShopperRequest) -> ToolExchange | None:
        """The search a message may refine: the last one, unless "start over" came since."""
        search = self.conversation.last_search()
        if search is None or "all" in request.clear:
            return None
        texts = self.conversation.human_texts_after(search.answered_at)
        return None if any(says_start_over(text) for text in texts) else search

    def affirm(self, _request: ShopperRequest) -> Decision:
        """ "Yes" to a search the previous reply suggested runs it."""
        if match := _SUGGESTION.search(self.conversation.previous_ai_text()):
            return self.act(self.parse(match.group(1)))
        return Decision("Great! What would you like to do next? " + EXAMPLES)

    def details(self, request: ShopperRequest) -> Decision:
        """Show one shoe's details; an unknown name with filters falls back to a search."""
        try:
            product = resolve_product(self.conversation, request)
        except Ask:
            if request.brand or request.colour or request.category:
                return self.search(replace(request, intent=SEARCH))
            raise
        return self.call("get_product_details", {"product_id": product["product_id"]})

    def add(self, request: ShopperRequest) -> Decision:
        """Add a referenced shoe; without a size use the profile's size if it is in stock."""
        if request.quantity is not None and not _points_at_a_shoe(request) and self.focus_lines():
            # "I'll take two" just after adding one: two pairs of that shoe, not two more.
            return self.set_quantity(request)
        product = resolve_product(self.conversation, request)
        title = product_title(product) if product.get("name") else "that shoe"
        in_stock = sizes_in_stock(product)
        size, note = request.size, ""
        if size is None:
            if in_stock == []:
                raise Ask(f"Sorry, {title} is out of stock in every size.")
            # The size of the search that listed it, else the profile's size, if in stock.
            for candidate in (self.searched_size(), self.profile_size()):
                if candidate is not None and in_stock is not None and candidate in in_stock:
                    size = candidate
                    note = f"I'll add {title} in {self.size_source(size)}, {size_text(size)}."
                    break
            else:
                stock_note = f" In stock: {sizes_text(in_stock)}." if in_stock else ""
                raise Ask(f"{ASK_SIZE} {title}?{stock_note}")
        args = {
            "product_id": product["product_id"],
            "size": size,
            "quantity": request.quantity or 1,
        }
        return self.call("add_to_cart", args, text=note)

    def update(self, request: ShopperRequest) -> Decision:
        """Change the size and/or quantity of a cart line."""
        try:
            line = resolve_cart_line(self.conversation, request)
        except NotInCart as missing:
            if request.quantity is not None and request.quantity > 0:
                # "set the quantity of the canvas sneaker to 2" before it is in the cart.
                return self.add(replace(request, intent=ADD))
            raise Ask(f'{missing.question} Say "add it" to put it there.') from None
        return self.change_line(line, request)

    def change_line(self, line: dict[str, Any], request: ShopperRequest) -> Decision:
        """Give a cart line the size and/or quantity the message says."""
        if request.size is None and request.quantity is None:
            raise Ask(
                f"What should I change for {line.get('name') or 'that item'}: "
                'the size (e.g. "change the size to 9") or the quantity ("make it 2 pairs")?'
            )
        args: dict[str, Any] = {"product_id": line["product_id"], "size": line["size"]}
        if request.quantity is not None:
            args["quantity"] = request.quantity
        if request.size is not None and request.size != line["size"]:
            args["new_size"] = request.size
        if len(args) == 2:
            raise Ask(f"{line.get('name') or 'That item'} is already in size {request.size:g}.")
        return self.call("update_cart_item", args)

    def set_quantity(self, request: ShopperRequest) -> Decision:
        """A number of pairs (and maybe a size) with no shoe named."""
        if request.size is not None and self.conversation.previous_ai_text().startswith(ASK_SIZE):
            return self.size_only(request)  # "2 pairs in a 9" answers "which size?"
        return self.set_quantity_of_focus(request)

    def set_quantity_of_focus(self, request: ShopperRequest) -> Decision:
        """ "2 pairs", "two of them", "I want 3": that many pairs of the shoe in focus.

        The shoe just added, changed or looked at gets that quantity if it is in the cart ("two
        more" adds two), and is added with it if not; with no shoe in focus, the only cart line
        does, and with several the shopper is asked which.
        """
        cart = self.conversation.cart() or []
        focus = self.conversation.focus_product_id()
        in_cart = self.focus_lines()
        if in_cart and _MORE_PAIRS.search(request.text):
            line = in_cart[-1]
            size = request.size if request.size is not None else line["size"]
            args = {"product_id": line["product_id"], "size": size}
            return self.call("add_to_cart", {**args, "quantity": request.quantity})
        if in_cart:
            return self.change_line(in_cart[-1], request)
        if focus is not None:
            pointed = replace(request.reference, pronoun=True)
            return self.add(replace(request, intent=ADD, reference=pointed))
        if len(cart) == 1:
            return self.change_line(cart[0], request)
        pairs = f"{request.quantity} {'pair' if request.quantity == 1 else 'pairs'}"
        if cart:
            raise Ask(f"Which shoe should have {pairs}? Your cart has: {cart_names(cart)}.")
        raise Ask(f"Which shoe would you like {pairs} of? " + EXAMPLES)

    def focus_lines(self) -> list[dict[str, Any]]:
        """The cart lines of the shoe just added, changed or looked at (the last changed last)."""
        focus = self.conversation.focus_product_id()
        lines = [line for line in self.conversation.cart() or [] if line.get("product_id") == focus]
        change = self.conversation.last_cart_change()
        changed = change.args.get("new_size", change.args.get("size")) if change else None
        return sorted(lines, key=lambda line: line.get("size") == changed)

    def remove(self, request: ShopperRequest) -> Decision:
        """Remove a cart line."""
        try:
            line = resolve_cart_line(self.conversation, request)
        except NotInCart as missing:
            cart = self.conversation.cart() or []
            has = f" Your cart has: {cart_names(cart)}." if cart else " Your cart is empty."
            raise Ask(f"{missing.question[:-1]}, so there's nothing to remove.{has}") from None
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
            earlier = self.parse(self.conversation.previous_human_text())
            quantity = request.quantity or earlier.quantity
            answered = replace(earlier, size=request.size, quantity=quantity)
            if earlier.intent == QUANTITY_ONLY:
                return self.set_quantity_of_focus(answered)
            if earlier.intent in (ADD, UPDATE):
                return self.act(answered)
        return self.search(replace(request, intent=SEARCH))

    def order_status(self, _request: ShopperRequest) -> Decision:
        """ "Where is my order?": what became of each checkout of this conversation."""
        return Decision(order_status_reply(self.conversation.checkouts(), self.conversation.cart()))

    # --- sizes the shopper did not say ---------------------------------------------------

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


def _points_at_a_shoe(request: ShopperRequest) -> bool:
    """Does the message say which shoe (position, pronoun, name, brand or colour)?"""
    return request.reference.given or names_a_shoe(request) or bool(request.reference.kind_words)


def _names_nothing_known(request: ShopperRequest) -> bool:
    """A search message whose only content is words the shop does not know ("zorblax")."""
    return (
        bool(request.reference.words)
        and not request.has_filters
        and request.size is None
        and not (request.more or request.cheaper or request.instead or request.clear)
        and request.intent != UNKNOWN
    )
