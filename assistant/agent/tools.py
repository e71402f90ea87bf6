"""The shop's tools: search the catalog, show a product, and edit the cart.

Each tool is a LangChain tool with a pydantic argument schema whose names are stable (the offline
model emits exactly these). The cart and the last list of products shown live in the graph state
(DESIGN decision 5); a tool reads them through `InjectedState` and changes them by returning a
`Command(update=...)` that carries the new value and the `ToolMessage` answering the call. The
model never sees the injected arguments.

Every answer is JSON. A bad argument (unknown product, size not made or sold out, quantity outside
1-10, a cart line that is not there) is answered with ``{"ok": false, "error": "..."}`` telling the
model what to do instead; a tool never raises for the model's mistakes.

Where the catalog database comes from: the run's config carries the engine, and
`engine_from(config)` reads it from there. LangGraph passes each tool the run's config, so::

    graph.invoke(inputs, {"configurable": {"thread_id": session_id, "engine": engine}})

There is no default engine: a run without one fails at once rather than quietly reading and
writing some other database.

Checkout is not here: it is gated by an operator and lives in `assistant.agent.checkout`.
"""

import json
from typing import Annotated, Any

from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, InjectedToolCallId, tool
from langgraph.prebuilt import InjectedState
from langgraph.types import Command
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from assistant import shopdb as catalog
from assistant.agent.state import CartLine, cart_total
from assistant.shopdb import MAX_QUANTITY_PER_LINE, InvalidSearch, SearchFilters, size_label

MAX_RESULTS = 10

# --- where the catalog is ----------------------------------------------------------------


class MissingEngine(LookupError):
    """The run's config has no catalog engine in ``config["configurable"]["engine"]``."""


def engine_from(config: RunnableConfig | None) -> Engine:
    """The catalog engine for this run: ``config["configurable"]["engine"]``.

    Raises MissingEngine when the config carries none; the caller (the application's `Shop`, a
    test) must say which database the tools read and write.
    """
    engine = ((config or {}).get("configurable") or {}).get("engine")
    if engine is None:
        raise MissingEngine(
            'No catalog engine in config["configurable"]["engine"]; invoke the graph with '
            '{"configurable": {"thread_id": ..., "engine": engine}}.'
        )
    return engine


# --- argument schemas (what the model fills in) ------------------------------------------


class _Injected(BaseModel):
    """Arguments LangGraph fills in; hidden from the model."""

    state: Annotated[dict, InjectedState]
    tool_call_id: Annotated[str, InjectedToolCallId]


class SearchProductsArgs(SearchFilters, _Injected):
    """Arguments of search_products: the catalog's `SearchFilters`, and how many results."""

    limit: int = Field(5, description=f"How many results to show, 1-{MAX_RESULTS}.")


class ProductArgs(_Injected):
    """Arguments of get_product_details."""

    product_id: str = Field(description="A product_id from search results, e.g. 'RUN-003'.")


class AddToCartArgs(_Injected):
    """Arguments of add_to_cart."""

    product_id: str = Field(description="A product_id from search results, e.g. 'RUN-003'.")
    size: float = Field(description="US size, e.g. 8.5.")
    quantity: int = Field(1, description=f"Pairs to add, 1-{MAX_QUANTITY_PER_LINE}.")


class UpdateCartItemArgs(_Injected):
    """Arguments of update_cart_item."""

    product_id: str = Field(description="product_id of the cart line to change.")
    size: float = Field(description="Current size of that cart line.")
    quantity: int | None = Field(None, description="New number of pairs; 0 removes the line.")
    new_size: float | None = Field(None, description="Size to switch the line to.")


class RemoveFromCartArgs(_Injected):
    """Arguments of remove_from_cart."""

    product_id: str = Field(description="product_id of the cart line(s) to remove.")
    size: float | None = Field(None, description="Only this size; omit to remove every size.")


class ViewCartArgs(_Injected):
    """view_cart takes no arguments from the model."""


# --- the tools ---------------------------------------------------------------------------


