"""Back office: transfers (调拨) between stores — list, new transfer, detail with send,
receive (counted quantities) and cancel."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.inventory import transfers
from shouyin.inventory.transfer_schemas import (
    MAX_QUANTITY,
    TransferCreate,
    TransferPublic,
    TransferReceive,
)
from shouyin.stores import service as stores
from shouyin.web.office_common import PAGE_SIZE, _, error_of, form_uuid, page_count, parse_id
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Manager = Annotated[Principal, Depends(require("transfers.manage"))]
Text = Annotated[str, Query(max_length=40)]
TransferId = Annotated[int, Path(ge=1, le=ID_MAX)]
STATUS_LABELS = {
    "draft": _("Draft transfer"),
    "in_transit": _("In transit"),
    "received": _("Transfer received"),
    "cancelled": _("Transfer cancelled"),
}
DIRECTION_LABELS = {"out": _("Sent by my store"), "in": _("Coming to my store")}
MAX_LINES = 500


@router.get("/office/transfers")
def transfers_page(
    request: Request,
    principal: Manager,
    db: ReadDb,
    status: Text = "",
    direction: Text = "",
    store_id: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    state = status if status in STATUS_LABELS else None
    way = direction if direction in DIRECTION_LABELS else None
    store = principal.store_id or parse_id(store_id)
    listed = transfers.list_transfers(
        db, actor=principal, store_id=store, direction=way if store else None, status=state,
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    context = {
        "rows": listed.items, "total": listed.total, "page": page,
        "pages": page_count(listed.total), "status_labels": STATUS_LABELS,
        "direction_labels": DIRECTION_LABELS,
        "filters": {"status": state or "", "direction": way or "", "store_id": store or ""},
        "stores": [] if principal.store_id else stores.list_stores(db),
        "saved": request.query_params.get("saved"),
    }  # fmt: skip
    return render(request, "office/transfers/list.html", context)


def _new_page(
    request: Request, db: Session, principal: Principal, *, form: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    every = stores.list_stores(db)
    senders = [s for s in every if principal.store_id in (None, s.id)]
    blank = {"client_uuid": str(uuid.uuid4()), "from_store_id": senders[0].id if senders else ""}
    context = {"senders": senders, "stores": every, "form": form or blank, "error": error}
    return render(request, "office/transfers/new.html", context, status_code=status)


@router.get("/office/transfers/new")
def new_transfer_page(request: Request, principal: Manager, db: ReadDb) -> Response:
    return _new_page(request, db, principal)


def parse_lines(db: Session, text: str) -> list[dict[str, int]]:
    """One product a line: a barcode or SKU, then the quantity ("6901234567890 4").

    The same product on two lines adds up, as when it is scanned twice.
    """
    wanted: dict[int, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        quantity = parts[1] if len(parts) > 1 else "1"
        if len(parts) > 2 or not (quantity.isascii() and quantity.isdigit()):
            raise ValidationFailed(
                "Line {line}: write a barcode or SKU, a space and the quantity.",
                code="transfer.line_invalid",
                details={"line": number},
            )
        product = catalog.lookup(db, code=parts[0])
        wanted[product.id] = min(wanted.get(product.id, 0) + int(quantity[:9]), MAX_QUANTITY)
    if not wanted:
        raise ValidationFailed("Add at least one product.", code="transfer.no_lines")
    if len(wanted) > MAX_LINES:
        raise ValidationFailed(
            "A transfer holds at most {limit} products.",
            code="transfer.too_many_lines",
            details={"limit": MAX_LINES},
        )
    return [{"product_id": p, "quantity": q} for p, q in wanted.items()]


@router.post("/office/transfers/new")
def create_transfer_submit(
    request: Request,
    principal: Manager,
    db: WriteDb,
    client_uuid: Annotated[str, Form(max_length=100)] = "",
    from_store_id: Annotated[str, Form(max_length=20)] = "",
    to_store_id: Annotated[str, Form(max_length=20)] = "",
    lines: Annotated[str, Form(max_length=40_000)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    form = {"client_uuid": client_uuid.strip(), "from_store_id": parse_id(from_store_id),
            "to_store_id": parse_id(to_store_id), "lines": lines, "note": note.strip()}  # fmt: skip
    try:
        sender = form["from_store_id"] or principal.store_id
        if sender is None or form["to_store_id"] is None:
            raise ValidationFailed(
                "Choose the sending and the receiving store.", code="transfer.store_missing"
            )
        data = TransferCreate.model_validate({
            "client_uuid": form_uuid(client_uuid),
            "from_store_id": sender, "to_store_id": form["to_store_id"],
            "lines": parse_lines(db, lines), "note": note.strip()[:200] or None,
        })  # fmt: skip
        made, _created = transfers.create(db, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _new_page(request, db, principal, form=form, error=error, status=exc.status)
    return RedirectResponse(f"/office/transfers/{made.id}?saved=created", status_code=303)


def _detail_page(
    request: Request, principal: Principal, found: TransferPublic, *,
    error: dict[str, Any] | None = None, status: int = 200,
    warnings: list[Any] | None = None,
) -> Response:  # fmt: skip
    mine = principal.store_id
    context = {
        "t": found, "status_labels": STATUS_LABELS, "error": error,
        "can_send": found.status == "draft" and mine in (None, found.from_store_id),
        "can_cancel": found.status in ("draft", "in_transit")
                      and mine in (None, found.from_store_id),
        "can_receive": found.status == "in_transit" and mine in (None, found.to_store_id),
        "saved": request.query_params.get("saved"), "warnings": warnings or [],
    }  # fmt: skip
    return render(request, "office/transfers/detail.html", context, status_code=status)


@router.get("/office/transfers/{transfer_id}")
def transfer_page(
    request: Request, principal: Manager, db: ReadDb, transfer_id: TransferId
) -> Response:
    found = transfers.detail(db, transfer_id=transfer_id, actor=principal)
    return _detail_page(request, principal, found)


def _act(
    request: Request, db: Session, principal: Principal, transfer_id: int, action: Any,
    done: str,
) -> Response:  # fmt: skip
    try:
        result: TransferPublic = action()
    except DomainError as exc:
        db.rollback()
        found = transfers.detail(db, transfer_id=transfer_id, actor=principal)
        error = error_of(request, exc)
        return _detail_page(request, principal, found, error=error, status=exc.status)
    if result.stock_warnings:
        # Shown at once: the warning is news of this send, not part of the transfer.
        return _detail_page(request, principal, result, warnings=result.stock_warnings)
    return RedirectResponse(f"/office/transfers/{transfer_id}?saved={done}", status_code=303)


@router.post("/office/transfers/{transfer_id}/send")
def send_submit(
    request: Request, principal: Manager, db: WriteDb, transfer_id: TransferId
) -> Response:
    mode: str = request.app.state.settings.negative_stock
    return _act(
        request, db, principal, transfer_id,
        lambda: transfers.send(db, transfer_id=transfer_id, actor=principal, negative_stock=mode),
        "sent",
    )  # fmt: skip


@router.post("/office/transfers/{transfer_id}/cancel")
def cancel_submit(
    request: Request, principal: Manager, db: WriteDb, transfer_id: TransferId
) -> Response:
    return _act(
        request, db, principal, transfer_id,
        lambda: transfers.cancel(db, transfer_id=transfer_id, actor=principal), "cancelled",
    )  # fmt: skip


@router.post("/office/transfers/{transfer_id}/receive")
def receive_submit(
    request: Request,
    principal: Manager,
    db: WriteDb,
    transfer_id: TransferId,
    product_id: Annotated[list[str] | None, Form(max_length=20)] = None,
    received: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:
    def receive() -> TransferPublic:
        data = TransferReceive.model_validate({"lines": _counted(product_id, received)})
        return transfers.receive(db, transfer_id=transfer_id, data=data, actor=principal)

    return _act(request, db, principal, transfer_id, receive, "received")


def _counted(products: list[str] | None, counts: list[str] | None) -> list[dict[str, int]]:
    """The counted column of the receive form; every cell a whole number in range."""
    products, counts = products or [], counts or []
    lines = []
    for product, count in zip(products, counts, strict=False):
        product_id, text = parse_id(product), count.strip()
        if (product_id is None or len(products) != len(counts) or len(products) > MAX_LINES
                or not (text.isascii() and text.isdigit()) or int(text) > MAX_QUANTITY):  # fmt: skip
            raise ValidationFailed(
                "Counted quantities are whole numbers of zero or more.",
                code="transfer.count_invalid",
            )
        lines.append({"product_id": product_id, "received": int(text)})
    return lines
