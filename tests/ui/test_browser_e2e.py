"""The real web app in a real browser: sign-in, a purchase approved by an operator, a fork, a
reload, what a shopper is refused, product cards, the cart's buttons, an edit in the chat with
its ‹1/2›, and a purchase on a phone-sized screen.

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
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS, STEP_TIMEOUT_MS, free_port, stop, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(tempfile.gettempdir()) / "shoe-assistant-screenshots"
DOCS_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
SERVED_ENV: dict[str, str] = {}  # the environment `up` runs with (for `shop_of_the_app`)
VIEWPORT = {"width": 1440, "height": 960}
PHONE = {"width": 390, "height": 844}
expect.set_options(timeout=STEP_TIMEOUT_MS)


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
    SERVED_ENV.update(env)
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
def shop_of_the_app(app_url: str) -> Iterator:
    """The Shop facade on the app's own databases and session store, for a store decision
    made outside the browser (the Operator console has its own test above)."""
    from assistant.application import Shop
    from assistant.settings import Settings

    with pytest.MonkeyPatch.context() as patch:
        for name, value in SERVED_ENV.items():
            patch.setenv(name, value)
        shop = Shop(Settings(_env_file=None))
    yield shop
    shop.engine.dispose()


@pytest.fixture(scope="module")
def browser(app_url: str) -> Iterator:
    """Headless Debian Chromium driven by Playwright."""
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def screenshot(page, name: str, viewport: dict = VIEWPORT, *, whole_page: bool = True) -> None:
    """Save a screenshot of the whole page (or only what the screen shows) under ARTIFACTS (the
    temporary folder).

    Streamlit scrolls inside its main element (inside the scroll-to-bottom container when a chat
    box is pinned at the bottom), not the document, so the viewport is made as tall as the page's
    content for the shot (bounded) and put back afterwards.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        """() => Math.max(document.body.scrollHeight, ...['stMain', 'stAppScrollToBottomContainer']
            .map(id => document.querySelector(`[data-testid="${id}"]`)?.scrollHeight || 0))"""
    )
    tall = min(max(height, viewport["height"]), 2400) if whole_page else viewport["height"]
    page.set_viewport_size({"width": viewport["width"], "height": tall})
    page.wait_for_timeout(800)  # let images and the graph finish drawing at the new size
    page.screenshot(path=ARTIFACTS / f"{name}.png")
    page.set_viewport_size(viewport)
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(ARTIFACTS / f"{name}.png", DOCS_SCREENSHOTS / f"{name}.png")


