"""A conversation's history by turn: what the shopper said and what the assistant did about it.

LangGraph checkpoints every step (a 14-turn chat has some 60 checkpoints: an `input` one for
each message, then one per node that ran), and each knows its parent, so they form a tree. A
shopper thinks in turns instead, so the checkpoints are grouped here:

* a turn starts where a message came in (an `input` checkpoint), where a fork edited the
  message or the cart (`update`), or where a replay started (`fork`);
* every other checkpoint belongs to the turn of its parent, and so does a pure copy of a
  finished branch end (what switching branches writes, see `history.switch_branch`).

A turn's `number` counts the shopper's messages on its own branch, so "turn 3" means the third
message whichever branch it is on; an edited or replayed turn is another version of the turn
it replaces and hangs off the turn before it. Lanes give every branch a row of the tree, in the
order the branches were made, so switching branches only moves the highlight.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.types import StateSnapshot

from assistant.agent.state import cart_total
from assistant.application.context import ShopContext
from assistant.application.shop_words import intentions, money, short, step_lines, tool_result
from assistant.application.views import CheckpointView, TurnHistory, TurnStep, TurnView


def history_snapshots(ctx: ShopContext, session_id: str) -> list[StateSnapshot]:
    """Every checkpoint of the session as a LangGraph state snapshot, newest first."""
    return ctx.history_snapshots(session_id)


def read_turns(ctx: ShopContext, session_id: str) -> TurnHistory:
    """The session's history by turn (see the module docstring)."""
    return turn_history(history_snapshots(ctx, session_id))


# --- checkpoints -------------------------------------------------------------------------


def summarize(message: BaseMessage | None, width: int = 90) -> str:
    """One line describing a message."""
    if message is None:
        return ""
    text = message.text if hasattr(message, "text") else str(message.content)
    if isinstance(message, AIMessage) and message.tool_calls and not text:
        text = "calls " + ", ".join(call["name"] for call in message.tool_calls)
    if isinstance(message, ToolMessage):
        text = f"{message.name}: {text}"
    return short(str(text), width)


def checkpoint_view(snapshot: StateSnapshot) -> CheckpointView:
    """One checkpoint in LangGraph's terms (children and branch filled in by the caller)."""
    values = snapshot.values or {}
    messages = values.get("messages", [])
    last = messages[-1] if messages else None
    cart = values.get("cart") or []
    parent = (
        snapshot.parent_config["configurable"]["checkpoint_id"] if snapshot.parent_config else None
    )
    return CheckpointView(
        checkpoint_id=snapshot.config["configurable"]["checkpoint_id"],
        parent_id=parent,
        step=int((snapshot.metadata or {}).get("step", -1)),
        source=str((snapshot.metadata or {}).get("source", "")),
        created_at=snapshot.created_at or "",
        ran=[],
        next=list(snapshot.next),
        tool_calls=[
            f"{call['name']}({json.dumps(call['args'])})"
            for call in (getattr(last, "tool_calls", None) or [])
        ],
        last_message=summarize(last),
        last_message_type=getattr(last, "type", ""),
        cart_items=sum(line["quantity"] for line in cart),
        cart_total=cart_total(cart),
        message_count=len(messages),
    )


def checkpoint_views(snapshots: Iterable[StateSnapshot]) -> list[CheckpointView]:
    """Every checkpoint, newest first, with parent/child links, what ran to produce it, and
    whether it is on the current branch (the one ending at the newest checkpoint)."""
    views = {view.checkpoint_id: view for view in map(checkpoint_view, snapshots)}
    for view in views.values():
        if view.parent_id in views:
            views[view.parent_id].children.append(view.checkpoint_id)
            # What ran to produce a checkpoint is what its parent had scheduled next.
            view.ran = list(views[view.parent_id].next)
    current = next(iter(views), None)
    while current in views:
        views[current].on_current_branch = True
        current = views[current].parent_id
    return list(views.values())


