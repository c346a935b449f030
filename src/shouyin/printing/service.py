"""Printing at a register: receipts, shift reports and the cash drawer.

A register prints on its own printer, or on the store's default one (``register_id`` empty).
Other parts call ``print_report`` and ``kick_drawer``; each returns whether anything was sent
to a printer: False when none is set up, and False (logged) when it did not answer, so a
shift close or a sale is never undone because of paper and cables.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Literal

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.models import User
from shouyin.auth.principal import Principal
from shouyin.config import Settings, get_settings
from shouyin.errors import Conflict, Forbidden, NotFound
from shouyin.printing import devices, escpos, return_slip, slips
from shouyin.printing.devices import PrinterUnreachable
from shouyin.printing.models import Printer
from shouyin.printing.schemas import PrinterPublic, PrinterSave
from shouyin.sales import orders, return_views
from shouyin.sales.models import Order
from shouyin.sales.receipt import render_escpos
from shouyin.service.survey_links import survey_url
from shouyin.shared.clock import to_local, utcnow
from shouyin.stores.models import Register, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """Bytes for one printer, made inside a transaction and sent after it."""

    printer_id: int
    kind: str
    address: str
    data: bytes
    store_id: int
    order_id: int | None = None
    return_id: int | None = None
    order_number: str | None = None  # or the return's number
    drawer_opened: bool = False


# --- which printer ------------------------------------------------------------------------


def printer_for(session: Session, *, register_id: int) -> Printer | None:
    """The register's own active printer, else the store's active default, else None."""
    register = session.get(Register, register_id)
    if register is None:
        return None
    found = session.scalars(
        select(Printer).where(
            Printer.store_id == register.store_id,
            Printer.active.is_(True),
            or_(Printer.register_id == register_id, Printer.register_id.is_(None)),
        )
    ).all()
    own = [p for p in found if p.register_id == register_id]
    chosen = own or list(found)
    return chosen[0] if chosen else None


def _timeout(timeout: float | None) -> float:
    return timeout if timeout is not None else get_settings().printer_timeout_seconds


def send(job: Job, *, timeout: float) -> None:
    devices.send(job.kind, job.address, job.data, timeout=timeout)


# --- the contract other parts call ------------------------------------------------------


def print_report(
    session: Session, *, register_id: int, title: str, lines: list[tuple[str, str]],
    timeout: float | None = None,
) -> bool:  # fmt: skip
    """Print a report (X, Z, shift close) as label/value rows under a title."""
    printer = printer_for(session, register_id=register_id)
    if printer is None:
        return False
    register, store = _register_and_store(session, register_id)
    data = slips.report(
        store_name=store.name, register=register.name, title=title, rows=lines,
        printed_at=to_local(utcnow(), store.timezone), paper_mm=printer.paper_mm,
    )  # fmt: skip
    return _send_quietly(printer, data, timeout)


def kick_drawer(session: Session, *, register_id: int, timeout: float | None = None) -> bool:
    """Open the cash drawer attached to the register's printer."""
    printer = printer_for(session, register_id=register_id)
    if printer is None or not printer.drawer:
        return False
    return _send_quietly(printer, escpos.drawer_pulse(), timeout)


def _send_quietly(printer: Printer, data: bytes, timeout: float | None) -> bool:
    try:
        devices.send(printer.kind, printer.address, data, timeout=_timeout(timeout))
    except PrinterUnreachable as exc:
        log.warning("printer %s: %s", printer.id, exc.message)
        return False
    return True


def _register_and_store(session: Session, register_id: int) -> tuple[Register, Store]:
    register = session.get(Register, register_id)
    store = session.get(Store, register.store_id) if register else None
    if register is None or store is None:
        raise NotFound("No such register.", code="register.not_found")
    return register, store


# --- receipts -----------------------------------------------------------------------------


