"""Stored-value reports: a member's statement, and the liability report (储值负债).

The liability at the end of a month is what members could still spend: the cumulative sum
of every stored-value change in the ledger up to that moment. It is split by the store where
each change happened, so a store's figure is what was recharged there minus what was spent
or refunded there; it goes negative when members recharge at one shop and spend at another,
and the chain total is the sum of the stores.

A month ends where its last business day ends in the store's time zone (the day cut-off
included), so a recharge at 01:30 on the 1st with a 04:00 cut-off counts for the month
before, exactly like its business date. Each month end is one ``SUM(CASE WHEN at < end ...)``
column, so the database returns one row per store whatever the number of entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from shouyin.customers import service as members
from shouyin.errors import ValidationFailed
from shouyin.loyalty import ledger
from shouyin.loyalty.models import LedgerEntry
from shouyin.loyalty.sv_schemas import (
    LiabilityMonth,
    LiabilityReport,
    LiabilityRow,
    StatementEntry,
    StatementPage,
)
from shouyin.shared.clock import business_day_bounds
from shouyin.shared.money import Money
from shouyin.stores import service as stores

MAX_MONTHS = 120
FIRST_YEAR, LAST_YEAR = 1970, 2999  # beyond these a month end is not a real date
# Entries without a store (a merge, say) are counted on China time.
NO_STORE_TIMEZONE = "Asia/Shanghai"


# --- a member's statement --------------------------------------------------------------------


def statement(session: Session, *, member_id: int, limit: int, offset: int) -> StatementPage:
    """The member's stored-value balances and ledger rows that moved them, newest first."""
    members.get_member(session, member_id=member_id)
    held = ledger.balances(session.connection(), member_id=member_id)
    moved = (LedgerEntry.member_id == member_id) & (
        (LedgerEntry.sv_principal != 0) | (LedgerEntry.sv_bonus != 0)
    )
    total = session.scalar(select(func.count()).select_from(LedgerEntry).where(moved)) or 0
    query = (
        select(LedgerEntry)
        .where(moved)
        .order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [_entry(e) for e in session.scalars(query)]
    return StatementPage(
        member_id=member_id, sv_principal=held.sv_principal, sv_bonus=held.sv_bonus,
        balance=held.stored_value, items=items, total=total, limit=limit, offset=offset,
    )  # fmt: skip


def _entry(e: LedgerEntry) -> StatementEntry:
    return StatementEntry(
        id=e.id, at=e.at, kind=e.kind, sv_principal=e.sv_principal, sv_bonus=e.sv_bonus,
        sv_principal_after=e.sv_principal_after, sv_bonus_after=e.sv_bonus_after,
        order_id=e.order_id, ref_type=e.ref_type, ref_id=e.ref_id, store_id=e.store_id,
        reason=e.reason,
    )  # fmt: skip


# --- months ----------------------------------------------------------------------------------


def parse_month(text: str) -> date:
    """ "2026-03" as the first day of that month."""
    try:
        year, month = (int(part) for part in text.strip().split("-"))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(year)
        return date(year, month, 1)
    except ValueError:
        raise ValidationFailed(
            "A month is written as YYYY-MM, for example 2026-03.",
            code="liability.month_invalid",
            details={"value": text},
        ) from None


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    if first > last:
        raise ValidationFailed(
            "The first month must not be after the last.", code="liability.range_invalid"
        )
    months = [first]
    while months[-1] < last:
        months.append(next_month(months[-1]))
        if len(months) > MAX_MONTHS:
            raise ValidationFailed(
                "Choose at most {limit} months.",
                code="liability.range_too_long",
                details={"limit": MAX_MONTHS},
            )
    return months


def label(month: date) -> str:
    return f"{month:%Y-%m}"


# --- the report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    store_id: int | None
    name: str
    code: str
    timezone: str
    cutoff: int


def _sums(
    session: Session, places: list[_Place], ends: list[datetime]
) -> dict[int | None, list[int]]:
    """Per store: principal then bonus at each month end, one row per store with entries."""
    columns: list[ColumnElement[Any]] = []
    for part in (LedgerEntry.sv_principal, LedgerEntry.sv_bonus):
        columns += [func.sum(case((LedgerEntry.at < end, part), else_=0)) for end in ends]
    ids = [p.store_id for p in places if p.store_id is not None]
    where: ColumnElement[bool] = LedgerEntry.store_id.in_(ids)
    if any(p.store_id is None for p in places):
        where = where | LedgerEntry.store_id.is_(None)
    query = (
        select(LedgerEntry.store_id, *columns)
        .where(where, LedgerEntry.at < ends[-1])
        .where((LedgerEntry.sv_principal != 0) | (LedgerEntry.sv_bonus != 0))
        .group_by(LedgerEntry.store_id)
    )
    return {row[0]: [int(v or 0) for v in row[1:]] for row in session.execute(query)}


def _clock(place: _Place) -> tuple[str, int]:
    return place.timezone, place.cutoff


def _places(session: Session, store_id: int | None) -> list[_Place]:
    found = [
        _Place(s.id, s.name, s.code, s.timezone, s.day_cutoff_minutes)
        for s in stores.list_stores(session, store_id=store_id)
    ]
    if store_id is None:
        found.append(_Place(None, "", "", NO_STORE_TIMEZONE, 0))
    return found


def report(session: Session, *, store_id: int | None, first: date, last: date) -> LiabilityReport:
    """Outstanding principal and bonus at each month end, by store, with monthly totals."""
    months = months_between(first, last)
    if store_id is not None:
        stores.get_store(session, store_id=store_id)
    places = _places(session, store_id)
    sums: dict[int | None, list[int]] = {}
    # Stores on the same clock share month ends, hence one query per clock.
    for (timezone, cutoff), group in groupby(sorted(places, key=_clock), key=_clock):
        ends = [business_day_bounds(next_month(m), timezone, cutoff)[0] for m in months]
        sums |= _sums(session, list(group), ends)
    ordered = sorted(places, key=lambda p: (p.store_id is None, p.code))
    rows: list[LiabilityRow] = []
    for i, month in enumerate(months):
        for place in (p for p in ordered if p.store_id in sums):
            principal, bonus = sums[place.store_id][i], sums[place.store_id][len(months) + i]
            row = LiabilityRow(
                store_id=place.store_id, store_name=place.name, month=label(month),
                principal=principal, bonus=bonus, total=principal + bonus,
            )  # fmt: skip
            rows.append(row)
    return LiabilityReport(
        first_month=label(first), last_month=label(last), store_id=store_id, rows=rows,
        months=[_month_total(label(m), rows) for m in months],
    )  # fmt: skip


def _month_total(month: str, rows: list[LiabilityRow]) -> LiabilityMonth:
    principal = sum(r.principal for r in rows if r.month == month)
    bonus = sum(r.bonus for r in rows if r.month == month)
    return LiabilityMonth(month=month, principal=principal, bonus=bonus, total=principal + bonus)


def table(report: LiabilityReport, *, no_store: str) -> list[list[str]]:
    """The report's rows as text cells for an export (amounts in yuan, 2 decimals)."""
    return [
        [r.month, r.store_name or no_store, Money(r.principal).yuan_str(),
         Money(r.bonus).yuan_str(), Money(r.total).yuan_str()]
        for r in report.rows
    ]  # fmt: skip