@dataclass
class Point:
    """A checkpoint with the state the turn grouping reads (internal)."""

    view: CheckpointView
    messages: list[BaseMessage]
    cart: list[dict]
    interrupted: bool
    parent: Point | None = None
    children: list[Point] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.view.checkpoint_id

    @property
    def humans(self) -> int:
        return sum(1 for message in self.messages if isinstance(message, HumanMessage))

    @property
    def latest_human(self) -> HumanMessage | None:
        return next((m for m in reversed(self.messages) if isinstance(m, HumanMessage)), None)

    @property
    def received(self) -> bool:
        """True when the shopper's message has just arrived and the agent answers next."""
        return (
            bool(self.messages)
            and isinstance(self.messages[-1], HumanMessage)
            and (self.view.next == ["agent"])
        )

    @property
    def waiting(self) -> bool:
        """True at a checkout paused for the store that nothing has answered yet."""
        return self.interrupted and bool(self.view.next) and not self.children


def points_of(snapshots: Iterable[StateSnapshot]) -> dict[str, Point]:
    """The checkpoint tree, newest first (dict order), each point linked to its parent."""
    snapshots = list(snapshots)
    views = checkpoint_views(snapshots)
    points = {
        view.checkpoint_id: Point(
            view=view,
            messages=list((snapshot.values or {}).get("messages", [])),
            cart=[dict(line) for line in (snapshot.values or {}).get("cart") or []],
            interrupted=bool(snapshot.interrupts),
        )
        for view, snapshot in zip(views, snapshots, strict=True)
    }
    for point in reversed(points.values()):  # oldest first, so children are in creation order
        point.parent = points.get(point.view.parent_id or "")
        if point.parent is not None:
            point.parent.children.append(point)
    return points


def same_state(one: Point, other: Point) -> bool:
    """True when two checkpoints hold the same conversation and cart."""
    last = (one.messages or [None])[-1]
    other_last = (other.messages or [None])[-1]
    return (
        len(one.messages) == len(other.messages)
        and getattr(last, "id", None) == getattr(other_last, "id", None)
        and getattr(last, "content", None) == getattr(other_last, "content", None)
        and one.cart == other.cart
    )


def pure_copy(point: Point) -> bool:
    """A finished checkpoint copied as it was (a branch switch, a copy to continue from)."""
    parent = point.parent
    return (
        parent is not None
        and point.view.source in ("update", "fork")
        and not point.view.next
        and not parent.view.next
        and same_state(point, parent)
    )


# --- turns -------------------------------------------------------------------------------


@dataclass
class Turn:
    """A turn being built (internal): its kind and its own checkpoints, oldest first."""

    kind: str
    steps: list[Point]
    number: int = 0
    parent: Turn | None = None
    children: list[Turn] = field(default_factory=list)
    lane: int = 0

    @property
    def id(self) -> str:
        return self.steps[0].id

    @property
    def end(self) -> Point:
        return self.steps[-1]


def turn_kind(point: Point) -> str | None:
    """The kind of turn `point` starts, or None when it carries on its parent's turn."""
    parent, source = point.parent, point.view.source
    if parent is None or source == "input":
        return "message"
    if source not in ("update", "fork"):
        return None
    if pure_copy(point):
        # A copy of a branch end carries that branch on (a switch); a copy of a turn that
        # other turns already follow starts a branch of its own.
        return None if all(pure_copy(child) for child in parent.children) else "continue"
    edited = parent.latest_human
    mine = point.latest_human
    if len(point.messages) < len(parent.messages) or (
        getattr(mine, "id", None),
        getattr(mine, "content", None),
    ) != (getattr(edited, "id", None), getattr(edited, "content", None)):
        return "edit"
    if source == "update" and point.cart != parent.cart:
        return "cart"
    return "replay"


