"""Sign-in through OpenID Connect (st.login / st.user / st.logout) in a real browser, against a
real OpenID Connect provider.

The provider is panva's certified `oidc-provider` from npm (tests/oidc/provider.mjs, installed
from its package-lock.json into tests/oidc/node_modules when missing), standing in for an Amazon
Cognito user pool: discovery, authorization code with PKCE, a signed ID token, RP-initiated
logout. The app runs with a secrets file in a temporary folder whose `[auth]` section points at
it (Streamlit's `--secrets.files`), so nothing is written into the checkout. Debian's Chromium
signs alice and olga in through the provider's own sign-in form, and mallory, whom the provider
knows but the shop does not, is refused.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS, STEP_TIMEOUT_MS, free_port, stop, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROVIDER_DIR = PROJECT_ROOT / "tests" / "oidc"
CLIENT_ID = "shoe-assistant"
VIEWPORT = {"width": 1280, "height": 900}
expect.set_options(timeout=STEP_TIMEOUT_MS)


@dataclass(frozen=True)
class OidcApp:
    """The running app and the provider it signs people in with."""

    url: str
    issuer: str


def install_provider() -> None:
    """`npm ci` in tests/oidc when its node_modules is missing or older than the lock file.

    scripts/test.sh does the same before pytest runs; this covers a bare `pytest` run. Only the
    npm registry is needed, and the install stays in tests/oidc/node_modules (git-ignored).
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "node and npm are needed for the OpenID Connect provider (tests/oidc)"
    installed = PROVIDER_DIR / "node_modules" / ".package-lock.json"
    lock = PROVIDER_DIR / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    result = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PROVIDER_DIR,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0:
        pytest.fail(f"npm ci in {PROVIDER_DIR} failed:\n{result.stdout}\n{result.stderr}")


def secrets_file(folder: Path, *, app_url: str, issuer: str, client_secret: str) -> Path:
    """The app's secrets.toml with an `[auth]` section for the provider (in the test's tmp)."""
    path = folder / "secrets.toml"
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "{app_url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{CLIENT_ID}"\n'
        f'client_secret = "{client_secret}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def oidc_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcApp]:
    """The provider, a fresh session service and shop database, and the app signing in with it."""
    assert Path(CHROMIUM).exists(), f"Debian's chromium is not installed at {CHROMIUM}"
    install_provider()
    folder = tmp_path_factory.mktemp("oidc")
    provider_port, service_port, app_port = free_port(), free_port(), free_port()
    issuer = f"http://127.0.0.1:{provider_port}"
    service_url = f"http://127.0.0.1:{service_port}"
    app_url = f"http://127.0.0.1:{app_port}"
    client_secret = secrets.token_urlsafe(24)
    provider_env = {
        **os.environ,
        "OIDC_CLIENT_SECRET": client_secret,  # in the environment, not on a command line
    }
    app_env = {
        **os.environ,
        "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME": service_url,
        "DATABASE_URL": f"sqlite:///{folder / 'shop.db'}",
        "SESSION_STORE": "local",
        "MODEL": "offline",
        "LOCAL_SESSION_IAM": "false",
        "SECRET_KEY_FILE": str(folder / "secret-key"),
    }
    secrets_path = secrets_file(folder, app_url=app_url, issuer=issuer, client_secret=client_secret)
    logs = {name: folder / f"{name}.log" for name in ("provider", "service", "streamlit")}
    processes: list[subprocess.Popen] = []
    try:
        with logs["provider"].open("w") as out:
            processes.append(
                subprocess.Popen(
                    ["node", "provider.mjs", "--port", str(provider_port), "--issuer", issuer,
                     "--client-id", CLIENT_ID, "--redirect-uri", f"{app_url}/oauth2callback"],
                    cwd=PROVIDER_DIR, env=provider_env, stdout=out, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        with logs["service"].open("w") as out:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bedrock_sessions_local", "--host", "127.0.0.1",
                     "--port", str(service_port), "--db", str(folder / "sessions.db")],
                    cwd=PROJECT_ROOT, env=app_env, stdout=out, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        wait_for(f"{issuer}/.well-known/openid-configuration", processes[0], logs["provider"])
        wait_for(f"{service_url}/health", processes[1], logs["service"])
        with logs["streamlit"].open("w") as out:
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "streamlit", "run", "ui/app.py",
                     "--server.port", str(app_port), "--server.address", "127.0.0.1",
                     "--server.headless", "true", "--browser.gatherUsageStats", "false",
                     "--secrets.files", str(secrets_path)],
                    cwd=PROJECT_ROOT, env=app_env, stdout=out, stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        wait_for(f"{app_url}/_stcore/health", processes[2], logs["streamlit"])
        yield OidcApp(url=app_url, issuer=issuer)
        # Tracebacks in a server log mean something failed, even if the page looked fine.
        for log in logs.values():
            assert "Traceback" not in log.read_text(), log.read_text()[-5000:]
    finally:
        for process in reversed(processes):
            stop(process)


