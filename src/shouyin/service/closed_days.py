"""Days a store is closed (休息日, holidays such as 春节): business-hour deadlines skip them.

A day with store_id None closes every store (a chain holiday, set by HQ). Store-bound users
manage their own store's days only. Deadlines already fixed do not move when a day is added:
they were set when the ticket opened.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.errors import Conflict, Forbidden, NotFound
from shouyin.service.models import ClosedDay
from shouyin.stores import service as stores

MAX_SPAN_DAYS = 31


class ClosedDayCreate(BaseModel):
    """One day, or ``day`` to ``until`` (inclusive, at most 31 days) under one name."""

    model_config = ConfigDict(extra="forbid")
    store_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    day: date
    until: date | None = None
    name: str = Field(min_length=1, max_length=60)

    @model_validator(mode="after")
    def _span(self) -> ClosedDayCreate:
        # The year first: near date.max the span arithmetic would overflow.
        if not 2000 <= self.day.year <= 2999:
            raise ValueError("day is out of range")
        last = self.until or self.day
        if not self.day <= last < self.day + timedelta(days=MAX_SPAN_DAYS):
            raise ValueError(f"until must be from day to {MAX_SPAN_DAYS} days after it")
        return self


class ClosedDayPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    store_id: int | None
    day: date
    name: str


def list_days(
    session: Session, *, actor: Principal, store_id: int | None = None,
    since: date | None = None, limit: int = 500,
) -> list[ClosedDay]:  # fmt: skip
    """The days that apply to a store (its own and the chain's), or to the reader's store;
    HQ without a store sees every day of every store."""
    actor.require("stores.read")
    store_id = actor.scope_store(store_id)
    query = select(ClosedDay)
    if store_id is not None:
        query = query.where(or_(ClosedDay.store_id == store_id, ClosedDay.store_id.is_(None)))
    if since is not None:
        query = query.where(ClosedDay.day >= since)
    query = query.order_by(ClosedDay.day, ClosedDay.store_id).limit(limit)
    return list(session.scalars(query))


def create_days(session: Session, *, actor: Principal, data: ClosedDayCreate) -> list[ClosedDay]:
    """The days of the span not listed yet; Conflict when every one of them is."""
    actor.require("stores.write")
    if data.store_id is None:
        if actor.store_id is not None:
            raise Forbidden("Only head office can close every store.", code="closed_day.hq_only")
    else:
        actor.require_store(data.store_id)
        stores.get_store(session, store_id=data.store_id)
    last = data.until or data.day
    span = [data.day + timedelta(days=n) for n in range((last - data.day).days + 1)]
    taken = set(
        session.scalars(
            select(ClosedDay.day).where(
                _same_store(data.store_id), ClosedDay.day >= data.day, ClosedDay.day <= last
            )
        )
    )
    made = [ClosedDay(store_id=data.store_id, day=x, name=data.name) for x in span
            if x not in taken]  # fmt: skip
    if not made:
        raise Conflict("This day is already closed.", code="closed_day.exists")
    session.add_all(made)
    session.flush()
    audit.record(
        session, actor=actor, action="closed_day.create", entity="closed_day",
        entity_id=made[0].id, store_id=data.store_id,
        after={"days": [x.isoformat() for x in span if x not in taken], "name": data.name},
    )  # fmt: skip
    return made


def _same_store(store_id: int | None) -> ColumnElement[bool]:
    # Not "= NULL": a chain day is one whose store is unset.
    return ClosedDay.store_id.is_(None) if store_id is None else ClosedDay.store_id == store_id


def delete_day(session: Session, *, actor: Principal, closed_day_id: int) -> None:
    actor.require("stores.write")
    row = session.get(ClosedDay, closed_day_id)
    if row is None or (actor.store_id is not None and row.store_id != actor.store_id):
        raise NotFound("No such closed day.", code="closed_day.not_found")
    before = {"day": row.day.isoformat(), "name": row.name}
    session.delete(row)
    session.flush()
    audit.record(
        session, actor=actor, action="closed_day.delete", entity="closed_day",
        entity_id=closed_day_id, store_id=row.store_id, before=before,
    )  # fmt: skip
