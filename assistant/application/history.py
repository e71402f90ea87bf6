"""History, replay, fork, copy and branch switching of a conversation, all in one place.

Every step of the graph is a checkpoint in the Bedrock session. Each checkpoint knows its parent
(our checkpointer stores the parent id, which the upstream saver does not), so the checkpoints of
a session form a tree: a replay or a fork starts a new branch from an older checkpoint. The
"current" branch is the one ending at the newest checkpoint, which is what the next turn extends.
"""

from __future__ import annotations

import json

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, RemoveMessage, ToolMessage
from langgraph.types import StateSnapshot

from assistant import shopdb
from assistant.agent.state import cart_total
from assistant.application.context import ShopContext
from assistant.application.conversations import create_conversation, open_conversation, set_title
from assistant.application.errors import TurnError, readable_errors
from assistant.application.turns import check_message, current, final_result, run, writable
from assistant.application.views import (
    CheckpointState,
    CheckpointView,
    TurnResult,
    chat_turns,
    jsonable,
)


def summarize(message: BaseMessage | None, width: int = 90) -> str:
    """One line describing a message."""
    if message is None:
        return ""
    text = message.text if hasattr(message, "text") else str(message.content)
    if isinstance(message, AIMessage) and message.tool_calls and not text:
        text = "calls " + ", ".join(call["name"] for call in message.tool_calls)
    if isinstance(message, ToolMessage):
        text = f"{message.name}: {text}"
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def timeline(ctx: ShopContext, session_id: str) -> list[CheckpointView]:
    """Every checkpoint of the session, newest first, with parent/child links."""
    with readable_errors(ctx.settings):
        snapshots = list(ctx.graph.get_state_history(ctx.config_for(session_id)))
    views: dict[str, CheckpointView] = {}
    order: list[str] = []
    for snapshot in snapshots:
        view = _view(snapshot)
        views[view.checkpoint_id] = view
        order.append(view.checkpoint_id)
    for view in views.values():
        if view.parent_id in views:
            views[view.parent_id].children.append(view.checkpoint_id)
    # What ran to produce a checkpoint is what its parent had scheduled next.
    for view in views.values():
        if view.parent_id in views:
            view.ran = list(views[view.parent_id].next)
    if order:
        current: str | None = order[0]
        while current in views:
            views[current].on_current_branch = True
            current = views[current].parent_id
    return [views[checkpoint_id] for checkpoint_id in order]


def _view(snapshot: StateSnapshot) -> CheckpointView:
    values = snapshot.values or {}
    messages = values.get("messages", [])
    last = messages[-1] if messages else None
    cart = values.get("cart") or []
    parent = (
        snapshot.parent_config["configurable"]["checkpoint_id"] if snapshot.parent_config else None
    )
    tool_calls = [
        f"{call['name']}({json.dumps(call['args'])})"
        for call in (getattr(last, "tool_calls", None) or [])
    ]
    return CheckpointView(
        checkpoint_id=snapshot.config["configurable"]["checkpoint_id"],
        parent_id=parent,
        step=int((snapshot.metadata or {}).get("step", -1)),
        source=str((snapshot.metadata or {}).get("source", "")),
        created_at=snapshot.created_at or "",
        ran=[],
        next=list(snapshot.next),
        tool_calls=tool_calls,
        last_message=summarize(last),
        last_message_type=getattr(last, "type", ""),
        cart_items=sum(line["quantity"] for line in cart),
        cart_total=cart_total(cart),
        message_count=len(messages),
    )


def branch_tree_dot(
    views: list[CheckpointView], selected: str | None = None, *, compact: bool = True
) -> str:
    """The checkpoint tree as Graphviz DOT; the current branch is drawn bold and coloured.

    With `compact`, straight runs of steps are folded into their edges ("+3 steps"): only the
    root, shopper messages, branch points, the first step of each branch, leaves and the
    selected checkpoint are drawn, so a long conversation stays readable.
    """
    by_id = {view.checkpoint_id: view for view in views}
    shown = {view.checkpoint_id for view in views if not compact or _is_landmark(view, by_id)}
    if selected in by_id:
        shown.add(selected)
    lines = [
        "digraph branches {",
        '  rankdir=LR; bgcolor="transparent";',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10,'
        ' fillcolor="#f4f4f5", color="#a1a1aa"];',
        '  edge [color="#a1a1aa", fontname="Helvetica", fontsize=9];',
    ]
    for view in reversed(views):
        if view.checkpoint_id not in shown:
            continue
        lines.append(f'  "{view.checkpoint_id}" [{", ".join(_node_attributes(view, selected))}];')
        ancestor, folded = view.parent_id, 0
        while ancestor in by_id and ancestor not in shown:
            ancestor, folded = by_id[ancestor].parent_id, folded + 1
        if ancestor in by_id:
            attributes = ['color="#2563eb"', "penwidth=2"] if view.on_current_branch else []
            if folded:
                attributes.append(f'label="+{folded} step{"s" if folded > 1 else ""}"')
            style = f" [{', '.join(attributes)}]" if attributes else ""
            lines.append(f'  "{ancestor}" -> "{view.checkpoint_id}"{style};')
    lines.append("}")
    return "\n".join(lines)


