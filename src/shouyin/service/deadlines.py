"""Complaint deadlines: hours to first response and to resolution per priority.

CONTRACT (callers rely on this signature):
``deadlines_for(session, *, store_id, priority, start, settings) -> (respond_by, resolve_by)``.

With ``complaint_hours = "business"`` the hours run only while the store is open (its
opening hours in its time zone, skipping its closed days and the chain's); with "calendar"
around the clock. The arithmetic is in :mod:`shouyin.service.business_hours`.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from shouyin.config import Settings
from shouyin.errors import NotFound, ValidationFailed
from shouyin.service.business_hours import add_business_hours, add_calendar_hours
from shouyin.service.models import ClosedDay
from shouyin.shared.clock import as_utc, to_local
from shouyin.stores.models import Store

log = logging.getLogger(__name__)

PRIORITIES = ("urgent", "high", "normal")


def parse_deadlines(text: str) -> dict[str, tuple[int, int]]:
    """``"urgent=1/24,high=4/48,normal=24/72"`` -> {"urgent": (1, 24), ...} (hours)."""
    found: dict[str, tuple[int, int]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        respond, _, resolve = value.partition("/")
        if name.strip() not in PRIORITIES or not respond.isdigit() or not resolve.isdigit():
            raise ValueError(f"not a deadline: {part!r}")
        found[name.strip()] = (int(respond), int(resolve))
    if set(found) != set(PRIORITIES):
        raise ValueError(f"deadlines needed for {', '.join(PRIORITIES)}")
    return found


def parse_compensation(text: str) -> tuple[str, int] | None:
    """``""`` -> None, ``"points:200"`` -> ("points", 200), ``"coupon:7"`` -> ("coupon", 7)."""
    text = text.strip()
    if not text:
        return None
    kind, _, value = text.partition(":")
    value = value.strip()
    if kind.strip() not in ("points", "coupon") or not value.isascii() or not value.isdigit():
        raise ValueError(f"not a compensation: {text!r} (write points:200 or coupon:<id>)")
    if not 0 < int(value) <= 2**31 - 1:
        raise ValueError(f"not a compensation: {text!r} (the number must be above 0)")
    return kind.strip(), int(value)


def check_settings(settings: Settings) -> None:
    """Stop at start on settings the SLA check could not read (ValueError, with the name)."""
    try:
        parse_deadlines(settings.complaint_deadlines)
    except ValueError as exc:
        raise ValueError(
            f"complaint_deadlines: {exc}; write e.g. urgent=1/24,high=4/48,normal=24/72"
        ) from None
    try:
        parse_compensation(settings.complaint_breach_compensation)
    except ValueError as exc:
        raise ValueError(f"complaint_breach_compensation: {exc}") from None


def deadlines_for(
    session: Session, *, store_id: int, priority: str, start: datetime, settings: Settings
) -> tuple[datetime, datetime]:
    if priority not in PRIORITIES:
        raise ValidationFailed(
            "Priority must be urgent, high or normal.", code="ticket.priority_invalid"
        )
    respond, resolve = (
        timedelta(hours=h) for h in parse_deadlines(settings.complaint_deadlines)[priority]
    )
    start = as_utc(start)
    if settings.complaint_hours == "calendar":
        return add_calendar_hours(start, respond), add_calendar_hours(start, resolve)
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("No such store.", code="store.not_found")
    closed = closed_days_from(
        session, store_id=store_id, first=to_local(start, store.timezone).date()
    )

    def after(hours: timedelta) -> datetime:
        return add_business_hours(
            start, hours, timezone=store.timezone, opens=store.opens_minutes,
            closes=store.closes_minutes, closed=closed,
        )  # fmt: skip

    try:
        return after(respond), after(resolve)
    except ValueError:
        # A store with no opening hours left (every day closed): a deadline is still needed.
        log.warning("store %s has no opening hours ahead: calendar hours used", store_id)
        return add_calendar_hours(start, respond), add_calendar_hours(start, resolve)


def closed_days_from(session: Session, *, store_id: int, first: date) -> frozenset[date]:
    """The store's closed days and the chain's, from ``first`` on (a year and a bit: longer
    than any deadline can reach)."""
    query = select(ClosedDay.day).where(
        or_(ClosedDay.store_id == store_id, ClosedDay.store_id.is_(None)),
        ClosedDay.day >= first,
        ClosedDay.day <= first + timedelta(days=400),
    )
    return frozenset(session.scalars(query))