@tool("search_products", args_schema=SearchProductsArgs)
def search_products(
    state: dict, tool_call_id: str, config: RunnableConfig, limit: int = 5, **filters: Any
) -> Command:
    """Search the shoe catalog by free text and filters; results are ranked best match first.

    Use it whenever the shopper describes shoes they want. Pass the shopper's size to see only
    shoes in stock in that size. The results become the list "the first one", "the second one"
    refer to.
    """
    # `filters` are the SearchFilters fields, already checked against SearchProductsArgs.
    try:
        page = catalog.search_products(
            engine_from(config),
            SearchFilters(**filters),
            limit=max(1, min(limit, MAX_RESULTS)),
        )
    except InvalidSearch as error:
        return _error("search_products", tool_call_id, str(error))
    applied = {key: _number(value) for key, value in page.filters.items()}
    if not page.results:
        body = {
            "results": [],
            "total_matches": 0,
            "filters": applied,
            "message": _no_match_message(applied, page.relaxations),
        }
        return _reply("search_products", tool_call_id, body)
    results = [
        {**result.model_dump(), "sizes_in_stock": [_number(s) for s in result.sizes_in_stock]}
        for result in page.results
    ]
    body = {"results": results, "total_matches": page.total_matches, "filters": applied}
    return _reply(
        "search_products",
        tool_call_id,
        body,
        last_seen=[result["product_id"] for result in results],
    )


@tool("get_product_details", args_schema=ProductArgs)
def get_product_details(
    state: dict, tool_call_id: str, config: RunnableConfig, product_id: str
) -> Command:
    """Show one product in full: description, colours, price, rating and stock per size."""
    details = catalog.get_product_details(engine_from(config), product_id)
    if details is None:
        return _error("get_product_details", tool_call_id, _unknown_product(product_id, state))
    product = details.model_dump()
    product["sizes_in_stock"] = [_number(size) for size in details.sizes_in_stock]
    return _reply(
        "get_product_details",
        tool_call_id,
        {"product": product},
        last_seen=[details.product_id],
    )


@tool("add_to_cart", args_schema=AddToCartArgs)
def add_to_cart(
    state: dict,
    tool_call_id: str,
    config: RunnableConfig,
    product_id: str,
    size: float,
    quantity: int = 1,
) -> Command:
    """Put a product in the cart in one size. Adding the same product and size again adds pairs.

    The size must be in stock; if it is not, the answer lists the sizes that are.
    """
    name = "add_to_cart"
    engine = engine_from(config)
    product = catalog.find_product(engine, product_id)
    if product is None:
        return _error(name, tool_call_id, _unknown_product(product_id, state))
    if not 1 <= quantity <= MAX_QUANTITY_PER_LINE:
        return _error(
            name, tool_call_id, f"Quantity must be 1-{MAX_QUANTITY_PER_LINE}; got {quantity}."
        )
    cart = _cart(state)
    in_cart = sum(line["quantity"] for line in _lines(cart, product.product_id, size))
    problem = _stock_problem(engine, product, size, in_cart + quantity, already=in_cart)
    if problem:
        return _error(name, tool_call_id, problem)

    updated = [line for line in cart if not _same_line(line, product.product_id, size)]
    updated.append(
        CartLine(
            product_id=product.product_id,
            name=product.display_name,
            size=float(size),
            quantity=in_cart + quantity,
            unit_price=product.price,
        )
    )
    message = f"Added {quantity} × {product.display_name} in size {size_label(size)} to the cart."
    return _cart_reply(name, tool_call_id, updated, message)


