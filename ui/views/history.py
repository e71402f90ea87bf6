"""History page: every checkpoint of the conversation, its state, replay, fork and branches."""

from __future__ import annotations

import streamlit as st

from assistant.application import branch_count, branch_tree_dot
from ui.backend import get_shop
from ui.components.badges import page_header
from ui.components.chat import conversation
from ui.components.checkpoints import label, timeline_table
from ui.components.conversations import open_session_id, select_conversation
from ui.components.fork_form import fork_form
from ui.errors import attempt, shown_errors
from ui.identity import current_user
from ui.notices import notify_after_rerun, show_notices

shop = get_shop()
user = current_user()
session_id = open_session_id()

page_header(
    "History, replay and fork",
    shop,
    caption="Every step of the conversation is a checkpoint in its Bedrock session. "
    "Pick one to see its state, replay the steps after it, or fork a new branch with an edit.",
)
if not session_id:
    st.info("Open or start a conversation first.", icon=":material/chat:")
    st.page_link("views/shop.py", label="Go to the shop", icon=":material/storefront:")
    st.stop()

show_notices("history")
views = attempt(shop.history, user, session_id, doing="reading the checkpoints") or []
if not views:
    st.info("This conversation has no checkpoints yet: send a message on the Shop page.")
    st.stop()
by_id = {view.checkpoint_id: view for view in views}

selected = st.selectbox(
    "Checkpoint",
    options=list(by_id),
    format_func=lambda checkpoint_id: label(by_id[checkpoint_id]),
    key="history-checkpoint",
    help="● on the current branch (what the chat shows), ○ on another branch.",
)
view = by_id[selected]

with st.container(horizontal=True, key="history-metrics"):
    st.metric("Checkpoints", len(views), border=True)
    st.metric("Branches", branch_count(views), border=True)
    st.metric("Newest step", views[0].step, border=True)

with st.container(border=True, key="branch-tree"):
    st.markdown("**Branch tree** · blue: current branch · yellow: selected checkpoint")
    # Natural size keeps the labels readable; a long tree scrolls sideways (see theme.css).
    st.graphviz_chart(branch_tree_dot(views, selected), width="content")

timeline_table(views, selected)

state_column, action_column = st.columns([1.4, 1], gap="large")
state = attempt(shop.checkpoint, user, session_id, selected, doing="reading the checkpoint")

with state_column:
    st.subheader(f"State at step {view.step}", anchor=False)
    messages_tab, cart_tab, raw_tab = st.tabs(["Messages", "Cart", "Raw"])
    with messages_tab, st.container(height=360, key="checkpoint-messages"):
        conversation(state.turns if state else [])
    with cart_tab:
        if state is not None and state.cart:
            st.dataframe(state.cart, hide_index=True, width="stretch")
        else:
            st.caption("The cart was empty at this checkpoint.")
    with raw_tab:
        if state is not None:
            st.json(state.raw, expanded=1)

with action_column:
    st.subheader("From this checkpoint", anchor=False)
    if st.button("Replay from here", icon=":material/replay:", key="history-replay"):
        with shown_errors("replaying"), st.spinner("Replaying the steps after this checkpoint…"):
            shop.replay(user, session_id, selected)
            notify_after_rerun("success", f"Replayed from step {view.step}.", scope="history")
            st.rerun()

    if st.button(
        "Copy into a new conversation",
        icon=":material/content_copy:",
        key="history-copy",
        help="A new Bedrock session with this conversation's whole history, continuing from "
        "this checkpoint (which must end a turn).",
    ):
        with shown_errors("copying the conversation"), st.spinner("Copying every checkpoint…"):
            copied = shop.fork_conversation(user, session_id, selected)
            select_conversation(copied)
            notify_after_rerun(
                "success",
                f"Copied into a new conversation ({copied}); the chat now follows the copy.",
                scope="history",
            )
            st.rerun()

    if state is not None:
        fork_form(shop, user, session_id, state)

    leaves = [v for v in views if not v.children and not v.on_current_branch]
    if leaves:
        with st.container(border=True, key="branch-switch"):
            leaf = st.selectbox(
                "Other branches",
                options=[v.checkpoint_id for v in leaves],
                format_func=lambda checkpoint_id: label(by_id[checkpoint_id]),
                key="history-branch",
            )
            if st.button("Switch to this branch", icon=":material/alt_route:", key="branch-go"):
                with shown_errors("switching branches"):
                    shop.switch_branch(user, session_id, leaf)
                    notify_after_rerun("success", "Switched branch.", scope="history")
                    st.rerun()
