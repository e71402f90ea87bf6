"""The operator's side of a checkout: the pending queue, one decision form per checkout, orders
and past decisions.

Each waiting checkout has one form: a quantity per line, a discount and a note to the shopper.
The widgets are not in an `st.form`, so every change reruns the console and the new total is
previewed at once, priced by `Shop.preview_decision` with the code that prices the order.
Approve sends the decision the widgets hold together with the total on screen; if they differ
(a change made in the same instant as the click), the Shop refuses and nothing is charged.
Reject needs the note, which is its reason. There is no other way to approve.

A decision goes to `Shop.decide`, which claims the approval atomically: when two operators (or
an operator and the shopper cancelling) act on the same checkout, the second is refused
(`AlreadyDecided`) and told so; the refusal stays on screen until the next decision, even though
the card leaves the queue on the next refresh.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from assistant.application import (
    MAX_QUANTITY_PER_LINE,
    ApprovalView,
    DecisionPreview,
    Principal,
    Shop,
    approval_decision,
    line_key,
)
from ui.components.approval import order_lines_table
from ui.errors import readable

__all__ = ["console", "line_key"]

QUEUE_REFRESH_SECONDS = 3.0
MAX_DISCOUNT_PCT = 50
_LAST_OUTCOME = "operator.last_outcome"
NOTHING = "—"


def money(amount: float | None) -> str:
    """An amount as the console shows it: `$1,234.50`."""
    return f"${float(amount or 0):,.2f}"


@st.fragment(run_every=QUEUE_REFRESH_SECONDS)
def console(shop: Shop, operator: Principal) -> None:
    """The whole console, refreshed by itself: the queue beside recent orders, then decisions."""
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
    # Full width: who decided what, when and why must be readable without scrolling sideways.
    st.subheader(":material/history: Decided checkouts", anchor=False)
    decided_table(shop, operator)


def approval_queue(shop: Shop, operator: Principal) -> None:
    """Pending checkouts across all sessions, oldest first, each with its decision form."""
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
    """One checkout: who, what, the total asked; the decision form while it is pending."""
    approval_id = approval.id
    with st.container(border=True, key=f"approval-{approval_id}"):
        head, total = st.columns([3, 1])
        head.markdown(
            f"**{approval.user}** · tenant `{approval.tenant}` · checkout `{approval_id}`  \n"
            f"session `{approval.session_id}` · {approval.created_at[:19]}"
        )
        total.metric("Asked", money(approval.total or approval.subtotal))
        if approval.repeat_of_order:
            st.warning(
                f"Repeat of order **{approval.repeat_of_order}**: this exact cart was already "
                "bought in the conversation this one was copied from.",
                icon=":material/content_copy:",
            )
        if getattr(approval, "replay_of_order", None):
            st.info(
                f"Replay of an earlier checkout: the shopper replayed or edited the conversation "
                f"from before it. Approving reuses order **{approval.replay_of_order}** as it was "
                "placed (its lines and total, not charged again); edits and a discount here do "
                "not change it.",
                icon=":material/replay:",
            )
        if approval.status == "deciding":
            note = f" Last attempt failed: {approval.last_error}" if approval.last_error else ""
            st.info(
                f"Being decided by {approval.decided_by} (attempt {approval.attempts}); it "
                f"finishes by itself if that was interrupted.{note}",
                icon=":material/autorenew:",
            )
        order_lines_table(approval.items)
        if approval.status == "pending":
            decision_form(shop, operator, approval)


def decision_form(shop: Shop, operator: Principal, approval: ApprovalView) -> None:
    """Quantities, discount and note; the total they make, live; Approve and Reject."""
    approval_id = approval.id
    for line in approval.items:
        st.number_input(
            f"{line.get('name', line['product_id'])} · size {float(line['size']):g}",
            min_value=0,
            max_value=MAX_QUANTITY_PER_LINE,
            value=int(line["quantity"]),
            step=1,
            key=_quantity_key(approval_id, line),
            help="Pairs to order; 0 removes the line.",
        )
    st.slider("Discount %", 0, MAX_DISCOUNT_PCT, 0, key=f"discount-{approval_id}")
    st.text_input(
        "Note to the shopper (required to reject)",
        key=f"note-{approval_id}",
        max_chars=500,
        placeholder="Shown in the shopper's chat with your decision",
    )
    preview = None
    with st.container(key=f"preview-{approval_id}"):
        try:
            preview = shop.preview_decision(operator, approval_id, _decision(approval))
        except Exception as error:
            st.warning(readable(error, "pricing the decision"), icon=":material/warning:")
        else:
            preview_total(preview)
    approve, reject = st.columns(2)
    # Callbacks run before the rerun, so the refreshed queue already shows the result.
    approve.button(
        f"Approve · {money(preview.total)}" if preview else "Approve",
        key=f"approve-{approval_id}",
        type="primary",
        icon=":material/check:",
        disabled=preview is None or not preview.places_order,
        on_click=_approve,
        args=(shop, operator, approval, preview.total if preview else None),
        width="stretch",
    )
    reject.button(
        "Reject",
        key=f"reject-{approval_id}",
        icon=":material/block:",
        on_click=_reject,
        args=(shop, operator, approval),
        width="stretch",
    )


def preview_total(preview: DecisionPreview) -> None:
    """The total the order will have, and how it differs from what the shopper asked."""
    if not preview.places_order:
        st.warning(
            "Every line is set to 0: approving would order nothing. Set a quantity, or reject.",
            icon=":material/remove_shopping_cart:",
        )
        return
    change = round(preview.total - preview.asked_total, 2)
    st.metric(
        "New total" if preview.action == "edit" else "Total",
        money(preview.total),
        delta=f"{'-' if change < 0 else '+'}{money(abs(change))}" if change else None,
        delta_color="off",
    )
    pairs = sum(line.quantity for line in preview.lines)
    discount = f" − {preview.discount_pct:g}%" if preview.discount_pct else ""
    st.caption(
        f"{pairs} pair{'s' if pairs != 1 else ''} · subtotal {money(preview.subtotal)}"
        f"{discount} = {money(preview.total)}, catalog prices, as the order will be charged."
    )


def _quantity_key(approval_id: str, line: dict) -> str:
    return f"qty-{approval_id}-{line_key(line)}"


def _decision(approval: ApprovalView) -> dict:
    """The approving decision the form's widgets hold right now."""
    quantities = {
        line_key(line): int(st.session_state.get(_quantity_key(approval.id, line), 0))
        for line in approval.items
    }
    return approval_decision(
        approval.items,
        quantities,
        st.session_state.get(f"discount-{approval.id}", 0),
        st.session_state.get(f"note-{approval.id}"),
    )


