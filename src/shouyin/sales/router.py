"""REST: price a cart, submit an order (idempotent by client UUID), read orders and receipts."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.config import Settings
from shouyin.db import Database, ReadDb, WriteDb, get_database, is_busy
from shouyin.sales import options, orders, service
from shouyin.sales.receipt import PAPER_COLUMNS, render_escpos, render_text
from shouyin.sales.schemas import OrderCreate, OrderPublic, QuotePublic, QuoteRequest, VoidIn
from shouyin.web.params import IdPath
from shouyin.web.templating import request_language


class Paper(StrEnum):
    MM58 = "58"
    MM80 = "80"


router = APIRouter(prefix="/api/v1/orders", tags=["orders"])
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


@router.post("/options", response_model=options.MemberOptions, responses=ERRORS)
def member_options(data: QuoteRequest, principal: Seller, db: ReadDb) -> object:
    """What the attached member can use on this cart, and the combination that saves most.

    Nothing is applied: the till shows the recommendation and the cashier decides.
    """
    principal.require("loyalty.read")
    return options.options(db, data=data, actor=principal)


@router.post(
    "",
    response_model=OrderPublic,
    status_code=201,
    responses={200: {"description": "A retry: the order made by the first submission"}, **ERRORS},
)
async def create_order(data: OrderCreate, principal: Seller, request: Request) -> Response:
    db = get_database(request)
    settings: Settings = request.app.state.settings
    try:
        order, created = await _run_checkout(db, data, principal, settings)
    except service.DuplicateSubmission:
        with db.read() as session:
            order_id = service.retried_order(session, data=data)
            assert order_id is not None
            order, created = orders.load(session, order_id=order_id, actor=principal), False
    return JSONResponse(order.model_dump(mode="json"), status_code=201 if created else 200)


def _checkout(
    db: Database, data: OrderCreate, principal: Principal, settings: Settings, *,
    locked: bool = False, fail_fast: bool = False,
) -> tuple[OrderPublic, bool]:  # fmt: skip
    # The unit of work is opened here rather than as a dependency so that a concurrent retry
    # that loses the race can roll back and answer with the winner's order.
    with db.write(locked=locked, fail_fast=fail_fast) as session:
        return service.checkout(
            session, data=data, actor=principal,
            discount_audit_percent=settings.audit_discount_percent,
            negative_stock=settings.negative_stock,
        )  # fmt: skip


async def _run_checkout(
    db: Database, data: OrderCreate, principal: Principal, settings: Settings
) -> tuple[OrderPublic, bool]:
    """On SQLite, a checkout runs on the event loop when no other writer is busy.

    SQLite takes one writer at a time and a checkout's transaction is about a millisecond of
    CPU: running it in place saves two thread hand-offs and the GIL contention of a thread
    pool, which roughly doubles throughput. If another write (an import, say) holds the lock,
    the checkout waits in the thread pool instead of blocking the loop.
    """
    if db.can_fail_fast and db.write_lock.acquire(blocking=False):
        try:
            return _checkout(db, data, principal, settings, locked=True, fail_fast=True)
        except OperationalError as exc:
            if not is_busy(exc):
                raise
            # Another process (a CLI import, a backup) holds SQLite's write lock: wait for it
            # in the thread pool, never on the event loop.
        finally:
            db.write_lock.release()
    return await run_in_threadpool(_checkout, db, data, principal, settings)


@router.post("/voids", status_code=201, responses=ERRORS)
def record_void(data: VoidIn, principal: Seller, db: WriteDb) -> dict[str, int]:
    return {"audit_id": service.record_void(db, data=data, actor=principal)}


@router.get(
    "/{order_id}", response_model=OrderPublic, responses={404: {"description": "No such order"}}
)
def get_order(order_id: IdPath, principal: OrderReader, db: ReadDb) -> object:
    return orders.load(db, order_id=order_id, actor=principal)


@router.get(
    "/{order_id}/receipt",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}, "application/octet-stream": {}}}, 404: {}},
)
def receipt(
    order_id: IdPath,
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
