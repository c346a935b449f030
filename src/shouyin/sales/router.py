"""REST: price a cart, submit an order (idempotent by client UUID), read orders and receipts."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import get_database, read_session, write_session
from shouyin.sales import orders, service
from shouyin.sales.receipt import PAPER_COLUMNS, render_escpos, render_text
from shouyin.sales.schemas import OrderCreate, OrderPublic, QuotePublic, QuoteRequest, VoidIn
from shouyin.web.templating import request_language


class Paper(StrEnum):
    MM58 = "58"
    MM80 = "80"


router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
ReadDb = Annotated[Session, Depends(read_session)]
WriteDb = Annotated[Session, Depends(write_session)]
Seller = Annotated[Principal, Depends(require("sales.sell"))]
OrderReader = Annotated[Principal, Depends(require("orders.read"))]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission or store)"},
    404: {"description": "Unknown store, register or product"},
    422: {"description": "Invalid cart or payments"},
}


@router.post("/quote", response_model=QuotePublic, responses=ERRORS)
def quote(data: QuoteRequest, principal: Seller, db: ReadDb) -> object:
    return service.quote(db, data=data, actor=principal)


@router.post(
    "",
    response_model=OrderPublic,
    status_code=201,
    responses={200: {"description": "A retry: the order made by the first submission"}, **ERRORS},
)
def create_order(data: OrderCreate, principal: Seller, request: Request) -> Response:
    # The unit of work is opened here rather than as a dependency so that a concurrent retry
    # that loses the race can roll back and answer with the winner's order.
    db = get_database(request)
    limit = request.app.state.settings.audit_discount_percent
    try:
        with db.write() as session:
            order, created = service.checkout(
                session, data=data, actor=principal, discount_audit_percent=limit
            )
    except service.DuplicateSubmission:
        with db.read() as session:
            order_id = service.existing_order_id(session, client_uuid=str(data.client_uuid))
            assert order_id is not None
            order, created = orders.load(session, order_id=order_id, actor=principal), False
    return JSONResponse(order.model_dump(mode="json"), status_code=201 if created else 200)


@router.post("/voids", status_code=201, responses=ERRORS)
def record_void(data: VoidIn, principal: Seller, db: WriteDb) -> dict[str, int]:
    return {"audit_id": service.record_void(db, data=data, actor=principal)}


@router.get(
    "/{order_id}", response_model=OrderPublic, responses={404: {"description": "No such order"}}
)
def get_order(order_id: int, principal: OrderReader, db: ReadDb) -> object:
    return orders.load(db, order_id=order_id, actor=principal)


@router.get(
    "/{order_id}/receipt",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}, "application/octet-stream": {}}}, 404: {}},
)
def receipt(
    order_id: int,
    principal: OrderReader,
    db: ReadDb,
    request: Request,
    format: Annotated[Literal["text", "escpos"], Query()] = "text",
    paper: Annotated[Paper, Query(description="Paper width in mm")] = Paper.MM58,
) -> Response:
    data = orders.receipt_data(
        db, order_id=order_id, actor=principal, lang=request_language(request)
    )
    if format == "escpos":
        escpos = render_escpos(data, paper_mm=58 if paper is Paper.MM58 else 80)
        return Response(escpos, media_type="application/octet-stream")
    return PlainTextResponse(render_text(data, width=PAPER_COLUMNS[int(paper.value)]))