def _approve(
    shop: Shop, operator: Principal, approval: ApprovalView, shown_total: float | None
) -> None:
    decision = _decision(approval)
    try:
        result = shop.decide(operator, approval.id, decision, expected_total=shown_total)
    except Exception as error:
        st.session_state[_LAST_OUTCOME] = ("error", readable(error, "approving the checkout"))
        return
    how = "approved with changes" if decision["action"] == "edit" else "approved"
    discount = decision.get("discount_pct") or 0
    off = f" ({discount:g}% off)" if discount else ""
    _told(approval.id, f"{how}{off}: {money(shown_total)} charged", result)


def _reject(shop: Shop, operator: Principal, approval: ApprovalView) -> None:
    reason = (st.session_state.get(f"note-{approval.id}") or "").strip()
    if not reason:
        st.session_state[_LAST_OUTCOME] = (
            "error",
            f"Checkout {approval.id} was not rejected: a rejection needs a reason the shopper "
            "can read. Write it in the note, then press Reject again.",
        )
        return
    try:
        result = shop.decide(operator, approval.id, {"action": "reject", "reason": reason})
    except Exception as error:
        st.session_state[_LAST_OUTCOME] = ("error", readable(error, "rejecting the checkout"))
        return
    _told(approval.id, "rejected", result)


def _told(approval_id: str, what: str, result) -> None:
    text = f"Checkout {approval_id} {what}."
    if result is not None and result.reply:
        text += f" The shopper was told: “{result.reply[:160]}”"
    st.session_state[_LAST_OUTCOME] = ("success", text)


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
    """Checkouts already decided: how, for how much, by whom, when and why."""
    try:
        decided = [
            a
            for a in shop.approvals(operator, None)
            if a.status in ("approved", "rejected", "failed", "cancelled")
        ]
    except Exception as error:
        st.warning(readable(error, "loading the decisions"))
        return
    if not decided:
        st.caption("No decisions yet.")
        return
    with st.container(key="decided-checkouts"):
        st.dataframe(
            [decided_row(a) for a in decided],
            hide_index=True,
            width="stretch",
            column_config={
                "Outcome": st.column_config.TextColumn(width="medium"),
                "Total": st.column_config.TextColumn(width="medium"),
                "Note or reason": st.column_config.TextColumn(width="large"),
            },
        )


def decided_row(approval: ApprovalView) -> dict[str, str]:
    """One decided checkout in words: nothing shown as `None`, money as money."""
    charged = approval.status == "approved"
    return {
        "Checkout": approval.id,
        "Shopper": approval.user,
        "Outcome": approval.outcome,
        "Total": money(approval.total) if charged else f"{money(approval.total)}, not charged",
        "By": approval.decided_by or NOTHING,
        "When (UTC)": _when(approval.decided_at),
        "Note or reason": (approval.reason or "").strip() or NOTHING,
        "Order": approval.order_id or NOTHING,
    }


def _when(stamp: str | None) -> str:
    if not stamp:
        return NOTHING
    try:
        return f"{datetime.fromisoformat(stamp):%Y-%m-%d %H:%M}"
    except ValueError:
        return stamp[:16]
