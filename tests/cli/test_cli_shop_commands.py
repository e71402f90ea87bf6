"""`shoe-assistant chat | approvals | sessions` end to end, each command a new process.

The commands run as a workshop learner or an operator runs them: configured by environment
variables, against the local session service over HTTP and the same SQLite catalog the test's
`Shop` uses (the "browser" side of the story). Independent commands run at the same time, as in
several terminals. Failures must exit non-zero with exactly one line on stderr.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from assistant.application.shop import Shop
from assistant.shopdb import get_approval, recent_orders, stock_by_size

APPROVAL_FIELDS = {"id", "session_id", "user", "total", "status", "items", "order_id"}
SESSION_FIELDS = {"session_id", "user", "tenant", "title", "status", "updated_at"}


def test_chat_one_shot_interactive_and_operator_decisions_from_another_terminal(
    shop: Shop, shop_cli
) -> None:
    # Two shoppers at once: alice one message at a time (--json), bob in the interactive loop.
    alice_chat = shop_cli.start("chat", "--user", "alice", "--json", "trail shoes under $150")
    bob_chat = shop_cli.start(
        "chat",
        "--user",
        "bob",
        stdin="running shoes\n   \nadd the first one in size 10\ncheckout\nare we done?\n",
    )
    one_shot, interactive = alice_chat.finish(), bob_chat.finish()

    assert one_shot.returncode == 0, one_shot.stderr
    answer = json.loads(one_shot.stdout)
    assert set(answer) >= {"session_id", "reply", "cart", "pending_approval", "products"}
    assert answer["products"] and answer["cart"] == [] and answer["pending_approval"] is None
    assert all(p["category"] == "trail" and p["price"] <= 150 for p in answer["products"])
    alice_session = answer["session_id"]
    assert [c.session_id for c in shop.conversations("alice")] == [alice_session]

    assert interactive.returncode == 0, interactive.stderr
    transcript = interactive.stdout
    assert transcript.startswith("session: ")
    bob_session = transcript.split()[1]
    assert "assistant> Your message is empty" in transcript  # the blank line, answered politely
    assert "waiting for store approval: apr-" in transcript
    assert "assistant> Your order is waiting for store approval" in transcript  # "are we done?"
    bob_pending = shop.pending_approval(bob_session)
    assert bob_pending is not None and bob_pending.user == "bob"

    # alice continues in the web app (this process) up to her checkout.
    shop.send("alice", alice_session, "add the first one in size 9")
    alice_pending = shop.send("alice", alice_session, "checkout").pending_approval
    product_id = alice_pending.items[0]["product_id"]
    stock_before = stock_by_size(shop.engine, product_id)[9.0]

    # The operator's terminal sees both checkouts.
    listing = shop_cli.run("approvals", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    queue = json.loads(listing.stdout)
    assert {row["id"] for row in queue} == {alice_pending.id, bob_pending.id}
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
    )
    reject = shop_cli.start(
        "approvals", "reject", bob_pending.id, "--reason", "We cannot ship to your address"
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
    assert shop.current(alice_session).reply == outcome["reply"]

    assert rejected.returncode == 0, rejected.stderr
    assert "We cannot ship to your address" in rejected.stdout
    assert "We cannot ship to your address" in shop.current(bob_session).reply
    assert get_approval(shop.engine, bob_pending.id).status == "rejected"

    # Deciding again: non-zero, one line, nothing changed.
    twice = shop_cli.run("approvals", "approve", alice_pending.id)
    error = shop_cli.error_line(twice)
    assert alice_pending.id in error and "already approved" in error
    rejected_twice = shop_cli.run("approvals", "reject", "apr-00000000", "--reason", "x")
    assert "apr-00000000" in shop_cli.error_line(rejected_twice)
    assert len(recent_orders(shop.engine)) == 1
    assert stock_by_size(shop.engine, product_id)[9.0] == stock_before - 2


def test_sessions_list_show_end_delete_cleanup_and_their_errors(
    shop: Shop, shop_cli, session_service_url: str
) -> None:
    kept = shop.new_conversation("alice")
    shop.send("alice", kept, "hiking boots")
    shop.send("alice", kept, "add the first one in size 8.5")
    ended = shop.new_conversation("alice")
    shop.send("alice", ended, "sandals")
    deleted = shop.new_conversation("alice")
    bobs = shop.new_conversation("bob")

    listing, show, nobody = (
        command.finish()
        for command in [
            shop_cli.start("sessions", "list", "--user", "alice", "--json"),
            shop_cli.start("sessions", "show", kept, "--user", "alice", "--json"),
            shop_cli.start("chat", "--user", "nobody", "--json", "hello"),
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
    assert shown["cart"] == shop.current(kept).cart and len(shown["cart"]) == 1
    assert shown["pending_approval"] is None

    assert "Unknown user 'nobody'" in shop_cli.error_line(nobody)

    end, delete, foreign = (
        command.finish()
        for command in [
            shop_cli.start("sessions", "end", ended, "--user", "alice", "--json"),
            shop_cli.start("sessions", "delete", deleted, "--user", "alice"),
            shop_cli.start("sessions", "end", bobs, "--user", "alice"),
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

    to_ended = shop_cli.run("chat", "--user", "alice", "--session", ended, "--json", "hello")
    assert "ended" in shop_cli.error_line(to_ended)
    texts = [m.text for m in shop.messages(ended)]
    assert texts[0] == "sandals" and "hello" not in texts  # nothing lost, nothing added

    # Idle for more than 0 days = every conversation left (ended or not), bob's too.
    cleanup = shop_cli.run("sessions", "cleanup", "--older-than-days", "0", "--json")
    assert cleanup.returncode == 0, cleanup.stderr
    assert set(json.loads(cleanup.stdout)["deleted"]) == {kept, ended, bobs}
    assert shop.conversations() == []
    for session_id in (kept, ended, bobs):
        with pytest.raises(ClientError):
            client.get_session(sessionIdentifier=session_id)


def test_a_script_that_resends_with_the_same_message_id_never_runs_a_turn_twice(
    shop: Shop, shop_cli
) -> None:
    session_id = shop.new_conversation("alice")
    shop.send("alice", session_id, "trail shoes in size 9")
    add = ("chat", "--user", "alice", "--session", session_id, "--json")

    first = shop_cli.run(*add, "--message-id", "m-1", "add the first one in size 9")
    again = shop_cli.run(*add, "--message-id", "m-1", "add the first one in size 9")

    assert first.returncode == again.returncode == 0, again.stderr
    assert [line["quantity"] for line in json.loads(again.stdout)["cart"]] == [1]
    assert json.loads(again.stdout)["cart"] == json.loads(first.stdout)["cart"]


def test_approvals_list_marks_a_copied_checkout_that_repeats_an_order(shop: Shop, shop_cli) -> None:
    session_id = shop.new_conversation("alice")
    shop.send("alice", session_id, "trail shoes in size 9")
    shop.send("alice", session_id, "add the first one in size 9")
    before_checkout = shop.history(session_id)[0].checkpoint_id
    bought = shop.send("alice", session_id, "checkout").pending_approval
    shop.decide(bought.id, {"action": "approve", "operator": "olga"})
    [order] = shop.orders()
    copy = shop.fork_conversation("alice", session_id, before_checkout)
    repeat = shop.send("alice", copy, "checkout").pending_approval

    listing = shop_cli.run("approvals", "list")
    as_json = shop_cli.run("approvals", "list", "--json")

    assert f"{repeat.id}" in listing.stdout and f"[repeat of order {order.id}]" in listing.stdout
    [row] = [row for row in json.loads(as_json.stdout) if row["id"] == repeat.id]
    assert row["repeat_of_order"] == order.id
