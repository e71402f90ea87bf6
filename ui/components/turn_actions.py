"""What the shopper can do from a turn: replay it, copy the conversation as it was after it,
switch to its branch, and (expert view) replay from one of its steps.

Each action is offered only where the Shop can carry it out (`TurnView.can_replay`,
`can_continue_from`, `can_switch`), and a replay that would send a checkout to the store again
shows what will happen and waits for a tick (`Shop.replay(confirmed=...)`).
"""

from __future__ import annotations

import streamlit as st

from assistant.application import CheckoutWarning, Principal, Shop, TurnView
from ui.components.conversations import select_conversation
from ui.components.fork_form import confirm_checkout
from ui.errors import shown_errors
from ui.notices import notify_after_rerun


def replay_button(
    shop: Shop,
    who: Principal,
    session_id: str,
    turn: TurnView,
    warning: CheckoutWarning | None,
    *,
    on_done,
) -> None:
    """Run the turn again from the shopper's message (a new branch)."""
    confirmed = confirm_checkout(warning, key=f"replay-confirm-{turn.turn_id}")
    if st.button(
        "Replay this turn",
        icon=":material/replay:",
        key="history-replay",
        disabled=not confirmed,
        help="The assistant answers the same message again, on a new branch.",
    ):
        with shown_errors("replaying"), st.spinner("Replaying the turn…"):
            shop.replay(who, session_id, turn.start_checkpoint_id, confirmed=confirmed)
            on_done(f"Replayed turn {turn.number}: a new branch.")


def copy_button(shop: Shop, who: Principal, session_id: str, turn: TurnView) -> None:
    """Copy the conversation into a new one that continues after this turn."""
    if st.button(
        "Copy into a new conversation",
        icon=":material/content_copy:",
        key="history-copy",
        help="A new Bedrock session with this conversation's whole history, continuing after "
        "this turn.",
    ):
        with shown_errors("copying the conversation"), st.spinner("Copying every checkpoint…"):
            copied = shop.fork_conversation(who, session_id, turn.end_checkpoint_id)
            select_conversation(copied)
            notify_after_rerun(
                "success",
                f"Copied into a new conversation ({copied}); the chat now follows the copy.",
                scope="history",
            )
            st.rerun()


def switch_button(shop: Shop, who: Principal, session_id: str, turn: TurnView, *, on_done) -> None:
    """Make this turn's branch the current one again (no branch is added)."""
    if st.button(
        "Switch to this branch",
        icon=":material/alt_route:",
        key="branch-go",
        type="primary",
        help="The chat shows this branch again, and your next message continues it.",
    ):
        with shown_errors("switching branches"):
            shop.switch_branch(who, session_id, turn.end_checkpoint_id)
            on_done(f"Switched to the branch ending at turn {turn.number}.")


def replay_from_step(shop: Shop, who: Principal, session_id: str, turn: TurnView, *, on_done):
    """Expert view: replay from one step of the turn (only steps with work left to run)."""
    steps = [step for step in turn.steps if step.next and step.next != ["__start__"]]
    if not steps:
        return
    with st.container(border=True, key="history-step-replay"):
        by_id = {step.checkpoint_id: step for step in steps}
        chosen = st.selectbox(
            "Replay from a step (LangGraph runs what comes next)",
            options=list(by_id),
            format_func=lambda checkpoint_id: (
                f"step {by_id[checkpoint_id].step} · next: {', '.join(by_id[checkpoint_id].next)}"
                f" · {checkpoint_id}"
            ),
            key=f"history-step-{turn.turn_id}",
        )
        warning = shop.replay_warning(who, session_id, chosen)
        if warning is not None:
            st.warning(warning.text, icon=":material/storefront:")
        confirmed = confirm_checkout(warning, key=f"step-confirm-{chosen}")
        if st.button("Replay from this step", key="history-step-go", disabled=not confirmed):
            with shown_errors("replaying"), st.spinner("Replaying from the step…"):
                shop.replay(who, session_id, chosen, confirmed=confirmed)
                on_done(f"Replayed from step {by_id[chosen].step}: a new branch.")
