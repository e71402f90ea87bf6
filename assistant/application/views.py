"""What the application hands to the UI and the CLI: small typed views, never ORM rows or
LangChain messages.

Pages render these as they are; scripts get them as JSON (`to_json`). Each view is built in one
place (`of`, or a function here) from what the layers below return, so a page never parses a
tool's JSON or walks a message list itself.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)

from assistant.agent.actions import action_of, click_outcome
from assistant.agent.checkout import CheckoutOutcome, checkout_outcome
from assistant.agent.state import cart_total

PRODUCT_TOOLS = ("search_products", "get_product_details")


def from_row(view: type, row: Any, **overrides: Any) -> Any:
    """A view of a database row: every field of the view read from the row's attribute of the
    same name, except those given in `overrides`."""
    values = {item.name: getattr(row, item.name) for item in fields(view) if item.init}
    return view(**{**values, **overrides})


# --- people and conversations ------------------------------------------------------------


@dataclass(frozen=True)
class UserView:
    """A shop user: a shopper with a profile, or a store operator."""

    username: str
    display_name: str
    role: str
    tenant: str
    shoe_size: float | None = None
    gender: str | None = None
    preferred_category: str | None = None

    @property
    def is_operator(self) -> bool:
        """True for store operators, who decide pending checkouts."""
        return self.role == "operator"

    @classmethod
    def of(cls, row: Any) -> UserView:
        """The view of a `shopdb.User` row."""
        return from_row(cls, row)


@dataclass(frozen=True)
class ConversationView:
    """One conversation (one Bedrock session) as listed for its owner."""

    session_id: str
    user: str
    tenant: str
    title: str
    status: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Any, **overrides: Any) -> ConversationView:
        """The view of a `shopdb.Conversation` row (its title opened by the caller)."""
        return from_row(cls, row, **overrides)


# --- approvals and orders ----------------------------------------------------------------


@dataclass(frozen=True)
class ApprovalView:
    """A checkout in the store's approvals queue (waiting or decided)."""

    id: str
    session_id: str
    user: str
    tenant: str
    items: list[dict]
    subtotal: float
    total: float
    status: str
    reason: str | None
    order_id: str | None
    decided_by: str | None
    created_at: str
    attempts: int = 0
    last_error: str | None = None
    repeat_of_order: str | None = None
    # Approving reuses this order, already placed for this cart in this conversation (a replay
    # or a fork): nothing is charged again, and the order's own total stands.
    replay_of_order: str | None = None
    decided_at: str | None = None
    decision: dict | None = None

    @classmethod
    def of(cls, row: Any) -> ApprovalView:
        """The view of a `shopdb.Approval` row."""
        return from_row(
            cls,
            row,
            items=[dict(item) for item in row.items],
            created_at=str(row.created_at),
            attempts=row.attempts or 0,
            decided_at=str(row.decided_at) if row.decided_at else None,
            decision=dict(row.decision) if row.decision else None,
        )

    @property
    def outcome(self) -> str:
        """The status in words: "approved with changes (10% off)", "cancelled by the shopper"…"""
        decision = self.decision or {}
        if decision.get("action") == "cancel":
            return "being cancelled" if self.status == "deciding" else "cancelled by the shopper"
        if self.status == "approved" and decision.get("action") == "edit":
            discount = float(decision.get("discount_pct") or 0)
            off = f" ({discount:g}% off)" if discount else ""
            return f"approved with changes{off}"
        return "being decided" if self.status == "deciding" else self.status

    def to_json(self) -> dict:
        """The stable JSON shape of `approvals list --json` and `chat --json`."""
        return asdict(self)


@dataclass(frozen=True)
class DecisionPreview:
    """What an approving decision would order and charge, priced exactly as the order will be.

    `action` is "approve" when the checkout is bought as the shopper asked, "edit" when the
    operator changed a quantity or gave a discount (the decision is recorded as an edit).
    """

    action: str
    lines: list[OrderLineView]
    subtotal: float
    discount_pct: float
    total: float
    asked_total: float

    @property
    def places_order(self) -> bool:
        """False when every line was set to 0: approving would order nothing."""
        return bool(self.lines)


@dataclass(frozen=True)
class OrderLineView:
    """One product in one size on an order, priced when it was placed."""

    product_id: str
    name: str
    size: float
    quantity: int
    unit_price: float
    line_total: float


@dataclass(frozen=True)
class OrderView:
    """A placed order with its lines."""

    id: str
    user: str
    tenant: str
    session_id: str
    status: str
    subtotal: float
    discount_pct: float
    total: float
    created_at: datetime
    lines: list[OrderLineView]

    @classmethod
    def of(cls, row: Any) -> OrderView:
        """The view of a `shopdb.Order` row (with its lines loaded)."""
        lines = [from_row(OrderLineView, line) for line in row.lines]
        return from_row(cls, row, lines=lines)


# --- the chat ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatMessage:
    """One assistant message as shown in the chat: its text, its tool calls, a checkout outcome."""

    text: str = ""
    tool_calls: list[str] = field(default_factory=list)
    checkout: CheckoutOutcome | None = None


