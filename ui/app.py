"""The web app's entry point: `streamlit run ui/app.py` (what `shoe-assistant up` starts).

It signs the user in (demo users in the sidebar), settles which conversation is open, and shows
the pages the user's role may see: shoppers get Shop, History and Audit of their own sessions;
store operators get the Operator console and Audit of every session.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run ui/app.py` puts ui/ on sys.path, not the project root that holds the packages.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import streamlit as st  # noqa: E402

from ui.backend import get_shop  # noqa: E402
from ui.components.conversations import conversation_sidebar, restore_conversation  # noqa: E402
from ui.errors import attempt  # noqa: E402
from ui.identity import sign_in  # noqa: E402
from ui.notices import show_notices  # noqa: E402

PAGES = Path(__file__).parent / "views"

st.set_page_config(page_title="Shoe assistant", page_icon="👟", layout="wide")
# A workshop audience needs no "Deploy" button or developer menu in the toolbar.
st.set_option("client.toolbarMode", "minimal")
st.html(Path(__file__).with_name("theme.css"))

shop = attempt(get_shop, doing="opening the shop")
if shop is None:
    st.stop()

user = sign_in(shop)
show_notices()

if user.is_operator:
    pages = [
        st.Page(
            PAGES / "operator_console.py",
            title="Operator console",
            icon=":material/fact_check:",
            url_path="operator",
            default=True,
        ),
        st.Page(
            PAGES / "audit.py", title="Audit", icon=":material/manage_search:", url_path="audit"
        ),
    ]
else:
    mine = restore_conversation(shop, user)
    pages = [
        st.Page(
            PAGES / "shop.py",
            title="Shop",
            icon=":material/storefront:",
            url_path="shop",
            default=True,
        ),
        st.Page(
            PAGES / "history.py",
            title="History",
            icon=":material/account_tree:",
            url_path="history",
        ),
        st.Page(
            PAGES / "audit.py", title="Audit", icon=":material/manage_search:", url_path="audit"
        ),
    ]
    conversation_sidebar(shop, user, mine)

st.navigation(pages, position="sidebar").run()
