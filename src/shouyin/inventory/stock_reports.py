"""Stock reports: value at cost, turnover and sell-through, slow movers, negative stock.

Per store (a store-bound user sees only their own) or for all stores, optionally limited to a
category and every category under it. The figures and formulas: docs/stock_reports.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.errors import ValidationFailed
from shouyin.inventory import stock_reports_sql as sql
from shouyin.inventory.stock_report_schemas import (
    Kind,
    StockReport,
    StockReportRollup,
    StockReportRow,
)
from shouyin.shared.clock import business_date, business_day_bounds, utcnow
from shouyin.stores.service import get_store

DEFAULT_DAYS = 30
MAX_DAYS = 3650
MAX_PERIOD_DAYS = 366
# Reports for all stores count business days in the chain's home time zone.
CHAIN_TIMEZONE = "Asia/Shanghai"
FIRST_YEAR, LAST_YEAR = 1970, 2999


@dataclass(frozen=True)
class ReportQuery:
    kind: Kind
    store_id: int | None = None
    category_id: int | None = None
    days: int = DEFAULT_DAYS  # slow movers: no sale in this many days
    start: date | None = None  # turnover: the first and last business day of the period
    end: date | None = None


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    since: datetime  # UTC, included
    until: datetime  # UTC, excluded

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def report(
    session: Session, *, query: ReportQuery, actor: Principal, limit: int | None = 100,
    offset: int = 0,
) -> StockReport:  # fmt: skip
    """The report; ``limit=None`` lists every row (exports)."""
    actor.require("reports.read")
    actor.require("stock.read")
    store_id = actor.scope_store(query.store_id)
    timezone, cutoff = CHAIN_TIMEZONE, 0
    if store_id is not None:
        store = get_store(session, store_id=store_id)
        timezone, cutoff = store.timezone, store.day_cutoff_minutes
    scope = sql.Scope(store_id, _subtree(session, query.category_id))
    if not 1 <= query.days <= MAX_DAYS:
        raise ValidationFailed(
            "Days without a sale are from 1 to {max}.", code="stock_report.days_invalid",
            details={"max": MAX_DAYS},
        )  # fmt: skip
    now = utcnow()
    period = period_of(query.start, query.end, business_date(now, timezone, cutoff), timezone,
                       cutoff)  # fmt: skip
    base = _base(query, scope, period, now)
    return _assemble(session, query, store_id, base, period, now, limit, offset)


def _subtree(session: Session, category_id: int | None) -> frozenset[int] | None:
    """The category and every category below it; None for all products."""
    if category_id is None:
        return None
    catalog.get_category(session, category_id=category_id)
    return catalog.category_subtrees(session).get(category_id, frozenset({category_id}))


def period_of(
    start: date | None, end: date | None, today: date, timezone: str, cutoff: int
) -> Period:
    """Business days from ``start`` to ``end``, both included; by default the last 30."""
    for day in (start, end):
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ValidationFailed(
                "Choose dates from 1970 to 2999.", code="stock_report.date_invalid",
                details={"value": day.isoformat()},
            )  # fmt: skip
    last = end or (today if start is None else min(today, start + timedelta(days=29)))
    first = start or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed(
            "The period ends before it starts: {start} to {end}.",
            code="stock_report.period_reversed",
            details={"start": first.isoformat(), "end": last.isoformat()},
        )
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationFailed(
            "A period is at most {max} days long.", code="stock_report.period_too_long",
            details={"max": MAX_PERIOD_DAYS},
        )  # fmt: skip
    since = business_day_bounds(first, timezone, cutoff)[0]
    until = business_day_bounds(last, timezone, cutoff)[1]
    return Period(first, last, since, until)


def _base(query: ReportQuery, scope: sql.Scope, period: Period, now: datetime) -> Any:
    if query.kind == "valuation":
        return sql.valuation(scope)
    if query.kind == "turnover":
        return sql.turnover(scope, period.since, period.until)
    if query.kind == "slow-movers":
        return sql.slow_movers(scope, now - timedelta(days=query.days))
    return sql.negative(scope)


def _assemble(
    session: Session, query: ReportQuery, store_id: int | None, base: Any, period: Period,
    now: datetime, limit: int | None, offset: int,
) -> StockReport:  # fmt: skip
    turnover = query.kind == "turnover"
    days = period.days if turnover else 0
    listed = sql.listing(base, query.kind).offset(offset)
    if limit is not None:
        listed = listed.limit(limit)
    items = [_row(row._mapping, days) for row in session.execute(listed)]
    total = session.scalar(select(func.count()).select_from(base.subquery("n"))) or 0
    by_category = [_rollup(row._mapping, days) for row in session.execute(sql.rollup(base))]
    summary = _summary(by_category, days)
    return StockReport(
        kind=query.kind, store_id=store_id, category_id=query.category_id,
        start=period.start if turnover else None, end=period.end if turnover else None,
        days=query.days if query.kind == "slow-movers" else None, as_of=now, summary=summary,
        by_category=by_category, total=total, limit=limit if limit is not None else total,
        offset=offset, items=items,
    )  # fmt: skip


def _row(m: Any, days: int) -> StockReportRow:
    row = StockReportRow(
        store_id=m["store_id"], store_code=m["code"], product_id=m["product_id"], sku=m["sku"],
        name=m["name"], category_id=m["category_id"], category_name=m["category_name"],
        unit=m["unit"], weighed=bool(m["weighed"]), on_hand=m["on_hand"],
        unit_cost_milli=m["cost"], value=m["value"], last_sale_at=m.get("last_sale_at"),
    )  # fmt: skip
    if "sold" in m:
        sold, stocked = int(m["sold"]), max(int(m["on_hand"]), 0)
        row.sold = sold
        row.turnover_days = turnover_days(stocked, sold, days)
        row.sell_through = sell_through(sold, stocked)
    return row


def turnover_days(on_hand: int, sold: int, days: int) -> float | None:
    """On hand ÷ average daily sales; None when nothing (net) was sold."""
    if sold <= 0 or days <= 0:
        return None
    return round(on_hand * days / sold, 1)


def sell_through(sold: int, on_hand: int) -> float | None:
    """Sold ÷ (sold + on hand at the end), percent; None when there is neither."""
    if sold < 0 or sold + on_hand <= 0:
        return None
    return round(100 * sold / (sold + on_hand), 1)


def _rollup(m: Any, days: int) -> StockReportRollup:
    found = StockReportRollup(
        category_id=m["category_id"], category_name=m["name"], products=m["products"],
        value=int(m["value"]), unknown_cost=int(m["unknown_cost"]),
    )  # fmt: skip
    if days:
        found.sold_value = int(m["sold_value"] or 0)
        _ratios(found, days)
    return found


def _ratios(found: StockReportRollup, days: int) -> None:
    """Rollups mix units, grams and kinds of goods: their ratios are taken at cost."""
    sold_value = found.sold_value or 0
    found.turnover_days = turnover_days(found.value, sold_value, days)
    found.sell_through = sell_through(sold_value, found.value)


def _summary(by_category: list[StockReportRollup], days: int) -> StockReportRollup:
    summary = StockReportRollup(
        category_id=None, category_name=None, products=sum(x.products for x in by_category),
        value=sum(x.value for x in by_category),
        unknown_cost=sum(x.unknown_cost for x in by_category),
    )  # fmt: skip
    if days:
        summary.sold_value = sum(x.sold_value or 0 for x in by_category)
        _ratios(summary, days)
    return summary
