"""REST: suppliers, purchase orders, goods receipts (入库) and the stock card."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.inventory import purchasing, receiving, stock_card, suppliers
from shouyin.inventory.purchasing_schemas import (
    OrderCreate,
    OrderLineAdd,
    OrderLinesReplace,
    OrderLineUpdate,
    OrderPage,
    OrderPublic,
    OrderUpdate,
    ReceiptCreate,
    ReceiptPage,
    ReceiptPublic,
    StockCardPage,
    SupplierCreate,
    SupplierPage,
    SupplierPublic,
    SupplierUpdate,
)
from shouyin.web.params import ID_MAX, IdPath

router = APIRouter(tags=["purchasing"])
Reader = Annotated[Principal, Depends(require("stock.read"))]
Manager = Annotated[Principal, Depends(require("purchasing.manage"))]
OptionalId = Annotated[int | None, Query(ge=1, le=ID_MAX)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=ID_MAX)]
Status = Literal["draft", "sent", "partly_received", "received", "cancelled"]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission or store)"},
    404: {"description": "Unknown store, supplier, product, order or receipt"},
    409: {
        "description": "A code or number already taken, the order's status forbids it, "
        "or the product is already on it"
    },
    422: {"description": "Invalid input"},
}
RETRY: dict[int | str, dict[str, str]] = {
    200: {"description": "A retry (same client_uuid): what the first submission made"}
}


# --- suppliers --------------------------------------------------------------------------


@router.get("/api/v1/suppliers", response_model=SupplierPage)
def list_suppliers(
    principal: Reader, db: ReadDb, q: Annotated[str | None, Query(max_length=60)] = None,
    active: bool | None = None, limit: Limit = 50, offset: Offset = 0,
) -> object:  # fmt: skip
    """Search by code or name."""
    return suppliers.list_suppliers(db, q=q, active=active, limit=limit, offset=offset)


@router.post("/api/v1/suppliers", response_model=SupplierPublic, status_code=201,
             responses=ERRORS)  # fmt: skip
def create_supplier(data: SupplierCreate, principal: Manager, db: WriteDb) -> object:
    return suppliers.create_supplier(db, data=data, actor=principal)


@router.get("/api/v1/suppliers/{supplier_id}", response_model=SupplierPublic, responses=ERRORS)
def get_supplier(supplier_id: IdPath, principal: Reader, db: ReadDb) -> object:
    return SupplierPublic.model_validate(suppliers.get_supplier(db, supplier_id=supplier_id))


@router.patch("/api/v1/suppliers/{supplier_id}", response_model=SupplierPublic, responses=ERRORS)
def update_supplier(
    supplier_id: IdPath, data: SupplierUpdate, principal: Manager, db: WriteDb
) -> object:
    return suppliers.update_supplier(db, supplier_id=supplier_id, data=data, actor=principal)


@router.post("/api/v1/suppliers/{supplier_id}/deactivate", response_model=SupplierPublic,
             responses=ERRORS)  # fmt: skip
def deactivate_supplier(supplier_id: IdPath, principal: Manager, db: WriteDb) -> object:
    return suppliers.deactivate_supplier(db, supplier_id=supplier_id, actor=principal)


# --- purchase orders ------------------------------------------------------------------------


@router.post("/api/v1/purchase-orders", response_model=OrderPublic, status_code=201,
             responses={**RETRY, **ERRORS})  # fmt: skip
def create_order(data: OrderCreate, principal: Manager, db: WriteDb) -> Response:
    made, created = purchasing.create_order(db, data=data, actor=principal)
    return JSONResponse(made.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/api/v1/purchase-orders", response_model=OrderPage, responses=ERRORS)
def list_orders(
    principal: Reader, db: ReadDb, store_id: OptionalId = None, supplier_id: OptionalId = None,
    status: Status | None = None, limit: Limit = 50, offset: Offset = 0,
) -> object:  # fmt: skip
    """Newest first; a store's staff see their own store's orders only."""
    return purchasing.list_orders(
        db, actor=principal, store_id=store_id, supplier_id=supplier_id, status=status,
        limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/api/v1/purchase-orders/{order_id}", response_model=OrderPublic, responses=ERRORS)
def get_order(order_id: IdPath, principal: Reader, db: ReadDb) -> object:
    """Each line with what was ordered, received and is still outstanding."""
    return purchasing.get_order(db, order_id=order_id, actor=principal)


@router.patch("/api/v1/purchase-orders/{order_id}", response_model=OrderPublic, responses=ERRORS)
def update_order(order_id: IdPath, data: OrderUpdate, principal: Manager, db: WriteDb) -> object:
    return purchasing.update_order(db, order_id=order_id, data=data, actor=principal)


@router.post("/api/v1/purchase-orders/{order_id}/send", response_model=OrderPublic,
             responses=ERRORS)  # fmt: skip
def send_order(order_id: IdPath, principal: Manager, db: WriteDb) -> object:
    return purchasing.send_order(db, order_id=order_id, actor=principal)


@router.post("/api/v1/purchase-orders/{order_id}/cancel", response_model=OrderPublic,
             responses=ERRORS)  # fmt: skip
def cancel_order(order_id: IdPath, principal: Manager, db: WriteDb) -> object:
    return purchasing.cancel_order(db, order_id=order_id, actor=principal)


# --- a draft's lines: 409 purchase_order.not_draft once the order is sent ----------------


@router.put("/api/v1/purchase-orders/{order_id}/lines", response_model=OrderPublic,
            responses=ERRORS)  # fmt: skip
def replace_lines(
    order_id: IdPath, data: OrderLinesReplace, principal: Manager, db: WriteDb
) -> object:
    """All the draft's lines at once (an empty list empties it)."""
    return purchasing.replace_lines(db, order_id=order_id, lines=data.lines, actor=principal)


