"""Read what the conversation so far tells the offline model.

A chat model sees only messages, not the graph state, so everything the offline model knows about
results, the cart and the shopper comes from here: earlier tool calls paired with their
ToolMessage results (checkout outcomes read by `assistant.agent.checkout.checkout_outcome`, the
one parser of them), and the shopper profile line in the SystemMessage.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from assistant.agent.checkout import checkout_outcome
from assistant.agent.graph import INTERRUPTED_TOOL_RESULT

PROFILE_PREFIX = "Shopper profile:"


def message_text(message: BaseMessage) -> str:
    """The text of a message, whether its content is a string or a list of content blocks.

    Non-text blocks (images, tool-use blocks) are skipped, so an image-only message gives "".
    """
    content = message.content
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") == "text":
                text = block.get("text")
                if isinstance(text, str):
                    parts.append(text)
    return " ".join(parts)


def _json_object(text: str) -> dict[str, Any] | None:
    """Parse a tool result as a JSON object; anything else (plain text, a list) gives None."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class ToolExchange:
    """One tool call the model made, with the result that came back (if any yet)."""

    name: str
    args: dict[str, Any]
    call_id: str
    result: dict[str, Any] | None  # the ToolMessage content parsed as a JSON object
    text: str  # the ToolMessage content as text ("" while no result has arrived)
    answered_at: int  # index of the ToolMessage in the conversation, -1 if unanswered

    @property
    def ok(self) -> bool:
        """True unless the tool reported an error (`{"ok": false, ...}`, or a non-JSON error)."""
        if self.result is None:
            return False
        return self.result.get("ok", True) is not False and "error" not in self.result


@dataclass(frozen=True)
class CheckoutRecord:
    """One checkout the conversation asked for, and what became of it.

    `status` is "waiting" (no answer yet: the store has not decided), the store's "approved",
    "edited" or "rejected", the shopper's "cancelled", "interrupted" (the turn stopped before
    the checkout finished; the graph answers such a call for it, and nothing was ordered), or
    "failed" (the checkout answered with an error, e.g. an empty cart).
    """

    status: str
    order_id: str | None = None
    total: float | None = None
    discount_pct: float = 0
    reason: str | None = None  # the store's note or reason, or why it failed


def _checkout_record(message: BaseMessage) -> CheckoutRecord:
    """The record of an answered checkout call, from its ToolMessage."""
    if message_text(message) == INTERRUPTED_TOOL_RESULT:
        return CheckoutRecord(status="interrupted")
    outcome = checkout_outcome(message)
    if outcome is not None:
        return CheckoutRecord(
            status=outcome.status or "failed",
            order_id=outcome.order_id,
            total=outcome.total,
            discount_pct=outcome.discount_pct,
            reason=outcome.reason or outcome.error,
        )
    # A status this version of the outcome does not know, or no JSON: read what is there.
    body = _json_object(message_text(message)) or {}
    status = body.get("status")
    reason = body.get("reason") or body.get("message") or body.get("error")
    return CheckoutRecord(
        status=status if isinstance(status, str) and status else "failed",
        order_id=body.get("order_id") if isinstance(body.get("order_id"), str) else None,
        reason=str(reason) if reason else message_text(message)[:300] or None,
    )


