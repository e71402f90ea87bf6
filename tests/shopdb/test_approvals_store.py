"""The approvals queue: one row per checkout pause; each transition of a decision's state machine
(pending → deciding → approved | rejected | failed, release, reclaim after a lease) happens once."""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session

from assistant.shopdb import (
    AlreadyDecided,
    Approval,
    ApprovalError,
    ApprovalNotFound,
    claim_decision,
    close_stale,
    create_pending,
    expired_claims,
    finish_decision,
    get_approval,
    get_engine,
    list_approvals,
    reclaim_expired,
    release_claim,
)
from assistant.shopdb.engine import create_tables  # tables only: the queue needs no seed
from assistant.shopdb.tables import utc_now

ITEMS = [
    {"product_id": "RUN-003", "name": "Stridewell Swift Flow", "size": 8.5, "quantity": 1,
     "unit_price": 149.95},
]  # fmt: skip


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    create_tables(get_engine(url))  # the queue needs no catalog rows
    return url


@pytest.fixture
def engine(db_url: str):
    return get_engine(db_url)


def _pending(engine, session_id: str = "session-1", interrupt_id: str = "int-1", **extra):
    return create_pending(
        engine,
        session_id=session_id,
        interrupt_id=interrupt_id,
        user=extra.pop("user", "alice"),
        tenant=extra.pop("tenant", "tenant-a"),
        items=ITEMS,
        subtotal=149.95,
        **extra,
    )


LEASE = 30.0


def _claim(bind, approval_id: str, decision: dict, operator: str, lease: float = LEASE):
    return claim_decision(bind, approval_id, decision, operator, lease_seconds=lease)


def _expire(engine, approval_id: str) -> None:
    """Move the lease into the past, as if its holder had died a while ago."""
    with Session(engine) as session:
        session.execute(
            update(Approval)
            .where(Approval.id == approval_id)
            .values(lease_expires_at=utc_now() - timedelta(seconds=1))
        )
        session.commit()


def test_create_pending_records_the_checkout(engine) -> None:
    approval = _pending(engine)
    assert approval.id.startswith("apr-") and len(approval.id) == 12
    stored = get_approval(engine, approval.id)
    assert (stored.status, stored.user, stored.tenant) == ("pending", "alice", "tenant-a")
    assert stored.items == ITEMS
    assert stored.subtotal == stored.total == 149.95
    assert stored.decision is None and stored.decided_at is None


def test_create_pending_twice_for_one_interrupt_keeps_one_row(engine) -> None:
    first = _pending(engine)
    second = _pending(engine)
    assert second.id == first.id
    assert len(list_approvals(engine)) == 1
    assert _pending(engine, interrupt_id="int-2").id != first.id


def test_create_pending_racing_threads_keep_one_row(db_url: str) -> None:
    start = threading.Barrier(4)
    ids: list[str] = []

    def record() -> None:
        own_engine = get_engine(db_url)
        start.wait()
        ids.append(_pending(own_engine).id)

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(ids) == 4 and len(set(ids)) == 1
    assert len(list_approvals(get_engine(db_url))) == 1


def test_list_approvals_filters_and_orders_the_queue(engine) -> None:
    oldest = _pending(engine, "s-1", "i-1")
    newer = _pending(engine, "s-2", "i-2", user="bob", tenant="tenant-b")
    decided = _pending(engine, "s-3", "i-3")
    _claim(engine, decided.id, {"action": "reject", "reason": "no"}, "olga")
    finish_decision(engine, decided.id, "rejected")

    assert [a.id for a in list_approvals(engine, status="pending")] == [oldest.id, newer.id]
    assert [a.id for a in list_approvals(engine, status="rejected")] == [decided.id]
    assert [a.id for a in list_approvals(engine, user="bob")] == [newer.id]
    assert [a.id for a in list_approvals(engine, tenant="tenant-a", status="pending")] == [
        oldest.id
    ]
    assert [a.id for a in list_approvals(engine, session_id="s-3")] == [decided.id]


def test_claim_moves_pending_to_deciding_and_records_who_with_a_lease(engine) -> None:
    approval = _pending(engine)
    decision = {"action": "edit", "discount_pct": 10, "reason": "loyal customer"}
    claimed = _claim(engine, approval.id, decision, "olga")
    assert (claimed.status, claimed.decided_by, claimed.attempts) == ("deciding", "olga", 1)
    assert claimed.decision == decision and claimed.reason == "loyal customer"
    assert claimed.lease_expires_at is not None
    assert get_approval(engine, approval.id).status == "deciding"
    assert expired_claims(engine) == []  # the lease is still running


def test_second_claim_is_refused_and_names_the_first_operator(engine) -> None:
    approval = _pending(engine)
    _claim(engine, approval.id, {"action": "reject", "reason": "fraud check"}, "olga")
    with pytest.raises(AlreadyDecided, match="being decided by olga") as refused:
        _claim(engine, approval.id, {"action": "approve"}, "oscar")
    assert refused.value.approval.decided_by == "olga"
    finish_decision(engine, approval.id, "rejected")
    with pytest.raises(AlreadyDecided, match="already rejected by olga"):
        _claim(engine, approval.id, {"action": "approve"}, "oscar")
    stored = get_approval(engine, approval.id)
    assert (stored.status, stored.decided_by, stored.reason) == ("rejected", "olga", "fraud check")