@dataclass(frozen=True)
class CartClick:
    """A cart change the shopper made by clicking (a product card, the cart's buttons)."""

    tool: str  # add_to_cart | update_cart_item | remove_from_cart
    outcome: str  # "You added 1 × … to the cart.", or why the cart tool refused
    ok: bool


@dataclass(frozen=True)
class ChatTurn:
    """One shopper message (or click) and everything the assistant did about it."""

    shopper: str | None
    replies: list[ChatMessage] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    click: CartClick | None = None  # set when the "message" was a click in the shop


def describe_tool_call(call: dict) -> str:
    """A compact line for the tool activity panel, e.g. `search_products(category=trail)`."""
    args = ", ".join(f"{key}={value}" for key, value in call.get("args", {}).items() if value)
    return f"{call['name']}({args})"


def chat_turns(messages: list[BaseMessage]) -> list[ChatTurn]:
    """The conversation as the chat shows it, one `ChatTurn` per shopper message.

    Tool calls become one compact line each; tool results are not shown, except the checkout's
    outcome (what the shopper waits for) and the products of the turn's latest search.

    The checkout's outcome is shown once, from the tool's result (the record the order and the
    approvals flow are read from), so the model's reply that relays it is left out of the chat
    (any tool calls it makes are kept). Both stay in the graph's messages: the model needs its
    own reply in its history, and replay and fork must find the conversation as it was.
    """
    groups: list[list[BaseMessage]] = []
    for message in messages:
        if isinstance(message, HumanMessage) or not groups:
            groups.append([])
        groups[-1].append(message)
    turns = []
    for group in groups:
        first = group[0]
        shopper = first.text if isinstance(first, HumanMessage) else None
        turns.append(
            ChatTurn(
                shopper=shopper,
                replies=_replies(group),
                products=last_products(group),
                click=cart_click(group),
            )
        )
    return turns


def cart_click(group: list[BaseMessage]) -> CartClick | None:
    """The click a turn's messages stand for, with how it went (agent/actions.py)."""
    action = action_of(group[0])
    if action is None:
        return None
    results = [message for message in group if isinstance(message, ToolMessage)]
    if not results:
        return CartClick(action.tool, "This change was interrupted; the cart is unchanged.", False)
    ok, outcome = click_outcome(action, results[-1])
    return CartClick(action.tool, outcome, ok)


def _replies(group: list[BaseMessage]) -> list[ChatMessage]:
    replies: list[ChatMessage] = []
    relaying = False  # the model's next message answers a checkout outcome just shown
    for message in group:
        reply = _chat_message(message)
        if relaying and isinstance(message, AIMessage):
            relaying = False
            if reply is not None and reply.tool_calls:
                replies.append(ChatMessage(tool_calls=reply.tool_calls))
            continue
        if reply is None:
            continue
        relaying = reply.checkout is not None
        replies.append(reply)
    return replies


def _chat_message(message: BaseMessage) -> ChatMessage | None:
    if isinstance(message, AIMessage):
        calls = [describe_tool_call(call) for call in message.tool_calls or []]
        if not calls and not message.text:
            return None
        return ChatMessage(text=message.text, tool_calls=calls)
    outcome = checkout_outcome(message)
    if outcome is not None and (outcome.status or outcome.error):
        return ChatMessage(checkout=outcome)
    return None


def last_products(messages: list[BaseMessage]) -> list[dict]:
    """Products of the latest search/details result in this turn, for cards in the UI."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return []
        if isinstance(message, ToolMessage) and message.name in PRODUCT_TOOLS:
            try:
                body = json.loads(message.content)
            except (TypeError, ValueError):
                return []
            if "results" in body:
                return list(body["results"])
            if "product" in body:
                return [body["product"]]
    return []


def turn_messages(messages: list[BaseMessage]) -> list[BaseMessage]:
    """Messages of the latest turn (from the last human message on)."""
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            return messages[index:]
    return messages


def final_reply(messages: list[BaseMessage]) -> str:
    """Text of the last assistant message of the latest turn."""
    for message in reversed(turn_messages(messages)):
        if isinstance(message, AIMessage) and message.text:
            return message.text
    return ""


# --- history ----------------------------------------------------------------------------


@dataclass
class CheckpointView:
    """One row of the history timeline."""

    checkpoint_id: str
    parent_id: str | None
    step: int
    source: str
    created_at: str
    ran: list[str]
    next: list[str]
    tool_calls: list[str]
    last_message: str
    last_message_type: str
    cart_items: int
    cart_total: float
    message_count: int
    children: list[str] = field(default_factory=list)
    on_current_branch: bool = False


@dataclass(frozen=True)
class CheckpointState:
    """The state at one checkpoint, as the History page shows it."""

    checkpoint_id: str
    step: int
    turns: list[ChatTurn]
    cart: list[dict]
    shopper_message: str
    next: list[str]
    raw: dict


@dataclass(frozen=True)
class TurnStep:
    """One checkpoint inside a turn: what happened, in the shop's words (`what`), and in
    LangGraph's (step, source, the node that ran, what runs next) for the expert view."""

    checkpoint_id: str
    step: int
    source: str
    ran: list[str]
    next: list[str]
    what: str
    created_at: str


