"""`shoe-assistant chat | approvals | sessions` end to end, each command a new process.

The commands run as a workshop learner or an operator runs them: configured by environment
variables, against the local session service over HTTP and the same SQLite catalog the test's
`Shop` uses (the "browser" side of the story). Independent commands run at the same time, as in
several terminals, each signed in as a demo user (`as_user`: a token in SHOE_ASSISTANT_TOKEN) or
through `shoe-assistant login`. Failures must exit non-zero with exactly one line on stderr.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from shop_scenarios import waiting_checkout

from assistant.application.shop import Shop
from assistant.shopdb import get_approval, recent_orders, stock_by_size

APPROVAL_FIELDS = {"id", "session_id", "user", "total", "status", "items", "order_id"}
SESSION_FIELDS = {"session_id", "user", "tenant", "title", "status", "updated_at"}


def test_chat_one_shot_interactive_and_operator_decisions_from_another_terminal(
    shop: Shop, shop_cli, signed_in
) -> None:
    alice, bob = signed_in(shop, "alice"), signed_in(shop, "bob")
    # Two shoppers at once: alice one message at a time (--json), bob in the interactive loop.
    alice_chat = shop_cli.start("chat", "--json", "trail shoes under $150", as_user="alice")
    bob_chat = shop_cli.start(
        "chat",
        stdin="running shoes\n   \nadd the first one in size 10\ncheckout\nare we done?\n",
        as_user="bob",
    )
    one_shot, interactive = alice_chat.finish(), bob_chat.finish()

    assert one_shot.returncode == 0, one_shot.stderr
    answer = json.loads(one_shot.stdout)
    assert set(answer) >= {"session_id", "reply", "cart", "pending_approval", "products"}
    assert answer["products"] and answer["cart"] == [] and answer["pending_approval"] is None
    assert all(p["category"] == "trail" and p["price"] <= 150 for p in answer["products"])
    alice_session = answer["session_id"]
    assert [c.session_id for c in shop.conversations(alice)] == [alice_session]

    assert interactive.returncode == 0, interactive.stderr
    transcript = interactive.stdout
    assert transcript.startswith("session: ")
    bob_session = transcript.split()[1]
    assert "assistant> Your message is empty" in transcript  # the blank line, answered politely
    assert "waiting for store approval: apr-" in transcript
    assert "assistant> Your order is waiting for store approval" in transcript  # "are we done?"
    bob_pending = shop.pending_approval(bob, bob_session)
    assert bob_pending is not None and bob_pending.user == "bob"

    # alice continues in the web app (this process) up to her checkout.
    shop.send(alice, alice_session, "add the first one in size 9")
    alice_pending = shop.send(alice, alice_session, "checkout").pending_approval
    product_id = alice_pending.items[0]["product_id"]
    stock_before = stock_by_size(shop.engine, product_id)[9.0]

    # Each store's operator sees the checkout of their own tenant: olga alice's, oscar bob's.
    olgas, oscars = (
        command.finish()
        for command in [
            shop_cli.start("approvals", "list", "--json", as_user="olga"),
            shop_cli.start("approvals", "list", "--json", as_user="oscar"),
        ]
    )
    assert olgas.returncode == 0, olgas.stderr
    assert oscars.returncode == 0, oscars.stderr
    queue = json.loads(olgas.stdout) + json.loads(oscars.stdout)
    assert [row["id"] for row in json.loads(olgas.stdout)] == [alice_pending.id]
    assert [row["id"] for row in json.loads(oscars.stdout)] == [bob_pending.id]
    assert all(set(row) >= APPROVAL_FIELDS and row["status"] == "pending" for row in queue)
    by_id = {row["id"]: row for row in queue}
    assert by_id[alice_pending.id]["session_id"] == alice_session
    assert by_id[alice_pending.id]["user"] == "alice"
    assert by_id[alice_pending.id]["total"] == pytest.approx(alice_pending.total)

    # Approve alice's (with a discount, which makes it an edit) and reject bob's, at once.
    approve = shop_cli.start(
        "approvals",
        "approve",
        alice_pending.id,
        "--discount",
        "5",
        "--quantity",
        f"{product_id}:9=2",
        "--json",
        as_user="olga",
    )
    reject = shop_cli.start(
        "approvals",
        "reject",
        bob_pending.id,
        "--reason",
        "We cannot ship to your address",
        as_user="oscar",
    )
    approved, rejected = approve.finish(), reject.finish()

    assert approved.returncode == 0, approved.stderr
    outcome = json.loads(approved.stdout)
    [order] = recent_orders(shop.engine)
    assert outcome["session_id"] == alice_session and outcome["cart"] == []
    assert order.id in outcome["reply"]
    assert order.discount_pct == 5
    assert [(line.product_id, line.size, line.quantity) for line in order.lines] == [
        (product_id, 9.0, 2)
    ]
    assert stock_by_size(shop.engine, product_id)[9.0] == stock_before - 2
    assert get_approval(shop.engine, alice_pending.id).order_id == order.id
    # The shopper's page (this process) sees the outcome without doing anything.
    assert shop.current(alice, alice_session).reply == outcome["reply"]

    assert rejected.returncode == 0, rejected.stderr
    assert "We cannot ship to your address" in rejected.stdout
    assert "We cannot ship to your address" in shop.current(bob, bob_session).reply
    assert get_approval(shop.engine, bob_pending.id).status == "rejected"
    assert get_approval(shop.engine, bob_pending.id).decided_by == "oscar"

    # Deciding again: non-zero, one line, nothing changed.
    twice = shop_cli.run("approvals", "approve", alice_pending.id, as_user="olga")
    error = shop_cli.error_line(twice)
    assert alice_pending.id in error and "already approved" in error
    rejected_twice = shop_cli.run(
        "approvals", "reject", "apr-00000000", "--reason", "x", as_user="olga"
    )
    assert "apr-00000000" in shop_cli.error_line(rejected_twice)
    assert len(recent_orders(shop.engine)) == 1
    assert stock_by_size(shop.engine, product_id)[9.0] == stock_before - 2


def test_sessions_list_show_end_delete_cleanup_and_their_errors(
    shop: Shop, shop_cli, session_service_url: str, signed_in
) -> None:
    alice, bob, ada = signed_in(shop, "alice"), signed_in(shop, "bob"), signed_in(shop, "ada")
    kept = shop.new_conversation(alice)
    shop.send(alice, kept, "hiking boots")
    shop.send(alice, kept, "add the first one in size 8.5")
    ended = shop.new_conversation(alice)
    shop.send(alice, ended, "sandals")
    deleted = shop.new_conversation(alice)
    bobs = shop.new_conversation(bob)

    listing, show, nobody = (
        command.finish()
        for command in [
            shop_cli.start("sessions", "list", "--json", as_user="alice"),
            shop_cli.start("sessions", "show", kept, "--json", as_user="alice"),
            shop_cli.start("login", "nobody", "--password-stdin", stdin="demo-nobody\n"),
        ]
    )
    assert listing.returncode == 0, listing.stderr
    rows = json.loads(listing.stdout)
    assert {row["session_id"] for row in rows} == {kept, ended, deleted}  # not bob's
    assert all(set(row) == SESSION_FIELDS and row["status"] == "ACTIVE" for row in rows)
    assert {row["title"] for row in rows} >= {"hiking boots", "sandals"}

    assert show.returncode == 0, show.stderr
    shown = json.loads(show.stdout)
    assert shown["session_id"] == kept and shown["status"] == "ACTIVE"
    assert [m["text"] for m in shown["messages"] if m["type"] == "human"] == [
        "hiking boots",
        "add the first one in size 8.5",
    ]
    assert shown["cart"] == shop.current(alice, kept).cart and len(shown["cart"]) == 1
    assert shown["pending_approval"] is None

    assert "Wrong username or password" in shop_cli.error_line(nobody)  # no such shop user

    end, delete, foreign = (
        command.finish()
        for command in [
            shop_cli.start("sessions", "end", ended, "--json", as_user="alice"),
            shop_cli.start("sessions", "delete", deleted, as_user="alice"),
            shop_cli.start("sessions", "end", bobs, as_user="alice"),
        ]
    )
    assert end.returncode == 0, end.stderr
    assert json.loads(end.stdout) == {"session_id": ended, "status": "ENDED"}
    assert delete.returncode == 0, delete.stderr
    assert bobs in shop_cli.error_line(foreign)  # alice cannot end bob's conversation

    client = boto3.client(
        "bedrock-agent-runtime",
        endpoint_url=session_service_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    assert client.get_session(sessionIdentifier=ended)["sessionStatus"] == "ENDED"
    assert client.get_session(sessionIdentifier=bobs)["sessionStatus"] == "ACTIVE"
    with pytest.raises(ClientError) as missing:
        client.get_session(sessionIdentifier=deleted)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"

    to_ended = shop_cli.run("chat", "--session", ended, "--json", "hello", as_user="alice")
    assert "ended" in shop_cli.error_line(to_ended)
    texts = [m.text for m in shop.messages(alice, ended)]
    assert texts[0] == "sandals" and "hello" not in texts  # nothing lost, nothing added

    # The store's admin: idle for more than 0 days = every conversation left, bob's too.
    cleanup = shop_cli.run("sessions", "cleanup", "--older-than-days", "0", "--json", as_user="ada")
    assert cleanup.returncode == 0, cleanup.stderr
    assert set(json.loads(cleanup.stdout)["deleted"]) == {kept, ended, bobs}
    assert shop.conversations(ada) == []
    for session_id in (kept, ended, bobs):
        with pytest.raises(ClientError):
            client.get_session(sessionIdentifier=session_id)


def test_a_script_that_resends_with_the_same_message_id_never_runs_a_turn_twice(
    shop: Shop, shop_cli, signed_in
) -> None:
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes in size 9")
    add = ("chat", "--session", session_id, "--json")

    first = shop_cli.run(
        *add, "--message-id", "m-1", "add the first one in size 9", as_user="alice"
    )
    again = shop_cli.run(
        *add, "--message-id", "m-1", "add the first one in size 9", as_user="alice"
    )

    assert first.returncode == again.returncode == 0, again.stderr
    assert [line["quantity"] for line in json.loads(again.stdout)["cart"]] == [1]
    assert json.loads(again.stdout)["cart"] == json.loads(first.stdout)["cart"]


def test_approvals_list_marks_a_copied_checkout_that_repeats_an_order(
    shop: Shop, shop_cli, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes in size 9")
    shop.send(alice, session_id, "add the first one in size 9")
    before_checkout = shop.history(alice, session_id)[0].checkpoint_id
    bought = shop.send(alice, session_id, "checkout").pending_approval
    shop.decide(olga, bought.id, {"action": "approve"})
    [order] = shop.orders(alice)
    copy = shop.fork_conversation(alice, session_id, before_checkout)
    repeat = shop.send(alice, copy, "checkout").pending_approval

    listing = shop_cli.run("approvals", "list", as_user="olga")
    as_json = shop_cli.run("approvals", "list", "--json", as_user="olga")

    assert f"{repeat.id}" in listing.stdout and f"[repeat of order {order.id}]" in listing.stdout
    [row] = [row for row in json.loads(as_json.stdout) if row["id"] == repeat.id]
    assert row["repeat_of_order"] == order.id


def token_file(shop_cli) -> Path:
    """Where `login` keeps its token in these tests (the test's tmp, never the real ~/.config)."""
    return Path(shop_cli.env["CLI_TOKEN_FILE"])


def test_login_keeps_a_private_token_that_whoami_and_shop_commands_act_on(
    shop: Shop, shop_cli, signed_in
) -> None:
    login = shop_cli.run("login", "alice", "--password-stdin", stdin="demo-alice\n")

    assert login.returncode == 0, login.stderr
    path = token_file(shop_cli)
    assert "alice" in login.stdout and str(path) in login.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "demo-alice" not in path.read_text()  # a signed token, not the password
    whoami = shop_cli.run("whoami")
    assert whoami.returncode == 0, whoami.stderr
    assert whoami.stdout.strip() == "alice (shopper, tenant tenant-a)"
    chat = shop_cli.run("chat", "--json", "trail shoes")
    assert chat.returncode == 0, chat.stderr
    mine = shop.conversations(signed_in(shop, "alice"))
    assert [c.session_id for c in mine] == [json.loads(chat.stdout)["session_id"]]


def test_a_wrong_password_is_one_line_and_signs_nobody_in(shop_cli) -> None:
    wrong = shop_cli.run("login", "alice", "--password-stdin", stdin="demo-bob\n")

    assert wrong.returncode == 1
    assert "Wrong username or password" in shop_cli.error_line(wrong)
    assert not token_file(shop_cli).exists()


def test_logout_ends_the_sign_in_even_for_a_kept_copy_of_the_token(shop_cli) -> None:
    login = shop_cli.run("login", "alice", "--password-stdin", stdin="demo-alice\n")
    assert login.returncode == 0, login.stderr
    old_token = token_file(shop_cli).read_text()

    logout = shop_cli.run("logout")

    assert logout.returncode == 0, logout.stderr
    assert "Signed out" in logout.stdout and not token_file(shop_cli).exists()
    token_file(shop_cli).write_text(old_token)  # a copy kept somewhere, put back
    stale = shop_cli.run("whoami")
    assert stale.returncode == 1
    assert "sign in again" in shop_cli.error_line(stale)


def test_a_shopper_cannot_decide_checkouts_not_even_their_own(
    shop: Shop, shop_cli, signed_in
) -> None:
    _, approval_id = waiting_checkout(shop, signed_in(shop, "alice"))

    own, other = (
        command.finish()
        for command in [
            shop_cli.start("approvals", "approve", approval_id, as_user="alice"),
            shop_cli.start("approvals", "reject", approval_id, "--reason", "x", as_user="carol"),
        ]
    )

    assert own.returncode == other.returncode == 1
    assert "Only an operator may decide checkouts" in shop_cli.error_line(own)
    assert "Only an operator may decide checkouts" in shop_cli.error_line(other)
    assert get_approval(shop.engine, approval_id).status == "pending"
    assert recent_orders(shop.engine) == []


def test_no_command_works_without_a_sign_in(shop: Shop, shop_cli, signed_in) -> None:
    alice = signed_in(shop, "alice")
    session_id, approval_id = waiting_checkout(shop, alice)
    commands = [
        ("whoami",),
        ("chat", "--json", "trail shoes"),
        ("chat", "--session", session_id, "hello"),
        ("sessions", "list"),
        ("sessions", "show", session_id),
        ("sessions", "end", session_id),
        ("sessions", "delete", session_id),
        ("sessions", "cleanup", "--older-than-days", "0"),
        ("approvals", "list"),
        ("approvals", "approve", approval_id),
        ("approvals", "reject", approval_id, "--reason", "x"),
    ]

    # Three terminals at a time: eleven Pythons importing LangChain at once on a busy machine
    # would outlast the CLI timeout.
    for first in range(0, len(commands), 3):
        batch = commands[first : first + 3]
        started = [shop_cli.start(*command) for command in batch]
        for command, running in zip(batch, started, strict=True):
            process = running.finish()
            assert process.returncode == 1, command
            assert "not signed in" in shop_cli.error_line(process), command
    assert [c.session_id for c in shop.conversations(alice)] == [session_id]
    assert shop.open(alice, session_id).status == "ACTIVE"
    assert get_approval(shop.engine, approval_id).status == "pending"
