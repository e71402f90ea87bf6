"""A shopper withdraws a checkout that waits for the store (`Shop.cancel_checkout`).

The cancellation takes the same claim as an operator's decision (docs/approvals.md), so of a
cancel and a decision exactly one happens; it resumes the graph, so the conversation carries on
with nothing ordered and the cart as it was; it is safe to repeat, and a cancel whose process
stopped half-way is finished by the recovery like any decision.
"""

from __future__ import annotations

import threading
import time

import pytest
from shop_scenarios import LEASE, waiting_checkout

from assistant import shopdb
from assistant.application import (
    AlreadyDecided,
    ApprovalError,
    NotAllowed,
    NotSignedIn,
    Shop,
    TurnError,
)
from assistant.application.approvals import recover
from assistant.application.turns import resume


def stock_of(shop: Shop, line: dict) -> int:
    return shopdb.stock_by_size(shop.engine, line["product_id"])[line["size"]]


def test_the_shopper_cancels_and_the_conversation_carries_on_with_nothing_ordered(
    shop: Shop, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id, approval_id = waiting_checkout(shop, alice)
    cart = shop.current(alice, session_id).cart
    stock_before = stock_of(shop, cart[0])

    result = shop.cancel_checkout(alice, session_id)

    assert result.pending_approval is None and "cancelled" in result.reply
    assert result.cart == cart  # the cart stays: she may change it and buy again
    approval = shopdb.get_approval(shop.engine, approval_id)
    assert (approval.status, approval.decided_by, approval.order_id) == ("cancelled", "alice", None)
    assert shop.approvals(olga, "pending") == []  # gone from the operator's queue
    [decided] = [a for a in shop.approvals(olga, None) if a.id == approval_id]
    assert decided.outcome == "cancelled by the shopper"
    assert shop.orders(olga) == [] and stock_of(shop, cart[0]) == stock_before
    [turn] = shop.chat(alice, session_id)[-1:]
    assert [reply.checkout.status for reply in turn.replies if reply.checkout] == ["cancelled"]
    # The conversation goes on: another checkout is a new approval.
    again = shop.send(alice, session_id, "checkout")
    assert again.pending_approval is not None and again.pending_approval.id != approval_id


def test_cancelling_again_changes_nothing(shop: Shop, signed_in) -> None:
    alice = signed_in(shop, "alice")
    session_id, approval_id = waiting_checkout(shop, alice)
    first = shop.cancel_checkout(alice, session_id)
    checkpoints = len(shop.history(alice, session_id))

    second = shop.cancel_checkout(alice, session_id)

    assert second.reply == first.reply and second.cart == first.cart
    assert len(shop.history(alice, session_id)) == checkpoints  # nothing ran again
    assert shopdb.get_approval(shop.engine, approval_id).status == "cancelled"


def test_without_a_waiting_checkout_there_is_nothing_to_cancel(shop: Shop, signed_in) -> None:
    alice = signed_in(shop, "alice")
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes in size 9")
    with pytest.raises(ApprovalError, match="No checkout of this conversation is waiting"):
        shop.cancel_checkout(alice, session_id)


@pytest.mark.parametrize(
    ("caller", "refusal", "words"),
    [
        ("carol", TurnError, "No conversation"),  # another shopper: as if it did not exist
        ("bob", TurnError, "No conversation"),  # a shopper of the other tenant
        ("olga", NotAllowed, "Only the shopper whose conversation it is may cancel a checkout"),
        ("oscar", TurnError, "No conversation"),  # the other tenant's operator
        ("ada", NotAllowed, "Only the shopper whose conversation it is may cancel a checkout"),
        ("anonymous", NotSignedIn, "Sign in first"),
    ],
)
def test_only_the_shopper_whose_conversation_it_is_may_cancel(
    shop: Shop, signed_in, caller: str, refusal: type, words: str
) -> None:
    alice = signed_in(shop, "alice")
    session_id, approval_id = waiting_checkout(shop, alice)
    who = None if caller == "anonymous" else signed_in(shop, caller)

    with pytest.raises(refusal, match=words):
        shop.cancel_checkout(who, session_id)

    assert shopdb.get_approval(shop.engine, approval_id).status == "pending"
    assert shop.pending_approval(alice, session_id) is not None


def test_an_operator_cannot_cancel_in_the_shoppers_name(shop: Shop, signed_in) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    _, approval_id = waiting_checkout(shop, alice)
    with pytest.raises(ApprovalError, match="Only the shopper can cancel"):
        shop.decide(olga, approval_id, {"action": "cancel"})
    assert shopdb.get_approval(shop.engine, approval_id).status == "pending"


def test_when_the_operator_approved_first_the_cancel_is_refused(shop: Shop, signed_in) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id, approval_id = waiting_checkout(shop, alice)
    shop.decide(olga, approval_id, {"action": "approve"})

    with pytest.raises(AlreadyDecided, match="already approved by olga"):
        shop.cancel_checkout(alice, session_id)

    assert shopdb.get_approval(shop.engine, approval_id).status == "approved"
    assert len(shop.orders(olga)) == 1


def test_when_the_shopper_cancelled_first_the_operator_is_refused(shop: Shop, signed_in) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id, approval_id = waiting_checkout(shop, alice)
    shop.cancel_checkout(alice, session_id)

    with pytest.raises(AlreadyDecided, match="cancelled by the shopper"):
        shop.decide(olga, approval_id, {"action": "approve"})

    assert shop.orders(olga) == []


def test_a_cancel_and_an_approval_at_the_same_moment_exactly_one_happens(
    shop: Shop, signed_in
) -> None:
    alice, olga = signed_in(shop, "alice"), signed_in(shop, "olga")
    session_id, approval_id = waiting_checkout(shop, alice)
    start = threading.Barrier(2)
    refused: list[Exception] = []

    def attempt(call) -> None:
        start.wait()
        try:
            call()
        except AlreadyDecided as error:
            refused.append(error)

    racers = [
        threading.Thread(target=attempt, args=(lambda: shop.cancel_checkout(alice, session_id),)),
        threading.Thread(
            target=attempt, args=(lambda: shop.decide(olga, approval_id, {"action": "approve"}),)
        ),
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=120)

    assert len(refused) == 1, refused
    approval = shopdb.get_approval(shop.engine, approval_id)
    orders = shop.orders(olga)
    if approval.status == "approved":
        assert [order.id for order in orders] == [approval.order_id]
    else:
        assert approval.status == "cancelled" and orders == []
    assert shop.pending_approval(alice, session_id) is None


def claim_cancel_and_stop(shop: Shop, approval_id: str):
    """What a process leaves when it is killed right after claiming the shopper's cancel."""
    decision = {"action": "cancel", "operator": "alice"}
    return shopdb.claim_decision(shop.engine, approval_id, decision, "alice", lease_seconds=LEASE)


def test_a_cancel_stopped_after_its_claim_is_finished_by_the_recovery(
    fast_shop: Shop, signed_in
) -> None:
    alice = signed_in(fast_shop, "alice")
    session_id, approval_id = waiting_checkout(fast_shop, alice)
    claim_cancel_and_stop(fast_shop, approval_id)
    # Meanwhile the banner says it is being cancelled; cancelling again is not an error.
    assert fast_shop.cancel_checkout(alice, session_id).pending_approval is not None

    time.sleep(LEASE + 0.1)
    assert recover(fast_shop.context) == 1

    approval = shopdb.get_approval(fast_shop.engine, approval_id)
    assert (approval.status, approval.attempts) == ("cancelled", 2)
    assert fast_shop.pending_approval(alice, session_id) is None
    assert "cancelled" in fast_shop.current(alice, session_id).reply
    assert fast_shop.orders(signed_in(fast_shop, "olga")) == []


def test_a_cancel_that_resumed_but_was_never_recorded_is_finished_without_running_again(
    fast_shop: Shop, signed_in
) -> None:
    alice = signed_in(fast_shop, "alice")
    session_id, approval_id = waiting_checkout(fast_shop, alice)
    claimed = claim_cancel_and_stop(fast_shop, approval_id)
    resume(fast_shop.context, session_id, claimed.interrupt_id, claimed.decision)
    checkpoints = len(fast_shop.history(alice, session_id))

    time.sleep(LEASE + 0.1)
    Shop(settings=fast_shop.settings)  # a new process starting

    assert shopdb.get_approval(fast_shop.engine, approval_id).status == "cancelled"
    assert len(fast_shop.history(alice, session_id)) == checkpoints
