"""Business-hours arithmetic (pure): when does a deadline of H opening hours fall?

Hours count only while the store is open: from ``opens`` to ``closes`` (minutes after local
midnight in the store's time zone; ``closes`` may be 1440, midnight; 0..1440 is around the
clock), on days that are not closed. A start outside the hours starts counting at the next
opening. Weekends are ordinary days unless they are listed as closed.

Each day's window is turned into UTC before anything is added, so the hours counted are
real elapsed hours also on the days a clock moves for daylight saving time.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DAY_MINUTES = 24 * 60
# Beyond this many days without an opening hour the store is taken to be closed for good.
SEARCH_DAYS = 3 * 366


def add_business_hours(
    start: datetime,
    hours: timedelta,
    *,
    timezone: str,
    opens: int,
    closes: int,
    closed: Container[date] = frozenset(),
) -> datetime:
    """``start`` (timezone-aware) plus ``hours`` of opening time, in UTC.

    ValueError when the hours are not valid or no opening hour is left within
    ``SEARCH_DAYS`` days (every day closed)."""
    if not 0 <= opens < closes <= DAY_MINUTES:
        raise ValueError(f"opening hours {opens}..{closes} are not valid")
    if hours < timedelta(0):
        raise ValueError("hours must not be negative")
    if start.tzinfo is None:
        raise ValueError("start must carry a time zone")
    zone = ZoneInfo(timezone)
    current = start.astimezone(UTC)
    remaining = hours
    day = current.astimezone(zone).date()
    for _ in range(SEARCH_DAYS):
        if day not in closed:
            window_start, window_end = _window(day, zone, opens, closes)
            begin = max(window_start, current)
            if window_end > begin:
                if remaining <= window_end - begin:
                    return begin + remaining
                remaining -= window_end - begin
                current = window_end
        day += timedelta(days=1)
    raise ValueError("the store has no opening hours in the years ahead")


def _window(day: date, zone: ZoneInfo, opens: int, closes: int) -> tuple[datetime, datetime]:
    """The day's opening hours in UTC."""
    midnight = datetime(day.year, day.month, day.day)
    begin = (midnight + timedelta(minutes=opens)).replace(tzinfo=zone)
    end = (midnight + timedelta(minutes=closes)).replace(tzinfo=zone)
    return begin.astimezone(UTC), end.astimezone(UTC)


def add_calendar_hours(start: datetime, hours: timedelta) -> datetime:
    """Around the clock: plain addition, in UTC."""
    if start.tzinfo is None:
        raise ValueError("start must carry a time zone")
    return start.astimezone(UTC) + hours
