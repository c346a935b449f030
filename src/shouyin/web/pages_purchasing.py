"""Back office: suppliers, purchase orders, goods receipts (入库) and the stock card page."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.inventory import purchasing, receiving, suppliers
from shouyin.inventory.purchasing_schemas import (
    OrderCreate,
    OrderPublic,
    ReceiptCreate,
    SupplierCreate,
    SupplierPublic,
    SupplierUpdate,
)
from shouyin.shared.money import Money
from shouyin.stores import service as stores
from shouyin.web.office_common import (
    PAGE_SIZE,
    _,
    error_of,
    form_uuid,
    page_count,
    parse_day,
    parse_id,
)
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Manager = Annotated[Principal, Depends(require("purchasing.manage"))]
Text = Annotated[str, Query(max_length=60)]
FormText = Annotated[str, Form(max_length=200)]
PathId = Annotated[int, Path(ge=1, le=ID_MAX)]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
STATUS_LABELS = {
    "draft": _("Draft"),
    "sent": _("Sent to supplier"),
    "partly_received": _("Partly received"),
    "received": _("Received in full"),
    "cancelled": _("Order cancelled"),
}
MAX_LINES = 500
BAD_FORM = _("Some values are not valid: quantities are whole numbers above zero, costs yuan.")


def _model(build: Callable[[], Any]) -> Any:
    """A schema built from a form; a bad value becomes one readable error."""
    try:
        return build()
    except ValidationError:
        raise ValidationFailed(BAD_FORM, code="purchasing.form_invalid") from None


def _cost(text: str) -> int:
    fen = Money.from_yuan(text or "0").fen
    if fen < 0:
        raise ValidationFailed("A cost cannot be negative.", code="purchasing.cost_negative")
    return fen


def _whole(text: str) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise ValidationFailed(BAD_FORM, code="purchasing.form_invalid")
    return int(text)


def parse_lines(db: Session, text: str) -> list[dict[str, int]]:
    """One product a line: barcode or SKU, quantity (grams for weighed goods), cost in yuan."""
    lines: dict[int, dict[str, int]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise ValidationFailed(
                "Line {line}: write a barcode or SKU, the quantity and the cost in yuan.",
                code="purchasing.line_invalid", details={"line": number},
            )  # fmt: skip
        product = catalog.lookup(db, code=parts[0])
        quantity, cost = _whole(parts[1]), _cost(parts[2])
        if product.id in lines:
            raise ValidationFailed(
                "Line {line}: the product is already on line above.",
                code="purchasing.line_twice", details={"line": number},
            )  # fmt: skip
        lines[product.id] = {"product_id": product.id, "quantity": quantity, "unit_cost": cost}
    if not lines:
        raise ValidationFailed("Add at least one product.", code="purchasing.no_lines")
    if len(lines) > MAX_LINES:
        raise ValidationFailed(
            "At most {limit} products a document.", code="purchasing.too_many_lines",
            details={"limit": MAX_LINES},
        )  # fmt: skip
    return list(lines.values())


# --- suppliers --------------------------------------------------------------------------------


def _suppliers_page(
    request: Request, db: Session, q: str, page: int, *, form: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    listed = suppliers.list_suppliers(db, q=q or None, limit=PAGE_SIZE,
                                      offset=(page - 1) * PAGE_SIZE)  # fmt: skip
    context = {
        "rows": listed.items, "total": listed.total, "page": page,
        "pages": page_count(listed.total), "q": q, "error": error,
        "form": form or {"lead_time_days": 3}, "saved": request.query_params.get("saved"),
    }  # fmt: skip
    return render(request, "office/purchasing/suppliers.html", context, status_code=status)


@router.get("/office/suppliers")
def suppliers_page(
    request: Request, principal: Manager, db: ReadDb, q: Text = "", edit: Text = "",
    page: PageNo = 1,
) -> Response:  # fmt: skip
    form = None
    edit_id = parse_id(edit)
    # Only head office changes a supplier (suppliers.update says why); a store sees no form.
    if edit_id is not None and principal.store_id is None:
        form = SupplierPublic.model_validate(
            suppliers.get_supplier(db, supplier_id=edit_id)
        ).model_dump()
    return _suppliers_page(request, db, q, page, form=form)


@router.post("/office/suppliers")
def supplier_submit(
    request: Request, principal: Manager, db: WriteDb, id: FormText = "", code: FormText = "",
    name: FormText = "", contact: FormText = "", phone: FormText = "", email: FormText = "",
    lead_time_days: FormText = "", note: FormText = "", active: FormText = "",
) -> Response:  # fmt: skip
    form: dict[str, Any] = {
        "id": parse_id(id), "code": code.strip(), "name": name.strip(),
        "contact": contact.strip() or None, "phone": phone.strip() or None,
        "email": email.strip() or None, "note": note.strip() or None,
        "lead_time_days": lead_time_days.strip(), "active": bool(active),
    }  # fmt: skip
    try:
        values = {**form, "lead_time_days": _whole(lead_time_days or "0")}
        del values["id"]
        if form["id"] is None:
            del values["active"]
            data: Any = _model(lambda: SupplierCreate(**values))
            suppliers.create_supplier(db, data=data, actor=principal)
        else:
            data = _model(lambda: SupplierUpdate(**values))
            suppliers.update_supplier(db, supplier_id=form["id"], data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _suppliers_page(request, db, "", 1, form=form, error=error, status=exc.status)
    return RedirectResponse("/office/suppliers?saved=1", status_code=303)


# --- purchase orders ------------------------------------------------------------------------


@router.get("/office/purchase-orders")
def orders_page(
    request: Request, principal: Manager, db: ReadDb, status: Text = "", store_id: Text = "",
    supplier_id: Text = "", page: PageNo = 1,
) -> Response:  # fmt: skip
    state = status if status in STATUS_LABELS else None
    store = principal.store_id or parse_id(store_id)
    listed = purchasing.list_orders(
        db, actor=principal, store_id=store, supplier_id=parse_id(supplier_id), status=state,
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    context = {
        "rows": listed.items, "total": listed.total, "page": page,
        "pages": page_count(listed.total), "status_labels": STATUS_LABELS,
        "filters": {"status": state or "", "store_id": store or "",
                    "supplier_id": parse_id(supplier_id) or ""},
        "stores": [] if principal.store_id else stores.list_stores(db),
        "store_names": {s.id: s.name for s in stores.list_stores(db)},
        "suppliers": suppliers.list_suppliers(db, limit=200).items,
    }  # fmt: skip
    return render(request, "office/purchasing/orders.html", context)


def _new_order_page(
    request: Request, db: Session, principal: Principal, *, form: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    mine = [s for s in stores.list_stores(db) if principal.store_id in (None, s.id)]
    blank = {"client_uuid": str(uuid.uuid4()), "store_id": mine[0].id if mine else None}
    context = {
        "stores": mine, "suppliers": suppliers.list_suppliers(db, active=True, limit=200).items,
        "form": form or blank, "error": error,
    }  # fmt: skip
    return render(request, "office/purchasing/order_new.html", context, status_code=status)


@router.get("/office/purchase-orders/new")
def new_order_page(request: Request, principal: Manager, db: ReadDb) -> Response:
    return _new_order_page(request, db, principal)


@router.post("/office/purchase-orders/new")
def new_order_submit(
    request: Request, principal: Manager, db: WriteDb, client_uuid: FormText = "",
    store_id: FormText = "", supplier_id: FormText = "", expected_on: FormText = "",
    note: FormText = "", lines: Annotated[str, Form(max_length=40_000)] = "",
) -> Response:  # fmt: skip
    form = {"client_uuid": form_uuid(client_uuid), "store_id": parse_id(store_id),
            "supplier_id": parse_id(supplier_id), "expected_on": expected_on.strip(),
            "note": note.strip(), "lines": lines}  # fmt: skip
    try:
        if form["supplier_id"] is None:
            raise ValidationFailed("Choose a supplier.", code="purchasing.supplier_missing")
        body = {**form, "store_id": form["store_id"] or principal.store_id,
                "expected_on": parse_day(expected_on), "note": form["note"] or None,
                "lines": parse_lines(db, lines) if lines.strip() else []}  # fmt: skip
        data = _model(lambda: OrderCreate.model_validate(body))
        made, _created = purchasing.create_order(db, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _new_order_page(request, db, principal, form=form, error=error, status=exc.status)
    return RedirectResponse(f"/office/purchase-orders/{made.id}?saved=created", status_code=303)


def _order_page(
    request: Request, db: Session, principal: Principal, order: OrderPublic, *,
    error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    receipts = receiving.list_receipts(db, actor=principal, order_id=order.id, limit=200)
    context = {
        "o": order, "status_labels": STATUS_LABELS, "error": error, "receipts": receipts.items,
        "store": stores.get_store(db, store_id=order.store_id),
        "saved": request.query_params.get("saved"),
    }  # fmt: skip
    return render(request, "office/purchasing/order.html", context, status_code=status)


@router.get("/office/purchase-orders/{order_id}")
def order_page(request: Request, principal: Manager, db: ReadDb, order_id: PathId) -> Response:
    found = purchasing.get_order(db, order_id=order_id, actor=principal)
    return _order_page(request, db, principal, found)


def _order_action(
    request: Request, db: Session, principal: Principal, order_id: int, action: Any, done: str
) -> Response:
    try:
        action(db, order_id=order_id, actor=principal)
    except DomainError as exc:
        db.rollback()
        found = purchasing.get_order(db, order_id=order_id, actor=principal)
        return _order_page(request, db, principal, found, error=error_of(request, exc),
                           status=exc.status)  # fmt: skip
    return RedirectResponse(f"/office/purchase-orders/{order_id}?saved={done}", status_code=303)


@router.post("/office/purchase-orders/{order_id}/send")
def send_submit(request: Request, principal: Manager, db: WriteDb, order_id: PathId) -> Response:
    return _order_action(request, db, principal, order_id, purchasing.send_order, "sent")


@router.post("/office/purchase-orders/{order_id}/cancel")
def cancel_submit(request: Request, principal: Manager, db: WriteDb, order_id: PathId) -> Response:
    return _order_action(request, db, principal, order_id, purchasing.cancel_order, "cancelled")


# --- goods receipts --------------------------------------------------------------------------


@router.get("/office/goods-receipts")
def receipts_page(
    request: Request, principal: Manager, db: ReadDb, store_id: Text = "", page: PageNo = 1
) -> Response:
    store = principal.store_id or parse_id(store_id)
    listed = receiving.list_receipts(db, actor=principal, store_id=store, limit=PAGE_SIZE,
                                     offset=(page - 1) * PAGE_SIZE)  # fmt: skip
    context = {
        "rows": listed.items, "total": listed.total, "page": page,
        "pages": page_count(listed.total), "filters": {"store_id": store or ""},
        "stores": [] if principal.store_id else stores.list_stores(db),
    }  # fmt: skip
    return render(request, "office/purchasing/receipts.html", context)


def _new_receipt_page(
    request: Request, db: Session, principal: Principal, order_id: int | None, *,
    form: dict[str, Any] | None = None, error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    order = purchasing.get_order(db, order_id=order_id, actor=principal) if order_id else None
    mine = [s for s in stores.list_stores(db) if principal.store_id in (None, s.id)]
    store_id = order.store_id if order else (mine[0].id if mine else None)
    blank: dict[str, Any] = {"client_uuid": str(uuid.uuid4()), "store_id": store_id}
    if order is not None:
        blank["quantity"] = {x.id: str(x.outstanding) for x in order.lines}
        blank["cost"] = {x.id: f"{x.unit_cost / 100:.2f}" for x in order.lines}
    context = {
        "order": order, "stores": mine, "error": error, "form": form or blank,
        "suppliers": suppliers.list_suppliers(db, active=True, limit=200).items,
    }  # fmt: skip
    return render(request, "office/purchasing/receipt_new.html", context, status_code=status)


@router.get("/office/goods-receipts/new")
def new_receipt_page(
    request: Request, principal: Manager, db: ReadDb, order_id: Text = ""
) -> Response:
    return _new_receipt_page(request, db, principal, parse_id(order_id))


@router.post("/office/goods-receipts/new")
def new_receipt_submit(
    request: Request, principal: Manager, db: WriteDb, client_uuid: FormText = "",
    order_id: FormText = "", store_id: FormText = "", supplier_id: FormText = "",
    note: FormText = "", lines: Annotated[str, Form(max_length=40_000)] = "",
    line_id: Annotated[list[str] | None, Form(max_length=20)] = None,
    quantity: Annotated[list[str] | None, Form(max_length=20)] = None,
    cost: Annotated[list[str] | None, Form(max_length=20)] = None,
) -> Response:  # fmt: skip
    order = parse_id(order_id)
    ids, quantities, costs = line_id or [], quantity or [], cost or []
    form: dict[str, Any] = {
        "client_uuid": form_uuid(client_uuid), "store_id": parse_id(store_id),
        "supplier_id": parse_id(supplier_id), "note": note.strip(), "lines": lines,
        "quantity": dict(zip(map(parse_id, ids), quantities, strict=False)),
        "cost": dict(zip(map(parse_id, ids), costs, strict=False)),
    }  # fmt: skip
    try:
        body: dict[str, Any] = {"client_uuid": form["client_uuid"], "note": form["note"] or None,
                                "order_id": order, "supplier_id": form["supplier_id"]}  # fmt: skip
        if order is not None:
            found = purchasing.get_order(db, order_id=order, actor=principal)
            body["store_id"] = found.store_id
            body["lines"] = _order_lines(found, form["quantity"], form["cost"])
        else:
            body["store_id"] = form["store_id"] or principal.store_id
            body["lines"] = parse_lines(db, lines)
        data = _model(lambda: ReceiptCreate.model_validate(body))
        over: str = request.app.state.settings.over_receipt
        made, _created = receiving.receive(db, data=data, actor=principal, over_receipt=over)
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _new_receipt_page(request, db, principal, order, form=form, error=error,
                                 status=exc.status)  # fmt: skip
    warned = "&over=1" if made.warnings else ""
    return RedirectResponse(f"/office/goods-receipts/{made.id}?saved=1{warned}", status_code=303)


def _order_lines(
    order: OrderPublic, quantities: dict[int | None, str], costs: dict[int | None, str]
) -> list[dict[str, int]]:
    """The receive-against-order form: lines left at zero are not received this time."""
    lines = []
    for line in order.lines:
        quantity = _whole(quantities.get(line.id, "0") or "0")
        if quantity:
            cost = _cost(costs.get(line.id, "0"))
            lines.append({"product_id": line.product_id, "order_line_id": line.id,
                          "quantity": quantity, "unit_cost": cost})  # fmt: skip
    if not lines:
        raise ValidationFailed("Add at least one product.", code="purchasing.no_lines")
    return lines


@router.get("/office/goods-receipts/{receipt_id}")
def receipt_page(request: Request, principal: Manager, db: ReadDb, receipt_id: PathId) -> Response:
    found = receiving.get_receipt(db, receipt_id=receipt_id, actor=principal)
    order = (
        purchasing.get_order(db, order_id=found.order_id, actor=principal)
        if found.order_id
        else None
    )
    over = [x for x in order.lines if x.received > x.quantity] if order else []
    context = {
        "r": found, "order": order, "store": stores.get_store(db, store_id=found.store_id),
        "saved": request.query_params.get("saved"),
        "over": over if request.query_params.get("over") else [],
    }  # fmt: skip
    return render(request, "office/purchasing/receipt.html", context)
