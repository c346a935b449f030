"""Output of the stock reports: one row model for every report, a rollup per category."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

Kind = Literal["valuation", "turnover", "slow-movers", "negative"]
KINDS: tuple[Kind, ...] = ("valuation", "turnover", "slow-movers", "negative")


class StockReportRow(BaseModel):
    """A product in a store. Quantities are units, or grams for weighed goods."""

    store_id: int
    store_code: str
    product_id: int
    sku: str
    name: str
    category_id: int | None
    category_name: str | None
    unit: str
    weighed: bool
    on_hand: int  # now; at the end of the period in the turnover report
    unit_cost_milli: int | None  # thousandths of a fen per unit (per kg); None: cost unknown
    value: int | None  # fen at cost of the on-hand shown; None: cost unknown or stock <= 0
    sold: int | None = None  # turnover: net units sold in the period (sales less returns)
    turnover_days: float | None = None  # None: nothing sold in the period
    sell_through: float | None = None  # percent
    last_sale_at: datetime | None = None  # slow movers: None means never sold


class StockReportRollup(BaseModel):
    """Sums over the rows of a category (or of the whole report)."""

    category_id: int | None
    category_name: str | None
    products: int  # rows: products in stores
    value: int  # fen, over the rows whose cost is known
    unknown_cost: int  # rows without a known cost, left out of ``value``
    sold_value: int | None = None  # turnover: net sales in the period at cost, fen
    turnover_days: float | None = None  # at cost: on-hand value ÷ daily cost of goods sold
    sell_through: float | None = None  # at cost: sold ÷ (sold + on hand at end), percent


class StockReport(BaseModel):
    kind: Kind
    store_id: int | None  # None: all stores
    category_id: int | None
    start: date | None  # turnover: the period, business days, both included
    end: date | None
    days: int | None  # slow movers: no sale in this many days
    as_of: datetime
    summary: StockReportRollup
    by_category: list[StockReportRollup]
    total: int
    limit: int
    offset: int
    items: list[StockReportRow]