@router.post("/api/v1/purchase-orders/{order_id}/lines", response_model=OrderPublic,
             status_code=201, responses=ERRORS)  # fmt: skip
def add_line(order_id: IdPath, data: OrderLineAdd, principal: Manager, db: WriteDb) -> object:
    """One product more; 409 ``purchase_order.line_exists`` when it is already on the order.
    Without ``unit_cost``, the store's moving-average cost (zero when it has none)."""
    return purchasing.add_line(db, order_id=order_id, data=data, actor=principal)


@router.patch("/api/v1/purchase-orders/{order_id}/lines/{line_id}", response_model=OrderPublic,
              responses=ERRORS)  # fmt: skip
def update_line(
    order_id: IdPath, line_id: IdPath, data: OrderLineUpdate, principal: Manager, db: WriteDb
) -> object:
    return purchasing.update_line(
        db, order_id=order_id, line_id=line_id, data=data, actor=principal
    )


@router.delete("/api/v1/purchase-orders/{order_id}/lines/{line_id}", response_model=OrderPublic,
               responses=ERRORS)  # fmt: skip
def remove_line(order_id: IdPath, line_id: IdPath, principal: Manager, db: WriteDb) -> object:
    """The order as it is after the line is gone."""
    return purchasing.remove_line(db, order_id=order_id, line_id=line_id, actor=principal)


# --- goods receipts ---------------------------------------------------------------------------


@router.post("/api/v1/goods-receipts", response_model=ReceiptPublic, status_code=201,
             responses={**RETRY, **ERRORS})  # fmt: skip
def receive(data: ReceiptCreate, principal: Manager, db: WriteDb, request: Request) -> Response:
    """Stock in. Beyond what a purchase order line asked for: accepted with ``warnings``, or
    a 422 (``receipt.over_ordered``) when the setting ``over_receipt`` is "block"."""
    over: str = request.app.state.settings.over_receipt
    made, created = receiving.receive(db, data=data, actor=principal, over_receipt=over)
    return JSONResponse(made.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("/api/v1/goods-receipts", response_model=ReceiptPage, responses=ERRORS)
def list_receipts(
    principal: Reader, db: ReadDb, store_id: OptionalId = None, order_id: OptionalId = None,
    supplier_id: OptionalId = None, limit: Limit = 50, offset: Offset = 0,
) -> object:  # fmt: skip
    return receiving.list_receipts(
        db, actor=principal, store_id=store_id, order_id=order_id, supplier_id=supplier_id,
        limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/api/v1/goods-receipts/{receipt_id}", response_model=ReceiptPublic, responses=ERRORS)
def get_receipt(receipt_id: IdPath, principal: Reader, db: ReadDb) -> object:
    return receiving.get_receipt(db, receipt_id=receipt_id, actor=principal)


# --- the stock card -------------------------------------------------------------------------


@router.get("/api/v1/stock/{product_id}/card", response_model=StockCardPage, responses=ERRORS)
def card(
    product_id: IdPath, principal: Reader, db: ReadDb,
    store_id: Annotated[int, Query(ge=1, le=ID_MAX)],
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    limit: Limit = 50, offset: Offset = 0,
) -> object:  # fmt: skip
    """Newest first, with the balance after each movement, on hand now, the moving-average
    cost and the value at cost. ``from``/``to`` are the store's local days, both included."""
    return stock_card.card(
        db, actor=principal, store_id=store_id, product_id=product_id, start=start, end=end,
        limit=limit, offset=offset,
    )  # fmt: skip
