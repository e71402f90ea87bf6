"""Checkpoints on screen: the timeline table, a checkpoint's state, and its JSON form."""

from __future__ import annotations

from typing import Any

import streamlit as st
from langchain_core.messages import BaseMessage, HumanMessage

from assistant.history import CheckpointView


def label(view: CheckpointView) -> str:
    """One line naming a checkpoint in a picker: step, source, what ran, last message."""
    ran = f" · {', '.join(view.ran)}" if view.ran else ""
    marker = "● " if view.on_current_branch else "○ "
    return f"{marker}step {view.step} · {view.source}{ran} · {view.last_message[:60]}"


def when(view: CheckpointView) -> str:
    """The checkpoint's time of day (UTC), from its ISO timestamp."""
    return view.created_at[11:19] if len(view.created_at) >= 19 else view.created_at


def timeline_table(views: list[CheckpointView], selected: str | None) -> None:
    """Every checkpoint, newest first; ● marks the current branch, ▶ the selected checkpoint."""
    st.dataframe(
        [
            {
                " ": ("▶ " if view.checkpoint_id == selected else "")
                + ("●" if view.on_current_branch else "○"),
                "Step": view.step,
                "Source": view.source,
                "Ran": ", ".join(view.ran),
                "Next": ", ".join(view.next),
                "Tool calls": "; ".join(view.tool_calls),
                "When (UTC)": when(view),
                "Last message": view.last_message,
                "Cart items": view.cart_items,
                "Cart total": view.cart_total,
            }
            for view in views
        ],
        hide_index=True,
        width="stretch",
        height=280,
        column_config={
            " ": st.column_config.TextColumn(width=40),
            "Step": st.column_config.NumberColumn(width=50),
            "Cart total": st.column_config.NumberColumn(format="$%.2f"),
            "Last message": st.column_config.TextColumn(width="large"),
        },
    )


def last_shopper_message(values: dict) -> str:
    """The latest shopper message in a checkpoint's state ("" when there is none)."""
    for message in reversed(values.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message.text
    return ""


def state_json(snapshot: Any) -> dict:
    """A state snapshot as plain JSON: values (messages dumped), next, metadata, config."""
    return {
        "values": _plain(snapshot.values or {}),
        "next": list(snapshot.next or ()),
        "metadata": _plain(snapshot.metadata or {}),
        "config": _plain(snapshot.config or {}),
        "parent_config": _plain(snapshot.parent_config or {}),
        "created_at": snapshot.created_at,
        "interrupts": [_plain({"id": i.id, "value": i.value}) for i in snapshot.interrupts],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, BaseMessage):
        return {"type": value.type, **_plain(value.model_dump(exclude_none=True))}
    if isinstance(value, dict):
        # The catalog engine rides in the config so tools can reach the database: not data.
        return {str(k): _plain(v) for k, v in value.items() if k != "engine"}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)
