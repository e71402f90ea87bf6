"""Who may do what, for every application function, as each kind of person tries it.

The shop runs as it does after `shoe-assistant up`: the local session service checks every
request's signature and evaluates infra/session-store.yaml's policy, and the shop talks to it
with one key per tenant. Seven callers try every function on alice's conversation (tenant-a):

    alice  the shopper whose conversation it is      carol  another shopper of tenant-a
    bob    a shopper of tenant-b                     olga   the operator of tenant-a
    oscar  the operator of tenant-b                  ada    the store admin
    anonymous (no principal at all)

Each expects "allow" or the exact denial. Someone else's conversation is refused exactly like a
conversation that does not exist. The last tests bypass the shop's own checks and show that the
session store refuses a tenant's key on another tenant's session anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from assistant import shopdb
from assistant.application import ApprovalError, NotAllowed, NotSignedIn, Shop, TurnError
from assistant.cli.session_credentials import ensure_credentials
from assistant.settings import Settings
from bedrock_sessions_local.testing import IamMode, running_service

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "session-store.yaml"
CALLERS = ["alice", "carol", "bob", "olga", "oscar", "ada", "anonymous"]
NOT_FOUND = (TurnError, "No conversation")  # someone else's: exactly like a missing one
ANONYMOUS = (NotSignedIn, "Sign in first")
OPERATORS_DO_NOT_WRITE = (NotAllowed, "Only the shopper whose conversation it is")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, settings_at) -> Iterator[Shop]:
    """A shop on a session service in IAM mode, with a key per tenant (as `up` sets it up)."""
    folder = tmp_path_factory.mktemp("who")
    credentials = folder / "session-credentials.json"
    ensure_credentials(
        credentials, ["tenant-a", "tenant-b"], tag_key="tenant", app_name="shoe-assistant"
    )
    with running_service(db=folder / "sessions.db", iam=IamMode(credentials, TEMPLATE)) as url:
        settings: Settings = settings_at(
            url,
            folder / "shop.db",
            local_session_iam=True,
            session_credentials_file=str(credentials),
        )
        built = Shop(settings=settings)
        assert built.tenant_clients.tenants_isolated
        yield built
        built.engine.dispose()


@pytest.fixture(scope="module")
def people(shop: Shop) -> dict[str, Any]:
    """Every caller's principal (None for anonymous)."""
    principals: dict[str, Any] = {"anonymous": None}
    for name in CALLERS[:-1]:
        principals[name], _token = shop.sign_in(name, f"demo-{name}")
    return principals


@pytest.fixture(scope="module")
def conversation(shop: Shop, people) -> dict[str, str]:
    """alice's conversation after a search, with its first checkpoint."""
    alice = people["alice"]
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes in size 9")
    checkpoint_id = shop.history(alice, session_id)[-1].checkpoint_id
    return {"session_id": session_id, "checkpoint_id": checkpoint_id}


def fresh(shop: Shop, people) -> dict[str, str]:
    """A new conversation of alice's (for functions that change or remove it)."""
    alice = people["alice"]
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "running shoes")
    history = shop.history(alice, session_id)
    return {
        "session_id": session_id,
        "checkpoint_id": history[-1].checkpoint_id,
        "branch_end": history[0].checkpoint_id,  # what switching branches takes
    }


def outcome(call: Callable[[], Any]) -> str | tuple[type, str]:
    """ "allow", or the denial (its class and message)."""
    try:
        call()
    except (TurnError, ApprovalError) as error:
        return type(error), str(error)
    return "allow"


def assert_outcome(actual, expected) -> None:
    if expected == "allow":
        assert actual == "allow", f"refused: {actual}"
        return
    assert actual != "allow", f"allowed, expected {expected}"
    kind, words = expected
    assert issubclass(actual[0], kind) and words in actual[1], actual


# --- reading a conversation ----------------------------------------------------------------

