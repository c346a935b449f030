"""Deadline arithmetic in business hours: known answers across nights, closed days, start
outside the hours, around-the-clock stores and a time zone with daylight saving time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shouyin.service.business_hours import add_business_hours, add_calendar_hours
from shouyin.service.deadlines import parse_deadlines

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


def _sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def _add(
    start: datetime, hours: float, *, opens: int = 540, closes: int = 1260,
    closed: frozenset[date] = frozenset(), timezone: str = "Asia/Shanghai",
) -> datetime:  # fmt: skip
    return add_business_hours(
        start, timedelta(hours=hours), timezone=timezone, opens=opens, closes=closes,
        closed=closed,
    )  # fmt: skip


def test_within_the_same_day() -> None:
    assert _add(_sh(2026, 11, 23, 10, 0), 1) == _sh(2026, 11, 23, 11, 0)


def test_result_is_in_utc() -> None:
    result = _add(_sh(2026, 11, 23, 10, 0), 1)
    assert result.tzinfo == UTC and result == datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_the_night_is_skipped() -> None:
    # 20:00 + 4 h: one hour until 21:00, three more from 09:00 the next morning.
    assert _add(_sh(2026, 11, 23, 20, 0), 4) == _sh(2026, 11, 24, 12, 0)


def test_ending_exactly_at_closing() -> None:
    assert _add(_sh(2026, 11, 23, 20, 0), 1) == _sh(2026, 11, 23, 21, 0)


def test_start_before_opening_counts_from_opening() -> None:
    assert _add(_sh(2026, 11, 23, 6, 30), 1) == _sh(2026, 11, 23, 10, 0)


def test_start_after_closing_counts_from_next_opening() -> None:
    assert _add(_sh(2026, 11, 23, 22, 15), 1) == _sh(2026, 11, 24, 10, 0)


def test_start_at_closing_counts_from_next_opening() -> None:
    assert _add(_sh(2026, 11, 23, 21, 0), 0.5) == _sh(2026, 11, 24, 9, 30)


def test_zero_hours_outside_the_hours_is_the_next_opening() -> None:
    assert _add(_sh(2026, 11, 23, 23, 0), 0) == _sh(2026, 11, 24, 9, 0)


def test_twenty_four_business_hours_span_days() -> None:
    # 12 opening hours a day: Monday 15:00 + 24 h = 6 (Mon) + 12 (Tue) + 6 (Wed) -> Wed 15:00.
    assert _add(_sh(2026, 11, 23, 15, 0), 24) == _sh(2026, 11, 25, 15, 0)


def test_seventy_two_hours_is_six_opening_days() -> None:
    assert _add(_sh(2026, 11, 23, 9, 0), 72) == _sh(2026, 11, 28, 21, 0)


def test_weekends_are_open_unless_listed() -> None:
    # Friday 2026-11-27 20:00 + 3 h -> Saturday 11:00.
    assert _add(_sh(2026, 11, 27, 20, 0), 3) == _sh(2026, 11, 28, 11, 0)


def test_a_closed_day_is_skipped() -> None:
    closed = frozenset({date(2026, 11, 24)})
    assert _add(_sh(2026, 11, 23, 20, 0), 4, closed=closed) == _sh(2026, 11, 25, 12, 0)


def test_start_on_a_closed_day_counts_from_the_next_open_day() -> None:
    closed = frozenset({date(2026, 11, 24)})
    assert _add(_sh(2026, 11, 24, 12, 0), 2, closed=closed) == _sh(2026, 11, 25, 11, 0)


def test_spring_festival_closes_several_days() -> None:
    # 春节 2027: closed from New Year's Eve (Feb 5) to the 3rd day (Feb 8).
    holiday = frozenset(date(2027, 2, 5) + timedelta(days=n) for n in range(4))
    start = _sh(2027, 2, 4, 19, 0)  # two hours before closing, the day before
    assert _add(start, 1, closed=holiday) == _sh(2027, 2, 4, 20, 0)
    assert _add(start, 24, closed=holiday) == _sh(2027, 2, 10, 19, 0)


def test_around_the_clock_store_counts_like_the_calendar() -> None:
    start = _sh(2026, 11, 23, 22, 30)
    assert _add(start, 30, opens=0, closes=1440) == start + timedelta(hours=30)


def test_around_the_clock_store_still_skips_closed_days() -> None:
    closed = frozenset({date(2026, 11, 24)})
    got = _add(_sh(2026, 11, 23, 23, 0), 2, opens=0, closes=1440, closed=closed)
    assert got == _sh(2026, 11, 25, 1, 0)


def test_closing_at_midnight() -> None:
    # Open 10:00..24:00: 23:00 + 2 h = one hour tonight, one from 10:00.
    assert _add(_sh(2026, 11, 23, 23, 0), 2, opens=600, closes=1440) == _sh(2026, 11, 24, 11, 0)


def test_start_given_in_another_zone() -> None:
    start = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
    assert _add(start, 4) == _sh(2026, 11, 24, 12, 0)


def test_daylight_saving_spring_forward_counts_real_hours() -> None:
    # Berlin moves from 02:00 to 03:00 on 2026-03-29. Around the clock: 24 real hours.
    start = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    got = _add(start, 24, opens=0, closes=1440, timezone="Europe/Berlin")
    assert got == start.astimezone(UTC) + timedelta(hours=24)
    assert got.astimezone(BERLIN) == datetime(2026, 3, 29, 13, 0, tzinfo=BERLIN)


def test_daylight_saving_opening_hours_follow_the_wall_clock() -> None:
    # Saturday 20:00 CET + 2 business hours (09:00..21:00): one on Saturday, then Sunday
    # (now CEST) opens at 09:00 local time: 10:00 CEST.
    start = datetime(2026, 3, 28, 20, 0, tzinfo=BERLIN)
    got = _add(start, 2, timezone="Europe/Berlin")
    assert got.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 3, 29, 10, 0)
    assert got == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)


def test_daylight_saving_fall_back() -> None:
    # 2026-10-25 03:00 CEST -> 02:00 CET. A store open 00:00..24:00 has a 25-hour day.
    start = datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN)
    got = _add(start, 25, opens=0, closes=1440, timezone="Europe/Berlin")
    assert got.astimezone(BERLIN).replace(tzinfo=None) == datetime(2026, 10, 26, 0, 0)


def test_calendar_hours_ignore_the_store() -> None:
    start = _sh(2026, 11, 23, 22, 0)
    assert add_calendar_hours(start, timedelta(hours=24)) == _sh(2026, 11, 24, 22, 0)


@pytest.mark.parametrize(("opens", "closes"), [(600, 600), (700, 600), (-1, 600), (0, 1441)])
def test_bad_opening_hours_are_refused(opens: int, closes: int) -> None:
    with pytest.raises(ValueError):
        _add(_sh(2026, 11, 23, 10, 0), 1, opens=opens, closes=closes)


def test_every_day_closed_is_refused() -> None:
    class Always:
        def __contains__(self, _day: object) -> bool:
            return True

    with pytest.raises(ValueError):
        add_business_hours(
            _sh(2026, 11, 23, 10, 0), timedelta(hours=1), timezone="Asia/Shanghai",
            opens=540, closes=1260, closed=Always(),
        )  # fmt: skip


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError):
        _add(datetime(2026, 11, 23, 10, 0), 1)


def test_deadline_setting_parsed() -> None:
    assert parse_deadlines("urgent=1/24, high=4/48,normal=24/72") == {
        "urgent": (1, 24), "high": (4, 48), "normal": (24, 72),
    }  # fmt: skip


@pytest.mark.parametrize(
    "text", ["", "urgent=1/24,high=4/48", "urgent=1,high=4/48,normal=24/72",
             "urgent=x/24,high=4/48,normal=24/72", "rush=1/2,urgent=1/24,high=4/48,normal=24/72"],
)  # fmt: skip
def test_bad_deadline_setting_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_deadlines(text)
