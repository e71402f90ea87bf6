"""Conversations for the offline model's tests: a shopper profile, three trail shoes, and a
`Chat` builder that writes tool calls and their results the way the graph does.

Tool results are written in the agent contract's JSON shapes, the way the real tools answer. The
fixtures that use these (`catalog_file`, `offline_model`) are in this folder's ``conftest.py``.
"""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

TOOL_NAMES = [
    "search_products",
    "get_product_details",
    "add_to_cart",
    "update_cart_item",
    "remove_from_cart",
    "view_cart",
    "checkout",
]


def tool_schema(name: str) -> dict:
    """A minimal OpenAI-format tool; the offline model only looks at the name."""
    return {
        "type": "function",
        "function": {"name": name, "description": name, "parameters": {"type": "object"}},
    }


PROFILE = SystemMessage(
    "Be helpful.\nShopper profile: "
    '{"user": "alice", "name": "Alice", "shoe_size": 8.5, "gender": "women", '
    '"preferred_category": "running"}'
)

RIDGE = {
    "product_id": "TRL-001",
    "name": "Ridge GTX",
    "brand": "Northpeak",
    "category": "trail",
    "gender": "women",
    "colors": ["black", "blue"],
    "price": 139.0,
    "rating": 4.6,
    "sizes_in_stock": [8.0, 8.5, 9.0, 9.5, 10.0, 11.0],
}
SCREE = {
    "product_id": "TRL-002",
    "name": "Scree Runner",
    "brand": "Cairnline",
    "category": "trail",
    "gender": "women",
    "colors": ["red", "grey"],
    "price": 119.5,
    "rating": 4.4,
    "sizes_in_stock": [9.0, 10.0],
}
MOSS = {
    "product_id": "TRL-003",
    "name": "Mossback",
    "brand": "Timberhold",
    "category": "trail",
    "gender": "unisex",
    "colors": ["green"],
    "price": 99.0,
    "rating": 4.1,
    "sizes_in_stock": [7.0, 9.0],
}


class Chat:
    """Builds a conversation the way the graph does: AI tool calls answered by ToolMessages."""

    def __init__(self, *messages: BaseMessage) -> None:
        self.messages: list[BaseMessage] = [PROFILE, *messages]
        self._ids = 0

    def human(self, text: str) -> Chat:
        self.messages.append(HumanMessage(text))
        return self

    def tool(self, name: str, args: dict, result: dict | str) -> Chat:
        """An AI call to `name` and its result."""
        self._ids += 1
        call_id = f"call_{self._ids}"
        self.messages.append(
            AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id}])
        )
        content = result if isinstance(result, str) else json.dumps(result)
        self.messages.append(ToolMessage(content, tool_call_id=call_id, name=name))
        return self

    def searched(self, args: dict, *products: dict, total: int | None = None) -> Chat:
        payload = {"results": list(products), "total_matches": total or len(products)}
        return self.human("show me shoes").tool("search_products", args, payload)

    def ai(self, text: str) -> Chat:
        self.messages.append(AIMessage(text))
        return self

    def turn(self, model, text: str, results: dict[str, dict] | None = None) -> tuple[tuple, str]:
        """The shopper says `text`; `model` answers, its calls get `results` (by tool name).

        Returns the first call's (name, args), or () when it made none, and the final reply.
        """
        self.human(text)
        reply = model.invoke(self.messages)
        self.messages.append(reply)
        if not reply.tool_calls:
            return (), reply.content
        for call in reply.tool_calls:
            result = json.dumps((results or {})[call["name"]])
            self.messages.append(ToolMessage(result, tool_call_id=call["id"], name=call["name"]))
        final = model.invoke(self.messages)
        self.messages.append(final)
        first = reply.tool_calls[0]
        return (first["name"], first["args"]), final.content


def cart_result(*lines: dict, message: str = "Done.") -> dict:
    total = round(sum(line["quantity"] * line["unit_price"] for line in lines), 2)
    return {"ok": True, "message": message, "cart": list(lines), "cart_total": total}


def line(product: dict, size: float, quantity: int = 1) -> dict:
    return {
        "product_id": product["product_id"],
        "name": product["name"],
        "size": size,
        "quantity": quantity,
        "unit_price": product["price"],
    }


def only_call(message: AIMessage) -> tuple[str, dict]:
    assert len(message.tool_calls) == 1, message
    return message.tool_calls[0]["name"], message.tool_calls[0]["args"]


def shown(*products: dict) -> Chat:
    """A conversation whose last search showed `products`, in that order."""
    return Chat().searched({"category": "trail"}, *products)


def with_cart(*lines: dict) -> Chat:
    """A conversation that showed the three trail shoes and then put `lines` in the cart."""
    chat = shown(RIDGE, SCREE, MOSS).human("add it")
    first = lines[0]
    return chat.tool(
        "add_to_cart",
        {"product_id": first["product_id"], "size": first["size"], "quantity": 1},
        cart_result(*lines),
    )
