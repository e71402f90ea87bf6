"""The web app's entry point: `streamlit run ui/app.py` (what `shoe-assistant up` starts).

It signs the user in (ui/identity.py: password or OpenID Connect), settles which conversation is
open, and shows the pages the user's role may see: shoppers get Shop, History and Audit of
their own sessions; store operators the Operator console and Audit of their tenant's sessions;
the admin Audit of every session. A page of another role asked for by URL says it is not
theirs. What each page may read is decided by the Shop, not here.
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


def _page(file: str, title: str, icon: str, url_path: str, **kwargs) -> st.Page:
    return st.Page(PAGES / file, title=title, icon=icon, url_path=url_path, **kwargs)


def _refused(title: str, who_may: str):
    """A page for a URL this role may not open: it says so, instead of a silent redirect."""

    def refused() -> None:
        st.error(
            f"The {title} is only for {who_may}. You are signed in as "
            f"{user.display_name} ({user.role}).",
            icon=":material/lock:",
        )

    return refused


OPERATOR = ("operator", "Operator console", ":material/fact_check:", "operator_console.py")
SHOPPER = [
    ("shop", "Shop", ":material/storefront:", "shop.py"),
    ("history", "History", ":material/account_tree:", "history.py"),
]
AUDIT = ("audit", "Audit", ":material/manage_search:", "audit.py")

if user.is_operator:
    allowed = [OPERATOR, AUDIT]
    refused = [(path, title, "shoppers") for path, title, _, _ in SHOPPER]
elif user.is_admin:
    allowed = [AUDIT]
    refused = [(OPERATOR[0], OPERATOR[1], "store operators")] + [
        (path, title, "shoppers") for path, title, _, _ in SHOPPER
    ]
else:
    mine = restore_conversation(shop, user)
    allowed = [*SHOPPER, AUDIT]
    refused = [(OPERATOR[0], OPERATOR[1], "store operators")]

pages = [
    _page(file, title, icon, path, default=index == 0)
    for index, (path, title, icon, file) in enumerate(allowed)
]
# Pages this role may not open stay reachable by URL only to say so; the menu never shows them.
hidden = [
    st.Page(_refused(title, who_may), title=title, icon=":material/lock:", url_path=path)
    for path, title, who_may in refused
]
with st.sidebar:
    for page in pages:
        st.page_link(page)
if user.is_shopper:
    conversation_sidebar(shop, user, mine)

st.navigation(pages + hidden, position="hidden").run()