def settled(page) -> None:
    """Wait until the page's script run is over (while it runs, the previous run's elements can
    still be on screen beside the new ones)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def press(page, key: str) -> None:
    """Click the button with this Streamlit key (a button with help is drawn twice, one hidden)."""
    page.locator(f".st-key-{key}").get_by_role("button").click()


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
    press(shopper, "about-session")  # the model and the store are one click away
    expect(shopper.locator(".st-key-runtime-badges")).to_contain_text("offline")
    shopper.keyboard.press("Escape")

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


def card(page, name: str):
    """The product card of the shoe named `name`."""
    return page.locator("[class*='st-key-product-']").filter(has_text=name)


def test_cards_cart_buttons_and_an_edit_in_the_chat(app_url: str, browser) -> None:
    """Add from a card, − and + in the cart, edit the first message in place, ‹ back to it."""
    shopper = browser.new_context(viewport=VIEWPORT).new_page()
    shopper.set_default_timeout(STEP_TIMEOUT_MS)
    sign_in(shopper, app_url, "alice")
    press(shopper, "starter-0")  # "Trail shoes under $150 in size 8.5"
    scree = card(shopper, "Scree Ultra 5")
    expect(scree.get_by_role("button", name="Add to cart")).to_be_enabled()
    expect(scree).not_to_contain_text("TRL-")  # no catalog ids on a card
    # Her size is picked, with the pairs left in it.
    in_her_size = re.compile(r"^8\.5 · (\d+ in stock|only \d+ left)$")
    expect(scree.get_by_role("combobox")).to_have_value(in_her_size)
    settled(shopper)
    scree.get_by_role("button", name="Add to cart").click()
    cart = shopper.locator(".st-key-cart-panel")
    expect(cart).to_contain_text("Cart (1)")
    settled(shopper)
    expect(shopper.locator(".st-key-chat")).to_contain_text("You added 1 × ")

    shopper.locator("[class*='st-key-cart-more-side-']").get_by_role("button").click()
    expect(cart).to_contain_text("Cart (2)")
    expect(cart).to_contain_text("$260.00")
    shopper.locator("[class*='st-key-cart-less-side-']").get_by_role("button").click()
    expect(cart).to_contain_text("Cart (1)")

    # Edit the first message right in the chat: a new version, the old one a click away.
    press(shopper, "edit-0")
    box = shopper.locator(".st-key-edit-text-0 textarea")
    expect(box).to_have_value("Trail shoes under $150 in size 8.5")
    box.fill("running shoes under $120")
    press(shopper, "edit-send-0")
    versions = shopper.locator(".st-key-versions-message-0")
    expect(versions).to_contain_text("2/2")
    settled(shopper)
    expect(shopper.locator(".st-key-chat")).to_contain_text("running shoes under $120")
    expect(cart).to_contain_text("Cart (0)")  # the cart as it was at that message
    screenshot(shopper, "shop-edit")
    press(shopper, "message-0-previous")
    expect(versions).to_contain_text("1/2")
    settled(shopper)
    expect(shopper.locator(".st-key-chat")).to_contain_text("You added 1 × ")
    expect(cart).to_contain_text("Cart (1)")
    press(shopper, "message-0-next")
    expect(versions).to_contain_text("2/2")
    shopper.context.close()


def test_a_phone_sized_screen_completes_a_purchase(app_url: str, browser, shop_of_the_app) -> None:
    """390×844: no scroll box inside the page, the cart at the top, sign in to approved order."""
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.set_default_timeout(STEP_TIMEOUT_MS)
    sign_in(phone, app_url, "bob")
    expect(phone.get_by_role("heading", name="Shoe shop")).to_be_visible()
    say(phone, "trail shoes under $150")
    first = phone.locator("[class*='st-key-product-']").first
    expect(first.get_by_role("button", name="Add to cart")).to_be_enabled()  # his size, 10.5
    settled(phone)  # the turn's run is over, so the click is not lost in it
    first.get_by_role("button", name="Add to cart").click()
    summary = phone.locator(".st-key-cart-summary")
    expect(summary).to_contain_text("Cart (1)")
    settled(phone)

    # The chat is the page: no box of its own that scrolls inside the scrolling page.
    chat = phone.locator(".st-key-chat")
    expect(chat).to_contain_text("You added 1 × ")
    assert chat.evaluate("e => !['auto', 'scroll'].includes(getComputedStyle(e).overflowY)")
    assert chat.evaluate("e => e.clientHeight") > PHONE["height"]  # it grows with the page
    # The cart column would sit under the whole chat: the cart is a button at the top instead.
    expect(phone.locator(".st-key-cart-panel")).to_be_hidden()
    expect(summary).to_be_visible()
    assert summary.bounding_box()["y"] < PHONE["height"] / 2
    summary.get_by_role("button").click()
    top_cart = phone.locator(".st-key-cart-panel-top")
    expect(top_cart).to_be_visible()
    top_cart.locator("[class*='st-key-cart-more-top-']").get_by_role("button").click()
    expect(summary).to_contain_text("Cart (2)")
    phone.keyboard.press("Escape")

    say(phone, "checkout")
    waiting = phone.locator(".st-key-approval-waiting")
    expect(waiting).to_be_visible()
    waiting.scroll_into_view_if_needed()
    screenshot(phone, "shop-phone", PHONE, whole_page=False)  # as the phone shows it

    # The store approves (through the Shop, as the console would); the phone sees it by itself.
    oscar, _ = shop_of_the_app.sign_in("oscar", "demo-oscar")
    [checkout] = [a for a in shop_of_the_app.approvals(oscar) if a.user == "bob"]
    shop_of_the_app.decide(oscar, checkout.id, {"action": "approve"})
    expect(phone.locator(".st-key-checkout-outcome-approved")).to_be_visible()
    expect(summary).to_contain_text("Cart (0)")
    phone.context.close()