def test_two_operators_at_once_exactly_one_wins(db_url: str) -> None:
    approval = _pending(get_engine(db_url))
    start = threading.Barrier(6)
    winners: list[str] = []
    losers: list[str] = []

    def decide(operator: str, action: str) -> None:
        own_engine = get_engine(db_url)
        start.wait()
        try:
            _claim(own_engine, approval.id, {"action": action, "reason": "r"}, operator)
            winners.append(operator)
        except AlreadyDecided:
            losers.append(operator)

    threads = [
        threading.Thread(target=decide, args=(f"op-{n}", "approve" if n % 2 else "reject"))
        for n in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(winners) == 1 and len(losers) == 5
    assert get_approval(get_engine(db_url), approval.id).decided_by == winners[0]


def test_claim_unknown_approval_or_action(engine) -> None:
    with pytest.raises(ApprovalNotFound):
        _claim(engine, "apr-00000000", {"action": "approve"}, "olga")
    approval = _pending(engine)
    with pytest.raises(ValueError, match="Unknown action"):
        _claim(engine, approval.id, {"action": "maybe"}, "olga")
    assert get_approval(engine, approval.id).status == "pending"
    assert get_approval(engine, "apr-missing") is None


def test_finish_approved_needs_its_order_and_is_idempotent(engine) -> None:
    approval = _pending(engine)
    with pytest.raises(ApprovalError, match="pending"):
        finish_decision(engine, approval.id, "approved", order_id="ord-1")  # not claimed
    _claim(engine, approval.id, {"action": "approve"}, "olga")
    with pytest.raises(ApprovalError):
        finish_decision(engine, approval.id, "approved")  # approved without an order
    done = finish_decision(engine, approval.id, "approved", order_id="ord-1")
    assert (done.status, done.order_id, done.lease_expires_at) == ("approved", "ord-1", None)
    again = finish_decision(engine, approval.id, "approved", order_id="ord-1")  # a retry
    assert again.order_id == "ord-1"
    with pytest.raises(ApprovalError, match="cannot make it approved with order ord-2"):
        finish_decision(engine, approval.id, "approved", order_id="ord-2")
    with pytest.raises(ApprovalNotFound):
        finish_decision(engine, "apr-missing", "rejected")


def test_finish_failed_keeps_the_reason(engine) -> None:
    approval = _pending(engine)
    _claim(engine, approval.id, {"action": "approve"}, "olga")
    failed = finish_decision(engine, approval.id, "failed", reason="sold out")
    assert (failed.status, failed.reason, failed.order_id) == ("failed", "sold out", None)


def test_an_expired_lease_is_taken_over_by_exactly_one_process(db_url: str) -> None:
    engine = get_engine(db_url)
    approval = _pending(engine)
    _claim(engine, approval.id, {"action": "approve"}, "olga")
    assert reclaim_expired(engine, approval.id, lease_seconds=LEASE) is None  # still held
    _expire(engine, approval.id)
    assert [a.id for a in expired_claims(engine)] == [approval.id]

    start = threading.Barrier(4)
    taken: list = []

    def sweep() -> None:
        own_engine = get_engine(db_url)
        start.wait()
        taken.append(reclaim_expired(own_engine, approval.id, lease_seconds=LEASE))

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    winners = [row for row in taken if row is not None]
    assert len(winners) == 1 and winners[0].attempts == 2
    assert winners[0].status == "deciding" and winners[0].decided_by == "olga"
    assert expired_claims(engine) == []


def test_release_claim_reopens_a_decision_that_placed_no_order(engine) -> None:
    approval = _pending(engine)
    _claim(engine, approval.id, {"action": "approve"}, "olga")
    release_claim(engine, approval.id, "the store could not apply it")
    reopened = get_approval(engine, approval.id)
    assert (reopened.status, reopened.decided_by, reopened.decision) == ("pending", None, None)
    assert reopened.last_error == "the store could not apply it"
    # Back in the queue, so another operator can claim it.
    assert _claim(engine, approval.id, {"action": "approve"}, "oscar").decided_by == "oscar"


def test_release_claim_never_reopens_an_approval_with_an_order(engine) -> None:
    approval = _pending(engine)
    _claim(engine, approval.id, {"action": "approve"}, "olga")
    finish_decision(engine, approval.id, "approved", order_id="ord-1")
    assert release_claim(engine, approval.id, "late") is None
    assert get_approval(engine, approval.id).status == "approved"


def test_a_pending_checkout_nobody_waits_for_leaves_the_queue(engine) -> None:
    approval = _pending(engine)
    closed = close_stale(engine, approval.id, "The conversation no longer waits for it.")
    assert closed.status == "failed" and "no longer waits" in closed.reason
    assert list_approvals(engine, status="pending") == []
    assert close_stale(engine, approval.id, "again") is None
