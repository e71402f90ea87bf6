"""History, replay and fork of a conversation, from its checkpoints.

Every step of the graph is a checkpoint in the Bedrock session. Each checkpoint knows its parent
(our checkpointer stores the parent id, which the upstream saver does not), so the checkpoints of
a session form a tree: a replay or a fork starts a new branch from an older checkpoint. The
"current" branch is the one ending at the newest checkpoint, which is what the next turn extends.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, RemoveMessage, ToolMessage
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import StateSnapshot

from assistant.state import cart_total


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


def timeline(graph: CompiledStateGraph, session_id: str) -> list[CheckpointView]:
    """Every checkpoint of the session, newest first, with parent/child links."""
    snapshots = list(graph.get_state_history({"configurable": {"thread_id": session_id}}))
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
