"""Shift service (交接班): open with a float, cash in/out and no-sale, X report, close with a count.

A cashier works their own shift; closing someone else's needs ``shifts.manage``, and seeing
the store's shifts needs ``shifts.read``. Every write the till may retry carries a client UUID.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from shouyin.audit import service as audit
from shouyin.auth.models import User
from shouyin.auth.principal import Principal
from shouyin.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shouyin.printing import service as printing
from shouyin.sales import shift_reports as reports
from shouyin.sales.payment_models import PaymentAttempt
from shouyin.sales.shift_models import CashMove, Shift, ZReport
from shouyin.sales.shift_schemas import (
    CashMoveIn,
    CashMovePublic,
    Figures,
    ShiftCloseIn,
    ShiftPage,
    ShiftPublic,
    ShiftReport,
)
from shouyin.shared import i18n
from shouyin.shared.clock import business_date, utcnow
from shouyin.stores.models import Register, Store

MAX_FLOAT_FEN = 10_000_000  # ¥100,000: more than any drawer holds
MANAGE, READ, SELL = "shifts.manage", "shifts.read", "sales.sell"
_CLOSER = aliased(User)


def open_shift(
    session: Session, *, actor: Principal | None, store_id: int, register_id: int, user_id: int,
    opening_float: int, client_uuid: uuid.UUID | None,
) -> Shift:  # fmt: skip
    """Open a shift on the register for ``user_id``; a retry with the same UUID returns it."""
    if actor is not None:
        actor.require(SELL)
        actor.require_store(store_id)
    if client_uuid is not None:
        found = session.scalar(select(Shift).where(Shift.client_uuid == str(client_uuid)))
        if found is not None:
            return found
    if not 0 <= opening_float <= MAX_FLOAT_FEN:
        raise ValidationFailed(
            "The float must be between 0 and {limit} yuan.",
            code="shift.float_invalid", details={"limit": MAX_FLOAT_FEN // 100},
        )  # fmt: skip
    register = session.get(Register, register_id)
    store = session.get(Store, store_id)
    if register is None or store is None or register.store_id != store_id:
        raise NotFound("No such register in this store.", code="register.not_found")
    now = utcnow()
    day = business_date(now, store.timezone, store.day_cutoff_minutes)
    _check_day_open(session, register_id=register_id, day=day)
    shift = Shift(
        client_uuid=str(client_uuid or uuid.uuid4()), store_id=store_id, register_id=register_id,
        cashier_id=user_id, opened_at=now, opening_float=opening_float, status="open",
        business_date=day,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(shift)
            session.flush()
    except IntegrityError:
        raise Conflict(
            "This register already has an open shift. Close it before opening another.",
            code="shift.already_open",
        ) from None
    if actor is not None:
        audit.record(
            session, actor=actor, action="shift.open", entity="shift", entity_id=shift.id,
            store_id=store_id, after={"register_id": register_id, "float": opening_float},
        )  # fmt: skip
    return shift


def _check_codes_settled(session: Session, shift: Shift) -> None:
    """Money a payment code took that no sale used (or one still in flight) is on no report:
    it must be used or given back (cancelled) before the drawer is counted."""
    unsettled = (PaymentAttempt.status == "succeeded") & PaymentAttempt.order_id.is_(None)
    in_flight = PaymentAttempt.status.in_(("pending", "waiting", "reversing"))
    amount = session.scalar(
        select(func.sum(PaymentAttempt.amount)).where(
            PaymentAttempt.register_id == shift.register_id,
            PaymentAttempt.created_at >= shift.opened_at,
            unsettled | in_flight,
        )
    )
    if amount:
        raise Conflict(
            "Payment codes of {amount} yuan were charged but no sale used them yet: finish "
            "that sale or cancel the payment before closing.",
            code="shift.codes_unsettled", details={"amount": f"{amount / 100:.2f}"},
        )  # fmt: skip


def _check_day_open(session: Session, *, register_id: int, day: date) -> None:
    """A Z report ends the register's business day: sales after it would be in no Z report."""
    z = session.scalar(
        select(ZReport.number).where(
            ZReport.register_id == register_id, ZReport.business_date == day
        )
    )
    if z is not None:
        raise Conflict(
            "The day is closed at this register (Z report {number}). Open the next shift "
            "on the next business day.",
            code="shift.day_closed", details={"number": z},
        )  # fmt: skip


