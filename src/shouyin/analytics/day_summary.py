"""The day summary (日报): one business day's takings for a store or the whole chain.

Analytics reads the sales tables directly: it is a read-only view over what other domains
wrote, and aggregating in SQL is the point of it.

Four queries: totals, payment methods and top products are aggregated in SQL with GROUP BY.
Sales by hour of day are bucketed in Python from (created_at, total, store time zone) rows,
because the hour must be the store's local clock hour: SQLite has no time zone database, and
a fixed offset would be wrong for zones with daylight saving. A business day is at most a few
thousand orders per store, so fetching two columns per order is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from shouyin.sales.models import Order, OrderLine, Payment
from shouyin.shared.clock import business_date, to_local, utcnow
from shouyin.shared.money import round_div
from shouyin.stores import service as stores
from shouyin.stores.models import Store

AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])
COMPLETED = "completed"
# For the whole chain there is no one store clock: HQ keeps China time.
CHAIN_TIMEZONE = "Asia/Shanghai"
TOP_PRODUCTS = 10


@dataclass(frozen=True)
class MethodTotal:
    method: str
    count: int  # orders that used this method
    amount: int  # fen applied to orders (not tendered: change is not takings)


@dataclass(frozen=True)
class HourTotal:
    hour: int  # 0-23, the store's local clock
    orders: int
    sales: int


@dataclass(frozen=True)
class ProductTotal:
    product_id: int
    name: str
    weighed: bool
    quantity: int  # units, or grams when weighed
    sales: int


@dataclass(frozen=True)
class DaySummary:
    store_id: int | None  # None: every store of the chain
    day: date
    sales: int
    orders: int
    average_ticket: int
    items: int
    discounts: int
    by_method: list[MethodTotal]
    by_hour: list[HourTotal]
    top_products: list[ProductTotal]


def _scoped(query: AnySelect, store_id: int | None, day: date) -> AnySelect:
    """Completed orders of the business day (营业日, already fixed by each store's cut-off)."""
    query = query.where(Order.business_date == day, Order.status == COMPLETED)
    if store_id is not None:
        query = query.where(Order.store_id == store_id)
    return query


def _by_method(session: Session, store_id: int | None, day: date) -> list[MethodTotal]:
    query = (
        select(
            Payment.method, func.count(func.distinct(Payment.order_id)), func.sum(Payment.amount)
        )
        .join(Order, Order.id == Payment.order_id)
        .group_by(Payment.method)
        .order_by(func.sum(Payment.amount).desc(), Payment.method)
    )
    rows = session.execute(_scoped(query, store_id, day))
    return [MethodTotal(method, count, amount or 0) for method, count, amount in rows]


def _by_hour(session: Session, store_id: int | None, day: date) -> list[HourTotal]:
    query = select(Order.created_at, Order.total, Store.timezone).join(
        Store, Store.id == Order.store_id
    )
    orders, sales = [0] * 24, [0] * 24
    for created_at, total, timezone in session.execute(_scoped(query, store_id, day)):
        hour = to_local(created_at, timezone).hour
        orders[hour] += 1
        sales[hour] += total
    return [HourTotal(hour, orders[hour], sales[hour]) for hour in range(24)]


def _top_products(session: Session, store_id: int | None, day: date) -> list[ProductTotal]:
    sales = func.sum(OrderLine.net)
    # A product's name may change between sales; any of the day's names will do.
    query = (
        select(
            OrderLine.product_id, func.max(OrderLine.name), func.max(OrderLine.weighed),
            func.sum(OrderLine.quantity), sales,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .group_by(OrderLine.product_id)
        .order_by(sales.desc(), OrderLine.product_id)
        .limit(TOP_PRODUCTS)
    )  # fmt: skip
    rows = session.execute(_scoped(query, store_id, day))
    return [
        ProductTotal(product_id, name, bool(weighed), quantity or 0, amount or 0)
        for product_id, name, weighed, quantity, amount in rows
    ]


def day_summary(session: Session, *, store_id: int | None, day: date) -> DaySummary:
    """Takings of one business day; ``store_id`` None sums every store of the chain."""
    totals = select(
        func.count(Order.id), func.sum(Order.total), func.sum(Order.item_count),
        func.sum(Order.discount_total),
    )  # fmt: skip
    count, sales, items, discounts = session.execute(_scoped(totals, store_id, day)).one()
    sales = sales or 0
    return DaySummary(
        store_id=store_id,
        day=day,
        sales=sales,
        orders=count,
        average_ticket=round_div(sales, count) if count else 0,
        items=items or 0,
        discounts=discounts or 0,
        by_method=_by_method(session, store_id, day),
        by_hour=_by_hour(session, store_id, day),
        top_products=_top_products(session, store_id, day),
    )


def current_day(session: Session, *, store_id: int | None) -> date:
    """Today's business date: the store's (its zone and cut-off), or HQ's for the chain."""
    if store_id is None:
        return business_date(utcnow(), CHAIN_TIMEZONE, 0)
    store = stores.get_store(session, store_id=store_id)
    return business_date(utcnow(), store.timezone, store.day_cutoff_minutes)
