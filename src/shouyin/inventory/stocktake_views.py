"""Reading stocktakes: the review with its lines and variances, and the list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from shouyin.auth.principal import Principal
from shouyin.catalog.models import Category, Product
from shouyin.errors import NotFound
from shouyin.inventory.count_models import Stocktake, StocktakeLine
from shouyin.inventory.models import StockMovement
from shouyin.inventory.purchasing_models import StockCost
from shouyin.inventory.stocktake_schemas import (
    StocktakeLinePublic,
    StocktakePage,
    StocktakePublic,
    StocktakeSummary,
    StocktakeTotals,
)
from shouyin.stores.models import Store

READ = "stock.read"
AUDIT_LINES = 1000  # a first full count may vary on every product: the audit keeps a sample


# --- read -----------------------------------------------------------------------------------


def last_mark(session: Session) -> int:
    """The ledger's last movement id: counts compare against it."""
    return session.scalar(select(func.max(StockMovement.id))) or 0


def visible(session: Session, stocktake_id: int, actor: Principal) -> Stocktake:
    stocktake = session.get(Stocktake, stocktake_id)
    if stocktake is None:
        raise NotFound("No such stocktake.", code="stocktake.not_found")
    actor.require_store(stocktake.store_id)
    return stocktake


def moved_since(stocktake: Stocktake, upto: Any) -> ColumnElement[int]:
    """This line's product's movements in the store between the start and `upto`."""
    return (
        select(func.coalesce(func.sum(StockMovement.quantity), 0))
        .where(
            StockMovement.store_id == stocktake.store_id,
            StockMovement.product_id == StocktakeLine.product_id,
            StockMovement.id > stocktake.start_mark,
            StockMovement.id <= upto,
        )
        .scalar_subquery()
    )


def line_variance(stocktake: Stocktake) -> ColumnElement[Any]:
    moved = moved_since(stocktake, StocktakeLine.count_mark)
    return StocktakeLine.counted - (StocktakeLine.expected + moved)


def detail(
    session: Session, *, stocktake_id: int, actor: Principal, line_filter: str = "all",
    limit: int = 200, offset: int = 0,
) -> StocktakePublic:  # fmt: skip
    """The stocktake with a page of its lines; variances are previews until it is posted."""
    actor.require(READ)
    stocktake = visible(session, stocktake_id, actor)
    mark = last_mark(session)
    moved = moved_since(stocktake, func.coalesce(StocktakeLine.count_mark, mark))
    variance: ColumnElement[Any] = case(
        (StocktakeLine.variance.is_not(None), StocktakeLine.variance),
        (StocktakeLine.counted.is_not(None),
         StocktakeLine.counted - (StocktakeLine.expected + moved)),
        else_=None,
    )  # fmt: skip
    cost = and_(StockCost.store_id == stocktake.store_id, StockCost.product_id == Product.id)
    base = select(StocktakeLine.id).where(StocktakeLine.stocktake_id == stocktake.id)
    where: list[Any] = []
    if line_filter == "uncounted":
        where.append(StocktakeLine.counted.is_(None))
    elif line_filter == "counted":
        where.append(StocktakeLine.counted.is_not(None))
    elif line_filter == "variance":
        where.append(and_(StocktakeLine.counted.is_not(None), variance != 0))
    line_total = (
        session.scalar(select(func.count()).select_from(base.where(*where).subquery())) or 0
    )
    rows = session.execute(
        select(StocktakeLine, Product.sku, Product.name, Product.weighed, moved, variance,
               StockCost.unit_cost_milli)
        .join(Product, Product.id == StocktakeLine.product_id)
        .outerjoin(StockCost, cost)
        .where(StocktakeLine.stocktake_id == stocktake.id, *where)
        .order_by(Product.sku)
        .limit(limit)
        .offset(offset)
    ).all()  # fmt: skip
    lines = [
        StocktakeLinePublic(
            product_id=line.product_id, sku=sku, name=name, expected=line.expected,
            moved=int(shift or 0), counted=line.counted, counted_at=line.counted_at,
            variance=None if var is None else int(var), unit_cost_milli=unit,
            variance_value_fen=_value(var, unit, weighed),
        )
        for line, sku, name, weighed, shift, var, unit in rows
    ]  # fmt: skip
    return StocktakePublic(
        **_summary(session, stocktake).model_dump(), client_uuid=stocktake.client_uuid,
        started_by=stocktake.started_by, start_mark=stocktake.start_mark,
        posted_by=stocktake.posted_by, totals=_totals(session, stocktake, variance),
        line_filter=line_filter, line_total=line_total, limit=limit, offset=offset, lines=lines,
    )  # fmt: skip


