"""OpenID Connect sign-in through Streamlit's own `st.login` / `st.user` (deployments).

Turned on by an `[auth]` section in the app's secrets (`.streamlit/secrets.toml`, or the files
of Streamlit's `secrets.files` option; see the README: Amazon Cognito or any OpenID Connect
provider). Streamlit runs the whole exchange (authorization code with PKCE, the ID token's
signature, issuer, audience and nonce) and keeps the identity in a signed cookie; `st.user` is
that ID token's claims. The provider proves who the person is; the shop decides what they may
do: `Shop.principal_for_identity` maps the verified e-mail address to a shop account with its
role and tenant, and refuses addresses no account has.
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAuthError

from assistant.application import NotSignedIn, Principal, Shop

_log = logging.getLogger(__name__)


def enabled() -> bool:
    """True when the app's secrets have an `[auth]` section (an OpenID Connect provider).

    No secrets file at all means the embedded password sign-in. A secrets file that exists but
    cannot be read stops the app with an error instead: a typo must not quietly turn the
    provider off and the password sign-in on.
    """
    try:
        return "auth" in st.secrets
    except FileNotFoundError as error:  # Streamlit's StreamlitSecretNotFoundError
        files = st.get_option("secrets.files") or []
        if not any(Path(file).exists() for file in files):
            return False
        _log.error("The secrets file could not be read, so nobody can sign in: %s", error)
        st.error(
            "Sign-in is not available: the app's secrets file could not be read. The log says why.",
            icon=":material/error:",
        )
        st.stop()


def principal(shop: Shop) -> Principal | None:
    """The shop principal of the signed-in OIDC user, or None when nobody is signed in.

    Someone the provider signed in but the shop does not know (no account has the address, or
    the provider does not vouch for it) sees why, with a way to sign out, and nothing else: the
    run stops here.
    """
    if not st.user.get("is_logged_in"):
        return None
    try:
        return shop.principal_for_identity(st.user.to_dict())
    except NotSignedIn as error:
        st.title(":material/steps: Shoe assistant")
        st.error(str(error), icon=":material/person_off:")
        st.caption("Sign out to try another account.")
        if st.button("Sign out", icon=":material/logout:", key="oidc.sign-out-unknown"):
            st.logout()
        st.stop()


def sign_in_button() -> None:
    """The "Sign in with your identity provider" button that starts the provider's sign-in."""
    st.subheader("Sign in")
    st.caption("You sign in with your organisation's account; the shop never sees a password.")
    if st.button("Sign in with your identity provider", type="primary", key="oidc.sign-in"):
        try:
            st.login()
        except StreamlitAuthError as error:  # an [auth] section without a needed key
            _log.error("st.login is misconfigured: %s", error)
            st.error(
                "Sign-in with the identity provider is not configured correctly. The log says why.",
                icon=":material/error:",
            )
