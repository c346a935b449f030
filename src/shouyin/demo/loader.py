"""Load the demo chain 鲜丰便利: stores, tills, staff, catalogue, stock and sales history.

Everything happens in the caller's one write session, so a failed load leaves nothing
behind. Stores and registers go through their service (and so into the audit log); the bulk
(products, stock, orders) goes in as Core executemany batches.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.models import User
from shouyin.auth.passwords import hash_password
from shouyin.auth.permissions import Role
from shouyin.catalog.models import Barcode, Category, Product
from shouyin.catalog.pinyin import pinyin_of
from shouyin.customers.crypto import FieldCipher
from shouyin.demo.loyalty import load_loyalty
from shouyin.demo.members import DEFAULT_MEMBERS, create_members
from shouyin.demo.people import CHAIN_NAME, STORES
from shouyin.demo.sales_history import (
    DemandModel,
    DemoProduct,
    DemoStoreContext,
    HistoryWriter,
    StockBook,
    mean_lines_per_order,
    mean_quantity,
    sync_order_sequence,
)
from shouyin.demo.service import load_service
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.sales.pricing import Rounding
from shouyin.shared.clock import business_date, utcnow
from shouyin.shared.money import Money
from shouyin.stores import service as stores
from shouyin.stores.models import Register, Store
from shouyin.stores.schemas import RegisterCreate, StoreCreate

PASSWORD = "demo1234"
DEFAULT_DAYS = 90
DEFAULT_SEED = 42


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    store_code: str | None = None


USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "陈建华", Role.HQ_ADMIN),
    DemoUser("marketer", "林欣怡", Role.HQ_MARKETER),
    DemoUser("auditor", "周文博", Role.AUDITOR),
    DemoUser("manager", "王志强", Role.STORE_MANAGER, "S01"),
    DemoUser("manager2", "李海燕", Role.STORE_MANAGER, "S02"),
    DemoUser("manager3", "张晓东", Role.STORE_MANAGER, "S03"),
    DemoUser("cashier", "刘婷婷", Role.CASHIER, "S01"),
    DemoUser("cashier2", "赵佳琪", Role.CASHIER, "S02"),
    DemoUser("cashier3", "黄子豪", Role.CASHIER, "S03"),
)


@dataclass(frozen=True)
class StoreSettings:
    rounding: Rounding
    cutoff_minutes: int
    base_orders: int  # orders on an ordinary Thursday


# S01 rounds down to the jiao (抹零); S02 trades late, so its day turns over at 04:00.
STORE_SETTINGS: dict[str, StoreSettings] = {
    "S01": StoreSettings(rounding="jiao", cutoff_minutes=0, base_orders=115),
    "S02": StoreSettings(rounding="none", cutoff_minutes=240, base_orders=130),
    "S03": StoreSettings(rounding="none", cutoff_minutes=0, base_orders=100),
}
REGISTERS = (("R1", "1号收银台"), ("R2", "2号收银台"))

Progress = Callable[[str, int, int], None]  # (what, done, total)


@dataclass(frozen=True)
class DemoSummary:
    stores: int
    products: int
    users_created: tuple[str, ...]
    users_kept: tuple[str, ...]  # logins that existed before the load and were left alone
    orders: int
    first_day: date
    last_day: date
    members: int = 0


def is_empty(session: Session) -> bool:
    """No store and no product yet: the demo would not collide with real data."""
    has_store = session.scalar(select(Store.id).limit(1)) is not None
    return not has_store and session.scalar(select(Product.id).limit(1)) is None


def load_demo(
    session: Session,
    *,
    days: int = DEFAULT_DAYS,
    seed: int = DEFAULT_SEED,
    last_day: date | None = None,
    on_progress: Progress | None = None,
    members: int = DEFAULT_MEMBERS,
    cipher: FieldCipher | None = None,
) -> DemoSummary:
    """Load the demo into an empty database; ``last_day`` defaults to yesterday.

    Members are encrypted with ``cipher``, by default the configured one (key file or
    SHOUYIN_MEMBER_KEYS), so the running app can read them.
    """
    if days < 1:
        raise ValueError("the demo needs at least one day of history")
    report = on_progress or (lambda _what, _done, _total: None)
    report("门店与员工", 0, days)
    store_rows = _create_stores(session)
    created, kept = _create_users(session, store_rows)
    report("商品目录", 0, days)
    products = _create_catalog(session)
    end = last_day or _yesterday(store_rows[0])
    first = end - timedelta(days=days - 1)
    contexts = _store_contexts(session, store_rows)
    demand = DemandModel.build(products, seed)
    stock = _opening_stock(contexts, products, demand, first)
    report("会员", 0, days)
    picker = create_members(
        session.connection(), cipher=cipher or _configured_cipher(), count=members, seed=seed,
        store_ids=[store.id for store in store_rows], before=first,
    )  # fmt: skip
    writer = HistoryWriter(
        connection=session.connection(), demand=demand, stock=stock, seed=seed, members=picker
    )
    for done in range(days):
        report("销售历史", done, days)
        writer.write_day(contexts, first + timedelta(days=done))
    if last_day is None:
        # Today's takings so far, so the day summary is not empty on the first look.
        writer.write_day(contexts, end + timedelta(days=1), until=utcnow())
    report("库存余额", days, days)
    _write_levels(session, stock)
    sync_order_sequence(session.connection())
    report("会员权益", days, days)
    load_loyalty(session, seed=seed, today=end, now=utcnow())
    report("客服与投诉", days, days)
    load_service(session, seed=seed, first=first, last=end, now=utcnow())
    summary = DemoSummary(
        stores=len(store_rows), products=len(products), users_created=created,
        users_kept=kept, orders=writer.orders_written, first_day=first, last_day=end,
        members=members,
    )  # fmt: skip
    audit.record(
        session, actor=None, action="demo.load", actor_name="demo",
        after={"days": days, "seed": seed, "orders": summary.orders, "members": members},
    )  # fmt: skip
    return summary


def _configured_cipher() -> FieldCipher:
    from shouyin.config import get_settings
    from shouyin.customers.keys import cipher_for

    return cipher_for(get_settings())


def _yesterday(store: Store) -> date:
    return business_date(utcnow(), store.timezone, store.day_cutoff_minutes) - timedelta(days=1)


def _create_stores(session: Session) -> list[Store]:
    stores.ensure_chain(session, name=CHAIN_NAME)
    created = []
    for demo in STORES:
        settings = STORE_SETTINGS[demo.code]
        data = StoreCreate(
            code=demo.code, name=demo.name, address=demo.address, timezone=demo.timezone,
            day_cutoff_minutes=settings.cutoff_minutes, rounding=settings.rounding,
        )  # fmt: skip
        store = stores.create_store(session, data=data, actor=None)
        for code, name in REGISTERS:
            register = RegisterCreate(code=code, name=name)
            stores.create_register(session, store_id=store.id, data=register, actor=None)
        created.append(store)
    return created


def _create_users(session: Session, store_rows: Sequence[Store]) -> tuple[tuple[str, ...], ...]:
    """Every demo login; one argon2 hash serves all, as they share the published password."""
    by_code = {store.code: store.id for store in store_rows}
    existing = set(session.scalars(select(User.username)))
    password_hash = hash_password(PASSWORD)
    created = []
    for demo in USERS:
        if demo.username in existing:
            continue
        user = User(
            username=demo.username, display_name=demo.display_name, role=demo.role.value,
            password_hash=password_hash,
            store_id=by_code[demo.store_code] if demo.store_code else None,
        )  # fmt: skip
        session.add(user)
        session.flush()
        audit.record(
            session, actor=None, action="user.create", entity="user", entity_id=user.id,
            after={"username": user.username, "role": user.role, "store_id": user.store_id},
            actor_name="demo",
        )  # fmt: skip
        created.append(demo.username)
    kept = tuple(demo.username for demo in USERS if demo.username in existing)
    return tuple(created), kept


def _read_products() -> list[dict[str, str]]:
    source = resources.files("shouyin.demo").joinpath("products.csv")
    with source.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _create_catalog(session: Session) -> list[DemoProduct]:
    rows = _read_products()
    names = list(dict.fromkeys(row["category"] for row in rows))
    conn = session.connection()
    conn.execute(insert(Category), [{"name": n, "sort": i} for i, n in enumerate(names)])
    category_ids = dict(conn.execute(select(Category.name, Category.id)).all())
    conn.execute(insert(Product), [_product_row(row, category_ids) for row in rows])
    skus = [row["sku"] for row in rows]
    product_ids = dict(
        conn.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus))).all()
    )
    barcodes = [
        {"code": row["barcode"], "product_id": product_ids[row["sku"]]}
        for row in rows
        if row["barcode"]
    ]
    conn.execute(insert(Barcode), barcodes)
    return [
        DemoProduct(
            id=product_ids[row["sku"]],
            name=row["name"],
            category=row["category"],
            price=Money.from_yuan(row["price_yuan"]).fen,
            weighed=row["weighed"] == "1",
        )
        for row in rows
    ]


def _product_row(row: dict[str, str], category_ids: dict[str, int]) -> dict[str, object]:
    full, initials = pinyin_of(row["name"])
    now = utcnow()
    return {
        "sku": row["sku"], "name": row["name"], "pinyin": full, "initials": initials,
        "category_id": category_ids[row["category"]], "unit": row["unit"],
        "weighed": row["weighed"] == "1", "price": Money.from_yuan(row["price_yuan"]).fen,
        "member_discount": row["member_discount"] == "1", "active": True,
        "created_at": now, "updated_at": now,
    }  # fmt: skip


def _store_contexts(session: Session, store_rows: Sequence[Store]) -> list[DemoStoreContext]:
    contexts = []
    fallback = session.scalar(select(func.min(User.id))) or 0
    for store in store_rows:
        registers = session.scalars(
            select(Register.id).where(Register.store_id == store.id).order_by(Register.code)
        ).all()
        staff = dict(
            session.execute(
                select(User.role, func.min(User.id))
                .where(User.store_id == store.id)
                .group_by(User.role)
            ).all()
        )
        # A login that existed before the load may hold another role: anyone can sell.
        manager = staff.get(Role.STORE_MANAGER.value) or fallback
        settings = STORE_SETTINGS[store.code]
        contexts.append(
            DemoStoreContext(
                id=store.id, code=store.code, timezone=store.timezone,
                cutoff_minutes=store.day_cutoff_minutes, rounding=cast(Rounding, store.rounding),
                base_orders=settings.base_orders, registers=(registers[0], registers[1]),
                cashier_id=staff.get(Role.CASHIER.value, manager),
                manager_id=manager,
            )
        )  # fmt: skip
    return contexts


def _opening_stock(
    contexts: Sequence[DemoStoreContext],
    products: Sequence[DemoProduct],
    demand: DemandModel,
    first_day: date,
) -> StockBook:
    """Stock for two weeks of expected demand, received the morning the history starts."""
    book = StockBook()
    lines_per_order = mean_lines_per_order()
    for store in contexts:
        zone = ZoneInfo(store.timezone)
        at = datetime(first_day.year, first_day.month, first_day.day, 6, tzinfo=zone)
        for index, product in enumerate(products):
            daily = store.base_orders * lines_per_order * demand.share(index)
            key = (store.id, product.id)
            book.plan(key, daily=daily * mean_quantity(product), weighed=product.weighed)
            book.restock(key, at=at.astimezone(UTC), user_id=store.manager_id, reason="期初库存")
    return book


def _write_levels(session: Session, book: StockBook) -> None:
    conn = session.connection()
    rows = book.take_movements()
    if rows:
        conn.execute(insert(StockMovement), rows)
    levels = [
        {"store_id": store_id, "product_id": product_id, "on_hand": on_hand}
        for (store_id, product_id), on_hand in sorted(book.levels.items())
    ]
    conn.execute(insert(StockLevel), levels)
