"""REST: shifts (交接班), cash moves, X reports, closing with a count, and Z reports."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from shouyin.auth.dependencies import CurrentPrincipal, require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb, get_database
from shouyin.sales import shift_service, z_reports
from shouyin.sales.shift_schemas import (
    CashMoveIn,
    CashMovePublic,
    PrintIn,
    PrintResult,
    ShiftCloseIn,
    ShiftOpen,
    ShiftPage,
    ShiftPublic,
    ShiftReport,
    ZReportCreate,
    ZReportPage,
    ZReportPublic,
)
from shouyin.web.params import ID_MAX, IdPath
from shouyin.web.templating import request_language

router = APIRouter(prefix="/api/v1", tags=["shifts"])
Seller = Annotated[Principal, Depends(require("sales.sell"))]
Manager = Annotated[Principal, Depends(require("shifts.manage"))]
Reader = Annotated[Principal, Depends(require("shifts.read"))]
OptionalId = Annotated[int | None, Query(ge=1, le=ID_MAX)]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission, store, or another cashier's shift)"},
    404: {"description": "No such shift or register"},
}


@router.post(
    "/shifts",
    response_model=ShiftPublic,
    status_code=201,
    responses={
        **ERRORS, 200: {"description": "A retry: the shift opened by the first submission"},
        409: {"description": "The register already has an open shift (shift.already_open)"},
    },
)  # fmt: skip
def open_shift(data: ShiftOpen, principal: Seller, db: WriteDb) -> Response:
    """Open a shift on a register with its cash float; the caller is the shift's cashier."""
    known = db.scalar(shift_service.select_uuid(data.client_uuid))
    shift = shift_service.open_shift(
        db, actor=principal, store_id=data.store_id, register_id=data.register_id,
        user_id=principal.user_id, opening_float=data.opening_float, client_uuid=data.client_uuid,
    )  # fmt: skip
    view = shift_service.get(db, shift_id=shift.id, actor=principal)
    return JSONResponse(view.model_dump(mode="json"), status_code=200 if known else 201)


@router.get("/shifts/current", response_model=ShiftPublic, responses=ERRORS)
def current(
    principal: CurrentPrincipal, db: ReadDb, register_id: Annotated[int, Query(ge=1, le=ID_MAX)]
) -> object:
    """The open shift of the register (404 shift.none when there is none)."""
    return shift_service.current(db, register_id=register_id, actor=principal)


@router.get("/shifts", response_model=ShiftPage, responses=ERRORS)
def list_shifts(
    principal: CurrentPrincipal,
    db: ReadDb,
    store_id: OptionalId = None,
    register_id: OptionalId = None,
    status: Literal["open", "closed"] | None = None,
    business_date: date | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> object:
    """Newest first: a cashier's own shifts, or the store's with shifts.read."""
    return shift_service.list_shifts(
        db, actor=principal, store_id=store_id, register_id=register_id, status=status,
        day=business_date, limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/shifts/{shift_id}", response_model=ShiftPublic, responses=ERRORS)
def get_shift(shift_id: IdPath, principal: CurrentPrincipal, db: ReadDb) -> object:
    return shift_service.get(db, shift_id=shift_id, actor=principal)


@router.post(
    "/shifts/{shift_id}/cash-moves",
    response_model=CashMovePublic,
    status_code=201,
    responses={
        **ERRORS, 200: {"description": "A retry: the move recorded by the first submission"},
        409: {"description": "Shift closed, or more cash out than the drawer holds"},
        422: {"description": "Amount or reason missing"},
    },
)  # fmt: skip
def cash_move(shift_id: IdPath, data: CashMoveIn, principal: Seller, request: Request) -> Response:
    """Cash in, cash out or a no-sale: every move opens the drawer and is audited."""
    database = get_database(request)
    with database.write() as session:
        move, created = shift_service.cash_move(
            session, shift_id=shift_id, data=data, actor=principal
        )
    if created:
        # After the commit: a slow printer holds no lock, and a failed write opens nothing.
        with database.read() as session:
            move.drawer_opened = shift_service.open_drawer(session, shift_id=shift_id)
    return JSONResponse(move.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/shifts/{shift_id}/report", response_model=ShiftReport, responses=ERRORS)
def report(shift_id: IdPath, principal: CurrentPrincipal, db: ReadDb, request: Request) -> object:
    """The X report (live; the shift stays open), or the frozen report of a closed shift."""
    lang = request_language(request)
    return shift_service.report(db, shift_id=shift_id, actor=principal, lang=lang)


@router.post("/shifts/{shift_id}/print", response_model=PrintResult, responses=ERRORS)
def print_shift(shift_id: IdPath, data: PrintIn, principal: CurrentPrincipal, db: ReadDb) -> object:
    """Print the X report or the closing report (printed: false without a printer)."""
    printed = shift_service.print_shift(db, shift_id=shift_id, which=data.which, actor=principal)
    return PrintResult(printed=printed)


@router.post(
    "/shifts/{shift_id}/close",
    response_model=ShiftReport,
    responses={
        **ERRORS, 409: {"description": "Already closed (shift.closed)"},
        422: {"description": "A tender of the shift not counted, or a negative count"},
    },
)  # fmt: skip
def close(
    shift_id: IdPath, data: ShiftCloseIn, principal: Seller, db: WriteDb, request: Request
) -> object:
    """Close with a blind count per tender: expected, counted and variance are stored."""
    lang = request_language(request)
    return shift_service.close(db, shift_id=shift_id, data=data, actor=principal, lang=lang)


@router.post(
    "/z-reports",
    response_model=ZReportPublic,
    status_code=201,
    responses={
        **ERRORS, 409: {"description": "Already made (z.exists), or a shift still open"},
        422: {"description": "No shift that day"},
    },
)  # fmt: skip
def create_z(data: ZReportCreate, principal: Manager, db: WriteDb, request: Request) -> object:
    """The register's Z report of a business day: one per register and day, numbered."""
    lang = request_language(request)
    return z_reports.create(db, data=data, actor=principal, lang=lang)


@router.get("/z-reports", response_model=ZReportPage, responses=ERRORS)
def list_z(
    principal: Reader,
    db: ReadDb,
    request: Request,
    store_id: OptionalId = None,
    register_id: OptionalId = None,
    business_date: date | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> object:
    return z_reports.list_z(
        db, actor=principal, store_id=store_id, register_id=register_id, day=business_date,
        limit=limit, offset=offset, lang=request_language(request),
    )  # fmt: skip


@router.get("/z-reports/{z_id}", response_model=ZReportPublic, responses=ERRORS)
def get_z(z_id: IdPath, principal: Reader, db: ReadDb, request: Request) -> object:
    return z_reports.get(db, z_id=z_id, actor=principal, lang=request_language(request))


@router.post("/z-reports/{z_id}/print", response_model=PrintResult, responses=ERRORS)
def print_z(z_id: IdPath, principal: Reader, db: ReadDb) -> object:
    return PrintResult(printed=z_reports.print_z(db, z_id=z_id, actor=principal))