@tool("update_cart_item", args_schema=UpdateCartItemArgs)
def update_cart_item(
    state: dict,
    tool_call_id: str,
    config: RunnableConfig,
    product_id: str,
    size: float,
    quantity: int | None = None,
    new_size: float | None = None,
) -> Command:
    """Change the quantity and/or the size of a cart line. Quantity 0 removes the line."""
    name = "update_cart_item"
    cart = _cart(state)
    line = _find_line(cart, product_id, size)
    if line is None:
        return _error(name, tool_call_id, _missing_line(product_id, size, cart))
    if quantity is None and new_size is None:
        return _error(name, tool_call_id, "Say the new quantity, the new size, or both.")
    if quantity is not None and not 0 <= quantity <= MAX_QUANTITY_PER_LINE:
        return _error(
            name, tool_call_id, f"Quantity must be 0-{MAX_QUANTITY_PER_LINE}; got {quantity}."
        )
    rest = [other for other in cart if other is not line]
    if quantity == 0:
        message = f"Removed {line['name']} in size {size_label(line['size'])} from the cart."
        return _cart_reply(name, tool_call_id, rest, message)

    target_size = float(new_size) if new_size is not None else float(line["size"])
    target_quantity = quantity if quantity is not None else line["quantity"]
    # Switching to a size already in the cart merges the two lines.
    merged_with = _find_line(rest, line["product_id"], target_size)
    total = target_quantity + (merged_with["quantity"] if merged_with else 0)
    if total > MAX_QUANTITY_PER_LINE:
        return _error(
            name,
            tool_call_id,
            f"At most {MAX_QUANTITY_PER_LINE} pairs per size; that would make {total}.",
        )
    engine = engine_from(config)
    product = catalog.find_product(engine, line["product_id"])
    if product is None:
        return _error(name, tool_call_id, f"{line['name']} is no longer sold; remove it instead.")
    problem = _stock_problem(engine, product, target_size, total, already=0)
    if problem:
        return _error(name, tool_call_id, problem)

    updated = [other for other in rest if other is not merged_with]
    updated.append(
        CartLine(
            product_id=product.product_id,
            name=product.display_name,
            size=target_size,
            quantity=total,
            unit_price=line["unit_price"],
        )
    )
    message = f"Cart now has {total} × {product.display_name} in size {size_label(target_size)}."
    return _cart_reply(name, tool_call_id, _in_cart_order(updated, cart), message)


@tool("remove_from_cart", args_schema=RemoveFromCartArgs)
def remove_from_cart(
    state: dict, tool_call_id: str, product_id: str, size: float | None = None
) -> Command:
    """Remove a product from the cart: one size, or every size of it when no size is given."""
    name = "remove_from_cart"
    cart = _cart(state)
    wanted = _cart_product_id(cart, product_id)
    removed = [
        line
        for line in cart
        if line["product_id"] == wanted and (size is None or float(line["size"]) == float(size))
    ]
    if not removed:
        return _error(name, tool_call_id, _missing_line(product_id, size, cart))
    kept = [line for line in cart if not any(line is gone for gone in removed)]
    what = ", ".join(f"{line['name']} size {size_label(line['size'])}" for line in removed)
    return _cart_reply(name, tool_call_id, kept, f"Removed {what} from the cart.")


@tool("view_cart", args_schema=ViewCartArgs)
def view_cart(state: dict, tool_call_id: str) -> str:
    """Show the cart: every line, the number of pairs and the total."""
    cart = _cart(state)
    return _json(
        {
            "cart": cart,
            "cart_total": cart_total(cart),
            "item_count": sum(line["quantity"] for line in cart),
        }
    )


SHOP_TOOLS: list[BaseTool] = [
    search_products,
    get_product_details,
    add_to_cart,
    update_cart_item,
    remove_from_cart,
    view_cart,
]


# --- answers -----------------------------------------------------------------------------


def _json(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False)


def _reply(name: str, tool_call_id: str, body: dict[str, Any], **update: Any) -> Command:
    message = ToolMessage(_json(body), tool_call_id=tool_call_id, name=name)
    return Command(update={"messages": [message], **update})


def _error(name: str, tool_call_id: str, error: str) -> Command:
    message = ToolMessage(
        _json({"ok": False, "error": error}), tool_call_id=tool_call_id, name=name, status="error"
    )
    return Command(update={"messages": [message]})


def _cart_reply(name: str, tool_call_id: str, cart: list[CartLine], message: str) -> Command:
    body = {"ok": True, "message": message, "cart": cart, "cart_total": cart_total(cart)}
    return _reply(name, tool_call_id, body, cart=cart)


