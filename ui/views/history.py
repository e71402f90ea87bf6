"""History page: every checkpoint of the conversation, its state, replay, fork and branches."""

from __future__ import annotations

import streamlit as st

from assistant.history import branch_count, branch_tree_dot
from ui.backend import get_shop
from ui.components.badges import page_header
from ui.components.chat import conversation
from ui.components.checkpoints import label, last_shopper_message, state_json, timeline_table
from ui.components.conversations import open_session_id, select_conversation
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
views = attempt(shop.history, session_id, doing="reading the checkpoints") or []
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
snapshot = attempt(shop.state_at, session_id, selected, doing="reading the checkpoint")
values = (snapshot.values or {}) if snapshot else {}

with state_column:
    st.subheader(f"State at step {view.step}", anchor=False)
    messages_tab, cart_tab, raw_tab = st.tabs(["Messages", "Cart", "Raw"])
    with messages_tab, st.container(height=360, key="checkpoint-messages"):
        conversation(values.get("messages", []))
    with cart_tab:
        cart = values.get("cart") or []
        if cart:
            st.dataframe(cart, hide_index=True, width="stretch")
        else:
            st.caption("The cart was empty at this checkpoint.")
    with raw_tab:
        if snapshot is not None:
            st.json(state_json(snapshot), expanded=1)

with action_column:
    st.subheader("From this checkpoint", anchor=False)
    if st.button("Replay from here", icon=":material/replay:", key="history-replay"):
        with shown_errors("replaying"), st.spinner("Replaying the steps after this checkpoint…"):
            shop.replay(user.username, session_id, selected)
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
            copied = shop.fork_conversation(user.username, session_id, selected)
            select_conversation(copied)
            notify_after_rerun(
                "success",
                f"Copied into a new conversation ({copied}); the chat now follows the copy.",
                scope="history",
            )
            st.rerun()

    with st.form("fork-form", border=True):
        st.markdown("**Fork from here** with an edited shopper message and/or cart")
        original = last_shopper_message(values)
        edited_message = st.text_area(
            "Shopper's message", value=original, key=f"fork-message-{selected}", height=90
        )
        cart = values.get("cart") or []
        edited_cart = (
            st.data_editor(
                [{**line} for line in cart],
                key=f"fork-cart-{selected}",
                hide_index=True,
                width="stretch",
                disabled=["product_id", "name", "size", "unit_price"],
                column_config={
                    "quantity": st.column_config.NumberColumn(min_value=0, max_value=10, step=1),
                    "unit_price": st.column_config.NumberColumn(format="$%.2f"),
                },
            )
            if cart
            else []
        )
        if st.form_submit_button("Fork from here", icon=":material/call_split:", type="primary"):
            message = edited_message.strip()
            new_cart = [dict(line) for line in edited_cart if int(line["quantity"]) > 0]
            changed_cart = new_cart != [dict(line) for line in cart]
            with shown_errors("forking"), st.spinner("Forking a new branch…"):
                shop.fork(
                    user.username,
                    session_id,
                    selected,
                    message=message if message != original else None,
                    cart=new_cart if changed_cart else None,
                )
                notify_after_rerun(
                    "success",
                    f"Forked from step {view.step}: the chat now follows the new branch.",
                    scope="history",
                )
                st.rerun()

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
                    shop.switch_branch(user.username, session_id, leaf)
                    notify_after_rerun("success", "Switched branch.", scope="history")
                    st.rerun()
