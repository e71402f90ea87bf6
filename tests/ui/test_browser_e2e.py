"""The real web app in a real browser: sign-in, a purchase approved by an operator, a fork, a
reload, and what a shopper is refused.

Starts the local session service and `streamlit run ui/app.py` as subprocesses on free ports
(temporary databases), drives Debian's Chromium with Playwright (never a downloaded browser) and
stops both servers at the end. Two browser contexts are two people: the shopper (alice) and the
store operator (olga). Screenshots of every page go to `shoe-assistant-screenshots/` in the
system's temporary folder (a test run writes nothing into the checkout); with
`UPDATE_SCREENSHOTS=1` they also replace those in `docs/screenshots/` for the README.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(tempfile.gettempdir()) / "shoe-assistant-screenshots"
DOCS_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]
STEP_TIMEOUT_MS = 30_000  # one UI step (a turn, a rerun, a fork); generous on 2 shared cores
VIEWPORT = {"width": 1440, "height": 960}
expect.set_options(timeout=STEP_TIMEOUT_MS)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    """Block until `url` answers 200, or fail with the server's log if it dies or never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {seconds:.0f}s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """Stop one server we started: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the web app started the way a newcomer starts it: `shoe-assistant up`.

    So the session store checks every request's signature and the infra/ policy, and the app
    talks to it with one key per tenant. Everything it writes (databases, keys) goes to a
    temporary folder.
    """
    # scripts/test.sh installs Debian's chromium; without it this test must fail, not hide.
    assert Path(CHROMIUM).exists(), f"Debian's chromium is not installed at {CHROMIUM}"
    folder = tmp_path_factory.mktemp("browser")
    service_port, app_port = free_port(), free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME", "SESSION_ENDPOINT_URL")
    }
    env.update(
        {
            "LOCAL_SESSION_HOST": "127.0.0.1",
            "LOCAL_SESSION_PORT": str(service_port),
            "LOCAL_SESSION_DB": str(folder / "sessions.db"),
            "SESSION_CREDENTIALS_FILE": str(folder / "session-credentials.json"),
            "DATABASE_URL": f"sqlite:///{folder / 'shop.db'}",
            "SECRET_KEY_FILE": str(folder / "secret-key"),
            "SESSION_STORE": "local",
            "MODEL": "offline",
        }
    )
    log = folder / "up.log"
    with log.open("w") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "up", "--port", str(app_port)],
            cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        app = f"http://127.0.0.1:{app_port}"
        wait_for(f"{app}/_stcore/health", up, log)
        printed = log.read_text()
        assert "checks signatures" in printed, printed
        assert "demo-alice" in printed, printed  # the demo accounts, for workshops
        yield app
        # Tracebacks in the log mean a page failed somewhere, even if it looked fine.
        assert "Traceback" not in log.read_text(), log.read_text()[-5000:]
    finally:
        stop(up)


@pytest.fixture(scope="module")
def browser(app_url: str) -> Iterator:
    """Headless Debian Chromium driven by Playwright."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def screenshot(page, name: str) -> None:
    """Save a screenshot of the whole page under ARTIFACTS (the temporary folder).

    Streamlit scrolls inside its main element, not the document, so the viewport is made as tall
    as the page's content for the shot (bounded) and put back afterwards.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        "() => (document.querySelector('[data-testid=\"stMain\"]') || document.body).scrollHeight"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(height, 960), 2400)})
    page.wait_for_timeout(800)  # let images and the graph finish drawing at the new size
    page.screenshot(path=ARTIFACTS / f"{name}.png")
    page.set_viewport_size(VIEWPORT)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / f"{name}.png", DOCS_SCREENSHOTS / f"{name}.png")


def say(page, text: str) -> None:
    """Type a message into the chat box and send it."""
    box = page.get_by_test_id("stChatInputTextArea")
    expect(box).to_be_enabled(timeout=STEP_TIMEOUT_MS)
    box.fill(text)
    box.press("Enter")


def open_page(page, title: str) -> None:
    """Follow a link of the sidebar menu."""
    page.get_by_test_id("stSidebar").get_by_role("link", name=title).click()


def sign_in(page, app_url: str, username: str, password: str | None = None) -> None:
    """Open the app and sign in through its form (demo password unless one is given)."""
    page.goto(app_url)
    form = page.get_by_test_id("stForm")
    form.get_by_role("textbox", name="Username").fill(username)
    form.get_by_role("textbox", name="Password").fill(password or f"demo-{username}")
    form.get_by_role("button", name="Sign in").click()


def metric_value(page, label: str):
    """The value element of the metric with this label."""
    return (
        page.get_by_test_id("stMetric")
        .filter(has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True))
        .get_by_test_id("stMetricValue")
    )


def test_purchase_approval_fork_and_reload(app_url: str, browser) -> None:
    """Shopper buys, operator approves (shopper sees it live), shopper forks, reload resumes."""
    shopper = browser.new_context(viewport=VIEWPORT).new_page()
    shopper.set_default_timeout(STEP_TIMEOUT_MS)
    sign_in(shopper, app_url, "alice")
    expect(shopper.get_by_role("heading", name="Shoe shop")).to_be_visible()
    expect(shopper.get_by_test_id("stSidebar")).to_contain_text("Signed in as Alice")
    expect(shopper.locator(".st-key-runtime-badges")).to_contain_text("offline")

    # Search: product cards with pictures, and the session id lands in the URL.
    say(shopper, "trail shoes under $150 in size 8.5")
    cards = shopper.locator("[class*='st-key-product-']")
    expect(cards.first).to_be_visible()
    expect(cards.first.locator("img")).to_be_visible()
    shopper.wait_for_url(re.compile(r"session="))
    session_id = re.search(r"session=([\w-]+)", shopper.url).group(1)
    screenshot(shopper, "shop")

    # Add to cart: the cart panel shows the line and the total.
    say(shopper, "add the second one")
    cart = shopper.locator(".st-key-cart-panel")
    expect(cart).to_contain_text("Cart (1)")
    expect(cart).to_contain_text("$130.00")

    # Checkout: the conversation waits for the store.
    say(shopper, "checkout")
    expect(shopper.locator(".st-key-approval-waiting")).to_be_visible()
    expect(shopper.get_by_test_id("stChatInputTextArea")).to_be_disabled()
    screenshot(shopper, "shop-waiting")

    # The operator, in a second browser context, sees the checkout and approves it.
    operator = browser.new_context(viewport=VIEWPORT).new_page()
    operator.set_default_timeout(STEP_TIMEOUT_MS)
    sign_in(operator, app_url, "olga")
    card = operator.locator("[class*='st-key-approval-apr-']").first
    expect(card).to_contain_text("alice")
    expect(card).to_contain_text("Scree Ultra 5")
    screenshot(operator, "operator")
    # 20 % off: the new total is previewed as the slider moves, and Approve charges exactly it.
    slider = card.get_by_role("slider")
    slider.focus()
    for _ in range(20):
        slider.press("ArrowRight")
    expect(card.locator("[class*='st-key-preview-']")).to_contain_text("$104.00")
    card.get_by_role("button", name="Approve · $104.00").click()
    expect(operator.locator(".st-key-decision-success")).to_contain_text(
        "approved with changes (20% off): $104.00 charged"
    )
    expect(operator.locator("[class*='st-key-approval-apr-']")).to_have_count(0)

    # The shopper's page shows the decision by itself (no reload), once, at the discounted total.
    outcome = shopper.locator(".st-key-checkout-outcome-edited")
    expect(outcome).to_contain_text("$104.00")
    expect(shopper.locator(".st-key-approval-waiting")).to_have_count(0)
    chat = shopper.locator(".st-key-chat").inner_text()
    assert len(re.findall(r"\$104(?:\.00)?(?!\d|\.\d)", chat)) == 1, chat
    expect(shopper.locator(".st-key-cart-panel")).to_contain_text("Cart (0)")
    screenshot(shopper, "shop-approved")

    # History, by turn: the checkout turn is selected. Replaying it would send the checkout to
    # the store again: the page says what happens, and Replay waits for a tick.
    open_page(shopper, "History")
    expect(metric_value(shopper, "Branches")).to_have_text("1")
    tree = shopper.locator(".st-key-branch-tree")
    dots = tree.locator("g.mark-symbol path[aria-label*='Turn: ']")  # one per turn
    expect(dots).to_have_count(3)
    story = shopper.locator(".st-key-history-turn-story")
    expect(story).to_contain_text("You: checkout")
    actions = shopper.locator(".st-key-history-actions")
    warning = actions.get_by_test_id("stAlert").first
    expect(warning).to_contain_text("goes to the store again")
    expect(warning).to_contain_text("nothing is charged twice")
    replay = actions.get_by_role("button", name="Replay this turn")
    expect(replay).to_be_disabled()
    shopper.locator("[class*='st-key-replay-confirm-'] label").click()
    expect(replay).to_be_enabled()

    # A click on the first turn's dot selects it; fork it with an edited message.
    dots.and_(tree.locator("[aria-label*='Turn: Turn 1;']")).click()
    expect(story).to_contain_text("You: trail shoes under $150 in size 8.5")
    message = shopper.locator("[class*='st-key-fork-message-'] textarea")
    # While the page reruns, the previous turn's form may still be on screen: wait it out.
    expect(message).to_have_count(1)
    expect(message).to_have_value("trail shoes under $150 in size 8.5")
    message.fill("running shoes under $120 in size 8.5")
    shopper.get_by_role("button", name="Fork with this message").click()
    expect(metric_value(shopper, "Branches")).to_have_text("2")
    expect(story).to_contain_text("Turn 1 (edited)")
    expect(dots).to_have_count(4)
    screenshot(shopper, "history")

    # Audit: the raw session data of this conversation, with its export.
    open_page(shopper, "Audit")
    expect(shopper.locator(".st-key-audit-session-summary")).to_contain_text("ACTIVE")
    expect(shopper.get_by_role("button", name="Download as JSON")).to_be_visible()
    screenshot(shopper, "audit")

    # The chat follows the new branch, and a reload comes back to the same conversation.
    open_page(shopper, "Shop")
    expect(shopper.locator(".st-key-chat")).to_contain_text("running shoes under $120")
    shopper.reload()
    expect(shopper.locator(".st-key-chat")).to_contain_text("running shoes under $120")
    assert f"session={session_id}" in shopper.url
    assert "user=" not in shopper.url  # the cookie of the sign-in, not the URL, says who it is
    expect(shopper.get_by_test_id("stSidebar")).to_contain_text("Signed in as Alice")
    screenshot(shopper, "shop-after-fork")

    operator.context.close()
    shopper.context.close()


def test_sign_in_is_required_refused_and_revoked(app_url: str, browser) -> None:
    """A wrong password is refused; the URL makes nobody anyone; a shopper asking for the
    Operator console is told it is not theirs; after sign-out a reload asks to sign in."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)

    page.goto(f"{app_url}/operator?user=olga")  # an old link that used to make you olga
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Operator console")).to_have_count(0)

    sign_in(page, app_url, "carol", "not-her-password")
    expect(page.get_by_test_id("stAlert")).to_contain_text("Wrong username or password")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "sign-in-refused")

    sign_in(page, app_url, "carol")
    expect(page.get_by_role("heading", name="Shoe shop")).to_be_visible()
    expect(
        page.get_by_test_id("stSidebar").get_by_role("link", name="Operator console")
    ).to_have_count(0)
    page.goto(f"{app_url}/operator")  # asked for by URL: refused in words, after a reload
    expect(page.get_by_test_id("stAlert")).to_contain_text(
        "The Operator console is only for store operators"
    )
    expect(page.locator("[class*='st-key-approval-apr-']")).to_have_count(0)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.context.close()
