"""Back office: receipt printers per register, or a store's default one, and a test page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb, get_database
from shouyin.errors import DomainError
from shouyin.printing import service
from shouyin.printing.schemas import PrinterPublic, PrinterSave
from shouyin.stores import service as stores
from shouyin.web.office_common import _, error_of, parse_id, validated
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Manager = Annotated[Principal, Depends(require("printers.manage"))]
PrinterId = Annotated[int, Path(ge=1, le=ID_MAX)]
KIND_LABELS = {"network": _("Network (TCP)"), "usb": _("USB"), "file": _("File or device")}
MESSAGES = {
    "kind": (_("Choose network, USB or file."), "printer.kind_invalid"),
    "address": (_("Enter the printer's address."), "printer.address_invalid"),
    "paper_mm": (_("Paper is 58 or 80 mm wide."), "printer.paper_invalid"),
    "store_id": (_("Choose a store."), "printer.store_invalid"),
}


class PrinterForm:
    """The printer form as typed, so a rejected form comes back as the user left it."""

    def __init__(
        self,
        store_id: Annotated[str, Form(max_length=20)] = "",
        register_id: Annotated[str, Form(max_length=20)] = "",
        kind: Annotated[str, Form(max_length=20)] = "network",
        address: Annotated[str, Form(max_length=1000)] = "",
        paper_mm: Annotated[str, Form(max_length=5)] = "80",
        drawer: Annotated[str, Form(max_length=5)] = "",
        active: Annotated[str, Form(max_length=5)] = "",
    ) -> None:
        self.store_id, self.register_id = parse_id(store_id), parse_id(register_id)
        self.kind, self.address = kind.strip(), address.strip()
        self.paper_mm = int(paper_mm) if paper_mm in ("58", "80") else 0
        self.drawer, self.active = bool(drawer), bool(active)


def _store_of(db: Session, principal: Principal, requested: int | None) -> int | None:
    """The store shown: the user's own, or the one head office picked (else the first)."""
    scoped = principal.scope_store(requested)
    if scoped is not None:
        return scoped
    listed = stores.list_stores(db)
    return listed[0].id if listed else None


def _page(
    request: Request, db: Session, principal: Principal, store_id: int | None, *,
    form: dict[str, Any] | None = None, error: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    printers: list[PrinterPublic] = []
    registers = []
    if store_id is not None:
        printers = service.list_printers(db, actor=principal, store_id=store_id)
        registers = stores.list_registers(db, store_id=store_id)
    blank = {"store_id": store_id, "register_id": None, "kind": "network", "address": "",
             "paper_mm": 80, "drawer": True, "active": True}  # fmt: skip
    context = {
        "stores": stores.list_stores(db, store_id=principal.store_id), "store_id": store_id,
        "printers": printers, "registers": {r.id: r for r in registers},
        "register_list": registers, "kind_labels": KIND_LABELS, "form": form or blank,
        "error": error, "result": result, "saved": request.query_params.get("saved") == "1",
    }  # fmt: skip
    return render(request, "office/printers/index.html", context, status_code=status)


@router.get("/office/printers")
def printers_page(
    request: Request,
    principal: Manager,
    db: ReadDb,
    store_id: Annotated[str, Query(max_length=20)] = "",
    edit: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    shown = _store_of(db, principal, parse_id(store_id))
    form = None
    edit_id = parse_id(edit)
    if edit_id is not None and shown is not None:
        found = service.list_printers(db, actor=principal, store_id=shown)
        form = next((p.model_dump() for p in found if p.id == edit_id), None)
    return _page(request, db, principal, shown, form=form)


@router.post("/office/printers")
def save_submit(
    request: Request, principal: Manager, db: WriteDb, form: Annotated[PrinterForm, Depends()]
) -> Response:
    try:
        data = validated(PrinterSave, vars(form), MESSAGES)
        service.save_printer(db, actor=principal, data=data)
    except DomainError as exc:
        db.rollback()
        shown = _store_of(db, principal, form.store_id)
        error = error_of(request, exc)
        return _page(request, db, principal, shown, form=vars(form), error=error, status=exc.status)
    return RedirectResponse(f"/office/printers?store_id={form.store_id}&saved=1", status_code=303)


@router.post("/office/printers/{printer_id}/delete")
def delete_submit(principal: Manager, db: WriteDb, printer_id: PrinterId) -> Response:
    store_id = service.get_printer(db, actor=principal, printer_id=printer_id).store_id
    service.delete_printer(db, actor=principal, printer_id=printer_id)
    return RedirectResponse(f"/office/printers?store_id={store_id}&saved=1", status_code=303)


@router.post("/office/printers/{printer_id}/test")
def test_submit(request: Request, principal: Manager, printer_id: PrinterId) -> Response:
    """Print the test page and show what happened: printed, or why not."""
    database = get_database(request)
    with database.read() as db:
        job = service.sample_page_job(db, actor=principal, printer_id=printer_id)
    result: dict[str, Any] = {"printer_id": printer_id, "ok": True, "message": ""}
    try:
        service.send(job, timeout=request.app.state.settings.printer_timeout_seconds)
    except DomainError as exc:
        result = {"printer_id": printer_id, "ok": False, **error_of(request, exc)}
    with database.read() as db:
        return _page(request, db, principal, job.store_id, result=result)