READS: dict[str, Callable[[Shop, Any, dict], Any]] = {
    "open": lambda shop, who, c: shop.open(who, c["session_id"]),
    "current": lambda shop, who, c: shop.current(who, c["session_id"]),
    "chat": lambda shop, who, c: shop.chat(who, c["session_id"]),
    "messages": lambda shop, who, c: shop.messages(who, c["session_id"]),
    "pending_approval": lambda shop, who, c: shop.pending_approval(who, c["session_id"]),
    "history": lambda shop, who, c: shop.history(who, c["session_id"]),
    "checkpoint": lambda shop, who, c: shop.checkpoint(who, c["session_id"], c["checkpoint_id"]),
    "state_at": lambda shop, who, c: shop.state_at(who, c["session_id"], c["checkpoint_id"]),
    "audit": lambda shop, who, c: shop.audit(who, c["session_id"]),
    "chat_versions": lambda shop, who, c: shop.chat_versions(who, c["session_id"]),
}
READ_RULES = {
    "alice": "allow",
    "carol": NOT_FOUND,
    "bob": NOT_FOUND,
    "olga": "allow",  # an operator reads the conversations of their tenant
    "oscar": NOT_FOUND,
    "ada": "allow",
    "anonymous": ANONYMOUS,
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("function", sorted(READS))
def test_reading_a_conversation(shop, people, conversation, function: str, caller: str) -> None:
    call = READS[function]
    assert_outcome(outcome(lambda: call(shop, people[caller], conversation)), READ_RULES[caller])


# --- changing a conversation ----------------------------------------------------------------

WRITES: dict[str, Callable[[Shop, Any, dict], Any]] = {
    "send": lambda shop, who, c: shop.send(who, c["session_id"], "hiking boots"),
    "replay": lambda shop, who, c: shop.replay(who, c["session_id"], c["checkpoint_id"]),
    "fork": lambda shop, who, c: shop.fork(
        who, c["session_id"], c["checkpoint_id"], message="sandals"
    ),
    "fork_conversation": lambda shop, who, c: shop.fork_conversation(who, c["session_id"]),
    "switch_branch": lambda shop, who, c: shop.switch_branch(who, c["session_id"], c["branch_end"]),
    "end": lambda shop, who, c: shop.end(who, c["session_id"]),
    "delete": lambda shop, who, c: shop.delete(who, c["session_id"]),
    "add_to_cart": lambda shop, who, c: shop.add_to_cart(who, c["session_id"], "RUN-001", 9),
}
WRITE_RULES = {
    "alice": "allow",
    "carol": NOT_FOUND,
    "bob": NOT_FOUND,
    "olga": OPERATORS_DO_NOT_WRITE,
    "oscar": NOT_FOUND,
    "ada": (NotAllowed, "Only the shopper whose conversation it is"),
    "anonymous": ANONYMOUS,
}
ADMIN_MAINTENANCE = {"end", "delete"}  # the admin may end and delete any conversation


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("function", sorted(WRITES))
def test_changing_a_conversation(shop, people, function: str, caller: str) -> None:
    target = fresh(shop, people)
    expected = WRITE_RULES[caller]
    if caller == "ada" and function in ADMIN_MAINTENANCE:
        expected = "allow"
    before = len(shop.history(people["alice"], target["session_id"]))
    assert_outcome(outcome(lambda: WRITES[function](shop, people[caller], target)), expected)
    if expected != "allow":  # a refusal changed nothing
        assert len(shop.history(people["alice"], target["session_id"])) == before
        assert shop.open(people["alice"], target["session_id"]).status == "ACTIVE"


def test_only_shoppers_start_conversations(shop, people) -> None:
    assert_outcome(outcome(lambda: shop.new_conversation(people["carol"])), "allow")
    for caller in ("olga", "oscar", "ada"):
        assert_outcome(
            outcome(lambda caller=caller: shop.new_conversation(people[caller])),
            (NotAllowed, "Only a shopper may start a conversation"),
        )
    assert_outcome(outcome(lambda: shop.new_conversation(None)), ANONYMOUS)


# --- lists -----------------------------------------------------------------------------------


def test_each_caller_lists_only_the_conversations_they_may_see(shop, people, conversation) -> None:
    bobs = shop.new_conversation(people["bob"])
    seen = {
        caller: {c.session_id for c in shop.conversations(people[caller])}
        for caller in CALLERS[:-1]
    }
    alices = conversation["session_id"]
    assert alices in seen["alice"] and bobs not in seen["alice"]
    assert alices not in seen["carol"] and bobs not in seen["carol"]
    assert seen["bob"] == {bobs}
    assert alices in seen["olga"] and bobs not in seen["olga"]
    assert bobs in seen["oscar"] and alices not in seen["oscar"]
    assert {alices, bobs} <= seen["ada"]
    assert_outcome(
        outcome(lambda: shop.conversations(people["carol"], "alice")),
        (NotAllowed, "only their own conversations"),
    )
    assert_outcome(outcome(lambda: shop.conversations(None)), ANONYMOUS)


def test_users_and_orders_are_scoped_the_same_way(shop, people) -> None:
    assert [u.username for u in shop.users(people["alice"])] == ["alice"]
    assert {u.tenant for u in shop.users(people["olga"])} == {"tenant-a"}
    assert {u.username for u in shop.users(people["ada"])} >= {"alice", "bob", "olga", "oscar"}
    assert_outcome(outcome(lambda: shop.orders(None)), ANONYMOUS)
    assert_outcome(outcome(lambda: shop.users(None)), ANONYMOUS)


# --- the approvals queue and decisions ------------------------------------------------------


@pytest.fixture
def alices_checkout(shop: Shop, people) -> str:
    """A checkout of alice's waiting for the store; its approval id."""
    alice = people["alice"]
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes in size 9")
    shop.send(alice, session_id, "add the first one in size 9")
    return shop.send(alice, session_id, "checkout").pending_approval.id


DECIDE_RULES = {
    "alice": (NotAllowed, "Only an operator may decide checkouts"),
    "carol": (NotAllowed, "Only an operator may decide checkouts"),
    "bob": (NotAllowed, "Only an operator may decide checkouts"),
    "olga": "allow",
    "oscar": (ApprovalError, "No approval"),  # another tenant's checkout: not in their queue
    "ada": (NotAllowed, "Only an operator may decide checkouts"),
    "anonymous": ANONYMOUS,
}


@pytest.mark.parametrize("caller", CALLERS)
def test_deciding_a_checkout(shop, people, alices_checkout: str, caller: str) -> None:
    decision = {"action": "edit", "discount_pct": 50, "operator": "mallory", "reason": "hi"}
    expected = DECIDE_RULES[caller]
    assert_outcome(
        outcome(lambda: shop.decide(people[caller], alices_checkout, decision)), expected
    )
    approval = shopdb.get_approval(shop.engine, alices_checkout)
    if expected == "allow":  # recorded as the principal's decision, whatever the form said
        assert approval.status == "approved" and approval.decided_by == caller
    else:
        assert approval.status == "pending" and approval.decided_by is None


@pytest.mark.parametrize("caller", CALLERS)
def test_seeing_the_queue(shop, people, alices_checkout: str, caller: str) -> None:
    if caller in ("olga", "oscar"):
        queue = {a.id for a in shop.approvals(people[caller])}
        assert (alices_checkout in queue) == (caller == "olga")
        return
    expected = ANONYMOUS if caller == "anonymous" else (NotAllowed, "Only an operator may see")
    assert_outcome(outcome(lambda: shop.approvals(people[caller])), expected)


def test_nobody_decides_their_own_checkout(shop, people) -> None:
    # Operators cannot shop here, so an operator's own checkout is planted in the queue.
    planted = shopdb.create_pending(
        shop.engine,
        session_id="planted",
        interrupt_id="planted",
        user="olga",
        tenant="tenant-a",
        items=[],
        subtotal=10.0,
    )
    assert_outcome(
        outcome(lambda: shop.decide(people["olga"], planted.id, {"action": "approve"})),
        (NotAllowed, "You cannot decide your own checkout"),
    )


# --- the store itself keeps tenants apart ----------------------------------------------------


def test_the_store_refuses_another_tenants_key_even_if_the_shop_did_not(
    shop, people, conversation
) -> None:
    """A bug in the shop's own checks cannot leak a session: tenant-b's key is refused."""
    session_id = conversation["session_id"]
    tenant_a, tenant_b = shop._context_of("tenant-a"), shop._context_of("tenant-b")
    session_arn = tenant_a.client.get_session(sessionIdentifier=session_id)["sessionArn"]
    with pytest.raises(ClientError) as refused:
        tenant_b.client.get_session(sessionIdentifier=session_id)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as refused:
        tenant_b.client.list_invocations(sessionIdentifier=session_id)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError) as refused:  # nor can it move the session to its tenant
        tenant_b.client.tag_resource(resourceArn=session_arn, tags={"tenant": "tenant-b"})
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    # ...while tenant-a's own key reads it.
    assert tenant_a.client.get_session(sessionIdentifier=session_id)["sessionStatus"] == "ACTIVE"


