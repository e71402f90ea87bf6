"""Placing orders: idempotent, and all-or-nothing on stock.

`place_order` is called when an operator approves a checkout, and again whenever a checkpoint
before that approval is replayed or forked. It must therefore place at most one order per
idempotency key and decrement stock at most once, also when two processes call it at the same
moment. Two database guarantees carry that, not Python locks:

* ``orders.idempotency_key`` is UNIQUE. The order row is inserted *first*; the loser of a race
  gets an IntegrityError, rolls back, and returns the winner's order.
* Stock is decremented with ``UPDATE stock_levels SET quantity = quantity - n WHERE ... AND
  quantity >= n``, one statement per line inside the same transaction. A line that finds too
  little stock updates no row; the whole transaction (order row and earlier lines) is rolled back
  and `OutOfStock` names the line.

    >>> order = place_order(engine, idempotency_key="sess-1|cart-hash", user="alice",
    ...                     tenant="tenant-a", session_id="sess-1",
    ...                     lines=[{"product_id": "RUN-003", "size": 8.5, "quantity": 1}])
"""

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from assistant.shopdb.engine import session_scope
from assistant.shopdb.tables import Order, OrderLine, Product, StockLevel, size_label

MAX_QUANTITY_PER_LINE = 10


class OrderError(Exception):
    """An order could not be placed; the message says why in words a shopper understands."""


class InvalidOrder(OrderError, ValueError):
    """The order itself is malformed: no lines, an unknown product, a bad quantity."""


class OutOfStock(OrderError):
    """One line asks for more pairs than are in stock; nothing was ordered or decremented."""

    def __init__(self, product_id: str, name: str, size: float, requested: int, available: int):
        self.product_id = product_id
        self.name = name
        self.size = size
        self.requested = requested
        self.available = available
        detail = f"only {available} left" if available else "sold out"
        super().__init__(
            f"{name} ({product_id}) in size {size_label(size)}: {requested} requested, {detail}."
        )


def place_order(
    bind: Session | Engine,
    *,
    idempotency_key: str,
    user: str,
    tenant: str,
    session_id: str,
    lines: Iterable[Mapping[str, Any]],
    discount_pct: float = 0,
) -> Order:
    """Place one order for `lines` (cart lines: product_id, size, quantity) and take the stock.

    Prices come from the catalog, not from the lines: the conversation never sets a price.
    Lines for the same product and size are merged. Returns the order with its lines; when an
    order with `idempotency_key` already exists, returns that one and changes nothing.

    Commits (or rolls back) the session it works in. Raises InvalidOrder for an empty order, an
    unknown product, a quantity outside 1-10 or a discount outside 0-100, and OutOfStock when a
    line cannot be filled; in both cases nothing was written.
    """
    if not idempotency_key:
        raise InvalidOrder("An order needs an idempotency key.")
    _check_discount(discount_pct)
    wanted = _merged_lines(lines)

    with session_scope(bind) as session:
        existing = _order_by_key(session, idempotency_key)
        if existing is not None:
            return existing

        priced = _price(session, wanted, discount_pct)
        order_lines = priced.lines
        order = Order(
            id=f"ord-{secrets.token_hex(5)}",
            idempotency_key=idempotency_key,
            user=user,
            tenant=tenant,
            session_id=session_id,
            subtotal=priced.subtotal,
            discount_pct=discount_pct,
            total=priced.total,
        )
        session.add(order)
        try:
            # The INSERT comes first: it claims the key (and, on SQLite, the write lock).
            session.flush()
        except IntegrityError:
            session.rollback()
            existing = _order_by_key(session, idempotency_key)
            if existing is None:
                raise
            return existing

        # A fixed order of updates keeps two concurrent orders from deadlocking on PostgreSQL.
        for line in sorted(order_lines, key=lambda line: (line.product_id, line.size)):
            taken = session.execute(
                update(StockLevel)
                .where(
                    StockLevel.product_id == line.product_id,
                    StockLevel.size == line.size,
                    StockLevel.quantity >= line.quantity,
                )
                .values(quantity=StockLevel.quantity - line.quantity)
            )
            if taken.rowcount != 1:
                available = session.exec(
                    select(StockLevel.quantity).where(
                        StockLevel.product_id == line.product_id, StockLevel.size == line.size
                    )
                ).first()
                session.rollback()
                raise OutOfStock(
                    line.product_id, line.name, line.size, line.quantity, available or 0
                )
            line.order_id = order.id
            session.add(line)
        session.commit()
        return _with_lines(session, order)


@dataclass(frozen=True)
class Quote:
    """What an order of some lines costs: its priced lines (not saved), subtotal and total."""

    lines: list[OrderLine]
    subtotal: float
    discount_pct: float
    total: float


def quote_order(
    bind: Session | Engine, lines: Iterable[Mapping[str, Any]], discount_pct: float = 0
) -> Quote:
    """What `place_order` would charge for `lines` with `discount_pct` right now, writing nothing.

    The same pricing as `place_order` (catalog prices, merged lines, each line and the total
    rounded to cents), so a preview of an operator's decision shows the total the order will
    have. Raises InvalidOrder as `place_order` does; stock is not checked.
    """
    _check_discount(discount_pct)
    wanted = _merged_lines(lines)
    with session_scope(bind) as session:
        return _price(session, wanted, discount_pct)


