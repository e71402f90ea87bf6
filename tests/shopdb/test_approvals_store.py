"""The approvals queue: one row per checkout pause, and exactly one operator decides it."""

import threading
from pathlib import Path

import pytest

from assistant.shopdb import (
    AlreadyDecided,
    ApprovalError,
    ApprovalNotFound,
    attach_order,
    claim_decision,
    create_pending,
    get_approval,
    get_engine,
    list_approvals,
    release_claim,
)
from assistant.shopdb.engine import create_tables  # tables only: the queue needs no seed

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
    claim_decision(engine, decided.id, {"action": "reject", "reason": "no"}, "olga")

    assert [a.id for a in list_approvals(engine, status="pending")] == [oldest.id, newer.id]
    assert [a.id for a in list_approvals(engine, status="rejected")] == [decided.id]
    assert [a.id for a in list_approvals(engine, user="bob")] == [newer.id]
    assert [a.id for a in list_approvals(engine, tenant="tenant-a", status="pending")] == [
        oldest.id
    ]
    assert [a.id for a in list_approvals(engine, session_id="s-3")] == [decided.id]


def test_claim_decision_approves_and_records_who(engine) -> None:
    approval = _pending(engine)
    decision = {"action": "edit", "discount_pct": 10, "reason": "loyal customer"}
    decided = claim_decision(engine, approval.id, decision, "olga")
    assert decided.status == "approved"
    assert decided.decided_by == "olga"
    assert decided.decision == decision
    assert decided.reason == "loyal customer"
    assert decided.decided_at is not None
    assert get_approval(engine, approval.id).status == "approved"


def test_second_claim_is_refused_and_names_the_first_operator(engine) -> None:
    approval = _pending(engine)
    claim_decision(engine, approval.id, {"action": "reject", "reason": "fraud check"}, "olga")
    with pytest.raises(AlreadyDecided, match="already rejected by olga") as refused:
        claim_decision(engine, approval.id, {"action": "approve"}, "oscar")
    assert refused.value.approval.decided_by == "olga"
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
            claim_decision(own_engine, approval.id, {"action": action, "reason": "r"}, operator)
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
        claim_decision(engine, "apr-00000000", {"action": "approve"}, "olga")
    approval = _pending(engine)
    with pytest.raises(ValueError, match="Unknown action"):
        claim_decision(engine, approval.id, {"action": "maybe"}, "olga")
    assert get_approval(engine, approval.id).status == "pending"
    assert get_approval(engine, "apr-missing") is None


def test_attach_order_is_idempotent_and_refuses_a_second_order(engine) -> None:
    approval = _pending(engine)
    with pytest.raises(ApprovalError, match="pending"):
        attach_order(engine, approval.id, "ord-1")  # not approved yet
    claim_decision(engine, approval.id, {"action": "approve"}, "olga")
    assert attach_order(engine, approval.id, "ord-1").order_id == "ord-1"
    assert attach_order(engine, approval.id, "ord-1").order_id == "ord-1"  # a replay
    with pytest.raises(ApprovalError, match="cannot attach order ord-2"):
        attach_order(engine, approval.id, "ord-2")
    with pytest.raises(ApprovalNotFound):
        attach_order(engine, "apr-missing", "ord-1")


def test_release_claim_reopens_a_decision_that_placed_no_order(engine) -> None:
    approval = _pending(engine)
    claim_decision(engine, approval.id, {"action": "approve"}, "olga")
    release_claim(engine, approval.id)
    reopened = get_approval(engine, approval.id)
    assert (reopened.status, reopened.decided_by, reopened.decision) == ("pending", None, None)
    # Back in the queue, so another operator can claim it.
    assert claim_decision(engine, approval.id, {"action": "approve"}, "oscar").decided_by == "oscar"


def test_release_claim_never_reopens_an_approval_with_an_order(engine) -> None:
    approval = _pending(engine)
    claim_decision(engine, approval.id, {"action": "approve"}, "olga")
    attach_order(engine, approval.id, "ord-1")
    release_claim(engine, approval.id)
    assert get_approval(engine, approval.id).status == "approved"