def select_uuid(client_uuid: uuid.UUID) -> Select[int]:
    """The shift a client UUID opened, if any (a retry)."""
    return select(Shift.id).where(Shift.client_uuid == str(client_uuid))


# --- reading ------------------------------------------------------------------------------


def _query() -> Select[Shift, str, str, str]:
    return (
        select(Shift, Register.name, User.display_name, _CLOSER.display_name)
        .join(Register, Register.id == Shift.register_id)
        .join(User, User.id == Shift.cashier_id)
        .outerjoin(_CLOSER, _CLOSER.id == Shift.closed_by)
    )


def _public(row: Any) -> ShiftPublic:
    shift, register_name, cashier_name, closer_name = row
    return ShiftPublic(
        id=shift.id, client_uuid=shift.client_uuid, store_id=shift.store_id,
        register_id=shift.register_id, register_name=register_name, cashier_id=shift.cashier_id,
        cashier_name=cashier_name, business_date=shift.business_date, opened_at=shift.opened_at,
        opening_float=shift.opening_float, status=shift.status, closed_at=shift.closed_at,
        closed_by=shift.closed_by, closed_by_name=closer_name, expected=shift.expected,
        counted=shift.counted, variance=shift.variance, note=shift.note,
    )  # fmt: skip


def view(session: Session, *, shift_id: int) -> ShiftPublic:
    row = session.execute(_query().where(Shift.id == shift_id)).first()
    if row is None:
        raise NotFound("No such shift.", code="shift.not_found")
    return _public(row)


def _can_see(actor: Principal, shift: Shift | ShiftPublic) -> None:
    """A cashier sees their own shifts; ``shifts.read`` sees the store's."""
    actor.require_store(shift.store_id)
    if shift.cashier_id != actor.user_id and not actor.can(READ):
        raise NotFound("No such shift.", code="shift.not_found")


def get(session: Session, *, shift_id: int, actor: Principal) -> ShiftPublic:
    found = view(session, shift_id=shift_id)
    _can_see(actor, found)
    return found


def current(session: Session, *, register_id: int, actor: Principal) -> ShiftPublic:
    """The open shift of a register: what the till asks at start."""
    if not (actor.can(SELL) or actor.can(READ)):
        actor.require(SELL)
    register = session.get(Register, register_id)
    if register is None:
        raise NotFound("No such register in this store.", code="register.not_found")
    actor.require_store(register.store_id)
    row = session.execute(
        _query().where(Shift.register_id == register_id, Shift.status == "open")
    ).first()
    if row is None:
        raise NotFound("This register has no open shift.", code="shift.none")
    return _public(row)


def list_shifts(
    session: Session, *, actor: Principal, store_id: int | None, register_id: int | None,
    status: str | None, day: Any = None, limit: int, offset: int,
) -> ShiftPage:  # fmt: skip
    """Newest first. Without ``shifts.read`` only the actor's own shifts."""
    if not (actor.can(SELL) or actor.can(READ)):
        actor.require(READ)
    query = _query()
    store = actor.scope_store(store_id)
    if store is not None:
        query = query.where(Shift.store_id == store)
    if not actor.can(READ):
        query = query.where(Shift.cashier_id == actor.user_id)
    if register_id is not None:
        query = query.where(Shift.register_id == register_id)
    if status is not None:
        query = query.where(Shift.status == status)
    if day is not None:
        query = query.where(Shift.business_date == day)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Shift.id.desc()).limit(limit).offset(offset)).all()
    return ShiftPage(items=[_public(r) for r in rows], total=total)


# --- cash moves ---------------------------------------------------------------------------


