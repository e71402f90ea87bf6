"""The one `Shop` of this Streamlit process.

Building a Shop opens the catalog database, the bedrock-agent-runtime client, the checkpointer and
the compiled graph: work worth doing once per process, not once per rerun or per browser tab.
"""

from __future__ import annotations

import streamlit as st

from assistant.application import Shop


@st.cache_resource(show_spinner="Opening the shop…")
def get_shop() -> Shop:
    """The process-wide Shop, built from the settings on first use (see assistant/settings.py).

    It also sweeps for checkout decisions a crashed process left half-done, every
    `APPROVAL_SWEEP_SECONDS`, for as long as the app runs.
    """
    shop = Shop()
    shop.start_sweeper()
    return shop
