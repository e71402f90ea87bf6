"""History page: the conversation turn by turn on every branch, the branch tree (click a turn to
select it), and from any turn: replay, fork with an edit, copy, or switch back to its branch."""

from __future__ import annotations

import streamlit as st

from ui.backend import get_shop
from ui.components.badges import page_header
from ui.components.branch_tree import branch_tree, take_click
from ui.components.chat import conversation
from ui.components.checkpoints import branch_table, checkpoint_table, turn_label, turn_story
from ui.components.conversations import open_session_id
from ui.components.fork_form import cart_form, done_and_rerun, message_form
from ui.components.turn_actions import copy_button, replay_button, replay_from_step, switch_button
from ui.errors import attempt
from ui.identity import current_user
from ui.notices import show_notices

PICKER = "history-turn"
RECENT_TURNS = 8  # exchanges shown under "Conversation up to here" unless asked for all
TREE = "history-tree"

shop = get_shop()
user = current_user()
session_id = open_session_id()

page_header(
    "History, replay and fork",
    shop,
    caption="Every turn of the conversation on every branch. Pick a turn (or click it in the "
    "tree) to see it, replay it, fork it with an edit, or switch back to its branch.",
    session_id=session_id,
)
if not session_id:
    st.info("Open or start a conversation first.", icon=":material/chat:")
    st.page_link("views/shop.py", label="Go to the shop", icon=":material/storefront:")
    st.stop()

show_notices("history")
history = attempt(shop.turns, user, session_id, doing="reading the history")
if not history or not history.turns:
    st.info("This conversation has no turns yet: send a message on the Shop page.")
    st.stop()
by_id = {turn.turn_id: turn for turn in history.turns}
if st.session_state.get(PICKER) not in by_id:
    st.session_state[PICKER] = history.current_turn_id
take_click(TREE, PICKER)  # a click in the tree selects its turn
current = by_id[history.current_turn_id]

with st.container(horizontal=True, vertical_alignment="center", key="history-metrics"):
    st.metric("Turns on this branch", len(history.branch(current.turn_id)), border=True)
    st.metric("Branches", history.branches, border=True)
    if st.session_state.get("history-expert"):
        st.metric("Checkpoints", len(history.checkpoints), border=True)
    st.space("stretch")
    expert = st.toggle(
        "Expert view",
        key="history-expert",
        help="LangGraph's own terms: node names, checkpoint ids, every checkpoint, raw state.",
    )

with st.container(border=True, key="branch-tree"):
    st.caption(
        "**Branch tree** · a dot per turn, at its number on its branch · blue: the current "
        "branch (what the chat shows) · grey: other branches · ringed: selected · click a dot"
    )
    branch_tree(history, st.session_state[PICKER], prefix=TREE)

selected = st.selectbox(
    "Turn",
    options=[turn.turn_id for turn in reversed(history.turns)],
    format_func=lambda turn_id: turn_label(by_id[turn_id]),
    key=PICKER,
    help="● on the current branch (what the chat shows), ○ on another branch.",
)
turn = by_id[selected]
writable = current.status != "waiting"
done = done_and_rerun(PICKER)

story_column, action_column = st.columns([1.4, 1], gap="large")
with story_column, st.container(key="history-turn-story"):
    turn_story(turn, expert=expert)
    state = attempt(
        shop.checkpoint, user, session_id, turn.end_checkpoint_id, doing="reading the turn"
    )
    tabs = st.tabs(["Conversation up to here", "This branch by turn", *(["Raw"] if expert else [])])
    with tabs[0]:
        said = state.turns if state else []
        shown = said if st.session_state.get("history-all-turns") else said[-RECENT_TURNS:]
        if len(shown) < len(said):
            st.caption(f"The last {len(shown)} of {len(said)} exchanges up to this turn.")
        with st.container(height=360, key="checkpoint-messages"):
            conversation(shown)
        if len(said) > RECENT_TURNS:
            st.toggle("Show every exchange", key="history-all-turns")
    with tabs[1]:
        st.dataframe(
            branch_table(history, turn.turn_id),
            hide_index=True,
            width="stretch",
            column_config={"Cart": st.column_config.NumberColumn(format="$%.2f")},
        )
    if expert and state is not None:
        with tabs[2]:
            st.json(state.raw, expanded=1)

with action_column, st.container(key="history-actions"):
    st.subheader("From this turn", anchor=False)
    if not writable:
        st.info(
            "A checkout is waiting for the store's decision: replay, fork and switching "
            "branches wait for it too.",
            icon=":material/hourglass_top:",
        )
    else:
        versions_went_to_checkout = any(
            other.went_to_checkout
            for other in history.turns
            if other.start_checkpoint_id == turn.start_checkpoint_id
        )
        warning = (
            attempt(
                shop.replay_warning, user, session_id, turn.start_checkpoint_id, doing="checking"
            )
            if turn.can_replay and versions_went_to_checkout
            else None
        )
        if turn.can_switch:
            switch_button(shop, user, session_id, turn, on_done=done)
        elif turn.is_current:
            st.caption("This is where the chat is now: your next message continues from here.")
        if turn.can_replay:
            if warning is not None:  # said once, ticked for each action
                st.warning(warning.text, icon=":material/storefront:")
            replay_button(shop, user, session_id, turn, warning, on_done=done)
            message_form(shop, user, session_id, turn, warning, on_done=done)
        if turn.can_continue_from:
            if turn.cart:
                cart_form(shop, user, session_id, turn, on_done=done)
            copy_button(shop, user, session_id, turn)
        if expert:
            replay_from_step(shop, user, session_id, turn, on_done=done)

if expert:
    with st.expander("Every checkpoint, as LangGraph lists it", icon=":material/table:"):
        checkpoint_table(history.checkpoints)
