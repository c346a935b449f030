"""The day summary: a business day's takings, exact to the fen, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from shouyin.analytics.day_summary import DaySummary, HourTotal, MethodTotal, day_summary
from shouyin.auth.models import User
from shouyin.catalog.models import Product
from shouyin.sales.models import Order, OrderLine, Payment
from shouyin.shared.clock import business_date
from shouyin.stores.models import Store
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2024, 5, 10)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 5, day, hour, minute, tzinfo=SHANGHAI)


def add_order(
    session: Session, *, store: Store, cashier: User, at: datetime,
    lines: list[tuple[Product, int, int]], payments: list[tuple[str, int]],
    status: str = "completed",
) -> Order:  # fmt: skip
    """An order as checkout stores it; each line is (product, quantity, fen off the line)."""
    amounts = [product.price * qty for product, qty, _ in lines]
    total = sum(amounts) - sum(off for *_, off in lines)
    order = Order(
        client_uuid=str(uuid.uuid4()), number=f"{store.code}-{factories.next_id():06d}",
        store_id=store.id, cashier_id=cashier.id, created_at=at, status=status,
        business_date=business_date(at, store.timezone, store.day_cutoff_minutes),
        subtotal=sum(amounts), discount_total=sum(off for *_, off in lines), total=total,
        paid=total, change=0, item_count=sum(qty for _, qty, _ in lines),
        steps=[{"kind": "subtotal", "amount": sum(amounts)}, {"kind": "total", "amount": total}],
    )  # fmt: skip
    session.add(order)
    session.flush()
    for line_no, ((product, qty, off), amount) in enumerate(zip(lines, amounts, strict=True), 1):
        session.add(
            OrderLine(
                order_id=order.id, line_no=line_no, product_id=product.id, name=product.name,
                quantity=qty, list_price=product.price, unit_price=product.price,
                list_amount=amount, line_discount=off, net=amount - off,
            )
        )  # fmt: skip
    for method, amount in payments:
        session.add(Payment(order_id=order.id, method=method, amount=amount, tendered=amount))
    session.flush()
    return order


@pytest.fixture
def shop(session: Session) -> tuple[Store, Store, Product, Product]:
    """Store A turns its day over at 04:00; store B at midnight. Orders around DAY."""
    store_a = factories.make_store(session, cutoff=4 * 60)
    store_b = factories.make_store(session)
    cashier_a = factories.make_user(session, role="cashier", store=store_a)
    cashier_b = factories.make_user(session, role="cashier", store=store_b)
    water = factories.make_product(session, price=350, name="矿泉水")
    rice = factories.make_product(session, price=1250, name="大米")

    def sell(store: Store, at: datetime, lines: list[tuple[Product, int, int]],
             payments: list[tuple[str, int]], status: str = "completed") -> None:  # fmt: skip
        cashier = cashier_a if store is store_a else cashier_b
        add_order(session, store=store, cashier=cashier, at=at, lines=lines,
                  payments=payments, status=status)  # fmt: skip

    sell(store_a, local(10, 9, 15), [(water, 2, 0)], [("cash", 700)])
    sell(store_a, local(10, 9, 40), [(rice, 1, 51)], [("card", 1199)])
    sell(store_a, local(10, 18, 5), [(water, 3, 0)], [("cash", 500), ("card", 550)])
    # 02:00 on the 11th is before the 04:00 cut-off: it is the 10th's takings.
    sell(store_a, local(11, 2, 0), [(rice, 1, 0)], [("cash", 1250)])
    sell(store_a, local(11, 10, 0), [(water, 1, 0)], [("cash", 350)])
    # 03:30 on the 10th still belongs to the 9th.
    sell(store_a, local(10, 3, 30), [(water, 1, 0)], [("card", 350)])
    sell(store_a, local(10, 12, 0), [(rice, 4, 0)], [("cash", 5000)], status="voided")
    sell(store_b, local(10, 11, 0), [(water, 1, 0), (rice, 1, 601)], [("card", 999)])
    return store_a, store_b, water, rice


def hours_with_sales(summary: DaySummary) -> dict[int, tuple[int, int]]:
    return {h.hour: (h.orders, h.sales) for h in summary.by_hour if h.orders}


def test_a_stores_day_is_exact(
    session: Session, shop: tuple[Store, Store, Product, Product]
) -> None:
    store_a, _, water, rice = shop
    summary = day_summary(session, store_id=store_a.id, day=DAY)
    assert (summary.sales, summary.orders, summary.items, summary.discounts) == (4199, 4, 7, 51)
    assert summary.average_ticket == 1050  # 4199 / 4 = 1049.75, rounded half away from zero
    assert summary.by_method == [MethodTotal("cash", 3, 2450), MethodTotal("card", 2, 1749)]
    assert hours_with_sales(summary) == {2: (1, 1250), 9: (2, 1899), 18: (1, 1050)}
    assert len(summary.by_hour) == 24 and sum(h.sales for h in summary.by_hour) == summary.sales
    top = [(p.product_id, p.quantity, p.sales) for p in summary.top_products]
    assert top == [(rice.id, 2, 2449), (water.id, 5, 1750)]


def test_the_cut_off_moves_early_sales_to_the_day_before(
    session: Session, shop: tuple[Store, Store, Product, Product]
) -> None:
    store_a = shop[0]
    before = day_summary(session, store_id=store_a.id, day=date(2024, 5, 9))
    after = day_summary(session, store_id=store_a.id, day=date(2024, 5, 11))
    assert (before.orders, before.sales, hours_with_sales(before)) == (1, 350, {3: (1, 350)})
    assert (after.orders, after.sales, hours_with_sales(after)) == (1, 350, {10: (1, 350)})


def test_the_chain_adds_up_every_store(
    session: Session, shop: tuple[Store, Store, Product, Product]
) -> None:
    summary = day_summary(session, store_id=None, day=DAY)
    assert (summary.sales, summary.orders, summary.items, summary.discounts) == (5198, 5, 9, 652)
    assert summary.average_ticket == 1040  # 5198 / 5 = 1039.6
    assert summary.by_method == [MethodTotal("card", 3, 2748), MethodTotal("cash", 3, 2450)]
    assert summary.by_hour[11] == HourTotal(11, 1, 999)


def test_a_day_without_sales_is_all_zero(session: Session) -> None:
    store = factories.make_store(session)
    summary = day_summary(session, store_id=store.id, day=DAY)
    assert (summary.sales, summary.orders, summary.average_ticket, summary.items) == (0, 0, 0, 0)
    assert summary.by_method == [] and summary.top_products == []
    assert [h.orders for h in summary.by_hour] == [0] * 24
