"""Placing orders: idempotent per key (also under concurrency) and all-or-nothing on stock."""

import multiprocessing
import shutil
import threading
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from assistant.shopdb import (
    InvalidOrder,
    Order,
    OrderLine,
    OutOfStock,
    Product,
    StockLevel,
    get_engine,
    get_order,
    init_db,
    place_order,
    recent_orders,
    stock_by_size,
)


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded database file, copied for each test (seeding once keeps the module fast)."""
    path = tmp_path_factory.mktemp("template") / "shop.db"
    engine = get_engine(f"sqlite:///{path}")
    init_db(engine)
    engine.dispose()  # checkpoints the WAL into the file before it is copied
    return path


@pytest.fixture
def db_url(seeded_file: Path, tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    shutil.copy(seeded_file, path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(db_url: str):
    return get_engine(db_url)


def _in_stock(engine, minimum: int) -> list[tuple[str, float, int]]:
    """(product_id, size, quantity) of stock levels holding at least `minimum` pairs."""
    with Session(engine) as session:
        rows = session.exec(
            select(StockLevel).where(StockLevel.quantity >= minimum).order_by(StockLevel.id)
        ).all()
        return [(row.product_id, row.size, row.quantity) for row in rows]


def _order(engine, key: str, lines: list[dict], **extra) -> Order:
    return place_order(
        engine,
        idempotency_key=key,
        user="alice",
        tenant="tenant-a",
        session_id="session-1",
        lines=lines,
        **extra,
    )


def _order_count(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Order)).one()


def test_placing_an_order_takes_the_stock_and_prices_from_the_catalog(engine) -> None:
    (product_id, size, quantity) = _in_stock(engine, 3)[0]
    with Session(engine) as session:
        product = session.get(Product, product_id)
        price, name = product.price, product.display_name
    # The line's own price is ignored: prices come from the catalog.
    order = _order(
        engine, "key-1", [{"product_id": product_id, "size": size, "quantity": 2, "unit_price": 1}]
    )
    assert order.id.startswith("ord-")
    assert order.subtotal == order.total == round(2 * price, 2)
    assert [(line.product_id, line.name, line.quantity) for line in order.lines] == [
        (product_id, name, 2)
    ]
    assert stock_by_size(engine, product_id)[size] == quantity - 2
    assert get_order(engine, order.id).lines[0].unit_price == price


def test_same_key_twice_places_one_order_and_takes_stock_once(engine) -> None:
    (product_id, size, quantity) = _in_stock(engine, 3)[0]
    line = {"product_id": product_id, "size": size, "quantity": 1}
    first = _order(engine, "key-1", [line])
    second = _order(engine, "key-1", [line])
    assert second.id == first.id and len(second.lines) == 1
    assert _order_count(engine) == 1
    assert stock_by_size(engine, product_id)[size] == quantity - 1


def test_two_threads_with_the_same_key_place_one_order(db_url: str) -> None:
    engine = get_engine(db_url)
    (product_id, size, quantity) = _in_stock(engine, 3)[0]
    line = {"product_id": product_id, "size": size, "quantity": 1}
    start = threading.Barrier(4)
    ids: list[str] = []
    errors: list[BaseException] = []

    def place() -> None:
        own_engine = get_engine(db_url)  # separate connections, as separate processes have
        start.wait()
        try:
            ids.append(_order(own_engine, "same-key", [line]).id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=place) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert len(ids) == 4 and len(set(ids)) == 1
    assert _order_count(engine) == 1
    assert stock_by_size(engine, product_id)[size] == quantity - 1


def _place_in_other_process(db_url: str, line: dict, results) -> None:
    order = place_order(
        get_engine(db_url),
        idempotency_key="cross-process",
        user="bob",
        tenant="tenant-b",
        session_id="session-2",
        lines=[line],
    )
    results.put(order.id)


def test_two_processes_with_the_same_key_place_one_order(db_url: str) -> None:
    engine = get_engine(db_url)
    (product_id, size, quantity) = _in_stock(engine, 3)[0]
    line = {"product_id": product_id, "size": size, "quantity": 2}
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [
        context.Process(target=_place_in_other_process, args=(db_url, line, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    ids = {results.get(timeout=5), results.get(timeout=5)}
    assert len(ids) == 1
    assert _order_count(engine) == 1
    assert stock_by_size(engine, product_id)[size] == quantity - 2


def test_concurrent_orders_never_oversell(db_url: str) -> None:
    engine = get_engine(db_url)
    (product_id, size, quantity) = _in_stock(engine, 1)[0]
    start = threading.Barrier(quantity + 2)
    placed: list[str] = []
    refused: list[OutOfStock] = []

    def buy(number: int) -> None:
        start.wait()
        try:
            placed.append(
                _order(
                    get_engine(db_url),
                    f"buyer-{number}",
                    [{"product_id": product_id, "size": size, "quantity": 1}],
                ).id
            )
        except OutOfStock as error:
            refused.append(error)

    threads = [threading.Thread(target=buy, args=(n,)) for n in range(quantity + 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert (len(placed), len(refused)) == (quantity, 2)
    assert stock_by_size(engine, product_id)[size] == 0


def test_one_short_line_leaves_every_line_untouched(engine) -> None:
    plenty = _in_stock(engine, 3)
    (first_id, first_size, first_quantity) = plenty[0]
    (second_id, second_size, second_quantity) = next(row for row in plenty if row[0] != first_id)
    with Session(engine) as session:
        short = session.exec(
            select(StockLevel).where(
                StockLevel.quantity.between(1, 3),
                StockLevel.product_id.not_in([first_id, second_id]),
            )
        ).first()
        short_id, short_size, short_quantity = short.product_id, short.size, short.quantity
        short_name = session.get(Product, short_id).display_name

    lines = [
        {"product_id": first_id, "size": first_size, "quantity": 1},
        {"product_id": second_id, "size": second_size, "quantity": 2},
        {"product_id": short_id, "size": short_size, "quantity": short_quantity + 1},
    ]
    with pytest.raises(OutOfStock) as refused:
        _order(engine, "key-short", lines)
    assert refused.value.product_id == short_id
    assert refused.value.available == short_quantity
    assert short_name in str(refused.value) and f"only {short_quantity} left" in str(refused.value)
    assert stock_by_size(engine, first_id)[first_size] == first_quantity
    assert stock_by_size(engine, second_id)[second_size] == second_quantity
    assert stock_by_size(engine, short_id)[short_size] == short_quantity
    assert _order_count(engine) == 0
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(OrderLine)).one() == 0
    # The key was not used up: the same checkout can succeed once the line is fixed.
    lines[2]["quantity"] = short_quantity
    assert _order(engine, "key-short", lines).total > 0


def test_sold_out_size_is_refused(engine) -> None:
    with Session(engine) as session:
        sold_out = session.exec(select(StockLevel).where(StockLevel.quantity == 0)).first()
    with pytest.raises(OutOfStock, match="sold out"):
        _order(
            engine, "k", [{"product_id": sold_out.product_id, "size": sold_out.size, "quantity": 1}]
        )


def test_lines_for_the_same_size_are_merged(engine) -> None:
    (product_id, size, quantity) = _in_stock(engine, 4)[0]
    line = {"product_id": product_id, "size": size, "quantity": 2}
    order = _order(engine, "merged", [line, line])
    assert [(row.quantity) for row in order.lines] == [4]
    assert stock_by_size(engine, product_id)[size] == quantity - 4


def test_discount_lowers_the_total(engine) -> None:
    (product_id, size, _) = _in_stock(engine, 1)[0]
    order = _order(
        engine,
        "discounted",
        [{"product_id": product_id, "size": size, "quantity": 1}],
        discount_pct=10,
    )
    assert order.discount_pct == 10
    assert order.total == round(order.subtotal * 0.9, 2)


@pytest.mark.parametrize(
    ("lines", "extra", "message"),
    [
        ([], {}, "at least one line"),
        ([{"product_id": "NOPE-1", "size": 9, "quantity": 1}], {}, "Unknown product"),
        ([{"product_id": "RUN-001", "size": 9, "quantity": 11}], {}, "outside 1-10"),
        ([{"product_id": "RUN-001", "size": 9, "quantity": 0}], {}, "outside 1-10"),
        ([{"product_id": "RUN-001"}], {}, "Malformed"),
        ([{"product_id": "RUN-001", "size": 9, "quantity": 1}], {"discount_pct": 150}, "0-100"),
    ],
)
def test_invalid_orders_are_refused_and_write_nothing(
    engine, lines: list, extra: dict, message: str
) -> None:
    with pytest.raises(InvalidOrder, match=message):
        _order(engine, "bad", lines, **extra)
    assert _order_count(engine) == 0


def test_recent_orders_newest_first_and_filtered(engine) -> None:
    rows = _in_stock(engine, 2)
    first = _order(engine, "a", [{"product_id": rows[0][0], "size": rows[0][1], "quantity": 1}])
    second = place_order(
        engine,
        idempotency_key="b",
        user="bob",
        tenant="tenant-b",
        session_id="s-b",
        lines=[{"product_id": rows[1][0], "size": rows[1][1], "quantity": 1}],
    )
    assert [order.id for order in recent_orders(engine)] == [second.id, first.id]
    assert [order.id for order in recent_orders(engine, user="alice")] == [first.id]
    assert [order.id for order in recent_orders(engine, tenant="tenant-b")] == [second.id]
    assert recent_orders(engine)[0].lines[0].product_id == rows[1][0]
    assert get_order(engine, "ord-missing") is None