def group_turns(points: dict[str, Point]) -> tuple[list[Turn], dict[str, Turn]]:
    """The turns (oldest first) and the turn of every checkpoint id."""
    turns: list[Turn] = []
    turn_of: dict[str, Turn] = {}
    for point in reversed(points.values()):  # oldest first: a parent comes before its children
        kind = turn_kind(point)
        if kind is None and point.parent is not None:  # (only a checkpoint with a parent)
            turn = turn_of[point.parent.id]
            turn.steps.append(point)
        else:
            kind = kind or "message"
            turn = Turn(kind=kind, steps=[point], number=point.humans + (kind == "message"))
            turns.append(turn)
        turn_of[point.id] = turn
    for turn in turns:  # oldest first, so a parent's own parent is known
        branched_at = turn.steps[0].parent
        turn.parent = turn_of[branched_at.id] if branched_at is not None else None
        if turn.parent is not None and replaces(turn, turn.parent, branched_at):
            turn.parent = turn.parent.parent  # another version of that turn, not its sequel
        if turn.parent is not None:
            turn.parent.children.append(turn)
    return turns, turn_of


def replaces(turn: Turn, before: Turn, branched_at: Point) -> bool:
    """True when `turn`, which branched off `before` at `branched_at`, is another version of
    `before` rather than what came after it: an edited or replayed message, or a cart edited
    before `before` had finished."""
    if turn.kind in ("edit", "replay"):
        return before.number == turn.number
    return turn.kind != "message" and branched_at is not before.end


def place_in_lanes(turns: list[Turn]) -> None:
    """Give every branch its row, in the order the branches were made: a turn's first
    follower stays on its lane, a later one (a new branch) takes the next free lane. A new
    branch never moves the old ones."""
    free = 0
    for turn in turns:  # oldest first
        if turn.parent is not None and turn.parent.children[0] is turn:
            turn.lane = turn.parent.lane
        else:
            turn.lane, free = free, free + 1


def start_of(turn: Turn) -> Point | None:
    """Where the turn's shopper message had just arrived: replay and message forks start here.

    A replay that started mid-turn shares its first steps with the turn it replays, so its
    start may be an earlier checkpoint; a cart edit or a copy has none.
    """
    if turn.kind in ("cart", "continue"):
        return None
    wanted = turn.end.latest_human
    point: Point | None = turn.end
    while point is not None:
        if point.received and _same_message(point.latest_human, wanted):
            return point
        if point is turn.steps[0] and turn.kind != "replay":
            return None
        point = point.parent
    return None


def _same_message(one: BaseMessage | None, other: BaseMessage | None) -> bool:
    if one is None or other is None:
        return False
    return (one.id, one.content) == (other.id, other.content)


def path_between(start: Point, end: Point) -> list[Point]:
    """The checkpoints from `start` to `end` (an ancestor of it or itself), oldest first."""
    path, point = [], end
    while point is not None:
        path.append(point)
        if point is start:
            break
        point = point.parent
    return path[::-1]


def step_what(point: Point, turn: Turn) -> str:
    """What happened at one checkpoint, in the shop's words."""
    parent, source = point.parent, point.view.source
    if source == "input":
        return "the conversation started" if parent is None else "your message came in"
    if point is turn.steps[0] and turn.kind != "message":
        return {
            "edit": f"your message, edited: “{short(_text(point.latest_human), 60)}”",
            "replay": "replayed from here",
            "cart": f"you edited the cart: {_cart_words(point.cart)}",
            "continue": "continued from here",
        }[turn.kind]
    if pure_copy(point):
        return "switched back to this branch"
    added = point.messages[len(parent.messages) :] if parent is not None else point.messages
    lines = []
    for message in added:
        if isinstance(message, HumanMessage):
            lines.append(f"your message arrived: “{short(message.text, 60)}”")
        elif isinstance(message, AIMessage) and message.tool_calls:
            lines.append(f"the assistant decided to {intentions(message)}")
        elif isinstance(message, AIMessage) and message.text:
            lines.append(f"the assistant replied: {short(message.text, 60)}")
        elif isinstance(message, ToolMessage):
            lines.append(tool_result(message))
    if point.waiting:
        lines.append("waiting for the store's decision")
    return "; ".join(lines) or "a step with nothing new to show"