def _value(variance: int | None, unit_cost_milli: int | None, weighed: bool) -> int | None:
    """The variance at cost in fen; weighed goods count grams against a cost per kg."""
    if variance is None or unit_cost_milli is None:
        return None
    return round(int(variance) * unit_cost_milli / (1_000_000 if weighed else 1000))


def _totals(
    session: Session, stocktake: Stocktake, variance: ColumnElement[Any]
) -> StocktakeTotals:
    cost = and_(StockCost.store_id == stocktake.store_id, StockCost.product_id == Product.id)
    inner = (
        select(
            StocktakeLine.counted.label("counted"), variance.label("variance"),
            Product.weighed.label("weighed"), StockCost.unit_cost_milli.label("cost"),
        )
        .join(Product, Product.id == StocktakeLine.product_id)
        .outerjoin(StockCost, cost)
        .where(StocktakeLine.stocktake_id == stocktake.id)
        .subquery()
    )  # fmt: skip
    row = session.execute(
        select(
            func.count(),
            func.count(inner.c.counted),
            func.count(case((inner.c.variance != 0, 1))),
            func.coalesce(func.sum(inner.c.variance), 0),
            func.coalesce(func.sum(case((inner.c.weighed.is_(False),
                                         inner.c.variance * inner.c.cost))), 0),
            func.coalesce(func.sum(case((inner.c.weighed.is_(True),
                                         inner.c.variance * inner.c.cost))), 0),
        )
    ).one()  # fmt: skip
    value = round(int(row[4]) / 1000 + int(row[5]) / 1_000_000)
    return StocktakeTotals(
        lines=row[0], counted=row[1], with_variance=row[2], variance_units=int(row[3]),
        variance_value_fen=value,
    )  # fmt: skip


def _summary(session: Session, stocktake: Stocktake) -> StocktakeSummary:
    store_name = session.scalar(select(Store.name).where(Store.id == stocktake.store_id))
    category_name = (
        None
        if stocktake.category_id is None
        else session.scalar(select(Category.name).where(Category.id == stocktake.category_id))
    )
    return StocktakeSummary(
        id=stocktake.id, number=stocktake.number, store_id=stocktake.store_id,
        store_name=store_name or "", category_id=stocktake.category_id,
        category_name=category_name, status=stocktake.status,
        started_at=stocktake.started_at, posted_at=stocktake.posted_at, note=stocktake.note,
    )  # fmt: skip


def list_stocktakes(
    session: Session, *, actor: Principal, store_id: int | None = None,
    status: str | None = None, limit: int = 50, offset: int = 0,
) -> StocktakePage:  # fmt: skip
    """Newest first; a store's user sees their store's stocktakes."""
    actor.require(READ)
    store = actor.scope_store(store_id)
    where: list[Any] = []
    if store is not None:
        where.append(Stocktake.store_id == store)
    if status is not None:
        where.append(Stocktake.status == status)
    total = session.scalar(select(func.count()).select_from(Stocktake).where(*where)) or 0
    rows = session.execute(
        select(Stocktake, Store.name, Category.name)
        .join(Store, Store.id == Stocktake.store_id)
        .outerjoin(Category, Category.id == Stocktake.category_id)
        .where(*where)
        .order_by(Stocktake.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        StocktakeSummary(
            id=s.id, number=s.number, store_id=s.store_id, store_name=store_name,
            category_id=s.category_id, category_name=category_name,
            status=s.status,
            started_at=s.started_at, posted_at=s.posted_at, note=s.note,
        )
        for s, store_name, category_name in rows
    ]  # fmt: skip
    return StocktakePage(items=items, total=total, limit=limit, offset=offset)
