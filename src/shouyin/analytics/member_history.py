"""A member's purchase history (消费记录): recent orders, visits, spending and favourites.

Like the day summary this reads the sales and catalog tables directly, as a read-only view.
Five queries whatever the history's length: totals, the recent orders, their lines (one
``IN`` query, not one per order), favourite categories and favourite products.

Totals count completed orders only, as the day summary does; the recent orders list shows
every order with its status. A visit is a business day (营业日) with at least one order, so
two receipts on the same shopping trip count once. Favourite products are ranked by spend,
then quantity: weighed goods are counted in grams, so quantity alone would put 500 g of apples
above every packaged product.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.catalog.models import Category, Product
from shouyin.sales.models import Order, OrderLine
from shouyin.shared.money import round_div
from shouyin.stores.models import Store

COMPLETED = "completed"
FAVOURITES = 5


@dataclass(frozen=True)
class HistoryLine:
    product_id: int
    name: str
    quantity: int  # units, or grams when weighed
    weighed: bool
    net: int


@dataclass(frozen=True)
class HistoryOrder:
    id: int
    number: str
    created_at: datetime
    business_date: date
    store_id: int
    store_name: str
    timezone: str
    status: str
    total: int
    item_count: int
    lines: list[HistoryLine]


@dataclass(frozen=True)
class FavouriteCategory:
    category_id: int | None  # None: products without a category
    name: str | None
    spend: int
    quantity: int


@dataclass(frozen=True)
class FavouriteProduct:
    product_id: int
    name: str
    weighed: bool
    quantity: int
    spend: int


@dataclass(frozen=True)
class MemberHistory:
    member_id: int
    orders: int
    visits: int
    total_spend: int
    average_spend: int  # per order, fen, rounded by the project's one rule
    first_visit: date | None
    last_visit: date | None
    favourite_categories: list[FavouriteCategory]
    favourite_products: list[FavouriteProduct]
    recent_orders: list[HistoryOrder]


def _recent_orders(session: Session, member_id: int, limit: int) -> list[HistoryOrder]:
    found = session.execute(
        select(Order, Store.name, Store.timezone)
        .join(Store, Store.id == Order.store_id)
        .where(Order.member_id == member_id)
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(limit)
    ).all()
    lines: dict[int, list[HistoryLine]] = {}
    if found:
        query = (
            select(
                OrderLine.order_id, OrderLine.product_id, OrderLine.name, OrderLine.quantity,
                OrderLine.weighed, OrderLine.net,
            )
            .where(OrderLine.order_id.in_([order.id for order, _, _ in found]))
            .order_by(OrderLine.order_id, OrderLine.line_no)
        )  # fmt: skip
        for order_id, product_id, name, quantity, weighed, net in session.execute(query):
            lines.setdefault(order_id, []).append(
                HistoryLine(product_id, name, quantity, bool(weighed), net)
            )
    return [
        HistoryOrder(
            id=order.id, number=order.number, created_at=order.created_at,
            business_date=order.business_date, store_id=order.store_id, store_name=store_name,
            timezone=timezone, status=order.status, total=order.total,
            item_count=order.item_count, lines=lines.get(order.id, []),
        )
        for order, store_name, timezone in found
    ]  # fmt: skip


def _favourite_categories(session: Session, member_id: int) -> list[FavouriteCategory]:
    spend = func.sum(OrderLine.net)
    query = (
        select(Product.category_id, func.max(Category.name), spend, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .outerjoin(Category, Category.id == Product.category_id)
        .where(Order.member_id == member_id, Order.status == COMPLETED)
        .group_by(Product.category_id)
        .order_by(spend.desc(), Product.category_id)
        .limit(FAVOURITES)
    )
    return [
        FavouriteCategory(category_id, name, amount or 0, quantity or 0)
        for category_id, name, amount, quantity in session.execute(query)
    ]


def _favourite_products(session: Session, member_id: int) -> list[FavouriteProduct]:
    spend, quantity = func.sum(OrderLine.net), func.sum(OrderLine.quantity)
    # A product's name may change between sales; any of its names will do.
    query = (
        select(
            OrderLine.product_id, func.max(OrderLine.name), func.max(OrderLine.weighed),
            quantity, spend,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.member_id == member_id, Order.status == COMPLETED)
        .group_by(OrderLine.product_id)
        .order_by(spend.desc(), quantity.desc(), OrderLine.product_id)
        .limit(FAVOURITES)
    )  # fmt: skip
    return [
        FavouriteProduct(product_id, name, bool(weighed), amount_q or 0, amount or 0)
        for product_id, name, weighed, amount_q, amount in session.execute(query)
    ]


def member_history(session: Session, *, member_id: int, limit: int = 20) -> MemberHistory:
    """What a member has bought; the caller checks that the member exists and may be seen."""
    totals = select(
        func.count(Order.id), func.sum(Order.total), func.count(func.distinct(Order.business_date)),
        func.min(Order.business_date), func.max(Order.business_date),
    ).where(Order.member_id == member_id, Order.status == COMPLETED)  # fmt: skip
    orders, spend, visits, first, last = session.execute(totals).one()
    spend = spend or 0
    return MemberHistory(
        member_id=member_id,
        orders=orders,
        visits=visits,
        total_spend=spend,
        average_spend=round_div(spend, orders) if orders else 0,
        first_visit=first,
        last_visit=last,
        favourite_categories=_favourite_categories(session, member_id),
        favourite_products=_favourite_products(session, member_id),
        recent_orders=_recent_orders(session, member_id, limit),
    )
