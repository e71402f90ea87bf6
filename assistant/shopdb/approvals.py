"""The operators' queue of checkouts, and the states of one decision (docs/approvals.md).

A checkout pauses the graph with `interrupt()`; the app records that pause here so that operators
can see it across sessions, tenants and processes. The graph's checkpoint remains the truth about
the conversation; this table is the queue and the record of who decided what.

    pending ──claim──▶ deciding ──finish──▶ approved (with its order) | rejected | failed
       ▲                 │  ▲                 | cancelled (the shopper withdrew the checkout)
       └────release──────┘  └──reclaim (the lease expired: whoever holds it now retries)

Every transition is one conditional UPDATE, so two processes can never both make it: two
operators pressing "approve" and "reject" at once, or an operator approving while the shopper
cancels (`claim_decision`: exactly one changes the row, the other gets `AlreadyDecided`), or
two sweepers finding the same expired lease (`reclaim_expired`: exactly one gets it back).

    >>> approval = create_pending(engine, session_id="sess-1", interrupt_id="abc", user="alice",
    ...                           tenant="tenant-a", items=cart, subtotal=129.95)
    >>> claim_decision(engine, approval.id, {"action": "approve"}, operator="olga",
    ...                lease_seconds=30)
"""

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from assistant.shopdb.engine import session_scope
from assistant.shopdb.tables import Approval, Order, utc_now

# What an operator decides, and the shopper's "cancel" (which takes the same claim, so an
# approval and a cancellation of one checkout can never both happen).
ACTIONS = ("approve", "edit", "reject", "cancel")
FINAL = ("approved", "rejected", "failed", "cancelled")


class ApprovalError(Exception):
    """An approval could not be found or changed."""


class ApprovalNotFound(ApprovalError, LookupError):
    """No approval has this id."""


class AlreadyDecided(ApprovalError):
    """Someone decided this approval first; carries who and what."""

    def __init__(self, approval: Approval):
        self.approval = approval
        who = approval.decided_by or "someone else"
        if (getattr(approval, "decision", None) or {}).get("action") == "cancel":
            state = "being cancelled" if approval.status == "deciding" else "cancelled"
            super().__init__(f"Checkout {approval.id} was {state} by the shopper ({who}).")
        elif approval.status == "deciding":
            super().__init__(f"Approval {approval.id} is being decided by {who}.")
        else:
            super().__init__(f"Approval {approval.id} was already {approval.status} by {who}.")


def create_pending(
    bind: Session | Engine,
    *,
    session_id: str,
    interrupt_id: str,
    user: str,
    tenant: str,
    items: list[dict[str, Any]],
    subtotal: float,
    total: float | None = None,
    repeat_of_order: str | None = None,
    replay_of_order: str | None = None,
) -> Approval:
    """Record a checkout waiting for an operator and return it.

    Idempotent per (session_id, interrupt_id): recording the same pause again returns the
    existing approval unchanged (whatever its status), also when two processes race.
    """
    with session_scope(bind) as session:
        existing = _by_interrupt(session, session_id, interrupt_id)
        if existing is not None:
            return existing
        approval = Approval(
            id=f"apr-{secrets.token_hex(4)}",
            session_id=session_id,
            interrupt_id=interrupt_id,
            user=user,
            tenant=tenant,
            items=[dict(item) for item in items],
            subtotal=round(subtotal, 2),
            total=round(subtotal if total is None else total, 2),
            repeat_of_order=repeat_of_order,
            replay_of_order=replay_of_order,
        )
        session.add(approval)
        try:
            session.commit()
        except IntegrityError:
            # The other process recorded the same pause first.
            session.rollback()
            existing = _by_interrupt(session, session_id, interrupt_id)
            if existing is None:
                raise
            return existing
        return approval


def list_approvals(
    bind: Session | Engine,
    status: str | None = None,
    user: str | None = None,
    *,
    tenant: str | None = None,
    session_id: str | None = None,
    limit: int = 100,
) -> list[Approval]:
    """Approvals, oldest first when pending (a queue), newest first otherwise.

    Each argument narrows the list: `status` ("pending", "deciding", "approved", "rejected",
    "failed", "cancelled"), the shopper
    `user`, the `tenant`, the conversation `session_id`.
    """
    with session_scope(bind) as session:
        statement = select(Approval)
        if status is not None:
            statement = statement.where(Approval.status == status)
        if user is not None:
            statement = statement.where(Approval.user == user)
        if tenant is not None:
            statement = statement.where(Approval.tenant == tenant)
        if session_id is not None:
            statement = statement.where(Approval.session_id == session_id)
        if status == "pending":
            statement = statement.order_by(Approval.created_at, Approval.id)
        else:
            statement = statement.order_by(Approval.created_at.desc(), Approval.id)
        return list(session.exec(statement.limit(limit)).all())


def approval_for_interrupt(
    bind: Session | Engine, session_id: str, interrupt_id: str
) -> Approval | None:
    """The approval recorded for one checkout interrupt of a session, if any."""
    with session_scope(bind) as session:
        return _by_interrupt(session, session_id, interrupt_id)


def get_approval(bind: Session | Engine, approval_id: str) -> Approval | None:
    """The approval `approval_id`, or None."""
    with session_scope(bind) as session:
        return session.get(Approval, (approval_id or "").strip())


