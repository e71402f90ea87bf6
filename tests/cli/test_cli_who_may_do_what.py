"""Who may run which CLI command, as each kind of person signed in with `shoe-assistant login`.

The commands run through the CLI's own entry point (`assistant.cli.main`, in this process so the
table stays fast: the separate-process runs are in test_cli_shop_commands.py), configured by
environment variables like a terminal, signed in by `SHOE_ASSISTANT_TOKEN`, against a session
store in IAM mode with one key per tenant. Every refusal is exit status 1 with one line on
stderr; a command that is refused changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.application import Shop
from assistant.cli import main, shop_commands
from assistant.cli.session_credentials import ensure_credentials
from assistant.settings import get_settings
from bedrock_sessions_local.testing import IamMode, running_service

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "session-store.yaml"
CALLERS = ["alice", "carol", "bob", "olga", "oscar", "ada", "anonymous"]


@pytest.fixture(scope="module")
def terminal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The environment of a terminal on a store in IAM mode, and the CLI's own Shop."""
    folder = tmp_path_factory.mktemp("cli-who")
    credentials = folder / "session-credentials.json"
    ensure_credentials(
        credentials, ["tenant-a", "tenant-b"], tag_key="tenant", app_name="shoe-assistant"
    )
    with (
        running_service(db=folder / "sessions.db", iam=IamMode(credentials, TEMPLATE)) as url,
        pytest.MonkeyPatch.context() as patch,
    ):
        for name, value in {
            "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME": url,
            "DATABASE_URL": f"sqlite:///{folder / 'shop.db'}",
            "SESSION_STORE": "local",
            "MODEL": "offline",
            "LOCAL_SESSION_IAM": "true",
            "SESSION_CREDENTIALS_FILE": str(credentials),
            "SECRET_KEY_FILE": str(folder / "secret-key"),
            "CLI_TOKEN_FILE": str(folder / "token"),
        }.items():
            patch.setenv(name, value)
        patch.delenv("SHOE_ASSISTANT_TOKEN", raising=False)
        get_settings.cache_clear()
        shop_commands.shop.cache_clear()
        shop: Shop = shop_commands.shop()
        tokens = {
            name: shop.sign_in(name, f"demo-{name}", channel="cli")[1] for name in CALLERS[:-1]
        }
        yield {"shop": shop, "tokens": tokens, "patch": patch}
        shop.engine.dispose()
        shop_commands.shop.cache_clear()
        get_settings.cache_clear()


def run(terminal: dict, caller: str, *args: str, capsys) -> tuple[int, str, str]:
    """Run one command as `caller`; return (exit status, stdout, stderr)."""
    capsys.readouterr()
    if caller == "anonymous":
        terminal["patch"].delenv("SHOE_ASSISTANT_TOKEN", raising=False)
    else:
        terminal["patch"].setenv("SHOE_ASSISTANT_TOKEN", terminal["tokens"][caller])
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def alices(terminal: dict) -> str:
    """A conversation of alice's with a search in it."""
    shop: Shop = terminal["shop"]
    alice = shop.principal(terminal["tokens"]["alice"])
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes in size 9")
    return session_id


def refused(outcome: tuple[int, str, str], words: str) -> None:
    status, _out, err = outcome
    assert status == 1, outcome
    assert err.count("\n") == 1 and err.startswith("shoe-assistant: "), err
    assert words in err, err


NOT_SIGNED_IN = "not signed in: run `shoe-assistant login"
NOT_FOUND = "No conversation"

SHOW_RULES = {
    "alice": "allow",
    "carol": NOT_FOUND,
    "bob": NOT_FOUND,
    "olga": "allow",
    "oscar": NOT_FOUND,
    "ada": "allow",
    "anonymous": NOT_SIGNED_IN,
}


@pytest.mark.parametrize("caller", CALLERS)
def test_sessions_show(terminal, alices, caller, capsys) -> None:
    outcome = run(terminal, caller, "sessions", "show", alices, "--json", capsys=capsys)
    if SHOW_RULES[caller] == "allow":
        assert outcome[0] == 0, outcome
        assert json.loads(outcome[1])["session_id"] == alices
    else:
        refused(outcome, SHOW_RULES[caller])


END_RULES = {
    "carol": NOT_FOUND,
    "bob": NOT_FOUND,
    "olga": "Only the shopper whose conversation it is may",
    "oscar": NOT_FOUND,
    "anonymous": NOT_SIGNED_IN,
}


@pytest.mark.parametrize("command", ["end", "delete"])
@pytest.mark.parametrize("caller", sorted(END_RULES))
def test_sessions_end_and_delete_by_others_are_refused_and_change_nothing(
    terminal, alices, command, caller, capsys
) -> None:
    refused(run(terminal, caller, "sessions", command, alices, capsys=capsys), END_RULES[caller])
    alice = terminal["shop"].principal(terminal["tokens"]["alice"])
    assert terminal["shop"].open(alice, alices).status == "ACTIVE"


@pytest.mark.parametrize("caller", CALLERS)
def test_sessions_list_shows_what_the_caller_may_see(terminal, alices, caller, capsys) -> None:
    outcome = run(terminal, caller, "sessions", "list", "--json", capsys=capsys)
    if caller == "anonymous":
        refused(outcome, NOT_SIGNED_IN)
        return
    rows = json.loads(outcome[1])
    assert (alices in {row["session_id"] for row in rows}) == (caller in ("alice", "olga", "ada"))
    if caller in ("alice", "carol", "bob"):
        assert {row["user"] for row in rows} <= {caller}
    if caller in ("olga", "oscar"):
        assert {row["tenant"] for row in rows} <= {"tenant-a" if caller == "olga" else "tenant-b"}


