"""Operator console: the queue of checkouts waiting for the store, and recent orders.

(Not named operator.py: a page file of that name would shadow Python's `operator` module.)
"""

from __future__ import annotations

import streamlit as st

from ui.backend import get_shop
from ui.components.badges import page_header
from ui.components.decisions import console
from ui.identity import current_user

shop = get_shop()
user = current_user()
if not user.is_operator:  # ui/app.py never links it for them; the Shop refuses them anyway
    st.error("Only store operators may open the operator console.", icon=":material/lock:")
    st.stop()

page_header(
    "Operator console",
    shop,
    caption=f"Checkouts of {user.tenant} wait here for a decision. "
    "The queue refreshes by itself; the shopper sees your decision in their chat.",
)
console(shop, user)
