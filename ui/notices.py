"""Messages that must survive one `st.rerun()`: set before the rerun, shown after it.

A page that changes the conversation reruns itself so everything on screen is read back from
the session; what happened (or went wrong) is carried over the rerun here.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

Kind = Literal["success", "info", "warning", "error"]
_KEY = "notices.pending"
_ICONS = {
    "success": ":material/check_circle:",
    "info": ":material/info:",
    "warning": ":material/warning:",
    "error": ":material/error:",
}


def notify_after_rerun(kind: Kind, text: str, *, scope: str = "page") -> None:
    """Queue a message for the next run of the page named `scope`."""
    st.session_state.setdefault(_KEY, []).append((scope, kind, text))


def show_notices(scope: str = "page") -> None:
    """Show (once) the messages queued for `scope`."""
    queued = st.session_state.get(_KEY, [])
    keep = []
    for item_scope, kind, text in queued:
        if item_scope != scope:
            keep.append((item_scope, kind, text))
            continue
        getattr(st, kind)(text, icon=_ICONS[kind])
    st.session_state[_KEY] = keep