def _number(value: Any) -> Any:
    """Whole sizes and prices read as 8, not 8.0."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _no_match_message(filters: dict[str, Any], relaxations: dict[str, int]) -> str:
    described = ", ".join(f"{key}={value}" for key, value in filters.items()) or "that search"
    if relaxations:
        hints = "; ".join(
            f"without {key} there are {count}" for key, count in sorted(relaxations.items())
        )
        return f"No shoes matched {described}; try dropping a filter ({hints})."
    return f"No shoes matched {described}; try fewer words or only a category."


# --- the cart ----------------------------------------------------------------------------


def _cart(state: dict) -> list[CartLine]:
    # A copy of each line: state values must never be changed in place.
    return [CartLine(**line) for line in (state.get("cart") or [])]


def _same_line(line: CartLine, product_id: str, size: float) -> bool:
    return line["product_id"] == product_id and float(line["size"]) == float(size)


def _lines(cart: list[CartLine], product_id: str, size: float) -> list[CartLine]:
    return [line for line in cart if _same_line(line, product_id, size)]


def _cart_product_id(cart: list[CartLine], reference: str) -> str:
    """The product id a cart reference means: an id in any case, or a line's name."""
    text = (reference or "").strip()
    for line in cart:
        if text.upper() == line["product_id"] or text.lower() == line["name"].lower():
            return line["product_id"]
    return text.upper()


def _find_line(cart: list[CartLine], product_id: str, size: float) -> CartLine | None:
    wanted = _cart_product_id(cart, product_id)
    return next((line for line in cart if _same_line(line, wanted, size)), None)


def _in_cart_order(lines: list[CartLine], original: list[CartLine]) -> list[CartLine]:
    """Keep an edited line where it was, so the cart does not reshuffle on every change."""
    position = {line["product_id"]: index for index, line in enumerate(original)}
    return sorted(lines, key=lambda line: position.get(line["product_id"], len(original)))


def _stock_problem(
    engine: Engine, product: catalog.Product, size: float, wanted: int, *, already: int
) -> str | None:
    """Why `wanted` pairs of `product` in `size` cannot be in the cart, or None if they can."""
    if wanted > MAX_QUANTITY_PER_LINE:
        return (
            f"At most {MAX_QUANTITY_PER_LINE} pairs per size; the cart already has {already} "
            f"of {product.display_name} in size {size_label(size)}."
        )
    stock = catalog.stock_by_size(engine, product.product_id)
    in_stock = ", ".join(size_label(s) for s, quantity in stock.items() if quantity > 0)
    available = stock.get(float(size))
    if available is None:
        return (
            f"Size {size_label(size)} is not available for {product.display_name}; "
            f"sizes in stock: {in_stock or 'none'}."
        )
    if available == 0:
        return (
            f"Size {size_label(size)} of {product.display_name} is sold out; "
            f"sizes in stock: {in_stock or 'none'}."
        )
    if wanted > available:
        pairs = "pair" if available == 1 else "pairs"
        short = f"Only {available} {pairs} of {product.display_name} in size {size_label(size)}"
        if already:
            return f"{short} in stock and {already} in the cart; add at most {available - already}."
        return f"{short} in stock; ask for at most {available}."
    return None


def _missing_line(product_id: str, size: float | None, cart: list[CartLine]) -> str:
    what = f"{product_id}" + (f" in size {size_label(size)}" if size is not None else "")
    if not cart:
        return f"{what} is not in the cart; the cart is empty."
    lines = "; ".join(
        f"{line['product_id']} size {size_label(line['size'])} ({line['quantity']})"
        for line in cart
    )
    return f"{what} is not in the cart; the cart has: {lines}."


def _unknown_product(product_id: str, state: dict) -> str:
    seen = ", ".join(state.get("last_seen") or [])
    hint = f" Products shown last: {seen}." if seen else " Search first to get product ids."
    return f"Unknown product {product_id!r}; use a product_id from the search results.{hint}"