def test_the_shop_without_credentials_of_a_tenant_is_refused_by_the_store(
    shop, conversation
) -> None:
    """The shop's base client (no tenant) signs with no known key: the store refuses it."""
    with pytest.raises(ClientError) as refused:
        shop.client.get_session(sessionIdentifier=conversation["session_id"])
    assert refused.value.response["Error"]["Code"] in {
        "UnrecognizedClientException",
        "AccessDeniedException",
        "MissingAuthenticationTokenException",
        "InvalidSignatureException",
    }


# --- last: the admin's clean-up removes every conversation of the store -------------------


def test_cleanup_is_a_shoppers_own_or_the_admins(shop, people) -> None:
    carols = shop.new_conversation(people["carol"])
    alices = shop.new_conversation(people["alice"])
    owners = {c.session_id: c.user for c in shop.conversations(people["ada"])}
    removed = shop.cleanup(people["carol"], older_than_days=0)
    assert carols in removed
    assert {owners[sid] for sid in removed} == {"carol"}  # erased, registry rows included
    assert shopdb.get_conversation(shop.engine, carols) is None
    assert shop.open(people["alice"], alices).status == "ACTIVE"  # not carol's to delete
    assert_outcome(
        outcome(lambda: shop.cleanup(people["olga"], older_than_days=0)),
        (NotAllowed, "Only a shopper or an admin may clean up"),
    )
    assert_outcome(outcome(lambda: shop.cleanup(None, older_than_days=0)), ANONYMOUS)
    assert alices in shop.cleanup(people["ada"], older_than_days=0)  # store-wide maintenance


def test_a_checkout_is_resumed_only_through_an_operators_decision(shop) -> None:
    """`Shop.resume` used to place an order with no approval at all; the only way on is
    `decide`, which checks the operator and records the decision."""
    assert not hasattr(shop, "resume")
    assert not any(name.startswith("resume") for name in dir(shop))