@pytest.fixture(scope="module")
def browser(oidc_app: OidcApp) -> Iterator:
    """Headless Debian Chromium driven by Playwright."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator:
    """A page in a browser context of its own: one person, no cookies of anyone else."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    yield page
    context.close()


def at(url: str) -> re.Pattern:
    """A URL pattern for `url` itself, any path under it, and either with a query."""
    return re.compile(rf"^{re.escape(url.rstrip('/'))}([/?].*)?$")


def sign_in_with_provider(page, oidc_app: OidcApp, email: str) -> None:
    """From the app's sign-in page through the provider's form and back into the app."""
    page.goto(oidc_app.url)
    page.get_by_role("button", name="Sign in with your identity provider").click()
    page.wait_for_url(at(f"{oidc_app.issuer}/interaction"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(f"demo-{email.split('@')[0]}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(at(oidc_app.url))


def sign_out_of_provider(page, oidc_app: OidcApp) -> None:
    """Confirm the provider's sign-out page (RP-initiated logout) and land on the app again."""
    page.wait_for_url(at(f"{oidc_app.issuer}/session/end"))
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(at(oidc_app.url))


def expect_sign_in_page(page) -> None:
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in with your identity provider")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def test_a_shopper_signs_in_with_the_provider_stays_signed_in_and_signs_out(
    oidc_app: OidcApp, page
) -> None:
    """alice signs in at the provider, lands on the Shop signed in as Alice, survives a reload,
    and sign-out ends both the app's and the provider's sign-in."""
    page.goto(oidc_app.url)
    expect_sign_in_page(page)
    expect(page.get_by_test_id("stForm")).to_have_count(0)  # no password form in OIDC mode

    sign_in_with_provider(page, oidc_app, "alice@example.com")
    expect(page.get_by_role("heading", name="Shoe shop")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("Signed in as Alice")
    expect(sidebar.get_by_role("link", name="Operator console")).to_have_count(0)
    assert "_streamlit_user" in {cookie["name"] for cookie in page.context.cookies()}

    page.reload()  # Streamlit's identity cookie, not the browser session, says who this is
    expect(page.get_by_role("heading", name="Shoe shop")).to_be_visible()
    expect(sidebar).to_contain_text("Signed in as Alice")

    sidebar.get_by_role("button", name="Sign out").click()
    sign_out_of_provider(page, oidc_app)
    expect_sign_in_page(page)
    assert "_streamlit_user" not in {cookie["name"] for cookie in page.context.cookies()}
    page.reload()
    expect_sign_in_page(page)

    # The provider's own session ended too: signing in again asks for the password again.
    page.get_by_role("button", name="Sign in with your identity provider").click()
    page.wait_for_url(at(f"{oidc_app.issuer}/interaction"))
    expect(page.get_by_label("Password")).to_be_visible()


def test_an_operator_signs_in_with_the_provider_to_the_operator_console(
    oidc_app: OidcApp, page
) -> None:
    """olga's verified address is the operator account's: the Operator console, not the Shop."""
    sign_in_with_provider(page, oidc_app, "olga@example.com")
    expect(page.get_by_role("heading", name="Operator console")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text("Signed in as Olga")
    expect(sidebar).to_contain_text("operator")
    expect(sidebar.get_by_role("link", name="Shop")).to_have_count(0)


def test_an_address_without_a_shop_account_is_refused(oidc_app: OidcApp, page) -> None:
    """mallory is known to the provider but has no shop account: a readable refusal, no page,
    not by URL either, and a way to sign out and try another account."""
    sign_in_with_provider(page, oidc_app, "mallory@example.com")
    refusal = page.get_by_test_id("stAlert")
    expect(refusal).to_contain_text("No shop account belongs to mallory@example.com")
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()  # the last thing the refused run draws
    expect(page.get_by_role("heading", name="Shoe shop")).to_have_count(0)
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    expect(page.get_by_test_id("stPageLink")).to_have_count(0)
    expect(page.get_by_test_id("stChatInput")).to_have_count(0)

    page.goto(f"{oidc_app.url}/operator")
    expect(refusal).to_contain_text("No shop account belongs to mallory@example.com")
    expect(sign_out).to_be_visible()
    expect(page.get_by_role("heading", name="Operator console")).to_have_count(0)

    sign_out.click()
    sign_out_of_provider(page, oidc_app)
    expect_sign_in_page(page)
