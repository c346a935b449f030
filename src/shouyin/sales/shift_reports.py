"""Shift figures: the one source of the X report, the closing count and the Z report.

Every figure is a GROUP BY over the indexed ``shift_id`` of orders, returns and cash moves, for
any number of shifts at once, so a shift of thousands of orders is a handful of statements
and never a loaded ORM object per order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, text

from shouyin.audit.models import AuditEntry
from shouyin.sales.receipt import center, text_width
from shouyin.sales.shift_schemas import Figures, TenderFigures
from shouyin.shared.clock import as_utc
from shouyin.shared.types import table_of

# Tenders shown first and in this order; others (a future gateway) follow by name.
TENDER_ORDER = ("cash", "card", "wechat", "alipay", "stored_value")
# Counted at closing: stored value lives on the member's card, nothing to count.
UNCOUNTED = frozenset({"stored_value"})
VOID_ACTIONS = ("sale.void_line", "sale.void_cart")

_ORDERS = text(
    "SELECT shift_id, count(*), coalesce(sum(subtotal), 0), coalesce(sum(discount_total), 0),"
    " coalesce(sum(total), 0) FROM orders WHERE shift_id IN :ids GROUP BY shift_id"
).bindparams(bindparam("ids", expanding=True))
_PAYMENTS = text(
    "SELECT o.shift_id, p.method, coalesce(sum(p.amount), 0) FROM payments p"
    " JOIN orders o ON o.id = p.order_id WHERE o.shift_id IN :ids GROUP BY o.shift_id, p.method"
).bindparams(bindparam("ids", expanding=True))
_RETURNS = text(
    "SELECT shift_id, count(*), coalesce(sum(refund), 0) FROM sale_returns"
    " WHERE shift_id IN :ids GROUP BY shift_id"
).bindparams(bindparam("ids", expanding=True))
_REFUNDS = text(
    "SELECT r.shift_id, rp.method, coalesce(sum(rp.amount), 0) FROM sale_return_payments rp"
    " JOIN sale_returns r ON r.id = rp.return_id WHERE r.shift_id IN :ids"
    " GROUP BY r.shift_id, rp.method"
).bindparams(bindparam("ids", expanding=True))
_MOVES = text(
    "SELECT shift_id, kind, count(*), coalesce(sum(amount), 0) FROM shift_cash_moves"
    " WHERE shift_id IN :ids GROUP BY shift_id, kind"
).bindparams(bindparam("ids", expanding=True))
_AUDIT = table_of(AuditEntry)


@dataclass(frozen=True)
class ShiftSpan:
    """What the figures need to know of a shift."""

    id: int
    register_id: int
    opening_float: int
    opened_at: datetime
    closed_at: datetime | None  # None: still open, figures up to now


@dataclass
class _Acc:
    figures: Figures
    sales: dict[str, int]
    refunds: dict[str, int]


def figures_by_shift(conn: Connection, spans: list[ShiftSpan], now: datetime) -> dict[int, Figures]:
    """The figures of each shift, keyed by shift id."""
    if not spans:
        return {}
    ids = [s.id for s in spans]
    acc = {
        s.id: _Acc(Figures(opening_float=s.opening_float), defaultdict(int), defaultdict(int))
        for s in spans
    }
    for shift_id, count, gross, discounts, net in conn.execute(_ORDERS, {"ids": ids}):
        f = acc[shift_id].figures
        f.orders, f.gross, f.discounts, f.net = int(count), int(gross), int(discounts), int(net)
    for shift_id, method, amount in conn.execute(_PAYMENTS, {"ids": ids}):
        acc[shift_id].sales[method] += int(amount)
    for shift_id, count, amount in conn.execute(_RETURNS, {"ids": ids}):
        acc[shift_id].figures.returns, acc[shift_id].figures.returns_amount = (
            int(count),
            int(amount),
        )
    for shift_id, method, amount in conn.execute(_REFUNDS, {"ids": ids}):
        acc[shift_id].refunds[method] += int(amount)
    for shift_id, kind, count, amount in conn.execute(_MOVES, {"ids": ids}):
        f = acc[shift_id].figures
        if kind == "in":
            f.cash_in = int(amount)
        elif kind == "out":
            f.cash_out = int(amount)
        else:
            f.no_sales = int(count)
    for span in spans:
        _add_voids(conn, span, acc[span.id].figures, now)
    return {shift_id: _finish(a) for shift_id, a in acc.items()}


def _add_voids(conn: Connection, span: ShiftSpan, figures: Figures, now: datetime) -> None:
    """Voids are audit entries of the register (the cart never became an order): few."""
    query = select(_AUDIT.c.before).where(
        _AUDIT.c.action.in_(VOID_ACTIONS), _AUDIT.c.entity == "register",
        _AUDIT.c.entity_id == str(span.register_id), _AUDIT.c.at >= as_utc(span.opened_at),
        _AUDIT.c.at <= as_utc(span.closed_at or now),
    )  # fmt: skip
    for (before,) in conn.execute(query):
        figures.voids += 1
        figures.voids_amount += _amount_of(before)


def _amount_of(before: object) -> int:
    if isinstance(before, dict):
        value = before.get("amount", 0)
        return value if isinstance(value, int) else 0
    return 0


def _finish(acc: _Acc) -> Figures:
    f = acc.figures
    methods = sorted(set(acc.sales) | set(acc.refunds) | {"cash"}, key=_tender_key)
    f.tenders = []
    for method in methods:
        sales, refunds = acc.sales.get(method, 0), acc.refunds.get(method, 0)
        line = TenderFigures(method=method, sales=sales, refunds=refunds, net=sales - refunds)
        if method == "cash":
            line.expected = f.opening_float + sales - refunds + f.cash_in - f.cash_out
            f.expected_cash = line.expected
        elif method not in UNCOUNTED:
            line.expected = sales - refunds
        f.tenders.append(line)
    return f


def _tender_key(method: str) -> tuple[int, str]:
    order = TENDER_ORDER.index(method) if method in TENDER_ORDER else len(TENDER_ORDER)
    return order, method


def expected_of(figures: Figures) -> dict[str, int]:
    """Per counted tender, what should be in the drawer or on the terminal."""
    return {t.method: t.expected for t in figures.tenders if t.expected is not None}


def with_count(figures: Figures, counted: dict[str, int]) -> Figures:
    """The figures with the count and the variance (counted - expected) on each tender."""
    out = figures.model_copy(deep=True)
    for line in out.tenders:
        if line.expected is not None:
            line.counted = counted.get(line.method, 0)
            line.variance = line.counted - line.expected
    return out


def combine(parts: list[Figures]) -> Figures:
    """The sum of several shifts' figures (a Z report, a cashier's line)."""
    total = Figures()
    tenders: dict[str, TenderFigures] = {}
    for f in parts:
        for name in ("opening_float", "orders", "gross", "discounts", "net", "returns",
                     "returns_amount", "cash_in", "cash_out", "no_sales", "voids",
                     "voids_amount", "expected_cash"):  # fmt: skip
            setattr(total, name, getattr(total, name) + getattr(f, name))
        for line in f.tenders:
            into = tenders.setdefault(line.method, TenderFigures(method=line.method))
            into.sales += line.sales
            into.refunds += line.refunds
            into.net += line.net
            for name in ("expected", "counted", "variance"):
                value = getattr(line, name)
                if value is not None:
                    setattr(into, name, (getattr(into, name) or 0) + value)
    total.tenders = sorted(tenders.values(), key=lambda t: _tender_key(t.method))
    return total


# --- text: label/value rows for the screen and the printer --------------------------------

TENDER_LABELS = {
    "cash": "Cash", "card": "Bank card", "stored_value": "Stored value", "wechat": "WeChat Pay",
    "alipay": "Alipay",
}  # fmt: skip


def money(fen: int) -> str:
    # The full-width yuan sign: GBK has no ¥ and Chinese printers expect ￥.
    sign = "-" if fen < 0 else ""
    return f"{sign}￥{abs(fen) // 100}.{abs(fen) % 100:02d}"


def figure_rows(figures: Figures, tr: Callable[[str], str]) -> list[tuple[str, str]]:
    """The figures as label/value rows; ``tr`` translates a label."""
    rows = [
        (tr("Opening float"), money(figures.opening_float)),
        (tr("Orders"), str(figures.orders)),
        (tr("Gross sales"), money(figures.gross)),
        (tr("Discounts"), money(-figures.discounts)),
        (tr("Net sales"), money(figures.net)),
    ]
    for t in figures.tenders:
        rows.append((tr(TENDER_LABELS.get(t.method, t.method)), ""))
        rows += [(" " + tr("Sales"), money(t.sales)), (" " + tr("Refunds"), money(-t.refunds))]
        if t.expected is not None:
            rows.append((" " + tr("Expected"), money(t.expected)))
        if t.counted is not None and t.variance is not None:
            rows += [(" " + tr("Counted"), money(t.counted)),
                     (" " + tr("Variance"), money(t.variance))]  # fmt: skip
    rows += [
        (tr("Returns"), f"{figures.returns} / {money(-figures.returns_amount)}"),
        (tr("Cash in"), money(figures.cash_in)),
        (tr("Cash out"), money(-figures.cash_out)),
        (tr("No-sale openings"), str(figures.no_sales)),
        (tr("Voids"), f"{figures.voids} / {money(figures.voids_amount)}"),
        (tr("Expected cash"), money(figures.expected_cash)),
    ]
    return rows


def render_text(title: str, rows: list[tuple[str, str]], width: int = 32) -> str:
    """A report in ``width`` printer columns (32 for 58 mm paper, 48 for 80 mm)."""
    lines = [*center(title, width), "-" * width]
    for label, value in rows:
        if not value:
            lines.append(label)
            continue
        gap = width - text_width(label) - text_width(value)
        lines.append(label + " " * gap + value if gap >= 1 else label + "\n" + " " * max(
            width - text_width(value), 0) + value)  # fmt: skip
    lines.append("-" * width)
    return "\n".join(lines)