def _locked(session: Session, shift_id: int) -> Shift:
    shift = session.scalar(select(Shift).where(Shift.id == shift_id).with_for_update())
    if shift is None:
        raise NotFound("No such shift.", code="shift.not_found")
    return shift


def _move_public(move: CashMove, drawer: bool) -> CashMovePublic:
    return CashMovePublic(
        id=move.id, client_uuid=move.client_uuid, shift_id=move.shift_id, kind=move.kind,
        amount=move.amount, reason=move.reason, user_id=move.user_id, created_at=move.created_at,
        drawer_opened=drawer,
    )  # fmt: skip


def cash_move(
    session: Session, *, shift_id: int, data: CashMoveIn, actor: Principal
) -> tuple[CashMovePublic, bool]:
    """Cash in, cash out or a no-sale drawer opening; returns it and whether it is new."""
    actor.require(SELL)
    found = session.scalar(select(CashMove).where(CashMove.client_uuid == str(data.client_uuid)))
    if found is not None:
        if found.shift_id != shift_id:
            raise Conflict("This client UUID was used for another shift.", code="shift.uuid_used")
        return _move_public(found, False), False
    _check_amount(data)
    shift = _locked(session, shift_id)
    actor.require_store(shift.store_id)
    if shift.status != "open":
        raise Conflict("This shift is closed.", code="shift.closed")
    # The drawer is the shift's cashier's: another cashier's cash moves would blur who is
    # answerable for a variance. A manager may (a float top-up, a bank drop).
    if shift.cashier_id != actor.user_id and not actor.can(MANAGE):
        raise Forbidden("This is another cashier's shift.", code="shift.not_yours")
    if data.kind == "out":
        expected = figures(session, shift).expected_cash
        if data.amount > expected:
            raise Conflict(
                "Only {amount} yuan should be in the drawer: that much cannot be taken out.",
                code="shift.cash_short", details={"amount": f"{expected / 100:.2f}"},
            )  # fmt: skip
    move = CashMove(
        client_uuid=str(data.client_uuid), shift_id=shift.id, kind=data.kind, amount=data.amount,
        reason=data.reason.strip() or data.reason, user_id=actor.user_id, created_at=utcnow(),
    )  # fmt: skip
    session.add(move)
    session.flush()
    action = "shift.no_sale" if data.kind == "no_sale" else f"shift.cash_{data.kind}"
    audit.record(
        session, actor=actor, action=action,
        entity="shift", entity_id=shift.id, store_id=shift.store_id,
        after={"amount": data.amount, "reason": move.reason, "register_id": shift.register_id},
    )  # fmt: skip
    # The drawer is opened by the caller once this is committed (see open_drawer): a
    # printer that does not answer must not hold the database's write lock.
    return _move_public(move, False), True


def open_drawer(session: Session, *, shift_id: int) -> bool:
    """Kick the drawer of the shift's register (after a cash move was committed)."""
    shift = session.get(Shift, shift_id)
    return shift is not None and printing.kick_drawer(session, register_id=shift.register_id)


def _check_amount(data: CashMoveIn) -> None:
    if data.kind == "no_sale" and data.amount != 0:
        raise ValidationFailed("A no-sale opening moves no money.", code="shift.amount_invalid")
    if data.kind != "no_sale" and data.amount <= 0:
        raise ValidationFailed("Enter an amount above zero.", code="shift.amount_invalid")
    if not data.reason.strip():
        raise ValidationFailed("Give a reason.", code="shift.reason_required")


# --- figures, X report, closing -----------------------------------------------------------


def span_of(shift: Shift) -> reports.ShiftSpan:
    return reports.ShiftSpan(
        shift.id, shift.register_id, shift.opening_float, shift.opened_at, shift.closed_at
    )


def figures(session: Session, shift: Shift) -> Figures:
    now = utcnow()
    return reports.figures_by_shift(session.connection(), [span_of(shift)], now)[shift.id]


def expected_now(session: Session, shift: Shift) -> dict[str, int]:
    """Per counted tender, what the shift should hold right now."""
    return reports.expected_of(figures(session, shift))


