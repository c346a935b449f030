"""Stocktakes in the service layer on both databases: the snapshot is set-based (its cost does
not grow with the store's range), and concurrent posts or scans move stock exactly once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.inventory import service as inventory
from shouyin.inventory import stocktakes
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.stocktake_schemas import CountIn, PostIn, StocktakeStart
from shouyin.shared.clock import utcnow
from tests import factories

BARRIER_TIMEOUT_S = 20.0


class Shop:
    def __init__(self, db: Database, products: int = 3) -> None:
        with db.write() as session:
            store = factories.make_store(session, shift=False)
            made = [factories.make_product(session, stock={store.id: 10}) for _ in range(products)]
            self.store = store.id
            self.products = [p.id for p in made]
            self.manager: Principal = factories.principal_of(
                factories.make_user(session, role="store_manager", store=store)
            )
        self.db = db

    def start(self) -> int:
        data = StocktakeStart.model_validate(
            {"client_uuid": str(uuid.uuid4()), "store_id": self.store}
        )
        with self.db.write() as session:
            view, _ = stocktakes.start(session, data=data, actor=self.manager)
        return view.id

    def count(self, stocktake_id: int, product_id: int, n: int, mode: str = "set") -> str:
        data = CountIn.model_validate(
            {"lines": [{"product_id": product_id, "counted": n}], "mode": mode}
        )
        return self.run(
            lambda s: stocktakes.count(s, stocktake_id=stocktake_id, data=data, actor=self.manager)
        )

    def post(self, stocktake_id: int) -> str:
        return self.run(
            lambda s: stocktakes.post(
                s, stocktake_id=stocktake_id, data=PostIn(), actor=self.manager
            )
        )

    def run(self, action: Callable[[Session], Any]) -> str:
        try:
            with self.db.write() as session:
                action(session)
        except DomainError as exc:
            return exc.code
        return "ok"

    def level(self, product_id: int) -> int:
        with self.db.read() as session:
            value = session.scalar(
                select(StockLevel.on_hand).where(
                    StockLevel.store_id == self.store, StockLevel.product_id == product_id
                )
            )
        return value or 0


def at_once(actions: list[Callable[[], str]]) -> list[str]:
    start = threading.Barrier(len(actions), timeout=BARRIER_TIMEOUT_S)

    def go(action: Callable[[], str]) -> str:
        start.wait()
        return action()

    with ThreadPoolExecutor(len(actions)) as pool:
        return list(pool.map(go, actions))


@contextmanager
def counted_statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_the_snapshot_costs_the_same_statements_for_3_or_300_products(
    database: Database,
) -> None:
    small, large = Shop(database, products=3), Shop(database, products=300)
    Shop(database).start()  # first use: warms caches that would add statements once
    with counted_statements(database) as few:
        small_id = small.start()
    with counted_statements(database) as many:
        large_id = large.start()
    assert len(many) == len(few)
    with database.read() as session:
        view = stocktakes.detail(session, stocktake_id=large_id, actor=large.manager, limit=1)
        assert view.totals.lines >= 300
        small_view = stocktakes.detail(session, stocktake_id=small_id, actor=small.manager)
    assert {x.product_id for x in small_view.lines} >= set(small.products)


def test_two_posts_at_once_post_once(database: Database) -> None:
    shop = Shop(database)
    stocktake_id = shop.start()
    product = shop.products[0]
    assert shop.count(stocktake_id, product, 7) == "ok"
    results = at_once([lambda: shop.post(stocktake_id), lambda: shop.post(stocktake_id)])
    assert sorted(results) == ["ok", "stocktake.posted"]
    assert shop.level(product) == 7
    with database.read() as session:
        moves = session.scalar(
            select(func.count()).select_from(StockMovement).where(StockMovement.kind == "stocktake")
        )
    assert moves == 1


def test_scans_from_two_phones_at_once_both_count(database: Database) -> None:
    shop = Shop(database)
    stocktake_id = shop.start()
    product = shop.products[1]
    scans = [lambda: shop.count(stocktake_id, product, 1, mode="add") for _ in range(4)]
    assert at_once(scans) == ["ok"] * 4
    with database.read() as session:
        view = stocktakes.detail(session, stocktake_id=stocktake_id, actor=shop.manager)
    line = next(x for x in view.lines if x.product_id == product)
    assert (line.counted, line.variance) == (4, -6)


def test_a_count_racing_the_post_is_either_posted_or_refused(database: Database) -> None:
    shop = Shop(database)
    stocktake_id = shop.start()
    first, second = shop.products[0], shop.products[2]
    assert shop.count(stocktake_id, first, 9) == "ok"
    results = at_once([lambda: shop.post(stocktake_id),
                       lambda: shop.count(stocktake_id, second, 5)])  # fmt: skip
    assert results[0] == "ok" and results[1] in ("ok", "stocktake.posted")
    assert shop.level(first) == 9
    # Counted before the post: posted too; refused: left alone.
    assert shop.level(second) == (5 if results[1] == "ok" else 10)


def test_sales_during_the_count_and_the_ledger_stays_the_sum_of_its_movements(
    database: Database,
) -> None:
    shop = Shop(database)
    stocktake_id = shop.start()
    product = shop.products[0]

    def sell(session: Session) -> None:
        inventory.record_movements(
            session.connection(), store_id=shop.store, kind="sale", at=utcnow(), user_id=None,
            movements=[inventory.Movement(product, -2)],
        )  # fmt: skip

    assert shop.run(sell) == "ok"
    assert shop.count(stocktake_id, product, 7) == "ok"
    assert shop.run(sell) == "ok"  # after the count: not shrinkage, still sold
    assert shop.post(stocktake_id) == "ok"
    assert shop.level(product) == 10 - 2 - 1 - 2
    with database.read() as session:
        total = session.scalar(
            select(func.sum(StockMovement.quantity)).where(
                StockMovement.store_id == shop.store, StockMovement.product_id == product
            )
        )
    assert total == shop.level(product)


def test_counts_that_share_a_product_cannot_both_be_open(database: Database) -> None:
    shop = Shop(database)
    with database.write() as session:
        category = factories.make_category(session)
        child = factories.make_category(session)
        child.parent_id = category.id
        session.flush()
    shop.start()  # the whole store
    data = StocktakeStart.model_validate(
        {"client_uuid": str(uuid.uuid4()), "store_id": shop.store, "category_id": category.id}
    )
    refused = shop.run(lambda s: stocktakes.start(s, data=data, actor=shop.manager))
    assert refused == "stocktake.open_exists"  # it would post the same loss twice


def test_a_unit_scanned_then_sold_is_not_counted_as_an_overage(database: Database) -> None:
    shop = Shop(database, products=1)
    product = shop.products[0]
    with database.write() as session:  # two on the shelf
        inventory.record_movements(
            session.connection(), store_id=shop.store, kind="adjustment", at=utcnow(),
            user_id=None, movements=[inventory.Movement(product, -8)],
        )  # fmt: skip
    stocktake_id = shop.start()
    assert shop.count(stocktake_id, product, 1, mode="add") == "ok"
    with database.write() as session:  # the scanned unit is sold before the next scan
        inventory.record_movements(
            session.connection(), store_id=shop.store, kind="sale", at=utcnow(),
            user_id=None, movements=[inventory.Movement(product, -1)],
        )  # fmt: skip
    assert shop.count(stocktake_id, product, 1, mode="add") == "ok"
    with database.read() as session:
        line = stocktakes.detail(session, stocktake_id=stocktake_id, actor=shop.manager).lines[0]
    assert (line.expected, line.counted, line.variance) == (2, 2, 0)