def _is_landmark(view: CheckpointView, by_id: dict[str, CheckpointView]) -> bool:
    parent = by_id.get(view.parent_id or "")
    return (
        parent is None
        or not view.children
        or len(view.children) > 1
        or len(parent.children) > 1
        or view.last_message_type == "human"
        or view.source in ("update", "fork")
    )


def _node_attributes(view: CheckpointView, selected: str | None) -> list[str]:
    label = f"{view.step}: {view.source}"
    if view.ran:
        label += f"\\n{','.join(view.ran)}"
    if view.last_message_type == "human":
        label += f"\\n“{_dot_escape(view.last_message[:28])}”"
    attributes = [f'label="{label}"', f'tooltip="{view.checkpoint_id}"']
    if view.on_current_branch:
        attributes += ['fillcolor="#dbeafe"', 'color="#2563eb"', "penwidth=2"]
    if view.checkpoint_id == selected:
        attributes += ['fillcolor="#fde68a"']
    return attributes


def branch_count(views: list[CheckpointView]) -> int:
    """How many branches (leaves of the checkpoint tree) the session has."""
    return sum(1 for view in views if not view.children)


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")


def edit_message_update(values: dict, new_text: str) -> dict:
    """A state update that replaces the latest shopper message and drops what came after it."""
    messages = values.get("messages", [])
    for index in range(len(messages) - 1, -1, -1):
        if isinstance(messages[index], HumanMessage):
            edited = HumanMessage(new_text, id=messages[index].id)
            later = [RemoveMessage(id=message.id) for message in messages[index + 1 :]]
            return {"messages": [*later, edited]}
    return {"messages": [HumanMessage(new_text)]}


# --- state at a checkpoint ---------------------------------------------------------------


def state_at(ctx: ShopContext, session_id: str, checkpoint_id: str) -> StateSnapshot:
    """The graph state snapshot at one checkpoint (for developers and tests)."""
    return ctx.snapshot(session_id, checkpoint_id)


def checkpoint_state(ctx: ShopContext, session_id: str, checkpoint_id: str) -> CheckpointState:
    """The state at one checkpoint as the History page shows it: chat, cart, raw values."""
    snapshot = ctx.snapshot(session_id, checkpoint_id)
    values = snapshot.values or {}
    return CheckpointState(
        checkpoint_id=checkpoint_id,
        step=int((snapshot.metadata or {}).get("step", -1)),
        turns=chat_turns(values.get("messages", [])),
        cart=[dict(line) for line in values.get("cart") or []],
        shopper_message=last_shopper_message(values),
        next=list(snapshot.next),
        raw=state_json(snapshot),
    )


