"""The whole shop on PostgreSQL: the session service's store and the catalog both.

`DATABASE_URL` and the service's `--db` accept any SQLAlchemy URL; this runs a purchase end to
end with both on a real PostgreSQL server, including the parts that lean on the database for
correctness: one order per checkout under replay, atomic stock, and two operators deciding at
the same moment.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from assistant.application import Principal
from assistant.application.shop import Shop
from assistant.shopdb import AlreadyDecided, User, stock_by_size
from assistant.shopdb.accounts import set_password
from bedrock_sessions_local.testing import running_service


@pytest.fixture(scope="module")
def pg_shop(new_postgres_database, settings_at, tmp_path_factory) -> Iterator[Shop]:
    with running_service(db=new_postgres_database()) as endpoint:
        # The SQLite path only places the signing key; the catalog is on PostgreSQL.
        unused = tmp_path_factory.mktemp("pg-shop") / "unused.db"
        settings = settings_at(endpoint, unused, database_url=new_postgres_database())
        shop = Shop(settings=settings)
        # A second operator of alice's store, for two operators deciding at the same moment.
        with Session(shop.engine) as db:
            db.add(User(username="omar", display_name="Omar", role="operator", tenant="tenant-a"))
            db.commit()
        set_password(shop.engine, "omar", "demo-omar")
        yield shop
        shop.engine.dispose()


def _checkout(shop: Shop, alice: Principal) -> tuple[str, dict]:
    session_id = shop.new_conversation(alice)
    shop.send(alice, session_id, "trail shoes under $150")
    shop.send(alice, session_id, "add the second one in size 9")
    waiting = shop.send(alice, session_id, "checkout")
    assert waiting.pending_approval is not None
    return session_id, waiting.pending_approval


def test_a_purchase_on_postgresql_places_one_order_and_takes_stock_once(
    pg_shop: Shop, signed_in
) -> None:
    alice, olga = signed_in(pg_shop, "alice"), signed_in(pg_shop, "olga")
    session_id, pending = _checkout(pg_shop, alice)
    [line] = pending.items
    stock_before = stock_by_size(pg_shop.engine, line["product_id"])[line["size"]]

    done = pg_shop.decide(olga, pending.id, {"action": "approve"})
    order_id = next(o.id for o in pg_shop.orders(alice) if o.session_id == session_id)
    assert order_id in done.reply and done.cart == []

    # Replaying the checkout call asks the store again; approving it finds the same order.
    checkout_call = next(
        v for v in pg_shop.history(alice, session_id) if v.tool_calls == ["checkout({})"]
    )
    again = pg_shop.replay(alice, session_id, checkout_call.checkpoint_id, confirmed=True)
    pg_shop.decide(olga, again.pending_approval.id, {"action": "approve"})
    assert [o.id for o in pg_shop.orders(alice) if o.session_id == session_id] == [order_id]
    stock_after = stock_by_size(pg_shop.engine, line["product_id"])[line["size"]]
    assert stock_after == stock_before - line["quantity"]


def test_two_operators_at_once_on_postgresql_one_wins(pg_shop: Shop, signed_in) -> None:
    alice = signed_in(pg_shop, "alice")
    session_id, pending = _checkout(pg_shop, alice)
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def decide(operator: Principal) -> None:
        start.wait()
        try:
            pg_shop.decide(operator, pending.id, {"action": "approve"})
            outcomes.append("won")
        except AlreadyDecided:
            outcomes.append("refused")

    operators = [signed_in(pg_shop, "olga"), signed_in(pg_shop, "omar")]
    threads = [threading.Thread(target=decide, args=(who,)) for who in operators]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes) == ["refused", "won"]
    assert len([o for o in pg_shop.orders(alice) if o.session_id == session_id]) == 1
