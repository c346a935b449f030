"""The chain's replenishment lists computed side by side equal the lists computed one store
after another, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shouyin.db import Database
from shouyin.inventory import replenishment, replenishment_all
from shouyin.inventory.count_models import ReorderRule
from shouyin.shared.clock import utcnow
from tests import factories


def _rule(session: Session, store_id: int, product_id: int, minimum: int) -> None:
    session.add(ReorderRule(store_id=store_id, product_id=product_id, mode="manual",
                            min_qty=minimum, max_qty=minimum * 4, lead_days=1, safety_days=0,
                            review_days=7, updated_at=utcnow()))  # fmt: skip


def test_parallel_lists_equal_serial_lists(database: Database) -> None:
    with database.write() as session:
        stores = [factories.make_store(session, shift=False) for _ in range(5)]
        products = [factories.make_product(session, stock={s.id: 5 * n for s in stores})
                    for n in range(6)]  # fmt: skip
        for i, store in enumerate(stores):
            for product in products:
                _rule(session, store.id, product.id, minimum=4 * (i + 1))
        store_ids = [s.id for s in stores]
    now = utcnow()
    with database.read() as session:
        serial = {s: replenishment.low_products(session, store_id=s, now=now) for s in store_ids}

    parallel = replenishment_all.low_by_store(database, store_ids, now=now, workers=3)

    assert parallel == serial
    # Store i reorders the products at or below 4·(i+1): more per store, none empty.
    assert [len(parallel[s]) for s in store_ids] == [1, 2, 3, 4, 5]
