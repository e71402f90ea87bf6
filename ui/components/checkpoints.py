"""Checkpoints on screen: a checkpoint's label and the timeline table."""

from __future__ import annotations

import streamlit as st

from assistant.application import CheckpointView


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