def _text(message: BaseMessage | None) -> str:
    return message.text if message is not None else ""


def _cart_words(cart: list[dict]) -> str:
    if not cart:
        return "empty"
    pairs = sum(line["quantity"] for line in cart)
    return f"{pairs} pair{'s' if pairs != 1 else ''}, {money(cart_total(cart))}"


def turn_view(turn: Turn, current: Turn | None, on_branch: set[str]) -> TurnView:
    """The view of one built turn."""
    end, start = turn.end, start_of(turn)
    did: list[str] = []
    reply = ""
    if start is not None:
        path = path_between(start, end)
        for before, after in pairwise(path):
            added = after.messages[len(before.messages) :]
            did.extend(step_lines(added, cart_total(after.cart)))
            reply = next(
                (m.text for m in reversed(added) if isinstance(m, AIMessage) and m.text), reply
            )
    else:
        did.append(step_what(turn.steps[0], turn))
    if end.waiting:
        did.append("waiting for the store's decision")
    status = "done" if not end.view.next else "waiting" if end.waiting else "stopped"
    shopper = _text(end.latest_human) if turn.kind not in ("cart", "continue") else ""
    return TurnView(
        turn_id=turn.id,
        number=turn.number,
        kind=turn.kind,
        shopper=shopper,
        did=did,
        reply=reply,
        status=status,
        cart=end.cart,
        parent_turn_id=turn.parent.id if turn.parent else None,
        start_checkpoint_id=start.id if start is not None else None,
        end_checkpoint_id=end.id,
        steps=[
            TurnStep(
                checkpoint_id=point.id,
                step=point.view.step,
                source=point.view.source,
                ran=point.view.ran,
                next=point.view.next,
                what=step_what(point, turn),
                created_at=point.view.created_at,
            )
            for point in turn.steps
        ],
        created_at=turn.steps[0].view.created_at,
        went_to_checkout=any(line.startswith("asked the store") for line in did),
        lane=turn.lane,
        x=turn.number + (0.5 if turn.kind in ("cart", "continue") else 0.0),
        on_current_branch=turn.id in on_branch,
        is_tip=not turn.children,
        is_current=turn is current,
    )


def turn_history(snapshots: Iterable[StateSnapshot]) -> TurnHistory:
    """The history by turn of a session's checkpoints (newest first, as LangGraph lists them)."""
    points = points_of(snapshots)
    turns, turn_of = group_turns(points)
    place_in_lanes(turns)
    newest = next(iter(points), None)
    current = turn_of[newest] if newest is not None else None
    on_branch: set[str] = set()
    walker = current
    while walker is not None:
        on_branch.add(walker.id)
        walker = walker.parent
    return TurnHistory(
        turns=[turn_view(turn, current, on_branch) for turn in turns],
        checkpoints=[point.view for point in points.values()],
        current_turn_id=current.id if current is not None else None,
    )


def checkout_calls_after(points: dict[str, Point], checkpoint_id: str) -> list[Point]:
    """Checkpoints where a checkout was sent to the store at or after `checkpoint_id` within
    the same shopper turn, on any branch (newest first): what running from there again redoes.
    """
    origin = points[checkpoint_id]
    found, stack = [], [origin]
    while stack:
        point = stack.pop()
        last = (point.messages or [None])[-1]
        if isinstance(last, AIMessage) and any(
            call["name"] == "checkout" for call in last.tool_calls or []
        ):
            found.append(point)
        stack.extend(
            child
            for child in point.children
            if child.view.source != "input"
            and _same_message(child.latest_human, origin.latest_human)
        )
    return sorted(found, key=lambda point: point.view.created_at, reverse=True)
