"""The SQL of the stock reports: one grouped query per report builds a row per product and
store; listing, category rollups and exports all read that one subquery.

Values are integer arithmetic in the database, the same on SQLite and PostgreSQL: the cost
is in thousandths of a fen per unit (per kg for weighed goods, whose quantities are grams),
so a value in fen is ``quantity × cost ÷ 1,000`` (÷ 1,000,000 when weighed), rounded half up.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, and_, case, func, literal, null, or_, select
from sqlalchemy.sql.elements import ColumnElement

from shouyin.catalog.models import Category, Product
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.purchasing_models import StockCost
from shouyin.stores.models import Store

SOLD_KINDS = ("sale", "return")


@dataclass(frozen=True)
class Scope:
    """Which rows: one store or all (None), and the categories of a subtree or all (None)."""

    store_id: int | None
    categories: Collection[int] | None


def value_of(quantity: Any, milli: Any, weighed: Any) -> ColumnElement[Any]:
    """Fen at cost, rounded half up for stock on hand (truncated for the rare negative);
    NULL when the cost is unknown."""
    return case(
        (milli.is_(None), null()),
        (weighed, (quantity * milli + 500_000) // 1_000_000),
        else_=(quantity * milli + 500) // 1000,
    )


def _moves(scope: Scope, *conditions: Any) -> Any:
    """Movements of the scope's store grouped per store and product (the index on store and
    time serves the date conditions)."""
    query = select(StockMovement.store_id, StockMovement.product_id).where(*conditions)
    if scope.store_id is not None:
        query = query.where(StockMovement.store_id == scope.store_id)
    return query.group_by(StockMovement.store_id, StockMovement.product_id)


def _levels(scope: Scope, *columns: Any) -> Any:
    """Stock levels joined to their product and cost, limited to the scope."""
    cost = and_(StockCost.store_id == StockLevel.store_id,
                StockCost.product_id == StockLevel.product_id)  # fmt: skip
    query = (
        select(StockLevel.store_id, StockLevel.product_id, Product.category_id,
               StockCost.unit_cost_milli.label("cost"), *columns)
        .select_from(StockLevel)
        .join(Product, Product.id == StockLevel.product_id)
        .outerjoin(StockCost, cost)
    )  # fmt: skip
    if scope.store_id is not None:
        query = query.where(StockLevel.store_id == scope.store_id)
    if scope.categories is not None:
        query = query.where(Product.category_id.in_(sorted(scope.categories)))
    return query


def _same(sub: Any) -> Any:
    return and_(sub.c.store_id == StockLevel.store_id, sub.c.product_id == StockLevel.product_id)


def valuation(scope: Scope) -> Any:
    on_hand = StockLevel.on_hand
    value = value_of(on_hand, StockCost.unit_cost_milli, Product.weighed)
    return _levels(scope, on_hand.label("on_hand"), value.label("value")).where(on_hand > 0)


def negative(scope: Scope) -> Any:
    no_value = literal(None, BigInteger).label("value")  # stock below zero has no value
    return _levels(scope, StockLevel.on_hand.label("on_hand"), no_value).where(
        StockLevel.on_hand < 0
    )


def slow_movers(scope: Scope, before: datetime) -> Any:
    """Stock on hand whose last sale, if any, was before ``before``."""
    last = _moves(scope, StockMovement.kind == "sale")
    last = last.add_columns(func.max(StockMovement.at).label("last_sale_at")).subquery("last")
    on_hand = StockLevel.on_hand
    value = value_of(on_hand, StockCost.unit_cost_milli, Product.weighed)
    query = _levels(scope, on_hand.label("on_hand"), value.label("value"), last.c.last_sale_at)
    return query.outerjoin(last, _same(last)).where(
        on_hand > 0, or_(last.c.last_sale_at.is_(None), last.c.last_sale_at < before)
    )


def turnover(scope: Scope, start: datetime, end: datetime) -> Any:
    """Net units sold in [start, end) and on hand at ``end`` (now, less what moved since)."""
    sold_q = _moves(scope, StockMovement.kind.in_(SOLD_KINDS), StockMovement.at >= start,
                    StockMovement.at < end)  # fmt: skip
    sold_q = sold_q.add_columns((-func.sum(StockMovement.quantity)).label("sold")).subquery("s")
    later = _moves(scope, StockMovement.at >= end)
    later = later.add_columns(func.sum(StockMovement.quantity).label("moved")).subquery("later")
    sold = func.coalesce(sold_q.c.sold, 0)
    at_end = StockLevel.on_hand - func.coalesce(later.c.moved, 0)
    cost, weighed = StockCost.unit_cost_milli, Product.weighed
    stocked = case((at_end > 0, at_end), else_=0)
    query = _levels(
        scope, at_end.label("on_hand"), value_of(stocked, cost, weighed).label("value"),
        sold.label("sold"), value_of(sold, cost, weighed).label("sold_value"),
    )  # fmt: skip
    query = query.outerjoin(sold_q, _same(sold_q)).outerjoin(later, _same(later))
    return query.where(or_(at_end != 0, sold != 0))


def _order(b: Any, kind: str) -> list[Any]:
    """Most value first; the longest unsold first; the deepest below zero first."""
    if kind == "valuation":
        return [func.coalesce(b.c.value, -1).desc()]
    if kind == "slow-movers":
        return [b.c.last_sale_at.asc().nulls_first()]
    if kind == "negative":
        return [b.c.on_hand.asc()]
    return []


def listing(base: Any, kind: str) -> Any:
    """The rows with names, in the report's order, store code and SKU breaking ties."""
    b = base.subquery("b")
    extra = [c for c in b.c if c.name in ("sold", "last_sale_at")]
    return (
        select(b.c.store_id, Store.code, b.c.product_id, Product.sku, Product.name,
               b.c.category_id, Category.name.label("category_name"), Product.unit,
               Product.weighed, b.c.on_hand, b.c.cost, b.c.value, *extra)
        .join(Store, Store.id == b.c.store_id)
        .join(Product, Product.id == b.c.product_id)
        .outerjoin(Category, Category.id == b.c.category_id)
        .order_by(*_order(b, kind), Store.code, Product.sku)
    )  # fmt: skip


def rollup(base: Any) -> Any:
    """Per category: rows, value, rows of unknown cost, and for turnover the values at cost
    of stock at the end (``end_value``) and of net sales (``sold_value``)."""
    b = base.subquery("b")
    known = b.c.cost.is_not(None)
    has_sales = "sold_value" in b.c
    columns = [
        func.count().label("products"),
        func.coalesce(func.sum(b.c.value), 0).label("value"),
        func.coalesce(func.sum(case((known, 0), else_=1)), 0).label("unknown_cost"),
        (func.sum(b.c.sold_value) if has_sales else literal(None)).label("sold_value"),
    ]
    return (
        select(b.c.category_id, Category.name, *columns)
        .outerjoin(Category, Category.id == b.c.category_id)
        .group_by(b.c.category_id, Category.name)
        .order_by(Category.name.asc().nulls_last())
    )
