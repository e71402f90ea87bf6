"""The OpenID Connect branch of the sign-in (ui/oidc.py), headless with Streamlit's AppTest.

`AppTest.secrets` gives the run an `[auth]` section and `AppTest.user` is what `st.user` reads,
as Streamlit fills it from its identity cookie after a real sign-in (that exchange itself, with a
real provider, is tests/ui/test_browser_oidc.py). The shop is real: a fresh database of this
module and a local session service (tests/ui/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.runtime.secrets import secrets_singleton
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.timeout(180)

APP = str(Path(__file__).resolve().parents[2] / "ui" / "app.py")
RUN_TIMEOUT = 60  # seconds for one script run; the machine is small and shared
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "a-cookie-secret-for-the-tests-only",
    "client_id": "shoe-assistant",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}


def open_app(user: dict, auth: dict | None = None) -> AppTest:
    """One run of the app with an `[auth]` section and `user` as `st.user`."""
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    app.secrets["auth"] = dict(AUTH if auth is None else auth)
    app.user = user
    app.run()
    assert not app.exception, app.exception
    return app


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def signed_in_as(email: str, **claims) -> dict:
    """`st.user` after the provider signed `email` in (the ID token's claims)."""
    return {"is_logged_in": True, "email": email, "email_verified": True, **claims}


def test_the_sign_in_page_offers_the_provider_instead_of_the_password_form(app_env) -> None:
    app = open_app({"is_logged_in": False})
    assert [button.label for button in app.button] == ["Sign in with your identity provider"]
    assert not app.text_input  # no username or password fields
    assert "Signed in as" not in texts(app.sidebar.markdown)


def test_without_a_secrets_file_the_sign_in_is_the_password_form(app_env, tmp_path: Path) -> None:
    original = st.config.get_option("secrets.files")
    st.config.set_option("secrets.files", [str(tmp_path / "no-such-secrets.toml")])
    secrets_singleton._reset()
    try:
        app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
        app.run()
    finally:
        st.config.set_option("secrets.files", original)
        secrets_singleton._reset()
    assert not app.exception, app.exception
    assert [field.label for field in app.text_input] == ["Username", "Password"]
    assert not app.error


def test_a_verified_address_is_the_shop_account_that_has_it(app_env) -> None:
    app = open_app(signed_in_as("Alice@Example.com"))  # the case of the address does not matter
    assert "Signed in as **Alice** · shopper" in texts(app.sidebar.markdown)
    assert not app.error


def test_an_address_no_account_has_is_refused_with_a_way_out(app_env) -> None:
    app = open_app(signed_in_as("mallory@example.com"))
    assert texts(app.error) == (
        "No shop account belongs to mallory@example.com; ask the store to add you."
    )
    assert [button.label for button in app.button] == ["Sign out"]
    assert "Signed in as" not in texts(app.sidebar.markdown)


def test_an_address_the_provider_does_not_vouch_for_is_refused(app_env) -> None:
    app = open_app(signed_in_as("alice@example.com", email_verified=False))
    assert "did not share a verified e-mail address" in texts(app.error)
    assert "Signed in as" not in texts(app.sidebar.markdown)


def test_an_auth_section_missing_a_key_says_sign_in_is_misconfigured(app_env) -> None:
    incomplete = {key: value for key, value in AUTH.items() if key != "client_secret"}
    app = open_app({"is_logged_in": False}, auth=incomplete)
    app.button(key="oidc.sign-in").click().run()
    assert not app.exception, app.exception
    assert "not configured correctly" in texts(app.error)


def test_a_secrets_file_that_does_not_parse_stops_the_app(app_env, tmp_path: Path) -> None:
    """A typo in secrets.toml must not quietly turn the provider off and passwords on."""
    broken = tmp_path / "secrets.toml"
    broken.write_text('[auth]\nclient_id = "unterminated\n', encoding="utf-8")
    original = st.config.get_option("secrets.files")
    st.config.set_option("secrets.files", [str(broken)])
    secrets_singleton._reset()
    try:
        app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
        app.run()
    finally:
        st.config.set_option("secrets.files", original)
        secrets_singleton._reset()
    assert not app.exception, app.exception
    assert "secrets file could not be read" in texts(app.error)
    assert not app.text_input  # no password form
    assert not app.button
