"""CLV arithmetic and the cohort retention triangle with hand-computed answers."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shouyin.analytics.clv import (
    CohortRow,
    annual_retention,
    cohort_retention,
    future_years,
    lifetime_years,
    member_clv,
    shop_clv,
)

TODAY = date(2026, 11, 23)


def test_annual_retention_is_share_of_last_year_still_buying() -> None:
    assert annual_retention({1, 2, 3, 4}, {2, 4, 9}) == 0.5
    assert annual_retention(set(), {1}) is None


def test_lifetime_is_geometric_and_capped() -> None:
    assert lifetime_years(0.5) == 2.0
    assert lifetime_years(0.75) == 4.0
    assert lifetime_years(0.0) == 1.0
    assert lifetime_years(0.95) == 10.0  # 1 / 0.05 = 20, capped
    assert lifetime_years(1.0) == 10.0
    assert lifetime_years(0.95, max_years=25) == pytest.approx(20.0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        lifetime_years(1.5)


def test_future_years_within_the_horizon() -> None:
    assert future_years(0.5) == 0.875  # 0.5 + 0.25 + 0.125
    assert future_years(1.0, horizon_years=3) == 3.0
    assert future_years(0.0) == 0.0


def test_shop_clv() -> None:
    # 100 active members, 400 orders, ¥12,000: AOV ¥30, 4 orders a year, ¥120 a year each.
    got = shop_clv(revenue_fen=1_200_000, orders=400, active_members=100, retention=0.5)
    assert (got.average_order_fen, got.orders_per_year, got.lifetime_years) == (3000, 4.0, 2.0)
    assert got.clv_fen == 24_000  # ¥120 × 2 years
    assert (
        shop_clv(revenue_fen=1_200_000, orders=400, active_members=100, retention=0.6).clv_fen
        == 30_000
    )  # × 2.5 years
    with pytest.raises(ValueError, match="at least one"):
        shop_clv(revenue_fen=0, orders=0, active_members=0, retention=0.5)


def test_member_clv_two_years_of_history() -> None:
    # ¥730 over 730 days = ¥365 a year; future 36,500 × 0.875 = 31,937.5 → 31,938 (half up).
    got = member_clv(
        spend_fen=73_000, first_purchase=TODAY - timedelta(days=730), today=TODAY, retention=0.5
    )
    assert (got.historical_fen, got.annual_fen, got.future_fen) == (73_000, 36_500, 31_938)
    assert got.total_fen == 104_938


def test_member_clv_counts_at_least_one_year() -> None:
    got = member_clv(
        spend_fen=5_000, first_purchase=TODAY - timedelta(days=10), today=TODAY, retention=0.5
    )
    assert got.annual_fen == 5_000
    assert got.future_fen == 4_375


MEMBERS = [
    (date(2026, 1, 5), [date(2026, 1, 5), date(2026, 2, 10), date(2026, 4, 1)]),
    (date(2026, 1, 20), [date(2026, 1, 20), date(2026, 3, 3)]),
    (date(2026, 2, 14), [date(2026, 2, 14), date(2026, 3, 1), date(2026, 4, 30)]),
    (date(2026, 2, 1), [date(2026, 2, 1)]),
]


def test_cohort_triangle() -> None:
    got = cohort_retention(MEMBERS)  # through the latest month seen: April
    assert got == [
        CohortRow(date(2026, 1, 1), 2, (2, 1, 1, 1)),
        CohortRow(date(2026, 2, 1), 2, (2, 1, 1)),
    ]
    assert got[0].shares == (1.0, 0.5, 0.5, 0.5)


def test_cohort_through_and_max_offset() -> None:
    later = [*MEMBERS, (date(2026, 5, 2), [date(2026, 5, 2)])]
    assert cohort_retention(later, through=date(2026, 3, 31)) == [
        CohortRow(date(2026, 1, 1), 2, (2, 1, 1)),
        CohortRow(date(2026, 2, 1), 2, (2, 1)),
    ]
    assert cohort_retention(MEMBERS, max_offset=1) == [
        CohortRow(date(2026, 1, 1), 2, (2, 1)),
        CohortRow(date(2026, 2, 1), 2, (2, 1)),
    ]


def test_cohort_month_zero_always_counts_and_earlier_purchases_are_ignored() -> None:
    odd = [(date(2026, 3, 10), [date(2026, 1, 1)]), (date(2026, 3, 2), [date(2026, 4, 9)])]
    assert cohort_retention(odd, through=date(2026, 4, 1)) == [
        CohortRow(date(2026, 3, 1), 2, (2, 1))
    ]
    assert cohort_retention([]) == []


def test_cohorts_cross_the_new_year() -> None:
    rows = cohort_retention([(date(2025, 12, 31), [date(2026, 1, 1)])])
    assert rows == [CohortRow(date(2025, 12, 1), 1, (1, 1))]
