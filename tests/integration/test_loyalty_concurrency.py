"""Two tills spending the same coupon, points or stored value at the same moment.

Each sale runs ``sales.service.checkout`` in its own unit of work (``Database.write``), as the
REST handler does. On PostgreSQL the sales really overlap: both read the member's balances
and check the coupon (``loyalty.prepare``), wait for each other at a barrier, and only then
write, so the second writer works from a stale read and must be stopped by the conditional
UPDATEs. On SQLite the app serialises writers, so the second sale simply sees the first.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.loyalty import checkout as loyalty_checkout
from shouyin.loyalty.models import Coupon, LedgerEntry, MemberAccount, PointsLot
from shouyin.sales import service
from shouyin.sales.models import Order
from shouyin.sales.schemas import OrderCreate
from tests import factories

BARRIER_TIMEOUT_S = 20.0
CREATED = "created"


class Shop:
    def __init__(self, db: Database, **funds: int) -> None:
        def build(session: Session) -> dict[str, Any]:
            store = factories.make_store(session)
            member = factories.make_member(session)
            factories.fund(session, member, **funds)
            products = [
                factories.make_product(session, price=10_000, stock={store.id: 100})
                for _ in range(2)
            ]
            cashier = factories.make_user(session, role="cashier", store=store)
            coupon = factories.make_coupon(session, member=member, value=1000)
            return {"store": store.id, "member": member.id, "products": [p.id for p in products],
                    "cashier": factories.principal_of(cashier), "coupon": coupon.code}  # fmt: skip

        with db.write() as session:
            built = build(session)
        self.db = db
        self.store: int = built["store"]
        self.member: int = built["member"]
        self.products: list[int] = built["products"]
        self.cashier: Principal = built["cashier"]
        self.coupon: str = built["coupon"]

    def order(self, index: int, *, stored_value: int = 0, **extra: Any) -> OrderCreate:
        """Two units of one product (￥200.00), paid with stored value and then cash."""
        payments = [{"method": "stored_value", "amount": stored_value}] if stored_value else []
        payments.append({"method": "cash", "amount": 20_000})
        return OrderCreate.model_validate(
            {
                "client_uuid": str(uuid.uuid4()),
                "store_id": self.store,
                "member_id": self.member,
                "lines": [{"product_id": self.products[index % 2], "quantity": 2}],
                "payments": payments,
                **extra,
            }
        )

    def sell(self, data: OrderCreate) -> str:
        try:
            with self.db.write() as session:
                service.checkout(session, data=data, actor=self.cashier, discount_audit_percent=100)
        except DomainError as exc:
            return exc.code
        return CREATED


def at_once(
    shop: Shop, orders: list[OrderCreate], monkeypatch: pytest.MonkeyPatch
) -> list[str]:  # fmt: skip
    """Run the sales in threads released together; on PostgreSQL they overlap after prepare."""
    start = threading.Barrier(len(orders))
    if not shop.db.is_sqlite:
        overlap = threading.Barrier(len(orders), timeout=BARRIER_TIMEOUT_S)
        _prepare = loyalty_checkout.prepare

        def prepare_then_wait(*args: Any, **kw: Any) -> Any:
            prepared = _prepare(*args, **kw)
            overlap.wait()  # every sale has read the same balances and coupons
            return prepared

        monkeypatch.setattr(loyalty_checkout, "prepare", prepare_then_wait)

    def run(data: OrderCreate) -> str:
        start.wait(BARRIER_TIMEOUT_S)
        return shop.sell(data)

    with ThreadPoolExecutor(len(orders)) as pool:
        return list(pool.map(run, orders))


def check_books(db: Database, member_id: int) -> MemberAccount:
    """Balances equal their ledger, points equal their lots, nothing below zero."""
    with db.read() as session:
        account = session.get(MemberAccount, member_id)
        assert account is not None
        sums = session.execute(
            select(
                func.coalesce(func.sum(LedgerEntry.points), 0),
                func.coalesce(func.sum(LedgerEntry.sv_principal), 0),
                func.coalesce(func.sum(LedgerEntry.sv_bonus), 0),
                func.coalesce(func.sum(LedgerEntry.growth), 0),
            ).where(LedgerEntry.member_id == member_id)
        ).one()
        lots = session.scalar(
            select(func.coalesce(func.sum(PointsLot.remaining), 0)).where(
                PointsLot.member_id == member_id
            )
        )
        negative_lots = session.scalar(
            select(func.count()).where(PointsLot.member_id == member_id, PointsLot.remaining < 0)
        )
    assert tuple(sums) == (account.points, account.sv_principal, account.sv_bonus, account.growth)
    assert lots == account.points
    assert min(account.points, account.sv_principal, account.sv_bonus) >= 0
    assert negative_lots == 0
    return account


def sale_count(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Order)) or 0)


# --- the tests ---------------------------------------------------------------------------


def test_one_coupon_in_two_sales_at_once_makes_one_order(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = Shop(database)
    orders = [shop.order(i, coupon_codes=[shop.coupon]) for i in range(2)]
    results = at_once(shop, orders, monkeypatch)
    assert sorted(results) == sorted([CREATED, "coupon.used"])
    with database.read() as session:
        coupon = session.scalars(select(Coupon).where(Coupon.code == shop.coupon)).one()
        winner = orders[results.index(CREATED)]
        order = session.scalars(select(Order).where(Order.client_uuid == str(winner.client_uuid)))
        assert coupon.status == "redeemed" and coupon.order_id == order.one().id
    assert sale_count(database) == 1
    check_books(database, shop.member)


def test_points_that_cover_only_one_sale_are_spent_once(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = Shop(database, points=1000)
    # Each sale may use 600 points (￥60 of ￥200, under the 50% cap); both together may not.
    results = at_once(shop, [shop.order(i, points=600) for i in range(2)], monkeypatch)
    assert sorted(results) == sorted([CREATED, "points.insufficient"])
    account = check_books(database, shop.member)
    # ￥140.00 paid earns 14 points (entry tier, x1).
    assert account.points == 1000 - 600 + 14
    assert sale_count(database) == 1


def test_stored_value_that_covers_only_one_sale_is_spent_once(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = Shop(database, sv_principal=5000)
    orders = [shop.order(i, stored_value=3000) for i in range(2)]
    results = at_once(shop, orders, monkeypatch)
    assert sorted(results) == sorted([CREATED, "stored_value.insufficient"])
    account = check_books(database, shop.member)
    assert (account.sv_principal, account.sv_bonus) == (2000, 0)
    assert sale_count(database) == 1


def test_many_tills_never_take_points_below_zero(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = Shop(database, points=1000)
    results = at_once(shop, [shop.order(i, points=400) for i in range(6)], monkeypatch)
    # 1,000 points pay for two sales of 400; the third finds 200 + 2 x 16 earned: too few.
    assert results.count(CREATED) == 2
    assert set(results) == {CREATED, "points.insufficient"}
    account = check_books(database, shop.member)
    assert account.points == 1000 - 2 * 400 + 2 * 16
    assert sale_count(database) == 2


def test_two_sales_the_card_covers_together_both_succeed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The principal/bonus split comes from the locked, current balance, not the one read
    before pricing: the second sale pays from the bonus the first one left."""
    # ￥60 on the card (￥30 principal + ￥30 bonus) pays two sales of ￥30 each.
    shop = Shop(database, sv_principal=3000, sv_bonus=3000)
    results = at_once(shop, [shop.order(i, stored_value=3000) for i in range(2)], monkeypatch)
    account = check_books(database, shop.member)
    assert results == [CREATED, CREATED]
    assert (account.sv_principal, account.sv_bonus) == (0, 0)
