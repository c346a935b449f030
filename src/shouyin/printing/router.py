"""REST: receipt printers per register (or per store) and printing at a register.

Slips are made inside a short read transaction and sent after it: a slow or dead printer
never holds the database, and a failed print changes nothing (a sale stands).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.config import Settings
from shouyin.db import ReadDb, WriteDb, get_database
from shouyin.printing import service
from shouyin.printing.schemas import (
    PrinterPublic,
    PrinterSave,
    PrintReceipt,
    PrintResult,
    PrintReturn,
)
from shouyin.web.params import ID_MAX, IdPath

router = APIRouter(tags=["printers"])
Manager = Annotated[Principal, Depends(require("printers.manage"))]
Seller = Annotated[Principal, Depends(require("sales.sell"))]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission or store)"},
    404: {"description": "Unknown store, register, order or printer"},
}
PRINT_ERRORS: dict[int | str, dict[str, str]] = {
    **ERRORS,
    409: {"description": "No printer is set up for the register or its store (printer.none)"},
    503: {"description": "The printer did not answer (printer.unreachable)"},
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/api/v1/printers", response_model=list[PrinterPublic], responses=ERRORS)
def list_printers(
    principal: Manager,
    db: ReadDb,
    store_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
) -> object:
    """Printers of a store (a user bound to a store sees only that store's)."""
    return service.list_printers(db, actor=principal, store_id=store_id)


@router.put(
    "/api/v1/printers",
    response_model=PrinterPublic,
    responses={
        201: {"description": "Created", "model": PrinterPublic},
        **ERRORS,
        422: {"description": "Bad kind, address (printer.address_invalid) or paper width"},
    },
)
def save_printer(data: PrinterSave, principal: Manager, db: WriteDb) -> Response:
    """Create or change the printer of a register, or the store's default (no register)."""
    saved, created = service.save_printer(db, actor=principal, data=data)
    return JSONResponse(saved.model_dump(mode="json"), status_code=201 if created else 200)


@router.delete(
    "/api/v1/printers/{printer_id}", status_code=204, response_class=Response, responses=ERRORS
)
def delete_printer(printer_id: IdPath, principal: Manager, db: WriteDb) -> Response:
    service.delete_printer(db, actor=principal, printer_id=printer_id)
    return Response(status_code=204)


@router.post(
    "/api/v1/printers/{printer_id}/test", response_model=PrintResult, responses=PRINT_ERRORS
)
def print_test_page(printer_id: IdPath, principal: Manager, request: Request) -> object:
    """A test page with Chinese text, the paper's full width and a barcode."""
    with get_database(request).read() as session:
        job = service.sample_page_job(session, actor=principal, printer_id=printer_id)
    service.send(job, timeout=_settings(request).printer_timeout_seconds)
    return PrintResult(printed=True, printer_id=job.printer_id)


@router.post(
    "/api/v1/registers/{register_id}/print/receipt",
    response_model=PrintResult,
    responses=PRINT_ERRORS,
)
def print_receipt(
    register_id: IdPath, data: PrintReceipt, principal: Seller, request: Request
) -> object:
    """The order's receipt on the register's printer; the drawer opens for a cash sale.
    A reprint is marked 重印, never opens the drawer, and is written to the audit log."""
    settings = _settings(request)
    database = get_database(request)
    reprint = data.reprint
    if not reprint:
        # Only an order's first print opens the drawer; asking again is a reprint (audited),
        # so the drawer cannot be opened at will by printing an old cash sale.
        with database.write() as session:
            reprint = not service.first_print(
                session, actor=principal, order_id=data.order_id, register_id=register_id
            )
    with database.read() as session:
        job = service.receipt_job(
            session, actor=principal, register_id=register_id, order_id=data.order_id,
            reprint=reprint, settings=settings,
        )  # fmt: skip
    service.send(job, timeout=settings.printer_timeout_seconds)
    if reprint:
        with database.write() as session:
            service.record_reprint(session, actor=principal, job=job)
    return PrintResult(printed=True, printer_id=job.printer_id, drawer_opened=job.drawer_opened)


@router.post(
    "/api/v1/registers/{register_id}/print/return",
    response_model=PrintResult,
    responses=PRINT_ERRORS,
)
def print_return(
    register_id: IdPath, data: PrintReturn, principal: Seller, request: Request
) -> object:
    """The return slip (退货单) for the customer's signature; a cash refund opens the drawer.
    A reprint is marked 重印, never opens the drawer, and is written to the audit log."""
    database = get_database(request)
    with database.read() as session:
        job = service.return_job(
            session, actor=principal, register_id=register_id, return_id=data.return_id,
            reprint=data.reprint,
        )  # fmt: skip
    service.send(job, timeout=_settings(request).printer_timeout_seconds)
    if data.reprint:
        with database.write() as session:
            service.record_reprint(session, actor=principal, job=job)
    return PrintResult(printed=True, printer_id=job.printer_id, drawer_opened=job.drawer_opened)