@dataclass(frozen=True)
class TurnView:
    """One turn of the shopper on one branch: the message, what the assistant did about it, and
    the checkpoints to act from. Built by `turn_history.py`.

    `kind` says how the turn came about: "message" (the shopper wrote), "edit" (a fork with
    an edited message), "replay" (the turn run again), "cart" (a fork with an edited cart
    after a turn), "continue" (a copy continuing after a turn). `number` counts the shopper's
    messages on the turn's own branch, so turn 3 is the third message on every branch.
    `start_checkpoint_id` is where the shopper's message had just arrived (replay and message
    forks start there); `end_checkpoint_id` is the turn's newest checkpoint (copies, cart forks
    and branch switches start there). `lane` and `x` place it in the branch tree.
    """

    turn_id: str
    number: int
    kind: str
    shopper: str
    did: list[str]
    reply: str
    status: Literal["done", "waiting", "stopped"]
    cart: list[dict]
    parent_turn_id: str | None
    start_checkpoint_id: str | None
    end_checkpoint_id: str
    steps: list[TurnStep]
    created_at: str
    went_to_checkout: bool = False
    lane: int = 0
    x: float = 0.0
    on_current_branch: bool = False
    is_tip: bool = False
    is_current: bool = False

    @property
    def title(self) -> str:
        """ "Turn 3", "Turn 3 (replayed)", "Cart edited after turn 3"..."""
        return {
            "edit": f"Turn {self.number} (edited)",
            "replay": f"Turn {self.number} (replayed)",
            "cart": f"Cart edited after turn {self.number}",
            "continue": f"Continued after turn {self.number}",
        }.get(self.kind, f"Turn {self.number}")

    @property
    def cart_total(self) -> float:
        """The cart's total after this turn."""
        return cart_total(self.cart)

    @property
    def can_replay(self) -> bool:
        """True when the turn can be run again (its shopper message is in the history)."""
        return self.start_checkpoint_id is not None

    @property
    def can_continue_from(self) -> bool:
        """True when the turn finished: copies and cart forks start from its end."""
        return self.status == "done"

    @property
    def can_switch(self) -> bool:
        """True for the finished end of another branch than the current one."""
        return self.is_tip and not self.is_current and self.status == "done"


@dataclass(frozen=True)
class TurnHistory:
    """A conversation's history by turn: every turn of every branch (oldest first), the tree
    they form, and every checkpoint (newest first) for the expert view."""

    turns: list[TurnView]
    checkpoints: list[CheckpointView]
    current_turn_id: str | None

    @property
    def branches(self) -> int:
        """How many branches the conversation has: the turns nothing follows."""
        return sum(1 for turn in self.turns if turn.is_tip)

    def turn(self, turn_id: str) -> TurnView:
        """The turn `turn_id` (KeyError when there is none)."""
        for turn in self.turns:
            if turn.turn_id == turn_id:
                return turn
        raise KeyError(turn_id)

    def branch(self, turn_id: str) -> list[TurnView]:
        """The turns from the first one to `turn_id`, along its branch."""
        by_id = {turn.turn_id: turn for turn in self.turns}
        path, current = [], by_id.get(turn_id)
        while current is not None:
            path.append(current)
            current = by_id.get(current.parent_turn_id or "")
        return path[::-1]


@dataclass(frozen=True)
class CheckoutWarning:
    """Why a replay or fork waits for the shopper's confirmation: it would run a checkout
    again, which goes to the store (outside the conversation). `text` says what will happen;
    `reused_order` is the order already placed for that cart, which approving again reuses."""

    checkpoint_id: str
    text: str
    reused_order: str | None = None
    reused_total: float | None = None


def jsonable(value: Any) -> Any:
    """`value` as plain JSON data: messages by type and fields, bytes as base64, the rest as text.

    The shop database engine rides in LangGraph configs so tools can reach it: it is not data
    and is left out.
    """
    if isinstance(value, BaseMessage):
        return {"type": value.type, **jsonable(value.model_dump(exclude_none=True))}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items() if key != "engine"}
    if isinstance(value, list | tuple | set):
        return [jsonable(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return repr(value)


# --- one turn ----------------------------------------------------------------------------


@dataclass
class TurnResult:
    """What a shopper sees after a turn (also the `chat --json` output)."""

    session_id: str
    reply: str
    cart: list[dict]
    pending_approval: ApprovalView | None = None
    products: list[dict] = field(default_factory=list)
    tool_activity: list[str] = field(default_factory=list)

    @property
    def cart_total(self) -> float:
        """Sum of the cart's lines, rounded to cents."""
        return cart_total(self.cart)

    def to_json(self) -> dict:
        """The stable JSON shape scripts rely on."""
        return asdict(self)


@dataclass
class TurnEvent:
    """One streamed piece of a turn: a token of the reply, a tool activity line, or the end."""

    kind: Literal["token", "tool", "done"]
    text: str = ""
    result: TurnResult | None = None


def stream_events(chunks: Any) -> Any:
    """LangGraph `messages`/`updates` stream parts as TurnEvents (tokens and tool lines)."""
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
