"""Back office: shifts (交接班) with their count and variance, and the registers' Z reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.sales import shift_service, z_reports
from shouyin.sales.shift_reports import TENDER_LABELS
from shouyin.sales.shift_schemas import ZReportCreate
from shouyin.stores import service as stores
from shouyin.web.office_common import PAGE_SIZE, _, error_of, page_count, parse_day, parse_id
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render, request_language

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("shifts.read"))]
Manager = Annotated[Principal, Depends(require("shifts.manage"))]
Text = Annotated[str, Query(max_length=40)]
ItemId = Annotated[int, Path(ge=1, le=ID_MAX)]
STATUS_LABELS = {"open": _("Shift open"), "closed": _("Shift closed")}


def _registers(db: Session, principal: Principal) -> list[dict[str, Any]]:
    """Every register the user may see, with its store's name for HQ users."""
    found = []
    for store in stores.list_stores(db, store_id=principal.store_id):
        for register in stores.list_registers(db, store_id=store.id):
            found.append({"id": register.id, "name": register.name, "store": store.name,
                          "store_id": store.id})  # fmt: skip
    return found


@router.get("/office/shifts")
def shifts_page(
    request: Request,
    principal: Reader,
    db: ReadDb,
    register_id: Text = "",
    status: Text = "",
    day: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    chosen, the_day = parse_id(register_id), parse_day(day)
    state = status if status in STATUS_LABELS else None
    filters = {"register_id": chosen, "day": the_day, "status": state}
    listed = shift_service.list_shifts(
        db, actor=principal, store_id=None, register_id=chosen, status=state, day=the_day,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    context = {
        "rows": listed.items, "total": listed.total, "page": page,
        "pages": page_count(listed.total), "filters": filters,
        "registers": _registers(db, principal), "status_labels": STATUS_LABELS,
    }  # fmt: skip
    return render(request, "office/shifts/list.html", context)


@router.get("/office/shifts/{shift_id}")
def shift_page(request: Request, principal: Reader, db: ReadDb, shift_id: ItemId) -> Response:
    found = shift_service.report(
        db, shift_id=shift_id, actor=principal, lang=request_language(request)
    )
    context = {
        "report": found, "shift": found.shift, "figures": found.figures,
        "tender_labels": TENDER_LABELS, "status_labels": STATUS_LABELS,
        "printed": request.query_params.get("printed"),
    }  # fmt: skip
    return render(request, "office/shifts/detail.html", context)


@router.post("/office/shifts/{shift_id}/print")
def print_shift(principal: Reader, db: ReadDb, shift_id: ItemId) -> Response:
    found = shift_service.get(db, shift_id=shift_id, actor=principal)
    which = "close" if found.status == "closed" else "x"
    printed = shift_service.print_shift(db, shift_id=shift_id, which=which, actor=principal)
    return RedirectResponse(f"/office/shifts/{shift_id}?printed={int(printed)}", status_code=303)


def _z_list(
    request: Request, db: Session, principal: Principal, *, register_id: int | None = None,
    form: dict[str, Any] | None = None, error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    listed = z_reports.list_z(
        db, actor=principal, store_id=None, register_id=register_id, day=None, limit=PAGE_SIZE,
        offset=0, lang=request_language(request),
    )  # fmt: skip
    context = {
        "rows": listed.items, "total": listed.total, "registers": _registers(db, principal),
        "can_make": principal.can("shifts.manage"), "form": form or {}, "error": error,
        "register_id": register_id,
    }  # fmt: skip
    return render(request, "office/shifts/z_list.html", context, status_code=status)


@router.get("/office/z-reports")
def z_reports_page(
    request: Request, principal: Reader, db: ReadDb, register_id: Text = ""
) -> Response:
    return _z_list(request, db, principal, register_id=parse_id(register_id))


@router.post("/office/z-reports")
def make_z_report(
    request: Request,
    principal: Manager,
    db: WriteDb,
    register_id: Annotated[str, Form(max_length=20)] = "",
    day: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    form = {"register_id": parse_id(register_id), "day": day.strip()}
    try:
        chosen = next(
            (r for r in _registers(db, principal) if r["id"] == form["register_id"]), None
        )
        if chosen is None:
            raise ValidationFailed("Choose a register.", code="z.register_missing")
        data = ZReportCreate(
            store_id=chosen["store_id"], register_id=chosen["id"], business_date=parse_day(day)
        )
        made = z_reports.create(db, data=data, actor=principal, lang=request_language(request))
    except DomainError as exc:
        db.rollback()
        return _z_list(
            request, db, principal, form=form, error=error_of(request, exc), status=exc.status
        )
    return RedirectResponse(f"/office/z-reports/{made.id}", status_code=303)


@router.get("/office/z-reports/{z_id}")
def z_report_page(request: Request, principal: Reader, db: ReadDb, z_id: ItemId) -> Response:
    found = z_reports.get(db, z_id=z_id, actor=principal, lang=request_language(request))
    context = {
        "z": found, "figures": found.data.figures, "tender_labels": TENDER_LABELS,
        "printed": request.query_params.get("printed"),
    }  # fmt: skip
    return render(request, "office/shifts/z_detail.html", context)


@router.post("/office/z-reports/{z_id}/print")
def print_z(principal: Reader, db: ReadDb, z_id: ItemId) -> Response:
    printed = z_reports.print_z(db, z_id=z_id, actor=principal)
    return RedirectResponse(f"/office/z-reports/{z_id}?printed={int(printed)}", status_code=303)
