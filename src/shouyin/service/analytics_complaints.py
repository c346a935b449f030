"""Complaint figures from the grouped ticket rows and the fetched durations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy.orm import Session

from shouyin.customers.crypto import FieldCipher, KeyRingError
from shouyin.customers.rules import mask_mobile
from shouyin.customers.service import get_member
from shouyin.errors import DomainError
from shouyin.service import analytics_stats as stats
from shouyin.service.analytics_period import Period
from shouyin.service.analytics_schemas import (
    CategoryCount,
    ComplaintFigures,
    ComplaintPoint,
    ComplaintReport,
    Durations,
    RepeatComplainant,
    StoreComplaints,
)
from shouyin.service.analytics_sql import FLAGS
from shouyin.shared.clock import as_utc
from shouyin.stores.service import list_stores

CATEGORIES = ("product", "service", "price", "environment", "other")


@dataclass
class Tally:
    tickets: int = 0
    flags: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FLAGS, 0))
    categories: dict[str, int] = field(default_factory=dict)

    def add(self, row: Any) -> None:
        self.tickets += int(row.tickets)
        for name in FLAGS:
            self.flags[name] += int(getattr(row, name))
        self.categories[row.category] = self.categories.get(row.category, 0) + int(row.tickets)

    def figures(self, response: Durations, resolution: Durations) -> ComplaintFigures:
        f = self.flags
        return ComplaintFigures(
            tickets=self.tickets, response=response, resolution=resolution,
            response_due=f["response_due"], response_breached=f["response_breached"],
            response_breach_rate=stats.rate(f["response_breached"], f["response_due"]),
            resolution_due=f["resolution_due"], resolution_breached=f["resolution_breached"],
            resolution_breach_rate=stats.rate(f["resolution_breached"], f["resolution_due"]),
            resolved_once=f["resolved_once"], reopened=f["reopened"],
            reopen_rate=stats.rate(f["reopened"], f["resolved_once"]),
        )  # fmt: skip


def durations_of(hours: Sequence[float]) -> Durations:
    return Durations(
        count=len(hours),
        median_hours=stats.rounded(stats.percentile(hours, 0.5)),
        p90_hours=stats.rounded(stats.percentile(hours, 0.9)),
    )


@dataclass(frozen=True)
class Span:
    """One ticket's hours to first response and to resolution (None: not yet)."""

    store_id: int
    bucket: int
    response: float | None
    resolution: float | None


def _hours(opened: datetime, then: datetime | None) -> float | None:
    if then is None:
        return None
    return stats.hours(max((as_utc(then) - opened).total_seconds(), 0))


def spans(period: Period, rows: Iterable[Any]) -> list[Span]:
    """The fetched timestamps as hours, each ticket converted once."""
    found = []
    for row in rows:
        opened = as_utc(row.opened_at)
        found.append(Span(row.store_id, period.bucket_index(opened),
                          _hours(opened, row.first_response_at),
                          _hours(opened, row.resolved_at)))  # fmt: skip
    return found


@dataclass
class Times:
    """Hours to first response and to resolution of some tickets."""

    response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)

    def add(self, span: Span) -> None:
        if span.response is not None:
            self.response.append(span.response)
        if span.resolution is not None:
            self.resolution.append(span.resolution)

    def stats(self) -> tuple[Durations, Durations]:
        return durations_of(self.response), durations_of(self.resolution)


def _times(found: Iterable[Span]) -> Times:
    times = Times()
    for span in found:
        times.add(span)
    return times


def _tally(rows: Iterable[Any]) -> Tally:
    tally = Tally()
    for row in rows:
        tally.add(row)
    return tally


def _trend(period: Period, rows: Sequence[Any], times: Sequence[Span]) -> list[ComplaintPoint]:
    tallies = [Tally() for _ in period.buckets]
    timed = [Times() for _ in period.buckets]
    for row in rows:
        tallies[int(row.bucket)].add(row)
    for span in times:
        timed[span.bucket].add(span)
    points = []
    for bucket, tally, spent in zip(period.buckets, tallies, timed, strict=True):
        response, resolution = spent.stats()
        points.append(ComplaintPoint(
            bucket=bucket.label, start=bucket.start, tickets=tally.tickets,
            categories={c: tally.categories.get(c, 0) for c in CATEGORIES},
            response=response, resolution=resolution,
        ))  # fmt: skip
    return points


def _stores(session: Session, rows: Sequence[Any], times: Sequence[Span]) -> list[StoreComplaints]:
    stores = {s.id: s for s in list_stores(session)}
    found = []
    for store_id in sorted({row.store_id for row in rows}):
        tally = _tally(r for r in rows if r.store_id == store_id)
        spent = _times(r for r in times if r.store_id == store_id)
        store = stores.get(store_id)
        found.append(StoreComplaints(
            store_id=store_id, store_code=store.code if store else "",
            store_name=store.name if store else "", figures=tally.figures(*spent.stats()),
            categories={c: tally.categories.get(c, 0) for c in CATEGORIES},
        ))  # fmt: skip
    found.sort(key=lambda s: s.store_code)
    return found


def _masked(name: str) -> str:
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def _repeat(
    session: Session, rows: Sequence[Any], cipher: FieldCipher, names: bool
) -> list[RepeatComplainant]:
    """Repeat complainants: full name and id only for complaint handlers (who see the
    tickets anyway); others see a masked name and mobile, enough to tell people apart."""
    found = []
    for row in rows:
        name, mobile = "", None
        try:
            member = get_member(session, member_id=row.member_id)
            name = cipher.decrypt("name", member.name_enc) if member.name_enc else ""
            if member.mobile_enc:
                mobile = mask_mobile(cipher.decrypt("mobile", member.mobile_enc))
        except (DomainError, KeyRingError, InvalidTag, ValueError):
            pass  # a missing or unreadable record still counts, without a name
        found.append(RepeatComplainant(
            member_id=row.member_id if names else None, name=name if names else _masked(name),
            mobile_masked=mobile, tickets=int(row.tickets),
            last_opened_at=as_utc(row.last_opened_at),
        ))  # fmt: skip
    return found


def assemble_complaints(
    session: Session, period: Period, rows: Sequence[Any], durations: Sequence[Any],
    repeat: tuple[int, Sequence[Any]], *, cipher: FieldCipher, names: bool,
) -> ComplaintReport:  # fmt: skip
    total, times = _tally(rows), spans(period, durations)
    counted = sorted(total.categories.items(), key=lambda item: (-item[1], item[0]))
    return ComplaintReport(
        period=period.public(), summary=total.figures(*_times(times).stats()),
        trend=_trend(period, rows, times),
        categories=[CategoryCount(category=c, count=n) for c, n in counted],
        stores=_stores(session, rows, times), repeat_count=repeat[0],
        repeat=_repeat(session, repeat[1], cipher, names), names_shown=names,
    )  # fmt: skip
