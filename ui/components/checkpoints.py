"""Turns and checkpoints on screen: the turn picker's labels, a turn told in the shop's words,
its steps folded inside, and (expert view only) LangGraph's own table of every checkpoint."""

from __future__ import annotations

import streamlit as st

from assistant.application import CheckpointView, TurnHistory, TurnView


def turn_label(turn: TurnView) -> str:
    """One line naming a turn in the picker: branch marker, title, what the shopper said."""
    marker = "●" if turn.on_current_branch else "○"
    said = (
        f"You: “{_short(turn.shopper, 48)}”"
        if turn.shopper
        else _short((turn.did or ["nothing recorded"])[0], 48)
    )
    status = {"waiting": " · waiting for the store", "stopped": " · stopped part-way"}
    return f"{marker} {turn.title} · {said}{status.get(turn.status, '')}"


def turn_story(turn: TurnView, *, expert: bool) -> None:
    """The turn as a shopper tells it: the message, what the assistant did, the reply, and the
    steps inside it (with LangGraph's names in the expert view)."""
    where = "on the current branch" if turn.on_current_branch else "on another branch"
    st.markdown(f"**{turn.title}** · {where}")
    if turn.shopper:
        st.markdown(f"**You:** {turn.shopper}")
    lines = [f"- {line}" for line in turn.did]
    if turn.reply:
        lines.append(f"- replied: {_short(turn.reply, 160)}")
    if lines:
        st.markdown("**The assistant:**\n" + "\n".join(lines))
    pairs = sum(line["quantity"] for line in turn.cart)
    st.caption(
        f"Cart after this turn: {pairs} pair{'s' if pairs != 1 else ''}, "
        f"${turn.cart_total:,.2f}"
        + (" · the store has not decided yet" if turn.status == "waiting" else "")
        + (" · this turn stopped before it finished" if turn.status == "stopped" else "")
    )
    with st.expander(
        f"{len(turn.steps)} steps inside this turn", icon=":material/steps:", expanded=expert
    ):
        st.dataframe(steps_table(turn, expert=expert), hide_index=True, width="stretch")


def steps_table(turn: TurnView, *, expert: bool) -> list[dict]:
    """The turn's checkpoints, oldest first: what happened; node names and ids when expert."""
    rows = []
    for step in turn.steps:
        row = {"What happened": step.what}
        if expert:
            row = {
                "Step": step.step,
                "Source": step.source,
                "Node": ", ".join(step.ran),
                "Next": ", ".join(step.next),
                **row,
                "Checkpoint": step.checkpoint_id,
                "When (UTC)": _when(step.created_at),
            }
        rows.append(row)
    return rows


def branch_table(history: TurnHistory, turn_id: str) -> list[dict]:
    """The turns of one branch, from the first to `turn_id`: the conversation by turn."""
    return [
        {
            "Turn": turn.title,
            "You": turn.shopper,
            "The assistant": "; ".join(turn.did) or _short(turn.reply, 80),
            "Cart": turn.cart_total,
        }
        for turn in history.branch(turn_id)
    ]


def checkpoint_table(views: list[CheckpointView]) -> None:
    """Every checkpoint as LangGraph lists it, newest first (expert view)."""
    st.dataframe(
        [
            {
                " ": "●" if view.on_current_branch else "○",
                "Step": view.step,
                "Source": view.source,
                "Ran": ", ".join(view.ran),
                "Next": ", ".join(view.next),
                "Tool calls": "; ".join(view.tool_calls),
                "When (UTC)": _when(view.created_at),
                "Last message": view.last_message,
                "Checkpoint": view.checkpoint_id,
            }
            for view in views
        ],
        hide_index=True,
        width="stretch",
        height=280,
        column_config={
            " ": st.column_config.TextColumn(width=40),
            "Step": st.column_config.NumberColumn(width=50),
            "Last message": st.column_config.TextColumn(width="large"),
        },
    )


def _when(created_at: str) -> str:
    """The time of day (UTC) of an ISO timestamp."""
    return created_at[11:19] if len(created_at) >= 19 else created_at


def _short(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
