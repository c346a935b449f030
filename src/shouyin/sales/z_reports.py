"""Z reports: the end of a register's business day, numbered 1, 2, 3 ... per register.

A Z report sums the day's shifts of one register (all closed) with the same GROUP BY figures
as the X report, adds a line per cashier and per shift, and is frozen once made.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.models import User
from shouyin.auth.principal import Principal
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.printing import service as printing
from shouyin.sales import shift_reports as reports
from shouyin.sales import shift_service
from shouyin.sales.shift_models import Shift, ZReport
from shouyin.sales.shift_schemas import (
    CashierLine,
    ShiftLine,
    ZData,
    ZReportCreate,
    ZReportPage,
    ZReportPublic,
)
from shouyin.shared import i18n
from shouyin.shared.clock import business_date, utcnow
from shouyin.stores.models import Register, Store


def create(session: Session, *, data: ZReportCreate, actor: Principal, lang: str) -> ZReportPublic:
    actor.require(shift_service.MANAGE)
    actor.require_store(data.store_id)
    register = session.get(Register, data.register_id)
    store = session.get(Store, data.store_id)
    if register is None or store is None or register.store_id != store.id:
        raise NotFound("No such register in this store.", code="register.not_found")
    day = data.business_date or business_date(utcnow(), store.timezone, store.day_cutoff_minutes)
    taken = select(ZReport.id).where(ZReport.register_id == register.id)
    if session.scalar(taken.where(ZReport.business_date == day)) is not None:
        raise Conflict("This register's Z report for that day is already made.", code="z.exists")
    shifts = list(
        session.scalars(
            select(Shift)
            .where(Shift.register_id == register.id, Shift.business_date == day)
            .order_by(Shift.opened_at, Shift.id)
        )
    )
    if not shifts:
        raise ValidationFailed("No shift was worked at this register that day.", code="z.no_shifts")
    if any(s.status == "open" for s in shifts):
        raise Conflict(
            "A shift of this register and day is still open: close it first.",
            code="z.shifts_open",
        )
    z_data = _data(session, store, register, shifts)
    last = session.scalar(
        select(func.max(ZReport.number)).where(ZReport.register_id == register.id)
    )
    z = ZReport(
        store_id=store.id, register_id=register.id, business_date=day, number=(last or 0) + 1,
        created_at=utcnow(), user_id=actor.user_id, data=z_data.model_dump(mode="json"),
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(z)
            session.flush()
    except IntegrityError:
        raise Conflict(
            "This register's Z report for that day is already made.", code="z.exists"
        ) from None
    audit.record(
        session, actor=actor, action="z.create", entity="z_report", entity_id=z.id,
        store_id=store.id,
        after={"register_id": register.id, "day": day.isoformat(), "number": z.number,
               "net": z_data.figures.net, "variance": z_data.variance},
    )  # fmt: skip
    return _public(z, lang)


def _data(session: Session, store: Store, register: Register, shifts: list[Shift]) -> ZData:
    spans = [shift_service.span_of(s) for s in shifts]
    per_shift = reports.figures_by_shift(session.connection(), spans, utcnow())
    ids = {s.cashier_id for s in shifts}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())
    lines, by_cashier = [], defaultdict(list)
    for s in shifts:
        counted = reports.with_count(per_shift[s.id], s.counted or {})
        per_shift[s.id] = counted
        by_cashier[s.cashier_id].append(s)
        lines.append(
            ShiftLine(
                shift_id=s.id, cashier_name=names.get(s.cashier_id, "?"), opened_at=s.opened_at,
                closed_at=s.closed_at, orders=counted.orders, net=counted.net,
                expected=s.expected or {}, counted=s.counted or {}, variance=s.variance or {},
            )
        )  # fmt: skip
    total = reports.combine(list(per_shift.values()))
    cashiers = [
        CashierLine(
            cashier_id=cid, cashier_name=names.get(cid, "?"), shifts=len(worked),
            orders=sum(per_shift[s.id].orders for s in worked),
            net=sum(per_shift[s.id].net for s in worked),
            cash_variance=sum((s.variance or {}).get("cash", 0) for s in worked),
        )
        for cid, worked in by_cashier.items()
    ]  # fmt: skip
    variance: dict[str, int] = defaultdict(int)
    for s in shifts:
        for method, amount in (s.variance or {}).items():
            variance[method] += amount
    return ZData(
        store_name=store.name, register_name=register.name, figures=total,
        variance=dict(variance), cashiers=cashiers, shifts=lines,
    )  # fmt: skip


def rows(z: ZReport, lang: str) -> tuple[str, list[tuple[str, str]]]:
    """The Z report as a title and label/value rows, for the screen and the printer."""

    def tr(text: str) -> str:
        return i18n.gettext(lang, text)

    data = ZData(**z.data)
    out = [
        (tr("Z report no."), str(z.number)), (tr("Store"), data.store_name),
        (tr("Register"), data.register_name), (tr("Business day"), z.business_date.isoformat()),
    ]  # fmt: skip
    out += reports.figure_rows(data.figures, tr)
    out.append((tr("By cashier"), ""))
    for c in data.cashiers:
        out.append((f" {c.cashier_name} ({c.orders})", reports.money(c.net)))
        out.append(("  " + tr("Cash variance"), reports.money(c.cash_variance)))
    out.append((tr("By shift"), ""))
    for s in data.shifts:
        out.append((f" #{s.shift_id} {s.cashier_name} ({s.orders})", reports.money(s.net)))
    return tr("Z report"), out


def _public(z: ZReport, lang: str) -> ZReportPublic:
    title, lines = rows(z, lang)
    return ZReportPublic(
        id=z.id, store_id=z.store_id, register_id=z.register_id, business_date=z.business_date,
        number=z.number, created_at=z.created_at, user_id=z.user_id, data=ZData(**z.data), rows=lines,
        text=reports.render_text(title, lines, 32),
    )  # fmt: skip


def _get(session: Session, z_id: int, actor: Principal) -> ZReport:
    actor.require(shift_service.READ)
    z = session.get(ZReport, z_id)
    if z is None:
        raise NotFound("No such Z report.", code="z.not_found")
    actor.require_store(z.store_id)
    return z


def get(session: Session, *, z_id: int, actor: Principal, lang: str) -> ZReportPublic:
    return _public(_get(session, z_id, actor), lang)


def list_z(
    session: Session, *, actor: Principal, store_id: int | None, register_id: int | None,
    day: date | None, limit: int, offset: int, lang: str,
) -> ZReportPage:  # fmt: skip
    actor.require(shift_service.READ)
    query = select(ZReport)
    store = actor.scope_store(store_id)
    if store is not None:
        query = query.where(ZReport.store_id == store)
    if register_id is not None:
        query = query.where(ZReport.register_id == register_id)
    if day is not None:
        query = query.where(ZReport.business_date == day)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    found = session.scalars(
        query.order_by(ZReport.business_date.desc(), ZReport.id.desc()).limit(limit).offset(offset)
    )
    return ZReportPage(items=[_public(z, lang) for z in found], total=total)


def print_z(session: Session, *, z_id: int, actor: Principal) -> bool:
    z = _get(session, z_id, actor)
    title, lines = rows(z, i18n.DEFAULT_LANGUAGE)
    return printing.print_report(session, register_id=z.register_id, title=title, lines=lines)