def _price(session: Session, wanted: dict[tuple[str, float], int], discount_pct: float) -> Quote:
    """Price merged lines from the catalog: the one computation of an order's totals."""
    order_lines: list[OrderLine] = []
    for (product_id, size), quantity in wanted.items():
        product = session.get(Product, product_id)
        if product is None:
            raise InvalidOrder(f"Unknown product {product_id!r}.")
        order_lines.append(
            OrderLine(
                product_id=product_id,
                name=product.display_name,
                size=size,
                quantity=quantity,
                unit_price=product.price,
                line_total=round(product.price * quantity, 2),
            )
        )
    subtotal = round(sum(line.line_total for line in order_lines), 2)
    total = round(subtotal * (1 - discount_pct / 100), 2)
    return Quote(lines=order_lines, subtotal=subtotal, discount_pct=discount_pct, total=total)


def _check_discount(discount_pct: float) -> None:
    if not 0 <= discount_pct <= 100:
        raise InvalidOrder(f"Discount {discount_pct}% is outside 0-100%.")


def get_order(bind: Session | Engine, order_id: str) -> Order | None:
    """The order `order_id` with its lines, or None."""
    with session_scope(bind) as session:
        order = session.get(Order, order_id)
        return _with_lines(session, order) if order is not None else None


def order_by_key(bind: Session | Engine, idempotency_key: str) -> Order | None:
    """The order placed under `idempotency_key` (with its lines), or None: what `place_order`
    with that key would return without placing anything."""
    with session_scope(bind) as session:
        return _order_by_key(session, idempotency_key)


def recent_orders(
    bind: Session | Engine,
    *,
    user: str | None = None,
    tenant: str | None = None,
    limit: int = 20,
) -> list[Order]:
    """The newest orders first (with their lines), optionally of one user or one tenant."""
    with session_scope(bind) as session:
        statement = select(Order).order_by(Order.created_at.desc(), Order.id).limit(limit)
        if user is not None:
            statement = statement.where(Order.user == user)
        if tenant is not None:
            statement = statement.where(Order.tenant == tenant)
        return [_with_lines(session, order) for order in session.exec(statement).all()]


def _merged_lines(lines: Iterable[Mapping[str, Any]]) -> dict[tuple[str, float], int]:
    merged: dict[tuple[str, float], int] = {}
    for line in lines:
        try:
            product_id = str(line["product_id"]).strip().upper()
            size = float(line["size"])
            quantity = int(line["quantity"])
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidOrder(f"Malformed order line {dict(line)!r}: {error}.") from None
        if not 1 <= quantity <= MAX_QUANTITY_PER_LINE:
            raise InvalidOrder(
                f"Quantity {quantity} of {product_id} size {size_label(size)} is outside "
                f"1-{MAX_QUANTITY_PER_LINE}."
            )
        merged[(product_id, size)] = merged.get((product_id, size), 0) + quantity
    if not merged:
        raise InvalidOrder("An order needs at least one line.")
    return merged


def _order_by_key(session: Session, idempotency_key: str) -> Order | None:
    order = session.exec(select(Order).where(Order.idempotency_key == idempotency_key)).first()
    return _with_lines(session, order) if order is not None else None


def _with_lines(session: Session, order: Order) -> Order:
    # Load the lines while the session is open, so the order is complete once it is closed.
    session.refresh(order, attribute_names=["lines"])
    return order


def cancel_order(bind: Session | Engine, order_id: str) -> Order | None:
    """placed → cancelled, and its pairs go back in stock; None when it was not placed.

    Used when a decision that placed this order can never be recorded in its conversation (the
    conversation ended or was deleted meanwhile): the order is released rather than left
    charged with nobody told. One conditional UPDATE settles a race: stock returns once.
    """
    with session_scope(bind) as session:
        changed = session.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == "placed")
            .values(status="cancelled")
        )
        if changed.rowcount != 1:
            session.rollback()
            return None
        order = session.get(Order, order_id)
        for line in sorted(order.lines, key=lambda line: (line.product_id, line.size)):
            session.execute(
                update(StockLevel)
                .where(StockLevel.product_id == line.product_id, StockLevel.size == line.size)
                .values(quantity=StockLevel.quantity + line.quantity)
            )
        session.commit()
        return _with_lines(session, order)


def orders_of_session(bind: Session | Engine, session_id: str) -> list[Order]:
    """Every order placed from one conversation, oldest first."""
    with session_scope(bind) as session:
        statement = select(Order).where(Order.session_id == session_id).order_by(Order.created_at)
        return [_with_lines(session, order) for order in session.exec(statement).all()]


def same_cart(order: Order, items: Iterable[Mapping[str, Any]]) -> bool:
    """True when the order's lines are exactly these cart lines (product, size, quantity)."""
    wanted = _merged_lines(items)
    placed = {(line.product_id, float(line.size)): line.quantity for line in order.lines}
    return wanted == placed
