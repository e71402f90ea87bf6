"""A decision whose process stopped anywhere is finished or undone by itself, never by hand.

Each test stops a decision at one point of the state machine (docs/approvals.md) the way a
killed process would leave it, then lets the recovery run: on the next command, or on the web
app's periodic sweep with nobody touching the approvals.
"""

from __future__ import annotations

import time

from shop_scenarios import LEASE, waiting_checkout

from assistant import shopdb
from assistant.application import Shop
from assistant.application.approvals import recover
from assistant.application.turns import resume

# What Shop.decide hands the approvals flow: the decision, with the signed-in operator's name.
APPROVE = {"action": "approve", "operator": "olga"}


def claim_and_stop(shop: Shop, approval_id: str):
    """What a process leaves when it is killed right after claiming the decision."""
    return shopdb.claim_decision(shop.engine, approval_id, APPROVE, "olga", lease_seconds=LEASE)


def test_a_claim_without_a_resume_is_resumed_and_finished_after_its_lease(
    fast_shop: Shop, signed_in
) -> None:
    alice, olga = signed_in(fast_shop, "alice"), signed_in(fast_shop, "olga")
    session_id, approval_id = waiting_checkout(fast_shop, alice)
    claim_and_stop(fast_shop, approval_id)
    assert recover(fast_shop.context) == 0  # the lease still runs: its holder may be alive

    time.sleep(LEASE + 0.1)
    queue = fast_shop.approvals(olga, None)  # the next command that touches approvals

    [approval] = [a for a in queue if a.id == approval_id]
    [order] = fast_shop.orders(olga)
    assert (approval.status, approval.order_id, approval.attempts) == ("approved", order.id, 2)
    assert fast_shop.pending_approval(alice, session_id) is None
    assert order.id in fast_shop.current(alice, session_id).reply


def test_a_resume_that_ran_but_was_never_recorded_is_finished_without_running_again(
    fast_shop: Shop, signed_in
) -> None:
    alice, olga = signed_in(fast_shop, "alice"), signed_in(fast_shop, "olga")
    session_id, approval_id = waiting_checkout(fast_shop, alice)
    claimed = claim_and_stop(fast_shop, approval_id)
    resume(fast_shop.context, session_id, claimed.interrupt_id, claimed.decision)
    [order] = fast_shop.orders(olga)  # placed, but the approval still says "deciding"
    checkpoints = len(fast_shop.history(alice, session_id))

    time.sleep(LEASE + 0.1)
    Shop(settings=fast_shop.settings)  # a new process starting

    approval = shopdb.get_approval(fast_shop.engine, approval_id)
    assert (approval.status, approval.order_id) == ("approved", order.id)
    assert len(fast_shop.orders(olga)) == 1
    assert len(fast_shop.history(alice, session_id)) == checkpoints  # nothing ran again


def test_the_running_app_sweeps_with_nobody_touching_the_approvals(
    fast_shop: Shop, signed_in
) -> None:
    alice = signed_in(fast_shop, "alice")
    _, approval_id = waiting_checkout(fast_shop, alice)
    claim_and_stop(fast_shop, approval_id)

    stop = fast_shop.start_sweeper(interval=0.1)
    try:
        deadline = time.monotonic() + 15
        while shopdb.get_approval(fast_shop.engine, approval_id).status == "deciding":
            assert time.monotonic() < deadline, "the sweep never finished the decision"
            time.sleep(0.1)
    finally:
        stop.set()
    assert shopdb.get_approval(fast_shop.engine, approval_id).status == "approved"


def test_an_order_placed_for_a_conversation_that_then_ended_is_released(
    fast_shop: Shop, signed_in
) -> None:
    alice = signed_in(fast_shop, "alice")
    session_id, approval_id = waiting_checkout(fast_shop, alice)
    claimed = claim_and_stop(fast_shop, approval_id)
    # The killed process got as far as placing the order (the checkout tool's first write),
    # but its checkpoint never reached the session; then the shopper's session ended.
    line = claimed.items[0]
    stock_before = shopdb.stock_by_size(fast_shop.engine, line["product_id"])[line["size"]]
    order = shopdb.place_order(
        fast_shop.engine,
        idempotency_key="killed-mid-checkout",
        user="alice",
        tenant=claimed.tenant,
        session_id=session_id,
        lines=claimed.items,
    )
    fast_shop.client.end_session(sessionIdentifier=session_id)

    time.sleep(LEASE + 0.1)
    fast_shop.recover_decisions()

    approval = shopdb.get_approval(fast_shop.engine, approval_id)
    assert approval.status == "failed" and "ended" in approval.reason
    assert shopdb.get_order(fast_shop.engine, order.id).status == "cancelled"
    stock_after = shopdb.stock_by_size(fast_shop.engine, line["product_id"])[line["size"]]
    assert stock_after == stock_before  # the pairs went back on the shelf


def test_a_decision_that_can_never_reach_its_conversation_fails_and_places_nothing(
    fast_shop: Shop, signed_in
) -> None:
    alice, olga = signed_in(fast_shop, "alice"), signed_in(fast_shop, "olga")
    session_id, approval_id = waiting_checkout(fast_shop, alice)
    claim_and_stop(fast_shop, approval_id)
    fast_shop.client.end_session(sessionIdentifier=session_id)  # gone before the resume

    time.sleep(LEASE + 0.1)
    fast_shop.recover_decisions()

    approval = shopdb.get_approval(fast_shop.engine, approval_id)
    assert approval.status == "failed" and "ended" in approval.reason
    assert [o for o in fast_shop.orders(olga) if o.status == "placed"] == []
