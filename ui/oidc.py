"""OpenID Connect sign-in through Streamlit's own `st.login` / `st.user` (deployments).

Turned on by an `[auth]` section in `.streamlit/secrets.toml` (see the README: Amazon Cognito
or any OpenID Connect provider). The provider proves who the person is; the shop decides what
they may do: `Shop.principal_for_identity` maps the verified e-mail address to a shop account
with its role and tenant, and refuses addresses no account has.
"""

from __future__ import annotations

import streamlit as st

from assistant.application import NotSignedIn, Principal, Shop


def enabled() -> bool:
    """True when the app is configured for an OpenID Connect provider."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError):
        return False
    except Exception:  # a secrets file that does not parse: no OIDC, and say so in the log
        return False


def principal(shop: Shop) -> Principal | None:
    """The shop principal of the signed-in OIDC user, or None (not signed in, or no account)."""
    if not st.user.is_logged_in:
        return None
    try:
        return shop.principal_for_identity(st.user.to_dict())
    except NotSignedIn as error:
        st.error(str(error))
        if st.button("Sign out", key="oidc.sign-out-unknown"):
            st.logout()
        st.stop()


def sign_in_button() -> None:
    """The "Sign in with …" button that starts the provider's sign-in (st.login)."""
    st.subheader("Sign in")
    st.caption("You sign in with your organisation's account; the shop never sees a password.")
    if st.button("Sign in with your identity provider", type="primary", key="oidc.sign-in"):
        st.login()