def last_shopper_message(values: dict) -> str:
    """The latest shopper message in a checkpoint's state ("" when there is none)."""
    for message in reversed(values.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def state_json(snapshot: StateSnapshot) -> dict:
    """A state snapshot as plain JSON: values (messages dumped), next, metadata, config."""
    return jsonable(
        {
            "values": snapshot.values or {},
            "next": list(snapshot.next or ()),
            "metadata": snapshot.metadata or {},
            "config": snapshot.config or {},
            "parent_config": snapshot.parent_config or {},
            "created_at": snapshot.created_at,
            "interrupts": [{"id": item.id, "value": item.value} for item in snapshot.interrupts],
        }
    )


# --- replay, fork, copy, switch ----------------------------------------------------------


def replay(ctx: ShopContext, username: str, session_id: str, checkpoint_id: str) -> TurnResult:
    """Re-run the steps after a checkpoint; the result starts a new branch."""
    writable(ctx, username, session_id)
    return final_result(run(ctx, session_id, None, ctx.config_for(session_id, checkpoint_id)))


def fork(
    ctx: ShopContext,
    username: str,
    session_id: str,
    checkpoint_id: str,
    *,
    message: str | None = None,
    cart: list[dict] | None = None,
) -> TurnResult:
    """Branch off a checkpoint with an edited shopper message and/or cart, and continue.

    With a message, the latest shopper message at that checkpoint is replaced (later messages
    are dropped) and the agent answers it. With only a cart, the cart is replaced and the
    branch waits for the shopper's next message. A message or cart equal to the checkpoint's
    own counts as unchanged.
    """
    writable(ctx, username, session_id)
    snapshot = ctx.snapshot(session_id, checkpoint_id)
    values = snapshot.values
    if not values:
        raise TurnError("That checkpoint has no state to fork from.")
    if message is not None and message.strip() == last_shopper_message(values):
        message = None
    if cart is not None and checked_cart(cart) == checked_cart(values.get("cart") or []):
        cart = None
    update: dict = {}
    if message is not None:
        update.update(edit_message_update(values, check_message(message)))
    if cart is not None:
        last = (values.get("messages") or [None])[-1]
        if message is None and getattr(last, "tool_calls", None):
            # The branch would resume by running those tool calls on the edited cart.
            raise TurnError(
                "To fork with an edited cart, pick a checkpoint where no tool call is "
                "waiting for its result (a shopper message or an assistant reply)."
            )
        update["cart"] = checked_cart(cart)
    if not update:
        raise TurnError("A fork needs an edited message or an edited cart.")
    with readable_errors(ctx.settings):
        if message is not None:
            # As if the tools had just run: the agent answers the edited message next.
            forked = ctx.graph.update_state(snapshot.config, update, as_node="tools")
            return final_result(run(ctx, session_id, None, forked))
        ctx.graph.update_state(snapshot.config, update, as_node="agent")
    return current(ctx, session_id)


def copy_conversation(
    ctx: ShopContext, username: str, session_id: str, checkpoint_id: str | None = None
) -> str:
    """Copy a conversation into a new one (a new Bedrock session) and return its id.

    Every checkpoint is copied (`copy_thread`), so the new conversation has the whole history;
    with `checkpoint_id`, it continues from that checkpoint, which must end a turn.
    """
    source = open_conversation(ctx, session_id, user=username)
    if checkpoint_id is not None and ctx.snapshot(session_id, checkpoint_id).next:
        raise TurnError(
            "To copy into a new conversation, pick a checkpoint at the end of a turn "
            "(one where nothing runs next)."
        )
    if checkpoint_id is None and ctx.snapshot(session_id).interrupts:
        raise TurnError("A checkout is waiting for store approval; wait for the decision.")
    with readable_errors(ctx.settings):
        target = create_conversation(ctx, user=source.user, tenant=source.tenant).session_id
        ctx.checkpointer.copy_thread(session_id, target)
        if checkpoint_id is not None:
            ctx.graph.update_state(ctx.config_for(target, checkpoint_id), None, as_node="__copy__")
    shopdb.mark_copy(ctx.engine, target, session_id)
    set_title(ctx, target, username, f"{source.title} (copy)")
    return target


def switch_branch(
    ctx: ShopContext, username: str, session_id: str, checkpoint_id: str
) -> TurnResult:
    """Make the branch ending at `checkpoint_id` current again (a copy becomes the newest)."""
    writable(ctx, username, session_id)
    snapshot = ctx.snapshot(session_id, checkpoint_id)
    with readable_errors(ctx.settings):
        ctx.graph.update_state(snapshot.config, None, as_node="__copy__")
    return current(ctx, session_id)


def checked_cart(cart: list[dict]) -> list[dict]:
    """An edited cart as the state keeps it; TurnError when a line makes no sense.

    Lines with quantity 0 are dropped. Prices are kept as shown: an order is always priced from
    the catalog, never from the cart.
    """
    checked = []
    for line in cart:
        try:
            quantity = int(line["quantity"])
            clean = {
                "product_id": str(line["product_id"]),
                "name": str(line.get("name") or line["product_id"]),
                "size": float(line["size"]),
                "quantity": quantity,
                "unit_price": float(line.get("unit_price") or 0),
            }
        except (KeyError, TypeError, ValueError) as error:
            raise TurnError(f"A cart line is incomplete or malformed: {line!r}.") from error
        if not 0 <= quantity <= 10:
            raise TurnError(f"Quantities go from 0 (remove) to 10; got {quantity}.")
        if quantity:
            checked.append(clean)
    return checked
