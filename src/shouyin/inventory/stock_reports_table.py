"""A stock report as a table of text for the CSV and Excel exports."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from shouyin.inventory.stock_report_schemas import StockReport, StockReportRow
from shouyin.shared.clock import to_local

Translate = Callable[[str], str]
COMMON = ["Store", "SKU", "Product", "Category", "Unit"]
COLUMNS = {
    "valuation": ["On hand", "Unit cost (yuan)", "Value at cost (yuan)"],
    "turnover": ["Net sold", "On hand at end", "Turnover days", "Sell-through %",
                 "Value at cost (yuan)"],
    "slow-movers": ["On hand", "Last sale", "Value at cost (yuan)"],
    "negative": ["On hand", "Unit cost (yuan)"],
}  # fmt: skip


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def unit_cost(milli: int) -> str:
    """Yuan per unit (per kg) to four places: the cost is kept to 1/1000 fen."""
    return str((Decimal(milli) / 100_000).quantize(Decimal("0.0001")))


def quantity(value: int, weighed: bool) -> str:
    """Units, or kg to three places for weighed goods kept in grams."""
    return str((Decimal(value) / 1000).quantize(Decimal("0.001"))) if weighed else str(value)


def header(kind: str, tr: Translate) -> list[str]:
    return [tr(x) for x in COMMON + COLUMNS[kind]]


def rows(found: StockReport, tr: Translate, timezone: str) -> list[list[str]]:
    unknown, never = tr("Cost unknown"), tr("Never sold")

    def figures(x: StockReportRow) -> list[str]:
        value = unknown if x.value is None else yuan(x.value)
        cost = unknown if x.unit_cost_milli is None else unit_cost(x.unit_cost_milli)
        on_hand = quantity(x.on_hand, x.weighed)
        if found.kind == "valuation":
            return [on_hand, cost, value]
        if found.kind == "turnover":
            days = "" if x.turnover_days is None else f"{x.turnover_days:.1f}"
            through = "" if x.sell_through is None else f"{x.sell_through:.1f}"
            return [quantity(x.sold or 0, x.weighed), on_hand, days, through, value]
        if found.kind == "slow-movers":
            last = (
                never
                if x.last_sale_at is None
                else f"{to_local(x.last_sale_at, timezone):%Y-%m-%d}"
            )
            return [on_hand, last, value]
        return [on_hand, cost]

    return [
        [x.store_code, x.sku, x.name, x.category_name or "", "kg" if x.weighed else x.unit,
         *figures(x)]
        for x in found.items
    ]  # fmt: skip
