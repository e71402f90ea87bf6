"""One turn of a conversation: the shopper's message in, the assistant's reply and cart out.

Used by the CLI (`shoe-assistant chat`) and by the Shop page. Bad input is answered with a clear
message and loses nothing: the message is checked before anything is written, and the graph's
checkpoints keep the conversation up to the last step that succeeded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

MAX_MESSAGE_CHARS = 4000


class TurnError(Exception):
    """A turn could not run; the message says why in words a shopper understands."""


@dataclass
class TurnResult:
    """What a shopper sees after a turn (also the `chat --json` output)."""

    session_id: str
    reply: str
    cart: list[dict]
    pending_approval: dict | None = None
    products: list[dict] = field(default_factory=list)
    tool_activity: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """The stable JSON shape scripts rely on."""
        return asdict(self)


@dataclass
class TurnEvent:
    """One streamed piece of a turn: a token of the reply, a tool activity line, or the end."""

    kind: str  # "token" | "tool" | "done"
    text: str = ""
    result: TurnResult | None = None


def check_message(message: Any) -> str:
    """The shopper's message as clean text, or TurnError saying what is wrong with it."""
    if not isinstance(message, str):
        raise TurnError("Messages must be text.")
    text = message.strip()
    if not text:
        raise TurnError("Your message is empty. Try: 'running shoes under $120'.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise TurnError(
            f"Your message is too long ({len(text)} characters; the limit is "
            f"{MAX_MESSAGE_CHARS}). Please shorten it."
        )
    return text


def describe_tool_call(call: dict) -> str:
    """A compact line for the tool activity panel, e.g. `search_products(category=trail)`."""
    args = ", ".join(f"{key}={value}" for key, value in call.get("args", {}).items() if value)
    return f"{call['name']}({args})"


def last_products(messages: list) -> list[dict]:
    """Products of the latest search/details result in this turn, for cards in the UI."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return []
        if isinstance(message, ToolMessage) and message.name in (
            "search_products",
            "get_product_details",
        ):
            try:
                body = json.loads(message.content)
            except (TypeError, ValueError):
                return []
            if "results" in body:
                return list(body["results"])
            if "product" in body:
                return [body["product"]]
    return []


def turn_messages(messages: list) -> list:
    """Messages of the latest turn (from the last human message on)."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return messages[index:]
    return messages


def final_reply(messages: list) -> str:
    """Text of the last assistant message of the turn."""
    for message in reversed(turn_messages(messages)):
        if isinstance(message, AIMessage) and message.text:
            return message.text
    return ""


def stream_tokens(chunks: Iterator) -> Iterator[TurnEvent]:
    """Turn LangGraph `messages`/`updates` stream parts into TurnEvents."""
    for mode, payload in chunks:
        if mode == "messages":
            chunk, metadata = payload
            if (
                isinstance(chunk, AIMessageChunk)
                and metadata.get("langgraph_node") == "agent"
                and chunk.text
            ):
                yield TurnEvent("token", chunk.text)
        elif mode == "updates":
            for node, update in (payload or {}).items():
                if node != "agent" or not isinstance(update, dict):
                    continue
                for message in update.get("messages", []):
                    for call in getattr(message, "tool_calls", None) or []:
                        yield TurnEvent("tool", describe_tool_call(call))
