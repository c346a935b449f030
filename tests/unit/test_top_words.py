"""The arithmetic of the service reports on hand-made data with known answers: NPS,
percentiles, rates, the period's buckets, and the top words of Chinese and English text."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from shouyin.errors import ValidationFailed
from shouyin.service import analytics_stats as stats
from shouyin.service.analytics_period import period_of
from shouyin.service.top_words import STOP_WORDS, top_words, words_of


def test_nps_is_percent_promoters_minus_percent_detractors() -> None:
    scores = [10, 9, 9, 8, 7, 6, 0, 10, 3, 5]  # 4 promoters, 2 passives, 4 detractors
    groups = [stats.nps_group(s) for s in scores]
    assert groups.count("promoter") == 4
    assert groups.count("passive") == 2
    assert groups.count("detractor") == 4
    assert stats.nps(4, 4, 10) == 0.0
    assert stats.nps(3, 1, 8) == 25.0  # 37.5% - 12.5%
    assert stats.nps(2, 1, 3) == 33.3
    assert stats.nps(0, 5, 5) == -100.0
    assert stats.nps(0, 0, 0) is None  # nobody answered: no score, not a neutral 0


def test_the_boundaries_of_the_nps_groups() -> None:
    assert [stats.nps_group(s) for s in (6, 7, 8, 9)] == [
        "detractor", "passive", "passive", "promoter",
    ]  # fmt: skip


def test_percentiles_interpolate_between_the_closest_ranks() -> None:
    assert stats.percentile([], 0.5) is None
    assert stats.percentile([7.0], 0.9) == 7.0
    assert stats.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert stats.percentile([4.0, 1.0, 3.0, 2.0, 5.0], 0.5) == 3.0  # order does not matter
    # rank (10 - 1) * 0.9 = 8.1: 9 + 0.1 * (10 - 9)
    assert stats.percentile([float(x) for x in range(1, 11)], 0.9) == pytest.approx(9.1)
    assert stats.percentile([0.5, 2.0, 10.0], 0.9) == pytest.approx(8.4)


def test_rates_and_averages_say_none_rather_than_divide_by_zero() -> None:
    assert stats.rate(1, 3) == 33.3
    assert stats.rate(0, 0) is None
    assert stats.average(9, 2) == 4.5
    assert stats.average(0, 0) is None


def test_a_period_is_cut_into_local_days_weeks_and_months() -> None:
    today = date(2026, 11, 23)
    days = period_of(None, None, group="day", today=today, timezone="Asia/Shanghai", cutoff=0,
                     store_id=None)  # fmt: skip
    assert (days.start, days.end, len(days.buckets)) == (date(2026, 10, 25), today, 30)
    # Shanghai midnight is 16:00 UTC the day before.
    assert days.buckets[0].since == datetime(2026, 10, 24, 16, tzinfo=UTC)
    assert days.until == datetime(2026, 11, 23, 16, tzinfo=UTC)
    assert days.bucket_index(datetime(2026, 10, 25, 15, 59, tzinfo=UTC)) == 0
    assert days.bucket_index(datetime(2026, 10, 25, 16, 0, tzinfo=UTC)) == 1
    weeks = period_of(date(2026, 11, 4), date(2026, 11, 23), group="week", today=today,
                      timezone="Asia/Shanghai", cutoff=0, store_id=None)  # fmt: skip
    # Wednesday 4th to Sunday 8th, then the weeks from Monday 9th, 16th and 23rd.
    assert [b.label for b in weeks.buckets] == ["2026-11-04", "2026-11-09", "2026-11-16",
                                                "2026-11-23"]  # fmt: skip
    months = period_of(date(2026, 1, 15), date(2026, 3, 1), group="month", today=today,
                       timezone="Asia/Shanghai", cutoff=240, store_id=None)  # fmt: skip
    assert [b.label for b in months.buckets] == ["2026-01", "2026-02", "2026-03"]
    # A 04:00 cut-off: business day 1 February starts at 04:00 Shanghai, 20:00 UTC.
    assert months.buckets[1].since == datetime(2026, 1, 31, 20, tzinfo=UTC)


def test_a_reversed_or_overlong_period_is_refused() -> None:
    args = {"group": "day", "today": date(2026, 11, 23), "timezone": "Asia/Shanghai",
            "cutoff": 0, "store_id": None}  # fmt: skip
    with pytest.raises(ValidationFailed) as reversed_:
        period_of(date(2026, 11, 2), date(2026, 11, 1), **args)  # type: ignore[arg-type]
    assert reversed_.value.code == "service_report.period_reversed"
    with pytest.raises(ValidationFailed) as long_:
        period_of(date(2025, 1, 1), date(2026, 1, 2), **args)  # type: ignore[arg-type]
    assert long_.value.code == "service_report.period_too_long"
    year = period_of(date(2024, 1, 1), date(2024, 12, 31), **args)  # type: ignore[arg-type]
    assert len(year.buckets) == 366  # a leap year is allowed


def test_words_of_chinese_text_without_stop_words_or_punctuation() -> None:
    assert words_of("收银员态度很差，排队太久了！") == ["收银员", "态度", "很差", "排队", "太久"]
    assert words_of("The cashier was rude and SLOW, 2 times.") == ["cashier", "rude", "slow",
                                                                  "times"]  # fmt: skip
    assert words_of("。。。！？ 123") == []
    assert "的" in STOP_WORDS
    assert "不" not in STOP_WORDS  # "not" carries the complaint


def test_top_words_count_across_texts_most_frequent_first() -> None:
    texts = ["商品过期了，要求退款。", "牛奶过期，退款很慢", "收银员太慢了", "牛奶过期"]
    assert top_words(texts, 3) == [("过期", 3), ("退款", 2), ("牛奶", 2)]
    assert top_words([], 5) == []