def _shift(session: Session, shift_id: int) -> Shift:
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NotFound("No such shift.", code="shift.not_found")
    return shift


def report(session: Session, *, shift_id: int, actor: Principal, lang: str) -> ShiftReport:
    """Live figures of an open shift (X report), or the frozen report of a closed one."""
    shift = _shift(session, shift_id)
    _can_see(actor, shift)
    if shift.status == "closed" and shift.report is not None:
        return _report(view(session, shift_id=shift_id), "close", Figures(**shift.report), lang)
    return _report(view(session, shift_id=shift_id), "x", figures(session, shift), lang)


def _report(shift: ShiftPublic, kind: str, data: Figures, lang: str) -> ShiftReport:
    title, rows = report_rows(shift, kind, data, lang)
    return ShiftReport(
        shift=shift, kind=kind, figures=data, rows=rows, text=reports.render_text(title, rows, 32),
    )  # fmt: skip


def report_rows(
    shift: ShiftPublic, kind: str, data: Figures, lang: str
) -> tuple[str, list[tuple[str, str]]]:
    def tr(text: str) -> str:
        return i18n.gettext(lang, text)

    title = tr("X report") if kind == "x" else tr("Shift report")
    head = [
        (tr("Shift"), f"#{shift.id}"), (tr("Register"), shift.register_name),
        (tr("Cashier"), shift.cashier_name), (tr("Business day"), shift.business_date.isoformat()),
    ]  # fmt: skip
    return title, head + reports.figure_rows(data, tr)


def close(
    session: Session, *, shift_id: int, data: ShiftCloseIn, actor: Principal, lang: str
) -> ShiftReport:
    """Count the drawer: store expected, counted and variance per tender, freeze the report."""
    actor.require(SELL)
    shift = _locked(session, shift_id)
    actor.require_store(shift.store_id)
    if shift.cashier_id != actor.user_id and not actor.can(MANAGE):
        raise Forbidden("This is another cashier's shift.", code="shift.not_yours")
    if shift.status != "open":
        raise Conflict("This shift is closed.", code="shift.closed")
    _check_codes_settled(session, shift)
    live = figures(session, shift)
    expected = reports.expected_of(live)
    missing = sorted(set(expected) - set(data.counted))
    if missing:
        raise ValidationFailed(
            "Count every tender of the shift: {tenders} missing.",
            code="shift.count_missing", details={"tenders": ", ".join(missing)},
        )  # fmt: skip
    given = {str(k): v for k, v in data.counted.items()}
    counted = {m: given.get(m, 0) for m in sorted(set(expected) | set(given))}
    expected = {m: expected.get(m, 0) for m in counted}
    variance = {m: counted[m] - expected[m] for m in counted}
    frozen = reports.with_count(live, counted)
    now = utcnow()
    shift.status, shift.closed_at, shift.closed_by = "closed", now, actor.user_id
    shift.expected, shift.counted, shift.variance = expected, counted, variance
    shift.note = (data.note or "").strip() or None
    shift.report = frozen.model_dump(mode="json")
    session.flush()
    audit.record(
        session, actor=actor, action="shift.close", entity="shift", entity_id=shift.id,
        store_id=shift.store_id, before={"expected": expected},
        after={"counted": counted, "variance": variance, "note": shift.note},
    )  # fmt: skip
    return _report(view(session, shift_id=shift.id), "close", frozen, lang)


def print_shift(session: Session, *, shift_id: int, which: str, actor: Principal) -> bool:
    """Print the X report (live) or the closing report; False without a printer."""
    found = report(session, shift_id=shift_id, actor=actor, lang=i18n.DEFAULT_LANGUAGE)
    if which == "close" and found.kind != "close":
        raise Conflict("The shift is still open: print its X report.", code="shift.still_open")
    title, rows = report_rows(found.shift, found.kind, found.figures, i18n.DEFAULT_LANGUAGE)
    return printing.print_report(
        session, register_id=found.shift.register_id, title=title, lines=rows
    )
