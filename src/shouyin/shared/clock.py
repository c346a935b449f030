"""Time: stored in UTC, shown in the store's time zone; business dates from the day cut-off."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Current time in UTC, timezone-aware. Tests may monkeypatch this one function."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """Databases hand back naive datetimes (SQLite) or aware ones (PostgreSQL); unify."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_local(moment: datetime, timezone: str) -> datetime:
    return as_utc(moment).astimezone(ZoneInfo(timezone))


def business_date(moment: datetime, timezone: str, cutoff_minutes: int) -> date:
    """The trading day (营业日) a moment belongs to.

    A sale at 01:30 with a 04:00 cut-off belongs to the previous day's takings.
    """
    local = to_local(moment, timezone)
    return (local - timedelta(minutes=cutoff_minutes)).date()


def business_day_bounds(day: date, timezone: str, cutoff_minutes: int) -> tuple[datetime, datetime]:
    """UTC start (inclusive) and end (exclusive) of a business day."""
    zone = ZoneInfo(timezone)
    start_local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(
        minutes=cutoff_minutes
    )
    end_local = start_local + timedelta(days=1)
    return start_local.astimezone(UTC), end_local.astimezone(UTC)
