"""The checkout bench's own data: a store, a till, a cashier with an API token, products, stock.

On SQLite the bench works in a fresh database file of its own. On PostgreSQL it uses the
configured database and adds a store with a code no other store has, so the shop's own data
is never read or changed. The few rows that have a service (store, register, user, token) go
through it, so they are audited like any other; the bulk (products, barcodes, stock) goes in
as Core executemany batches.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from shouyin.auth import service as auth
from shouyin.auth.permissions import Role
from shouyin.auth.schemas import TokenCreate, UserCreate
from shouyin.catalog.models import Barcode, Product
from shouyin.db import Database, make_engine
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.migrations import runner
from shouyin.sales import shift_service as shifts
from shouyin.shared.clock import utcnow
from shouyin.shared.types import table_of
from shouyin.stores import service as stores
from shouyin.stores.schemas import RegisterCreate, StoreCreate

MAX_PRODUCTS = 99_999  # five digits of the product number go into each barcode
OPENING_STOCK = 1_000_000  # per product: no bench run comes near selling it out
SQLITE_FILE = "bench.db"


@dataclass(frozen=True)
class BenchProduct:
    id: int
    price: int  # fen


@dataclass(frozen=True)
class Dataset:
    url: str
    store_id: int
    store_code: str
    register_id: int
    token: str  # the cashier's API token (Bearer)
    products: tuple[BenchProduct, ...]


def database_url(configured: str, folder: Path) -> str:
    """The configured PostgreSQL database, or a fresh SQLite file in ``folder``."""
    if configured.startswith("sqlite"):
        return f"sqlite:///{folder / SQLITE_FILE}"
    return configured


def build(url: str, *, products: int, seed: int = 1) -> Dataset:
    """Migrate the database at ``url`` and add the bench store and its catalogue."""
    if not 1 <= products <= MAX_PRODUCTS:
        raise ValueError(f"products must be 1..{MAX_PRODUCTS}, got {products}")
    db = Database(make_engine(url, count_statements=False))
    try:
        runner.upgrade(db.engine)
        with db.write() as session:
            return _build(session, url=url, products=products, seed=seed)
    finally:
        db.dispose()


def _build(session: Session, *, url: str, products: int, seed: int) -> Dataset:
    code = f"BENCH{secrets.token_hex(4).upper()}"
    store = stores.create_store(
        session, data=StoreCreate(code=code, name=f"压测门店 {code}"), actor=None
    )
    register = stores.create_register(
        session, store_id=store.id, data=RegisterCreate(code="R1", name="压测收银台"), actor=None
    )
    user_id, token = _cashier_token(session, store_id=store.id, code=code)
    shifts.open_shift(
        session, actor=None, store_id=store.id, register_id=register.id, user_id=user_id,
        opening_float=0, client_uuid=None,
    )  # fmt: skip
    conn = session.connection()
    catalogue = _insert_products(conn, store_id=store.id, count=products, seed=seed)
    _insert_stock(conn, store_id=store.id, product_ids=[p.id for p in catalogue])
    return Dataset(
        url=url, store_id=store.id, store_code=code, register_id=register.id, token=token,
        products=tuple(catalogue),
    )  # fmt: skip


def _cashier_token(session: Session, *, store_id: int, code: str) -> tuple[int, str]:
    # Nobody logs in as this cashier: the password is random and thrown away.
    data = UserCreate(
        username=f"bench_{code.lower()}", display_name=f"压测收银员 {code}",
        password=secrets.token_urlsafe(24), role=Role.CASHIER, store_id=store_id,
    )  # fmt: skip
    user = auth.create_user(session, data=data, actor=None)
    _, secret = auth.create_token(
        session, user_id=user.id, data=TokenCreate(name="bench", expires_days=7), actor=None
    )
    return user.id, secret


def _insert_products(
    conn: Connection, *, store_id: int, count: int, seed: int
) -> list[BenchProduct]:
    rng = random.Random(seed)
    prices = [rng.randrange(50, 5000) for _ in range(count)]
    now = utcnow()
    rows = [
        {"sku": f"B{store_id}-{n:05d}", "name": f"压测商品{n:05d}",
         "pinyin": f"yaceshangpin{n:05d}", "initials": f"ycsp{n:05d}", "unit": "个",
         "weighed": False, "price": price, "member_discount": True, "active": True,
         "created_at": now, "updated_at": now}
        for n, price in enumerate(prices, 1)
    ]  # fmt: skip
    table = table_of(Product)
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = list(conn.execute(stmt, rows).scalars())
    conn.execute(
        insert(table_of(Barcode)),
        [{"code": barcode(store_id, n), "product_id": pid} for n, pid in enumerate(ids, 1)],
    )
    return [BenchProduct(pid, price) for pid, price in zip(ids, prices, strict=True)]


def _insert_stock(conn: Connection, *, store_id: int, product_ids: list[int]) -> None:
    """Opening stock as ledger receipts plus their cached levels: the ledgers stay checkable."""
    now = utcnow()
    conn.execute(
        insert(table_of(StockMovement)),
        [
            {"store_id": store_id, "product_id": pid, "quantity": OPENING_STOCK,
             "kind": "receipt", "ref_type": None, "ref_id": None, "reason": "压测期初库存",
             "user_id": None, "at": now}
            for pid in product_ids
        ],
    )  # fmt: skip
    conn.execute(
        insert(table_of(StockLevel)),
        [
            {"store_id": store_id, "product_id": pid, "on_hand": OPENING_STOCK}
            for pid in product_ids
        ],
    )


def barcode(store_id: int, number: int) -> str:
    """An in-store EAN-13 (GS1 prefix 2): unique per bench store and product number."""
    body = f"2{store_id:06d}{number:05d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)
