"""The replenishment bench: the whole replenishment list of S stores × N products, and
on-hand lookups.

The data is built once into ``var/bench/replenishment-N-S/`` (SQLite, Core executemany
batches) and reused while its ``complete.json`` marker matches: N products, S stores, one
stock level and one reorder rule per store and product (even products manual 10/40, odd ones
by velocity 3+2+7 days), 20 suppliers, and for each velocity product in each store
:data:`SALES_PER_PRODUCT` sale movements spread over the 28 days before the build. Levels are
random (0..60) and not the ledger's sum: this bench reads, it never checks the ledger.

Measured: ``replenishment_ms``, the time to compute the list of every store as the alert
scan does (``replenishment_all.low_by_store``: one query per store, stores side by side on
``replenishment_workers`` connections), as of the build time so a cache reused later gives the
same list; ``replenishment_serial_ms``, the same one store after another; ``onhand_p50_ms``/``onhand_p99_ms``, one
product's on hand in one store through ``inventory.service.on_hand``.
"""

from __future__ import annotations

import json
import random
import shutil
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import Connection, Engine, event, insert, select

from shouyin.catalog.models import Product
from shouyin.db import Database, make_engine
from shouyin.inventory import replenishment, replenishment_all, service
from shouyin.inventory.count_models import ReorderRule
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.purchasing_models import Supplier
from shouyin.migrations import runner
from shouyin.shared.clock import utcnow
from shouyin.shared.types import table_of
from shouyin.stores import service as stores
from shouyin.stores.schemas import StoreCreate

DB_FILE = "replenishment.db"
MARKER = "complete.json"
BATCH = 50_000
SUPPLIERS = 20
SALES_PER_PRODUCT = 2
WINDOW_SECONDS = 28 * 86_400


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | int | None
    unit: str

    def as_json(self) -> str:
        line = {"bench": "replenishment", "metric": self.name, "value": self.value,
                "unit": self.unit}  # fmt: skip
        return json.dumps(line, ensure_ascii=False)


@dataclass(frozen=True)
class Cache:
    folder: Path
    products: int
    stores: int

    @property
    def url(self) -> str:
        return f"sqlite:///{self.folder / DB_FILE}"

    def built_at(self) -> datetime | None:
        """When the complete cache was built; None when it must be (re)built."""
        marker = self.folder / MARKER
        if not marker.exists() or not (self.folder / DB_FILE).exists():
            return None
        data = json.loads(marker.read_text())
        if {k: data.get(k) for k in ("products", "stores", "revision")} != self._key():
            return None
        return datetime.fromisoformat(data["built_at"])

    def _key(self) -> dict[str, Any]:
        return {"products": self.products, "stores": self.stores,
                "revision": runner.head_revision()}  # fmt: skip

    def mark(self, built_at: datetime) -> None:
        data = {**self._key(), "built_at": built_at.isoformat()}
        (self.folder / MARKER).write_text(json.dumps(data))


def cache_of(var_dir: Path, *, products: int, stores: int) -> Cache:
    return Cache(var_dir / "bench" / f"replenishment-{products}-{stores}", products, stores)


def _fast_build(engine: Engine) -> None:
    """A throwaway cache needs no durability until its marker is written."""

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: object) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("PRAGMA cache_size=-400000")
        cur.close()


def build(cache: Cache, console: Console, *, seed: int = 1) -> datetime:
    shutil.rmtree(cache.folder, ignore_errors=True)
    cache.folder.mkdir(parents=True)
    engine = make_engine(cache.url, count_statements=False)
    _fast_build(engine)
    db = Database(engine)
    started, now = time.perf_counter(), utcnow()
    try:
        runner.upgrade(db.engine)
        with db.write() as session:
            for n in range(1, cache.stores + 1):  # the fresh database numbers them 1..S
                stores.create_store(
                    session, data=StoreCreate(code=f"RB{n:02d}", name=f"补货门店 {n}"), actor=None
                )
            _fill(session.connection(), cache, now, random.Random(seed))
        with db.engine.connect() as conn:
            # What `shouyin db upgrade` (PRAGMA optimize) gives a shop's database that grew.
            conn.exec_driver_sql("ANALYZE")
    finally:
        db.dispose()
    cache.mark(now)
    console.print(
        f"Built {cache.products:,} products × {cache.stores} stores in "
        f"{time.perf_counter() - started:.1f} s ({cache.folder})."
    )
    return now


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(conn: Connection, model: Any, rows: Iterator[dict[str, Any]]) -> None:
    statement = insert(table_of(model))
    for batch in _batches(rows):
        conn.execute(statement, batch)


