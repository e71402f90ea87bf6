"""The catalog database: seeding from data/*.json, idempotence, and several processes at once."""

import json
import multiprocessing
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select

from assistant.shopdb import (
    DATA_DIR,
    Product,
    StockLevel,
    User,
    get_engine,
    init_db,
    product_image_path,
)

CATALOG = json.loads((DATA_DIR / "catalog.json").read_text(encoding="utf-8"))["products"]
USERS = json.loads((DATA_DIR / "users.json").read_text(encoding="utf-8"))["users"]


def _counts(engine) -> tuple[int, int, int, int]:
    with Session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(Product)).one(),
            session.exec(select(func.count()).select_from(StockLevel)).one(),
            session.exec(select(func.sum(StockLevel.quantity))).one(),
            session.exec(select(func.count()).select_from(User)).one(),
        )


EXPECTED = (
    len(CATALOG),
    sum(len(product["stock"]) for product in CATALOG),
    sum(sum(product["stock"].values()) for product in CATALOG),
    len(USERS),
)


def test_committed_catalog_is_large_and_varied() -> None:
    assert len(CATALOG) >= 150
    assert {p["category"] for p in CATALOG} == {
        "running",
        "trail",
        "hiking",
        "casual",
        "basketball",
        "formal",
        "sandals",
    }
    assert {p["gender"] for p in CATALOG} >= {"women", "men", "kids"}
    assert len({p["product_id"] for p in CATALOG}) == len(CATALOG)
    for product in CATALOG:
        assert 1 <= product["rating"] <= 5 and round(product["rating"], 1) == product["rating"]
        assert product["price"] > 0 and product["colors"] and product["description"]
        assert any(product["stock"].values()), product["product_id"]
        assert product_image_path(product["product_id"]) is not None
    # Some sizes are sold out, and half sizes exist.
    assert any(0 in p["stock"].values() for p in CATALOG)
    assert any("8.5" in p["stock"] for p in CATALOG)


def test_product_pictures_are_small() -> None:
    total = sum(path.stat().st_size for path in (DATA_DIR / "images").glob("*.png"))
    assert total < 3 * 1024 * 1024


def test_init_db_seeds_products_stock_and_users(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    init_db(engine)
    assert _counts(engine) == EXPECTED
    with Session(engine) as session:
        alice = session.get(User, "alice")
        assert (alice.tenant, alice.shoe_size, alice.gender) == ("tenant-a", 8.5, "women")
        assert session.get(User, "olga").is_operator


def test_init_db_twice_seeds_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    init_db(get_engine(url))
    init_db(get_engine(url))
    assert _counts(get_engine(url)) == EXPECTED


def test_init_db_leaves_existing_data_alone(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    init_db(engine)
    with Session(engine) as session:
        session.exec(select(StockLevel)).first().quantity = 0
        session.commit()
    init_db(engine)
    assert _counts(engine)[2] < EXPECTED[2]


def test_sqlite_file_uses_wal_and_busy_timeout(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'nested' / 'shop.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_in_memory_database_is_shared_between_sessions() -> None:
    engine = get_engine("sqlite://")
    init_db(engine)
    assert _counts(engine) == EXPECTED


def _init_in_other_process(url: str) -> None:
    init_db(get_engine(url))


def test_two_processes_initialising_at_once_seed_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_init_in_other_process, args=(url,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0]
    assert _counts(get_engine(url)) == EXPECTED


@pytest.mark.parametrize("bad", ["catalog.json", "users.json"])
def test_missing_seed_file_is_a_clear_error(tmp_path: Path, bad: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("catalog.json", "users.json"):
        if name != bad:
            (data / name).write_text((DATA_DIR / name).read_text())
    with pytest.raises(FileNotFoundError, match=bad):
        init_db(get_engine(f"sqlite:///{tmp_path / 'shop.db'}"), data_dir=data)


def test_racing_initialisations_in_threads_seed_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def initialise() -> None:
        engine = get_engine(url)  # an engine each, as separate processes would have
        start.wait()
        try:
            init_db(engine)
        except BaseException as error:  # collected, so the assertion shows it
            errors.append(error)

    threads = [threading.Thread(target=initialise) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert _counts(get_engine(url)) == EXPECTED
