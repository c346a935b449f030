from __future__ import annotations

from datetime import UTC, date, datetime

from shouyin.shared.clock import business_date, business_day_bounds


def test_sale_before_cutoff_belongs_to_previous_business_day() -> None:
    # 01:30 in Shanghai on 11-23 is 17:30 UTC on 11-22.
    moment = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
    assert business_date(moment, "Asia/Shanghai", 4 * 60) == date(2026, 11, 22)
    assert business_date(moment, "Asia/Shanghai", 0) == date(2026, 11, 23)


def test_business_day_bounds_follow_the_cutoff() -> None:
    start, end = business_day_bounds(date(2026, 11, 23), "Asia/Shanghai", 4 * 60)
    assert start == datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


def test_naive_database_times_are_treated_as_utc() -> None:
    naive = datetime(2026, 11, 22, 17, 30)
    assert business_date(naive, "Asia/Shanghai", 0) == date(2026, 11, 23)
