"""The period of a service report, in business days, cut into day, week or month buckets.

Each bucket starts at the day cut-off of its first business day in the report's time zone
(the store's, or the chain's for all stores), so a row belongs to the same bucket here, in
the SQL (analytics_sql.bucket_of) and in Python (Period.bucket_index)."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

from shouyin.errors import ValidationFailed
from shouyin.service.analytics_schemas import Group, ReportPeriod
from shouyin.shared.clock import as_utc, business_day_bounds

DEFAULT_DAYS = 30
MAX_DAYS = 366
# Reports for all stores count business days in the chain's home time zone.
CHAIN_TIMEZONE = "Asia/Shanghai"
FIRST_YEAR, LAST_YEAR = 1970, 2999


@dataclass(frozen=True)
class Bucket:
    label: str
    start: date  # first business day (the period's first day for a clipped week or month)
    since: datetime  # UTC, included


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    group: Group
    timezone: str
    store_id: int | None
    buckets: tuple[Bucket, ...]
    until: datetime  # UTC, excluded

    @property
    def since(self) -> datetime:
        return self.buckets[0].since

    @cached_property
    def starts(self) -> list[datetime]:
        """When each bucket starts (UTC), in order."""
        return [b.since for b in self.buckets]

    def bucket_index(self, moment: datetime) -> int:
        """The bucket of a moment inside the period."""
        return max(0, bisect_right(self.starts, as_utc(moment)) - 1)

    def public(self) -> ReportPeriod:
        return ReportPeriod(start=self.start, end=self.end, group=self.group,
                            timezone=self.timezone, store_id=self.store_id)  # fmt: skip


def _bucket_start(day: date, group: Group) -> date:
    if group == "week":
        return day - timedelta(days=day.weekday())  # Monday
    if group == "month":
        return day.replace(day=1)
    return day


def _label(first: date, group: Group) -> str:
    """A bucket's name: its first business day in the period, or the month."""
    return f"{first:%Y-%m}" if group == "month" else first.isoformat()


def _check_days(start: date | None, end: date | None) -> None:
    for day in (start, end):
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ValidationFailed(
                "Choose dates from 1970 to 2999.", code="service_report.date_invalid",
                details={"value": day.isoformat()},
            )  # fmt: skip


def period_of(
    start: date | None, end: date | None, *, group: Group, today: date, timezone: str,
    cutoff: int, store_id: int | None,
) -> Period:  # fmt: skip
    """Business days ``start`` to ``end``, both included; by default the last 30 days."""
    _check_days(start, end)
    last = end or (today if start is None else min(today, start + timedelta(DEFAULT_DAYS - 1)))
    first = start or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValidationFailed(
            "The period ends before it starts: {start} to {end}.",
            code="service_report.period_reversed",
            details={"start": first.isoformat(), "end": last.isoformat()},
        )
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            "A report covers at most {max} days; choose a shorter period.",
            code="service_report.period_too_long", details={"max": MAX_DAYS},
        )  # fmt: skip
    buckets: list[Bucket] = []
    day, key = first, None
    while day <= last:
        if _bucket_start(day, group) != key:
            key = _bucket_start(day, group)
            since = business_day_bounds(day, timezone, cutoff)[0]
            buckets.append(Bucket(_label(day, group), day, since))
        day += timedelta(days=1)
    until = business_day_bounds(last, timezone, cutoff)[1]
    return Period(first, last, group, timezone, store_id, tuple(buckets), until)