def test_a_shopper_cannot_list_another_users_conversations(terminal, capsys) -> None:
    refused(
        run(terminal, "carol", "sessions", "list", "--user", "alice", capsys=capsys),
        "only their own conversations",
    )


@pytest.mark.parametrize("caller", CALLERS)
def test_approvals_list(terminal, caller, capsys) -> None:
    outcome = run(terminal, caller, "approvals", "list", "--json", capsys=capsys)
    if caller in ("olga", "oscar"):
        assert outcome[0] == 0, outcome
        tenants = {row["tenant"] for row in json.loads(outcome[1])} if outcome[1].strip() else set()
        assert tenants <= {"tenant-a" if caller == "olga" else "tenant-b"}
    elif caller == "anonymous":
        refused(outcome, NOT_SIGNED_IN)
    else:
        refused(outcome, "Only an operator may see the approvals queue")


def test_approve_reject_only_by_an_operator_of_the_tenant_recorded_as_them(
    terminal, capsys
) -> None:
    shop: Shop = terminal["shop"]
    alice = shop.principal(terminal["tokens"]["alice"])
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes in size 9")
    shop.send(alice, session_id, "add the first one in size 9")
    approval = shop.send(alice, session_id, "checkout").pending_approval.id
    half_price = ("approvals", "approve", approval, "--discount", "50")
    for caller, words in [
        ("alice", "Only an operator may decide checkouts"),  # her own order, at half price
        ("carol", "Only an operator may decide checkouts"),
        ("bob", "Only an operator may decide checkouts"),
        ("ada", "Only an operator may decide checkouts"),
        ("oscar", f"No approval '{approval}'"),  # tenant-b's operator: not in his queue
        ("anonymous", NOT_SIGNED_IN),
    ]:
        refused(run(terminal, caller, *half_price, capsys=capsys), words)
        refused(
            run(terminal, caller, "approvals", "reject", approval, "--reason", "x", capsys=capsys),
            words,
        )
    status, _out, err = run(terminal, "olga", *half_price, "--json", capsys=capsys)
    assert status == 0, err
    decided = shop.approvals(shop.principal(terminal["tokens"]["olga"]), None)
    assert next(a for a in decided if a.id == approval).decided_by == "olga"


@pytest.mark.parametrize("caller", ["olga", "oscar", "ada", "anonymous"])
def test_only_shoppers_chat(terminal, caller, capsys) -> None:
    words = NOT_SIGNED_IN if caller == "anonymous" else "Only a shopper may start a conversation"
    refused(run(terminal, caller, "chat", "hello", capsys=capsys), words)


@pytest.mark.parametrize("caller", ["carol", "bob", "olga"])
def test_nobody_chats_in_someone_elses_conversation(terminal, alices, caller, capsys) -> None:
    words = "Only the shopper" if caller == "olga" else NOT_FOUND
    refused(run(terminal, caller, "chat", "--session", alices, "hello", capsys=capsys), words)


def test_cleanup_is_refused_to_operators_and_store_wide_only_for_the_admin(
    terminal, capsys
) -> None:
    refused(
        run(terminal, "olga", "sessions", "cleanup", "--older-than-days", "0", capsys=capsys),
        "Only a shopper or an admin may clean up",
    )
    refused(
        run(terminal, "anonymous", "sessions", "cleanup", "--older-than-days", "0", capsys=capsys),
        NOT_SIGNED_IN,
    )
    shop: Shop = terminal["shop"]
    bob = shop.principal(terminal["tokens"]["bob"])
    bobs = shop.new_conversation(bob)
    status, out, _ = run(
        terminal, "carol", "sessions", "cleanup", "--older-than-days", "0", "--json", capsys=capsys
    )
    assert status == 0 and bobs not in json.loads(out)["deleted"]
    status, out, _ = run(
        terminal, "ada", "sessions", "cleanup", "--older-than-days", "0", "--json", capsys=capsys
    )
    assert status == 0 and bobs in json.loads(out)["deleted"]


@pytest.mark.parametrize("caller", CALLERS)
def test_whoami(terminal, caller, capsys) -> None:
    outcome = run(terminal, caller, "whoami", capsys=capsys)
    if caller == "anonymous":
        refused(outcome, NOT_SIGNED_IN)
    else:
        assert outcome[0] == 0 and outcome[1].startswith(f"{caller} ("), outcome


def test_erase_mine_as_a_shopper_and_a_shopper_by_the_admin_only(terminal, capsys) -> None:
    refused(
        run(terminal, "carol", "erase", "--mine", capsys=capsys),
        "erasing cannot be undone: pass --yes to confirm",
    )
    for caller in ("alice", "olga"):
        refused(
            run(terminal, caller, "erase", "--user", "carol", "--yes", capsys=capsys),
            "Only an admin may delete a shopper",
        )
    refused(run(terminal, "olga", "erase", "--mine", "--yes", capsys=capsys), "Only a shopper")
    refused(run(terminal, "anonymous", "erase", "--mine", "--yes", capsys=capsys), NOT_SIGNED_IN)

    status, out, err = run(terminal, "carol", "erase", "--mine", "--yes", "--json", capsys=capsys)
    assert status == 0, err
    receipt = json.loads(out)
    assert receipt["subject"] == "carol" and receipt["requested_by"] == "carol"
    assert "erasing carol's conversations" in err  # the progress bar, on stderr

    status, out, err = run(terminal, "ada", "erase", "--user", "bob", "--yes", capsys=capsys)
    assert status == 0, err
    assert out.startswith("Erased bob:") and "account removed" in out
