"""Who is using the app: sign-in, sign-out, and the signed-in principal for every page.

Two ways in, both ending in an application `Principal` that every `Shop` call receives:

- **Username and password** (the embedded default; the demo accounts are in the README and
  printed by `shoe-assistant up`). `Shop.sign_in` checks the Argon2 hash, counts failures and
  locks the account after too many, and returns a signed token. The token is kept in this
  browser's session state and in a cookie (SameSite=Strict), so a reload stays signed in;
  `Sign out` revokes it in the shop database, so a copy of the cookie is useless afterwards.
- **OpenID Connect** (deployments, e.g. Amazon Cognito): when `.streamlit/secrets.toml` has an
  `[auth]` section, the page offers Streamlit's own `st.login()`; `st.user`'s verified e-mail
  address is mapped to a shop account by `Shop.principal_for_identity` (see ui/oidc.py).

The URL never says who you are: the principal comes only from a password, a token the shop
signed, or the identity provider.
"""

from __future__ import annotations

import json

import streamlit as st

from assistant.application import (
    AccountLocked,
    NotSignedIn,
    Principal,
    Shop,
    SignInRefused,
)
from ui import oidc

COOKIE = "shoe_assistant_sign_in"
_TOKEN = "identity.token"  # the sign-in token of this browser session
_PRINCIPAL = "identity.principal"  # the signed-in Principal, for pages
_SIGNED_OUT = "identity.signed_out"  # this browser session signed out: ignore the old cookie
_COOKIE_TO_SET = "identity.cookie_to_set"  # written on the next run (st.rerun drops widgets)


def sign_in(shop: Shop) -> Principal:
    """The signed-in principal; shows the sign-in page and stops the run when there is none."""
    if "user" in st.query_params:  # old links said who you were; the URL no longer does
        del st.query_params["user"]
    principal = oidc.principal(shop) if oidc.enabled() else _from_token(shop)
    if _COOKIE_TO_SET in st.session_state:
        _set_cookie(shop, st.session_state.pop(_COOKIE_TO_SET))
    if principal is None:
        st.session_state.pop(_PRINCIPAL, None)
        _sign_in_page(shop)
        st.stop()
    st.session_state[_PRINCIPAL] = principal
    _sidebar(shop, principal)
    return principal


def current_user() -> Principal:
    """The signed-in principal (set by `sign_in`, which `ui/app.py` runs before any page)."""
    principal = st.session_state.get(_PRINCIPAL)
    if principal is None:
        st.error("Nobody is signed in. Open the app from its start page.")
        st.stop()
    return principal


def _from_token(shop: Shop) -> Principal | None:
    token = st.session_state.get(_TOKEN)
    if token is None and not st.session_state.get(_SIGNED_OUT):
        token = st.context.cookies.get(COOKIE)  # a reload: the cookie of the last sign-in
    if not token:
        return None
    try:
        principal = shop.principal(token)
    except NotSignedIn as error:
        st.session_state.pop(_TOKEN, None)
        st.session_state[_COOKIE_TO_SET] = None
        st.info(str(error))
        return None
    st.session_state[_TOKEN] = token
    return principal


def _sign_in_page(shop: Shop) -> None:
    st.title(":material/steps: Shoe assistant")
    if oidc.enabled():
        oidc.sign_in_button()
        return
    with st.form("sign-in", enter_to_submit=True):
        st.subheader("Sign in")
        username = st.text_input("Username", autocomplete="username")
        password = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary")
    st.caption(
        "Demo accounts (published demo values, not secrets): shoppers `alice`, `carol` "
        "(tenant-a) and `bob` (tenant-b); operators `olga` (tenant-a) and `oscar` (tenant-b); "
        "admin `ada`. Each password is `demo-` followed by the username."
    )
    if not submitted:
        return
    try:
        principal, token = shop.sign_in(username, password)
    except AccountLocked as error:
        st.error(str(error), icon=":material/lock:")
        return
    except SignInRefused as error:
        st.error(str(error), icon=":material/error:")
        return
    st.session_state[_TOKEN] = token
    st.session_state[_PRINCIPAL] = principal
    st.session_state.pop(_SIGNED_OUT, None)
    st.session_state[_COOKIE_TO_SET] = token
    _forget_conversation()
    st.rerun()


def _sidebar(shop: Shop, principal: Principal) -> None:
    with st.sidebar:
        st.markdown(f"Signed in as **{principal.display_name}** · {principal.role}")
        if st.button("Sign out", icon=":material/logout:", key="identity.sign-out"):
            _sign_out(shop)


def _sign_out(shop: Shop) -> None:
    if oidc.enabled():
        st.session_state.pop(_PRINCIPAL, None)
        _forget_conversation()
        st.logout()
        return
    shop.sign_out(st.session_state.pop(_TOKEN, None))
    st.session_state.pop(_PRINCIPAL, None)
    st.session_state[_SIGNED_OUT] = True
    st.session_state[_COOKIE_TO_SET] = None
    _forget_conversation()
    st.rerun()


def _set_cookie(shop: Shop, token: str | None) -> None:
    """Keep (or clear) the sign-in token in a cookie of this site, for reloads.

    Streamlit has no server-side way to set a cookie, so a script in the page sets it on the
    app's own origin. The cookie holds only the signed
    token, lives as long as the sign-in does, and sign-out revokes the token itself.
    """
    value = json.dumps(f"{COOKIE}={token or ''}")
    seconds = 0 if token is None else int(shop.settings.web_sign_in_hours * 3600)
    secure = "; Secure" if (st.context.url or "").startswith("https") else ""
    st.html(
        f"<script>document.cookie = {value} + "
        f"'; Path=/; Max-Age={seconds}; SameSite=Strict{secure}';</script>",
        unsafe_allow_javascript=True,
    )


def _forget_conversation() -> None:
    # A conversation belongs to one user; the next one starts without one.
    from ui.components.conversations import select_conversation

    select_conversation(None)
