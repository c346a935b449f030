"""The service reports' SQL: every query grouped (by bucket, store, cashier, category) or
bounded by the period, and portable between SQLite and PostgreSQL.

A row's bucket is computed in the query by a CASE that halves the bucket boundaries at each
step (a binary search: about nine comparisons for the 366 days of a year), so grouping by
local business day needs no date functions that differ between the two databases."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

from shouyin.service.analytics_period import Period
from shouyin.service.models import SurveyAnswer, Ticket
from shouyin.shared.types import UtcDateTime

REPEAT_LIST = 50  # repeat complainants listed; all of them are counted


def bucket_of(column: Any, starts: Sequence[datetime]) -> ColumnElement[Any]:
    """The index of the bucket a moment falls in, for moments inside the period."""

    def pick(low: int, high: int) -> ColumnElement[Any]:
        if high - low == 1:
            return literal_column(str(low), Integer)
        middle = (low + high) // 2
        boundary = literal(starts[middle], UtcDateTime())
        return case((column < boundary, pick(low, middle)), else_=pick(middle, high))

    return pick(0, len(starts))


def _in_period(column: Any, store_column: Any, period: Period) -> list[ColumnElement[bool]]:
    found = [column >= period.since, column < period.until]
    if period.store_id is not None:
        found.append(store_column == period.store_id)
    return found


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def feedback_groups(session: Session, period: Period) -> Sequence[Any]:
    """Per bucket, store and cashier: answers, satisfaction sum, NPS answers, promoters and
    detractors."""
    a = SurveyAnswer
    rows = (
        select(bucket_of(a.submitted_at, period.starts).label("bucket"), a.store_id, a.cashier_id,
               a.satisfaction, a.nps)
        .where(*_in_period(a.submitted_at, a.store_id, period))
        .subquery()
    )  # fmt: skip
    query = (
        select(rows.c.bucket, rows.c.store_id, rows.c.cashier_id, func.count().label("answers"),
               func.coalesce(func.sum(rows.c.satisfaction), 0).label("satisfaction"),
               func.count(rows.c.nps).label("nps_answers"),
               _count_if(rows.c.nps >= 9).label("promoters"),
               _count_if(rows.c.nps <= 6).label("detractors"))
        .group_by(rows.c.bucket, rows.c.store_id, rows.c.cashier_id)
    )  # fmt: skip
    return session.execute(query).all()


def tag_groups(session: Session, period: Period) -> Sequence[Any]:
    """Answers per distinct set of tags: a handful of combinations, split in Python (JSON
    array functions differ between the databases)."""
    a = SurveyAnswer
    tags = cast(a.tags, String)
    query = (
        select(tags.label("tags"), func.count().label("answers"))
        .where(*_in_period(a.submitted_at, a.store_id, period))
        .group_by(tags)
    )
    return session.execute(query).all()


def _breached(
    at: Any, due: Any, flagged: Any, now: datetime
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(deadline passed, deadline missed). Missed: the SLA scan flagged it, or the step came
    late, or it has not come and the deadline is past (so the rate does not wait for the
    scan)."""
    missed = or_(flagged.is_not(None), at > due, and_(at.is_(None), due < now))
    return or_(due < now, flagged.is_not(None)), missed


def complaint_groups(session: Session, period: Period, now: datetime) -> Sequence[Any]:
    """Per bucket, store and category: tickets opened, deadlines passed and missed, tickets
    resolved at least once, and reopened."""
    t = Ticket
    response_due, response_missed = _breached(t.first_response_at, t.respond_by,
                                              t.response_breached_at, now)  # fmt: skip
    resolution_due, resolution_missed = _breached(t.resolved_at, t.resolve_by,
                                                  t.resolution_breached_at, now)  # fmt: skip
    rows = (
        select(bucket_of(t.opened_at, period.starts).label("bucket"), t.store_id, t.category,
               case((response_due, 1), else_=0).label("response_due"),
               case((response_missed, 1), else_=0).label("response_breached"),
               case((resolution_due, 1), else_=0).label("resolution_due"),
               case((resolution_missed, 1), else_=0).label("resolution_breached"),
               case((or_(t.resolved_at.is_not(None), t.reopened > 0), 1), else_=0)
               .label("resolved_once"),
               case((t.reopened > 0, 1), else_=0).label("reopened"))
        .where(*_in_period(t.opened_at, t.store_id, period))
        .subquery()
    )  # fmt: skip
    sums = [func.coalesce(func.sum(rows.c[name]), 0).label(name) for name in FLAGS]
    query = select(rows.c.bucket, rows.c.store_id, rows.c.category,
                   func.count().label("tickets"), *sums).group_by(
        rows.c.bucket, rows.c.store_id, rows.c.category)  # fmt: skip
    return session.execute(query).all()


FLAGS = ("response_due", "response_breached", "resolution_due", "resolution_breached",
         "resolved_once", "reopened")  # fmt: skip


def durations(session: Session, period: Period) -> Sequence[Any]:
    """Opening, first response and resolution of the period's tickets that have either.
    Percentiles need the values themselves: this is one row per such ticket, bounded by the
    period (at most 366 days) and three timestamps wide."""
    t = Ticket
    query = select(t.store_id, t.opened_at, t.first_response_at, t.resolved_at).where(
        *_in_period(t.opened_at, t.store_id, period),
        or_(t.first_response_at.is_not(None), t.resolved_at.is_not(None)),
    )
    return session.execute(query).all()


def _repeat_query(period: Period) -> Any:
    t = Ticket
    return (
        select(t.member_id, func.count().label("tickets"),
               func.max(t.opened_at).label("last_opened_at"))
        .where(*_in_period(t.opened_at, t.store_id, period), t.member_id.is_not(None))
        .group_by(t.member_id)
        .having(func.count() >= 2)
    )  # fmt: skip


def repeat_complainants(session: Session, period: Period) -> tuple[int, Sequence[Any]]:
    """How many members opened two or more tickets in the period, and the most frequent."""
    found = _repeat_query(period).subquery()
    total = session.scalar(select(func.count()).select_from(found)) or 0
    listed = session.execute(
        select(found)
        .order_by(found.c.tickets.desc(), found.c.last_opened_at.desc(), found.c.member_id)
        .limit(REPEAT_LIST)
    ).all()
    return total, listed


def comments(session: Session, period: Period, limit: int) -> list[str]:
    """The period's latest survey comments (free text: complaint handlers only)."""
    a = SurveyAnswer
    query = (
        select(a.comment)
        .where(*_in_period(a.submitted_at, a.store_id, period), a.comment.is_not(None))
        .order_by(a.submitted_at.desc(), a.id.desc())
        .limit(limit)
    )
    return [text for text in session.scalars(query) if text]


def descriptions(session: Session, period: Period, limit: int) -> list[str]:
    """The period's latest ticket descriptions (free text: complaint handlers only)."""
    t = Ticket
    query = (
        select(t.description)
        .where(*_in_period(t.opened_at, t.store_id, period))
        .order_by(t.opened_at.desc(), t.id.desc())
        .limit(limit)
    )
    return [text for text in session.scalars(query) if text]