def _fill(conn: Connection, cache: Cache, now: datetime, rng: random.Random) -> None:
    _insert(conn, Supplier, (
        {"id": s, "code": f"SUP{s:02d}", "name": f"供应商 {s}", "lead_time_days": 3,
         "active": True}
        for s in range(1, SUPPLIERS + 1)
    ))  # fmt: skip
    _insert(conn, Product, (
        {"id": p, "sku": f"RP{p:07d}", "name": f"补货商品{p}", "pinyin": f"buhuoshangpin{p}",
         "initials": f"bhsp{p}", "unit": "个", "weighed": False, "price": 100 + p % 5000,
         "member_discount": True, "active": True, "created_at": now, "updated_at": now}
        for p in range(1, cache.products + 1)
    ))  # fmt: skip
    for store in range(1, cache.stores + 1):
        _insert(conn, StockLevel, (
            {"store_id": store, "product_id": p, "on_hand": rng.randint(0, 60)}
            for p in range(1, cache.products + 1)
        ))  # fmt: skip
        _insert(conn, ReorderRule, (_rule(store, p, now) for p in range(1, cache.products + 1)))
        _insert(conn, StockMovement, (
            {"store_id": store, "product_id": p, "quantity": -rng.randint(1, 10), "kind": "sale",
             "at": now - timedelta(seconds=rng.randint(60, WINDOW_SECONDS - 60))}
            for p in range(1, cache.products + 1, 2)
            for _ in range(SALES_PER_PRODUCT)
        ))  # fmt: skip


def _rule(store: int, product: int, now: datetime) -> dict[str, Any]:
    manual = product % 2 == 0
    return {"store_id": store, "product_id": product, "mode": "manual" if manual else "velocity",
            "min_qty": 10 if manual else 0, "max_qty": 40 if manual else 0, "lead_days": 3,
            "safety_days": 2, "review_days": 7, "supplier_id": 1 + product % SUPPLIERS,
            "updated_at": now}  # fmt: skip


def run(
    var_dir: Path, *, products: int, stores: int, lookups: int, seed: int, console: Console
) -> list[Metric]:
    cache = cache_of(var_dir, products=products, stores=stores)
    built_at = cache.built_at()
    if built_at is None:
        with console.status(f"Building {products:,} products × {stores} stores ..."):
            built_at = build(cache, console, seed=seed)
    else:
        console.print(f"Reusing the data built {built_at:%Y-%m-%d %H:%M} in {cache.folder}.")
    db = Database(make_engine(cache.url, count_statements=False))
    try:
        return _measure(db, stores=stores, products=products, built_at=built_at,
                        lookups=lookups, rng=random.Random(seed))  # fmt: skip
    finally:
        db.dispose()


def _measure(
    db: Database, *, stores: int, products: int, built_at: datetime, lookups: int,
    rng: random.Random,
) -> list[Metric]:  # fmt: skip
    serial_ms, listed = _lists_serial(db, stores, built_at)
    workers = replenishment_all.workers_for(stores)
    parallel_ms, in_parallel = _lists_parallel(db, stores, built_at, workers)
    assert in_parallel == listed, "the parallel lists differ from the serial ones"
    times = []
    with db.read() as session:
        for _ in range(lookups):
            store, product = rng.randint(1, stores), rng.randint(1, products)
            begin = time.perf_counter()
            service.on_hand(session, store_id=store, product_id=product)
            times.append((time.perf_counter() - begin) * 1000)
    times.sort()
    return [
        Metric("replenishment_ms", round(parallel_ms, 1), "ms"),
        Metric("replenishment_serial_ms", round(serial_ms, 1), "ms"),
        Metric("replenishment_workers", workers, "threads"),
        Metric("replenishment_items", listed, "lines"),
        Metric("rules", stores * products, "rules"),
        Metric("onhand_p50_ms", round(statistics.median(times), 4), "ms"),
        Metric("onhand_p99_ms", round(times[max(int(len(times) * 0.99) - 1, 0)], 4), "ms"),
    ]


def _lists_serial(db: Database, stores: int, built_at: datetime) -> tuple[float, int]:
    """Every store's list, one after another in one session: (ms, lines)."""
    with db.read() as session:
        session.scalar(select(StockLevel.on_hand).limit(1))  # connect before the clock starts
        started = time.perf_counter()
        listed = sum(
            len(replenishment.low_products(session, store_id=store, now=built_at))
            for store in range(1, stores + 1)
        )
        return (time.perf_counter() - started) * 1000, listed


def _lists_parallel(
    db: Database, stores: int, built_at: datetime, workers: int
) -> tuple[float, int]:
    """Every store's list, stores side by side as the alert scan computes them: (ms, lines)."""
    ids = list(range(1, stores + 1))
    replenishment_all.low_by_store(db, ids[:workers], now=built_at, workers=workers)  # connect
    started = time.perf_counter()
    lists = replenishment_all.low_by_store(db, ids, now=built_at, workers=workers)
    return (time.perf_counter() - started) * 1000, sum(len(x) for x in lists.values())