def first_print(session: Session, *, actor: Principal, order_id: int, register_id: int) -> bool:
    """Mark the order's receipt printed; True only the first time (a compare-and-set)."""
    actor.require("sales.sell")
    store_id = session.scalar(select(Order.store_id).where(Order.id == order_id))
    if store_id is None or actor.store_id not in (None, store_id):
        raise NotFound("No such order.", code="order.not_found")
    register = session.get(Register, register_id)
    if register is None or register.store_id != store_id:
        return False  # not printed here: receipt_job says why
    done = session.execute(
        update(Order)
        .where(Order.id == order_id, Order.printed_at.is_(None))
        .values(printed_at=utcnow())
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def receipt_job(
    session: Session, *, actor: Principal, register_id: int, order_id: int, reprint: bool,
    settings: Settings,
) -> Job:  # fmt: skip
    """The receipt of an order for the register's printer, with a drawer pulse when the
    customer paid cash (not on a reprint: a copy never opens the drawer)."""
    actor.require("sales.sell")
    register, store = _register_and_store(session, register_id)
    actor.require_store(register.store_id)
    order = orders.load(session, order_id=order_id, actor=None)  # 404 when missing
    if order.store_id != register.store_id:
        raise NotFound("No such order.", code="order.not_found")
    printer = _printer_or_409(session, register_id)
    data = orders.receipt_data(
        session, order_id=order_id, actor=None, lang=settings.default_language
    )
    now = to_local(utcnow(), store.timezone)
    data = replace(
        data, survey_url=survey_url(order_id, settings), reprinted_at=now if reprint else None
    )
    cash = any(p.method == "cash" for p in order.payments)
    kick = cash and not reprint and printer.drawer
    paper: Literal[58, 80] = 58 if printer.paper_mm == 58 else 80
    return Job(
        printer_id=printer.id, kind=printer.kind, address=printer.address,
        data=render_escpos(data, paper, drawer=kick), store_id=store.id, order_id=order_id,
        order_number=order.number, drawer_opened=kick,
    )  # fmt: skip


def return_job(
    session: Session, *, actor: Principal, register_id: int, return_id: int, reprint: bool
) -> Job:
    """The return slip (退货单) for the register's printer; a cash refund opens the drawer."""
    actor.require("sales.sell")
    register, store = _register_and_store(session, register_id)
    actor.require_store(register.store_id)
    made = return_views.load(session, return_id=return_id, actor=None)
    if made.store_id != register.store_id:
        raise NotFound("No such return.", code="return.not_found")
    printer = _printer_or_409(session, register_id)
    cashier = session.get(User, made.user_id)
    at = session.get(Register, made.register_id) if made.register_id else None
    loyalty = made.loyalty
    data = return_slip.ReturnSlipData(
        store_name=store.name, number=made.number, order_number=made.order_number,
        local_time=to_local(made.created_at, store.timezone),
        cashier=cashier.display_name if cashier else "-", register=at.name if at else "-",
        reason=made.reason,
        lines=tuple(
            return_slip.ReturnSlipLine(x.name, x.quantity, x.weighed, x.refund) for x in made.lines
        ),
        refund=made.refund, payments=tuple((p.method, p.amount) for p in made.payments),
        points_taken=loyalty.points_taken if loyalty else 0,
        points_given=loyalty.points_given if loyalty else 0,
        stored_value=loyalty.sv_principal + loyalty.sv_bonus if loyalty else 0,
        reprinted_at=to_local(utcnow(), store.timezone) if reprint else None,
    )  # fmt: skip
    kick = printer.drawer and not reprint and any(p.method == "cash" for p in made.payments)
    return Job(
        printer_id=printer.id, kind=printer.kind, address=printer.address,
        data=return_slip.render(data, printer.paper_mm, drawer=kick), store_id=store.id,
        return_id=made.id, order_number=made.number, drawer_opened=kick,
    )  # fmt: skip


def _printer_or_409(session: Session, register_id: int) -> Printer:
    printer = printer_for(session, register_id=register_id)
    if printer is None:
        raise Conflict(
            "No receipt printer is set up for this register or its store.", code="printer.none"
        )
    return printer


def record_reprint(session: Session, *, actor: Principal, job: Job) -> None:
    """A copy of a receipt can back a false return: who printed which one is kept."""
    slip = ("return.reprint", "return", job.return_id) if job.return_id else (
        "receipt.reprint", "order", job.order_id)  # fmt: skip
    audit.record(
        session, actor=actor, action=slip[0], entity=slip[1], entity_id=slip[2],
        after={"number": job.order_number, "printer_id": job.printer_id}, store_id=job.store_id,
    )  # fmt: skip


# --- set-up -------------------------------------------------------------------------------


def list_printers(
    session: Session, *, actor: Principal, store_id: int | None
) -> list[PrinterPublic]:
    actor.require("printers.manage")
    query = select(Printer).order_by(Printer.store_id, Printer.register_id, Printer.id)
    scoped = actor.scope_store(store_id)
    if scoped is not None:
        query = query.where(Printer.store_id == scoped)
    return [PrinterPublic.model_validate(p) for p in session.scalars(query)]


def save_printer(
    session: Session, *, actor: Principal, data: PrinterSave
) -> tuple[PrinterPublic, bool]:
    """Create the printer of (store, register), or change it; True when it was created."""
    actor.require("printers.manage")
    actor.require_store(data.store_id)
    _check_place(session, data)
    address = devices.check_address(data.kind, data.address)
    if data.kind == "file" and not address.startswith("/dev/") and not actor.all_stores:
        # Appending bytes to any file of the server is head office's call, not a store's.
        raise Forbidden(
            "Only head office can set up a printer that writes to a file outside /dev.",
            code="printer.file_forbidden",
        )
    printer = session.scalars(
        select(Printer).where(
            Printer.store_id == data.store_id,
            Printer.register_id == data.register_id
            if data.register_id is not None
            else Printer.register_id.is_(None),
        )
    ).first()
    before = PrinterPublic.model_validate(printer).model_dump() if printer else None
    created = printer is None
    if printer is None:
        printer = Printer(store_id=data.store_id, register_id=data.register_id)
        session.add(printer)
    printer.kind, printer.address, printer.paper_mm = data.kind, address, data.paper_mm
    printer.drawer, printer.active = data.drawer, data.active
    session.flush()
    saved = PrinterPublic.model_validate(printer)
    audit.record(
        session, actor=actor, action="printer.save", entity="printer", entity_id=printer.id,
        before=before, after=saved.model_dump(), store_id=data.store_id,
    )  # fmt: skip
    return saved, created


def _check_place(session: Session, data: PrinterSave) -> None:
    if session.get(Store, data.store_id) is None:
        raise NotFound("No such store.", code="store.not_found")
    if data.register_id is not None:
        register = session.get(Register, data.register_id)
        if register is None or register.store_id != data.store_id:
            raise NotFound("No such register in this store.", code="register.not_found")


def get_printer(session: Session, *, actor: Principal, printer_id: int) -> Printer:
    actor.require("printers.manage")
    printer = session.get(Printer, printer_id)
    # Another store's printer is reported as missing, like its orders.
    if printer is None or actor.store_id not in (None, printer.store_id):
        raise NotFound("No such printer.", code="printer.not_found")
    return printer


def delete_printer(session: Session, *, actor: Principal, printer_id: int) -> None:
    printer = get_printer(session, actor=actor, printer_id=printer_id)
    before = PrinterPublic.model_validate(printer).model_dump()
    session.delete(printer)
    audit.record(
        session, actor=actor, action="printer.delete", entity="printer", entity_id=printer_id,
        before=before, store_id=printer.store_id,
    )  # fmt: skip


def sample_page_job(session: Session, *, actor: Principal, printer_id: int) -> Job:
    """A test page with Chinese text, the full paper width and a barcode."""
    printer = get_printer(session, actor=actor, printer_id=printer_id)
    store = session.get(Store, printer.store_id)
    assert store is not None
    register = session.get(Register, printer.register_id) if printer.register_id else None
    data = slips.test_page(
        store_name=store.name, where=register.name if register else "门店默认",
        address=printer.address, paper_mm=printer.paper_mm,
        printed_at=to_local(utcnow(), store.timezone),
    )  # fmt: skip
    return Job(
        printer_id=printer.id, kind=printer.kind, address=printer.address, data=data,
        store_id=store.id,
    )  # fmt: skip
