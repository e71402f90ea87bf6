"""The operator's side of a checkout: the pending queue, decisions, orders.

A decision goes to `Shop.decide`, which claims the approval atomically: when two operators decide
the same checkout, the second is refused (`AlreadyDecided`) and told so; the refusal stays on
screen until the next decision, even though the card leaves the queue on the next refresh.
"""

from __future__ import annotations

import streamlit as st

from assistant.application import ApprovalView, Principal, Shop, line_key
from ui.components.approval import order_lines_table
from ui.errors import readable

QUEUE_REFRESH_SECONDS = 3.0
_LAST_OUTCOME = "operator.last_outcome"


def decide(shop: Shop, operator: Principal, approval_id: str, decision: dict) -> None:
    """Send one decision; remember what happened to show it above the queue."""
    try:
        result = shop.decide(operator, approval_id, decision)
    except Exception as error:
        st.session_state[_LAST_OUTCOME] = ("error", readable(error, "deciding the checkout"))
        return
    verb = {"approve": "approved", "edit": "approved with changes", "reject": "rejected"}
    text = f"Checkout {approval_id} {verb[decision['action']]}."
    if result is not None and result.reply:
        text += f" The shopper was told: “{result.reply[:160]}”"
    st.session_state[_LAST_OUTCOME] = ("success", text)


@st.fragment(run_every=QUEUE_REFRESH_SECONDS)
def console(shop: Shop, operator: Principal) -> None:
    """The whole console, refreshed by itself: the queue beside recent orders and decisions."""
    outcome = st.session_state.get(_LAST_OUTCOME)
    if outcome:
        kind, text = outcome
        with st.container(key=f"decision-{kind}"):
            getattr(st, kind)(text, icon=":material/info:")
    queue_column, orders_column = st.columns([3, 2], gap="large")
    with queue_column:
        approval_queue(shop, operator)
    with orders_column:
        st.subheader(":material/receipt_long: Recent orders", anchor=False)
        orders_table(shop, operator)
        st.subheader(":material/history: Decided checkouts", anchor=False)
        decided_table(shop, operator)


def approval_queue(shop: Shop, operator: Principal) -> None:
    """Pending checkouts across all sessions, newest first, with the decision controls."""
    try:
        # Decisions under way stay in sight until they are finished (by themselves if need be).
        pending = shop.approvals(operator, "pending") + shop.approvals(operator, "deciding")
    except Exception as error:
        st.warning(readable(error, "loading the queue"), icon=":material/sync_problem:")
        return
    st.subheader(f":material/pending_actions: Waiting for approval ({len(pending)})", anchor=False)
    if not pending:
        st.info(
            "No checkouts are waiting; this list refreshes by itself.",
            icon=":material/done_all:",
        )
        return
    for approval in pending:
        approval_card(shop, operator, approval)


def approval_card(shop: Shop, operator: Principal, approval: ApprovalView) -> None:
    """One pending checkout: who, what, totals; approve, edit or reject."""
    approval_id = approval.id
    with st.container(border=True, key=f"approval-{approval_id}"):
        head, total = st.columns([3, 1])
        head.markdown(
            f"**{approval.user}** · tenant `{approval.tenant}` · checkout `{approval_id}`  \n"
            f"session `{approval.session_id}` · {approval.created_at[:19]}"
        )
        total.metric("Total", f"${float(approval.total or approval.subtotal):,.2f}")
        if approval.repeat_of_order:
            st.warning(
                f"Repeat of order **{approval.repeat_of_order}**: this exact cart was already "
                "bought in the conversation this one was copied from.",
                icon=":material/content_copy:",
            )
        if approval.status == "deciding":
            note = f" Last attempt failed: {approval.last_error}" if approval.last_error else ""
            st.info(
                f"Being decided by {approval.decided_by} (attempt {approval.attempts}); it "
                f"finishes by itself if that was interrupted.{note}",
                icon=":material/autorenew:",
            )
        order_lines_table(approval.items)
        if approval.status != "pending":
            return
        st.button(
            "Approve",
            key=f"approve-{approval_id}",
            type="primary",
            icon=":material/check:",
            on_click=decide,
            args=(shop, operator, approval_id, {"action": "approve"}),
        )
        with (
            st.expander("Edit or reject", icon=":material/edit:"),
            st.form(f"decision-form-{approval_id}", border=False),
        ):
            for line in approval.items:
                st.number_input(
                    f"{line.get('name', line['product_id'])} · size {float(line['size']):g}",
                    min_value=0,
                    max_value=20,
                    value=int(line["quantity"]),
                    step=1,
                    key=f"qty-{approval_id}-{line_key(line)}",
                    help="0 removes the line.",
                )
            st.slider("Discount %", 0, 50, 0, key=f"discount-{approval_id}")
            st.text_input(
                "Reason (required to reject; shown to the shopper)",
                key=f"reason-{approval_id}",
                max_chars=500,
            )
            edit, reject = st.columns(2)
            # Callbacks run before the rerun, so the refreshed queue already shows the result.
            edit.form_submit_button(
                "Approve with changes",
                icon=":material/edit_note:",
                on_click=_decide_from_form,
                args=(shop, approval, operator, "edit"),
            )
            reject.form_submit_button(
                "Reject",
                icon=":material/block:",
                on_click=_decide_from_form,
                args=(shop, approval, operator, "reject"),
            )


def _decide_from_form(shop: Shop, approval: ApprovalView, operator: Principal, action: str) -> None:
    approval_id = approval.id
    reason = (st.session_state.get(f"reason-{approval_id}") or "").strip() or None
    decision: dict = {"action": action, "reason": reason}
    if action == "edit":
        decision["discount_pct"] = st.session_state.get(f"discount-{approval_id}", 0)
        decision["quantities"] = {
            line_key(line): int(st.session_state.get(f"qty-{approval_id}-{line_key(line)}", 0))
            for line in approval.items
        }
    decide(shop, operator, approval_id, decision)


def orders_table(shop: Shop, operator: Principal) -> None:
    """The most recent orders."""
    try:
        orders = shop.orders(operator)
    except Exception as error:
        st.warning(readable(error, "loading the orders"))
        return
    if not orders:
        st.caption("No orders yet.")
        return
    st.dataframe(
        [
            {
                "Order": order.id,
                "Shopper": order.user,
                "Items": ", ".join(
                    f"{line.quantity}× {line.name} ({line.size:g})" for line in order.lines
                ),
                "Subtotal": order.subtotal,
                "Discount %": order.discount_pct,
                "Total": order.total,
                "Placed (UTC)": order.created_at,
                "Session": order.session_id,
            }
            for order in orders
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Subtotal": st.column_config.NumberColumn(format="$%.2f"),
            "Total": st.column_config.NumberColumn(format="$%.2f"),
            "Placed (UTC)": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        },
    )


def decided_table(shop: Shop, operator: Principal) -> None:
    """Checkouts already decided: by whom, how, and why."""
    try:
        decided = [
            a
            for a in shop.approvals(operator, None)
            if a.status in ("approved", "rejected", "failed")
        ]
    except Exception as error:
        st.warning(readable(error, "loading the decisions"))
        return
    if not decided:
        st.caption("No decisions yet.")
        return
    st.dataframe(
        [
            {
                "Checkout": a.id,
                "Shopper": a.user,
                "Status": a.status,
                "By": a.decided_by,
                "Reason": a.reason,
                "Total": a.total,
                "Order": a.order_id,
            }
            for a in decided
        ],
        hide_index=True,
        width="stretch",
        column_config={"Total": st.column_config.NumberColumn(format="$%.2f")},
    )