class Conversation:
    """The messages of one conversation, with the questions the offline model asks of them."""

    def __init__(self, messages: Sequence[BaseMessage]) -> None:
        self.messages = list(messages)
        self.exchanges = self._pair_tool_calls()

    def _pair_tool_calls(self) -> list[ToolExchange]:
        """Pair every AIMessage tool call with its ToolMessage by tool_call_id, in call order."""
        answers: dict[str, tuple[int, ToolMessage]] = {}
        for index, message in enumerate(self.messages):
            if isinstance(message, ToolMessage):
                answers[message.tool_call_id] = (index, message)
        exchanges = []
        for message in self.messages:
            if not isinstance(message, AIMessage):
                continue
            for call in message.tool_calls:
                call_id = call.get("id") or ""
                index, answer = answers.get(call_id, (-1, None))
                text = message_text(answer) if answer is not None else ""
                exchanges.append(
                    ToolExchange(
                        name=call["name"],
                        args=dict(call.get("args") or {}),
                        call_id=call_id,
                        result=_json_object(text),
                        text=text,
                        answered_at=index,
                    )
                )
        return exchanges

    # --- the shopper ---------------------------------------------------------------------

    def profile(self) -> dict[str, Any]:
        """The shopper profile from the SystemMessage line `Shopper profile: {...}`, or {}."""
        for message in self.messages:
            if not isinstance(message, SystemMessage):
                continue
            for line in message_text(message).splitlines():
                if line.strip().startswith(PROFILE_PREFIX):
                    profile = _json_object(line.split(":", 1)[1].strip())
                    if profile is not None:
                        return profile
        return {}

    def last_human_index(self) -> int:
        """Index of the latest HumanMessage, or -1."""
        for index in range(len(self.messages) - 1, -1, -1):
            if isinstance(self.messages[index], HumanMessage):
                return index
        return -1

    def last_human_text(self) -> str:
        """Text of the latest HumanMessage, or ""."""
        index = self.last_human_index()
        return message_text(self.messages[index]) if index >= 0 else ""

    def previous_human_text(self) -> str:
        """Text of the HumanMessage before the latest one, or ""."""
        seen = 0
        for message in reversed(self.messages):
            if isinstance(message, HumanMessage):
                seen += 1
                if seen == 2:
                    return message_text(message)
        return ""

    def previous_ai_text(self) -> str:
        """Text of the last AIMessage before the latest HumanMessage, or ""."""
        for message in reversed(self.messages[: max(self.last_human_index(), 0)]):
            if isinstance(message, AIMessage):
                return message_text(message)
        return ""

    # --- tool results --------------------------------------------------------------------

    def answered(self, since: int = -1) -> list[ToolExchange]:
        """Exchanges whose result arrived after message index `since`, in call order."""
        return [e for e in self.exchanges if e.answered_at > since]

    def this_turn(self) -> list[ToolExchange]:
        """Exchanges answered since the shopper's latest message."""
        return self.answered(self.last_human_index())

    def pending_results(self) -> list[ToolExchange]:
        """The calls of the latest AIMessage whose results form the tail of the conversation."""
        for message in reversed(self.messages):
            if isinstance(message, AIMessage):
                ids = {call.get("id") for call in message.tool_calls}
                return [e for e in self.exchanges if e.call_id in ids and e.answered_at >= 0]
        return []

    def human_texts_after(self, index: int) -> list[str]:
        """Texts of the HumanMessages after message index `index`, oldest first."""
        return [
            message_text(message)
            for message in self.messages[index + 1 :]
            if isinstance(message, HumanMessage)
        ]

    def call_index(self, call_id: str) -> int:
        """Index of the AIMessage that made the tool call `call_id`, or -1."""
        for index, message in enumerate(self.messages):
            if isinstance(message, AIMessage) and any(
                call.get("id") == call_id for call in message.tool_calls
            ):
                return index
        return -1

    def checkouts(self) -> list[CheckoutRecord]:
        """Every checkout this conversation asked for, oldest first."""
        return [
            _checkout_record(self.messages[e.answered_at])
            if e.answered_at >= 0
            else CheckoutRecord(status="waiting")
            for e in self.exchanges
            if e.name == "checkout"
        ]

    def last_search(self) -> ToolExchange | None:
        """The most recent answered search_products exchange."""
        for exchange in reversed(self.answered()):
            if exchange.name == "search_products" and exchange.result is not None:
                return exchange
        return None

    def shown_products(self) -> list[dict[str, Any]]:
        """Products of the most recent result list, in display order (what ordinals count)."""
        search = self.last_search()
        return _products(search.result.get("results")) if search and search.result else []

    def known_products(self) -> dict[str, dict[str, Any]]:
        """Every product seen in a search or details result, by id; later results win."""
        known: dict[str, dict[str, Any]] = {}
        for exchange in self.answered():
            if exchange.result is None:
                continue
            if exchange.name == "search_products":
                found = _products(exchange.result.get("results"))
            elif exchange.name == "get_product_details":
                found = _products([exchange.result.get("product")])
            else:
                continue
            for product in found:
                known[product["product_id"]] = product
        return known

    def cart(self) -> list[dict[str, Any]] | None:
        """The cart as the latest cart-returning tool result showed it; None if never seen."""
        for exchange in reversed(self.answered()):
            if exchange.result is not None and isinstance(exchange.result.get("cart"), list):
                return [line for line in exchange.result["cart"] if isinstance(line, dict)]
        return None

    def focus_product_id(self) -> str | None:
        """The product "it" means: the latest one looked at, added or changed.

        A search with several results makes "it" ambiguous (None); with one result, that one.
        """
        for exchange in reversed(self.answered()):
            if exchange.name in ("get_product_details", "add_to_cart", "update_cart_item"):
                product_id = exchange.args.get("product_id")
                if isinstance(product_id, str):
                    return product_id
            if exchange.name == "search_products" and exchange.result is not None:
                results = _products(exchange.result.get("results"))
                return results[0]["product_id"] if len(results) == 1 else None
        return None

    def last_cart_change(self) -> ToolExchange | None:
        """The latest successful add_to_cart or update_cart_item exchange."""
        for exchange in reversed(self.answered()):
            if exchange.name in ("add_to_cart", "update_cart_item") and exchange.ok:
                return exchange
        return None

    def brands_seen(self) -> list[str]:
        """Brand names that appeared in tool results, in order of first appearance."""
        brands: list[str] = []
        for product in self.known_products().values():
            brand = product.get("brand")
            if isinstance(brand, str) and brand not in brands:
                brands.append(brand)
        return brands


def _products(value: object) -> list[dict[str, Any]]:
    """Keep only well-formed product dicts (they need a string product_id)."""
    if not isinstance(value, list):
        return []
    return [p for p in value if isinstance(p, dict) and isinstance(p.get("product_id"), str)]


def sizes_in_stock(product: dict[str, Any]) -> list[float] | None:
    """Sizes a product has in stock per its latest result, or None when no result said.

    Search results carry `sizes_in_stock`; details carry `stock` {"8.5": 3, ...}.
    """
    stock = product.get("stock")
    if isinstance(stock, dict):
        sizes = []
        for size, count in stock.items():
            try:
                if int(count) > 0:
                    sizes.append(float(size))
            except (TypeError, ValueError):
                continue
        return sorted(sizes)
    listed = product.get("sizes_in_stock")
    if isinstance(listed, list):
        sizes = []
        for size in listed:
            try:
                sizes.append(float(size))
            except (TypeError, ValueError):
                continue
        return sorted(sizes)
    return None