def claim_decision(
    bind: Session | Engine,
    approval_id: str,
    decision: dict[str, Any],
    operator: str,
    *,
    lease_seconds: float,
) -> Approval:
    """pending → deciding: `operator` holds the decision for `lease_seconds`; return it.

    `decision` is the decision as sent to the graph: an operator's ``action`` "approve", "edit"
    or "reject", or "cancel" when the shopper (then `operator`) withdraws the checkout; its
    ``reason`` is kept for the record. Only the first caller succeeds: raises AlreadyDecided
    when the approval is no longer pending, ApprovalNotFound when there is no such approval,
    ValueError for an unknown action.
    """
    if decision.get("action") not in ACTIONS:
        raise ValueError(
            f"Unknown action {decision.get('action')!r}; use approve, edit, reject or cancel."
        )
    now = utc_now()
    changed = _transition(
        bind,
        approval_id,
        (Approval.status == "pending",),
        status="deciding",
        decision=dict(decision),
        decided_by=operator,
        reason=decision.get("reason"),
        lease_expires_at=now + timedelta(seconds=lease_seconds),
        attempts=1,
        last_error=None,
    )
    if changed is None:
        raise AlreadyDecided(_existing(bind, approval_id))
    return changed


def reclaim_expired(
    bind: Session | Engine, approval_id: str, *, lease_seconds: float
) -> Approval | None:
    """deciding (lease expired) → deciding with a new lease for the caller; None if not expired
    or someone else reclaimed it first. Counts the attempt."""
    now = utc_now()
    with session_scope(bind) as session:
        claimed = session.execute(
            update(Approval)
            .where(
                Approval.id == approval_id,
                Approval.status == "deciding",
                Approval.lease_expires_at < now,
            )
            .values(
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                attempts=Approval.attempts + 1,
            )
        )
        session.commit()
        if claimed.rowcount != 1:
            return None
        return session.get(Approval, approval_id, populate_existing=True)


def expired_claims(bind: Session | Engine, limit: int = 100) -> list[Approval]:
    """Approvals whose "deciding" lease has expired: their holder stopped before finishing."""
    with session_scope(bind) as session:
        statement = (
            select(Approval)
            .where(Approval.status == "deciding", Approval.lease_expires_at < utc_now())
            .order_by(Approval.lease_expires_at)
            .limit(limit)
        )
        return list(session.exec(statement).all())


def finish_decision(
    bind: Session | Engine,
    approval_id: str,
    status: str,
    *,
    order_id: str | None = None,
    reason: str | None = None,
) -> Approval:
    """deciding → approved (with `order_id`) | rejected | failed (with `reason`) | cancelled;
    return it.

    Idempotent: finishing again with the same outcome returns the approval unchanged (a retry
    after a crash does). The approval's total becomes the order's (an operator's edit or
    discount changes it), so the queue shows what was charged. Raises ApprovalError when the
    approval is in another final state or `status` is not a final one.
    """
    if status not in FINAL or (status == "approved") != bool(order_id):
        raise ApprovalError(f"Cannot finish a decision as {status!r} with order {order_id!r}.")
    values: dict[str, Any] = {"status": status, "order_id": order_id, "lease_expires_at": None}
    values["decided_at"] = utc_now()
    if reason is not None:
        values["reason"] = reason
    with session_scope(bind) as session:
        order = session.get(Order, order_id) if order_id else None
        if order is not None:
            values["total"] = order.total
    changed = _transition(bind, approval_id, (Approval.status == "deciding",), **values)
    if changed is not None:
        return changed
    existing = _existing(bind, approval_id)
    if existing.status == status and existing.order_id == order_id:
        return existing
    raise ApprovalError(
        f"Approval {approval_id} is {existing.status} with order {existing.order_id}; "
        f"cannot make it {status} with order {order_id}."
    )


def release_claim(bind: Session | Engine, approval_id: str, error: str) -> Approval | None:
    """deciding → pending: the decision could not be applied and nothing came of it.

    Only for a decision that placed no order (the caller checked); the approval is back in the
    queue with `error` saying why. Returns it, or None when it was not deciding.
    """
    return _transition(
        bind,
        approval_id,
        (Approval.status == "deciding", Approval.order_id.is_(None)),
        status="pending",
        decision=None,
        decided_by=None,
        reason=None,
        decided_at=None,
        lease_expires_at=None,
        last_error=error[:500],
    )


def note_error(bind: Session | Engine, approval_id: str, error: str) -> None:
    """Record why the latest attempt at a deciding approval failed (it will be retried)."""
    _transition(bind, approval_id, (Approval.status == "deciding",), last_error=error[:500])


def close_stale(bind: Session | Engine, approval_id: str, reason: str) -> Approval | None:
    """pending → failed: the conversation no longer waits on this checkout (it moved on, was
    replayed, or is gone), so no decision can apply. Returns it, or None when not pending."""
    return _transition(
        bind,
        approval_id,
        (Approval.status == "pending",),
        status="failed",
        reason=reason,
        decided_at=utc_now(),
    )


def _transition(
    bind: Session | Engine, approval_id: str, conditions: tuple, **values: Any
) -> Approval | None:
    """One conditional UPDATE; the approval after it, or None when the conditions did not hold."""
    with session_scope(bind) as session:
        changed = session.execute(
            update(Approval).where(Approval.id == approval_id, *conditions).values(**values)
        )
        session.commit()
        if changed.rowcount != 1:
            return None
        return session.get(Approval, approval_id, populate_existing=True)


def _existing(bind: Session | Engine, approval_id: str) -> Approval:
    approval = get_approval(bind, approval_id)
    if approval is None:
        raise ApprovalNotFound(f"No approval {approval_id!r}.")
    return approval


def _by_interrupt(session: Session, session_id: str, interrupt_id: str) -> Approval | None:
    return session.exec(
        select(Approval).where(
            Approval.session_id == session_id, Approval.interrupt_id == interrupt_id
        )
    ).first()
