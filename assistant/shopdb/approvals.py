"""The operators' queue of checkouts waiting for a decision.

A checkout pauses the graph with `interrupt()`; the app records that pause here so that operators
can see it across sessions, tenants and processes. The graph's checkpoint remains the truth about
the conversation; this table is the queue and the record of who decided what.

Two operators may press "approve" and "reject" on the same checkout at the same moment.
`claim_decision` settles it with one conditional UPDATE (``WHERE status = 'pending'``): exactly
one of them changes the row, the other gets `AlreadyDecided` and must not resume the graph.

    >>> approval = create_pending(engine, session_id="sess-1", interrupt_id="abc", user="alice",
    ...                           tenant="tenant-a", items=cart, subtotal=129.95)
    >>> claim_decision(engine, approval.id, {"action": "approve"}, operator="olga")
"""

import secrets
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from assistant.shopdb.engine import session_scope
from assistant.shopdb.tables import Approval, Order, utc_now

# What each operator action does to the approval's status.
STATUS_FOR_ACTION = {"approve": "approved", "edit": "approved", "reject": "rejected"}


class ApprovalError(Exception):
    """An approval could not be found or changed."""


class ApprovalNotFound(ApprovalError, LookupError):
    """No approval has this id."""


class AlreadyDecided(ApprovalError):
    """Someone decided this approval first; carries who and what."""

    def __init__(self, approval: Approval):
        self.approval = approval
        super().__init__(
            f"Approval {approval.id} was already {approval.status} by "
            f"{approval.decided_by or 'someone else'}."
        )


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

    Each argument narrows the list: `status` ("pending", "approved", "rejected"), the shopper
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


def get_approval(bind: Session | Engine, approval_id: str) -> Approval | None:
    """The approval `approval_id`, or None."""
    with session_scope(bind) as session:
        return session.get(Approval, (approval_id or "").strip())


def claim_decision(
    bind: Session | Engine, approval_id: str, decision: dict[str, Any], operator: str
) -> Approval:
    """Move a pending approval to approved or rejected for `operator`; return it decided.

    `decision` is the operator's decision as sent to the graph; its ``action`` ("approve",
    "edit" or "reject") sets the status and its ``reason`` is kept for the record. Only the first
    caller succeeds: raises AlreadyDecided when the approval is no longer pending,
    ApprovalNotFound when there is no such approval, ValueError for an unknown action.
    """
    action = decision.get("action")
    if action not in STATUS_FOR_ACTION:
        raise ValueError(f"Unknown action {action!r}; use approve, edit or reject.")
    with session_scope(bind) as session:
        claimed = session.execute(
            update(Approval)
            .where(Approval.id == approval_id, Approval.status == "pending")
            .values(
                status=STATUS_FOR_ACTION[action],
                decision=dict(decision),
                decided_by=operator,
                reason=decision.get("reason"),
                decided_at=utc_now(),
            )
        )
        session.commit()
        approval = session.get(Approval, approval_id, populate_existing=True)
        if approval is None:
            raise ApprovalNotFound(f"No approval {approval_id!r}.")
        if claimed.rowcount != 1:
            raise AlreadyDecided(approval)
        return approval


def attach_order(bind: Session | Engine, approval_id: str, order_id: str) -> Approval:
    """Record which order an approved checkout placed; return the approval.

    The approval's total becomes the order's (an operator's edit or discount changes it), so the
    queue shows what was charged. Idempotent: attaching the same order again is fine (replays
    do). Raises ApprovalNotFound, or ApprovalError when a different order is already attached or
    the approval is not approved.
    """
    with session_scope(bind) as session:
        order = session.get(Order, order_id)
        charged = {"total": order.total} if order is not None else {}
        changed = session.execute(
            update(Approval)
            .where(
                Approval.id == approval_id,
                Approval.status == "approved",
                (Approval.order_id.is_(None)) | (Approval.order_id == order_id),
            )
            .values(order_id=order_id, **charged)
        )
        session.commit()
        approval = session.get(Approval, approval_id, populate_existing=True)
        if approval is None:
            raise ApprovalNotFound(f"No approval {approval_id!r}.")
        if changed.rowcount != 1:
            raise ApprovalError(
                f"Approval {approval_id} is {approval.status} with order {approval.order_id}; "
                f"cannot attach order {order_id}."
            )
        return approval


def release_claim(bind: Session | Engine, approval_id: str) -> None:
    """Put a decided approval back in the queue: its decision could not be applied.

    Used when resuming the graph fails after `claim_decision` succeeded. An approval that
    already placed an order (``order_id`` set) is never reopened.
    """
    with session_scope(bind) as session:
        session.execute(
            update(Approval)
            .where(Approval.id == approval_id, Approval.order_id.is_(None))
            .values(status="pending", decision=None, decided_by=None, reason=None, decided_at=None)
        )
        session.commit()


def _by_interrupt(session: Session, session_id: str, interrupt_id: str) -> Approval | None:
    return session.exec(
        select(Approval).where(
            Approval.session_id == session_id, Approval.interrupt_id == interrupt_id
        )
    ).first()


def record_failure(bind: Session | Engine, approval_id: str, reason: str) -> Approval:
    """Mark an approved checkout that placed no order (say, stock ran out) as rejected.

    The operator approved, but the shop could not fill the order; the queue then shows why
    instead of an approval with no order. Returns the approval; raises ApprovalNotFound.
    """
    with session_scope(bind) as session:
        session.execute(
            update(Approval)
            .where(Approval.id == approval_id, Approval.order_id.is_(None))
            .values(status="rejected", reason=reason)
        )
        session.commit()
        approval = session.get(Approval, approval_id, populate_existing=True)
        if approval is None:
            raise ApprovalNotFound(f"No approval {approval_id!r}.")
        return approval
