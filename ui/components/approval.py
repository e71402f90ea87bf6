"""The shopper's "waiting for store approval" state, which updates by itself.

While a checkout waits, a fragment polls `Shop.pending_approval(session_id)` every few seconds.
When the operator has decided, the pending approval is gone (the graph has resumed and written the
outcome), so the fragment reruns the whole page, which then shows the outcome in the chat: no
manual reload. The shopper may cancel the checkout from here (`Shop.cancel_checkout`); if the
store decided first, the cancel is refused and the page says so with the store's decision.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from assistant.application import AlreadyDecided, Principal, Shop
from ui.errors import readable
from ui.notices import notify_after_rerun

POLL_SECONDS = 2.0
_CANCEL_REFUSED = "approval.cancel_refused"


def order_lines_table(items: list[dict]) -> None:
    """The lines of a checkout as a small table: product, size, quantity, prices."""
    st.dataframe(
        [
            {
                "Product": line.get("name", line.get("product_id")),
                "Size": f"{float(line.get('size', 0)):g}",
                "Qty": int(line.get("quantity", 0)),
                "Unit": float(line.get("unit_price", 0)),
                "Line total": round(
                    int(line.get("quantity", 0)) * float(line.get("unit_price", 0)), 2
                ),
            }
            for line in items
        ],
        hide_index=True,
        width="stretch",
        column_config={
            "Unit": st.column_config.NumberColumn(format="$%.2f"),
            "Line total": st.column_config.NumberColumn(format="$%.2f"),
        },
    )


@st.fragment(run_every=POLL_SECONDS)
def waiting_for_store(shop: Shop, who: Principal, session_id: str) -> None:
    """The waiting banner; reruns the page as soon as the store has decided."""
    try:
        pending = shop.pending_approval(who, session_id)
    except Exception as error:  # keep polling: the service may be back on the next tick
        st.warning(readable(error, "checking the store's decision"), icon=":material/sync_problem:")
        return
    if pending is None:
        st.rerun(scope="app")
    refused = st.session_state.pop(_CANCEL_REFUSED, None)
    with st.container(border=True, key="approval-waiting"):
        st.markdown(
            f":material/hourglass_top: **Waiting for store approval** · "
            f"total **${float(pending.total or pending.subtotal or 0):,.2f}**"
        )
        st.caption(
            f"Checkout `{pending.id}` is in the store's queue. This page updates by itself "
            f"when an operator decides (checked {datetime.now():%H:%M:%S})."
        )
        if refused:
            st.warning(refused, icon=":material/warning:")
        if pending.status == "pending":
            st.button(
                "Cancel checkout",
                key="approval-cancel",
                icon=":material/cancel:",
                help="The store will not get this order; your cart stays, so you can change "
                "it and check out again.",
                on_click=_cancel,
                args=(shop, who, session_id),
            )
        else:
            st.caption(f":material/autorenew: {pending.outcome.capitalize()}…")


def _cancel(shop: Shop, who: Principal, session_id: str) -> None:
    try:
        shop.cancel_checkout(who, session_id)
    except AlreadyDecided as error:
        # The store's decision is what the page shows next: say why with it.
        notify_after_rerun("warning", f"Too late to cancel: {error}", scope="shop")
    except Exception as error:  # still waiting: say it in the banner
        st.session_state[_CANCEL_REFUSED] = readable(error, "cancelling the checkout")
