"""Customer lifetime value (CLV, 客户终身价值) and cohort retention. Pure.

The model is the simple retention model rather than BG/NBD with Gamma-Gamma: it needs no
fitting, it can be explained to a shop owner in one sentence, and its inputs are figures the
reports already show. All amounts are revenue in fen (cost is not always known) and are not
discounted. See docs/insight.md for the reasons and the limits.

**Annual retention** r: of the members who bought in the previous 12 months, the share who
bought again in the last 12 months.

**Shop-wide CLV** = average order value × orders per active member per year × expected
lifetime in years, where lifetime = 1 / (1 − r): a member who stays each year with chance r
stays 1 / (1 − r) years on average, this year included. Capped at ``max_years`` (default 10)
because a young or tiny shop can measure r close to 1.

**Per member**: yearly spend so far (spend ÷ years since the first purchase, counting at
least one year, so a member who bought once last week is worth that purchase per year, not
50 times it) × the expected number of further years within a horizon, r + r² + … + r^H
(default H = 3). Predicted total = spend so far + that future value.

**Cohort retention**: members grouped by the month of their first purchase; cell (cohort, k)
is how many of them bought in month cohort + k (k = 0 is everyone). Months after ``through``
are not yet known and are left out, so the matrix is a triangle.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from shouyin.shared.money import round_div

FACTOR_UNITS = 10_000  # year factors are applied in 1/10000 of a year, in integers
DAYS_PER_YEAR = 365


def annual_retention(previous: Collection[int], current: Collection[int]) -> float | None:
    """Share of ``previous`` (member ids active last year) also in ``current``; None if none."""
    if not previous:
        return None
    now = set(current)
    return sum(1 for member in previous if member in now) / len(previous)


def lifetime_years(retention: float, *, max_years: float = 10.0) -> float:
    """Expected years a member stays, this one included: 1 / (1 − r), at most ``max_years``."""
    _check_retention(retention)
    if retention >= 1 - 1 / max_years:
        return max_years
    return 1 / (1 - retention)


def future_years(retention: float, *, horizon_years: int = 3) -> float:
    """Expected further years of buying within the horizon: r + r² + … + r^H."""
    _check_retention(retention)
    return sum(retention**t for t in range(1, horizon_years + 1))


@dataclass(frozen=True)
class ShopClv:
    average_order_fen: int
    orders_per_year: float  # per active member
    annual_retention: float
    lifetime_years: float
    clv_fen: int


def shop_clv(
    *,
    revenue_fen: int,
    orders: int,
    active_members: int,
    retention: float,
    max_years: float = 10.0,
) -> ShopClv:
    """CLV of an average member from the last 12 months' member revenue and orders."""
    if orders <= 0 or active_members <= 0:
        raise ValueError("need at least one order and one active member")
    years = lifetime_years(retention, max_years=max_years)
    factor = round(years * FACTOR_UNITS)
    return ShopClv(
        average_order_fen=round_div(revenue_fen, orders),
        orders_per_year=orders / active_members,
        annual_retention=retention,
        lifetime_years=years,
        clv_fen=round_div(revenue_fen * factor, active_members * FACTOR_UNITS),
    )


@dataclass(frozen=True)
class MemberClv:
    historical_fen: int
    annual_fen: int
    future_fen: int

    @property
    def total_fen(self) -> int:
        return self.historical_fen + self.future_fen


def member_clv(
    *,
    spend_fen: int,
    first_purchase: date,
    today: date,
    retention: float,
    horizon_years: int = 3,
) -> MemberClv:
    tenure_days = max((today - first_purchase).days, DAYS_PER_YEAR)
    annual = round_div(spend_fen * DAYS_PER_YEAR, tenure_days)
    factor = round(future_years(retention, horizon_years=horizon_years) * FACTOR_UNITS)
    return MemberClv(spend_fen, annual, round_div(annual * factor, FACTOR_UNITS))


def _check_retention(retention: float) -> None:
    if not 0.0 <= retention <= 1.0:
        raise ValueError("retention must be between 0 and 1")


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class CohortRow:
    cohort: date  # first day of the month of first purchase
    size: int
    active: tuple[int, ...]  # active[k]: members buying in month cohort + k

    @property
    def shares(self) -> tuple[float, ...]:
        return tuple(count / self.size for count in self.active)


def cohort_retention(
    members: Iterable[tuple[date, Iterable[date]]],
    *,
    through: date | None = None,
    max_offset: int | None = None,
) -> list[CohortRow]:
    """Retention triangle from (first purchase, purchase dates) per member, oldest cohort first.

    Any day of a month stands for that month. Purchases before the first purchase month are
    ignored; the first month always counts as active. ``through`` (default: the latest month
    seen) is the last month observed.
    """
    sizes: dict[int, int] = defaultdict(int)
    cells: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    latest = month_index(through) if through else None
    seen_latest = -1
    for first, purchases in members:
        start = month_index(first)
        sizes[start] += 1
        offsets = {month_index(day) - start for day in purchases} | {0}
        seen_latest = max(seen_latest, start + max(offsets))
        for offset in offsets:
            if offset >= 0:
                cells[start][offset] += 1
    last = seen_latest if latest is None else latest
    rows = []
    for start in sorted(sizes):
        if start > last:
            continue
        width = last - start + 1 if max_offset is None else min(last - start, max_offset) + 1
        row = cells[start]
        rows.append(
            CohortRow(month_start(start), sizes[start], tuple(row[k] for k in range(width)))
        )
    return rows
