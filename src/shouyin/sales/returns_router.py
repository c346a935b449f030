"""REST: returns (退货) against the receipt or without one, and finding the receipt."""

from __future__ import annotations

import logging
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.customers import service as customers
from shouyin.customers.keys import cipher_for
from shouyin.db import ReadDb, get_database
from shouyin.sales import payment_codes, payment_refunds, return_views, returns, returns_noreceipt
from shouyin.sales.payment_router import app_gateway
from shouyin.sales.return_schemas import (
    NoReceiptCreate,
    RecentOrder,
    ReturnablePublic,
    ReturnCreate,
    ReturnPublic,
)
from shouyin.web.params import ID_MAX, IdPath
from shouyin.web.templating import request_language

log = logging.getLogger(__name__)
router = APIRouter(tags=["returns"])
Seller = Annotated[Principal, Depends(require("sales.sell"))]
OrderReader = Annotated[Principal, Depends(require("orders.read"))]
StoreQuery = Annotated[int, Query(ge=1, le=ID_MAX, description="The store returning the goods")]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed, or a manager's approval is missing or wrong"},
    404: {"description": "Unknown store or order"},
    409: {"description": "The client UUID was used for a different return, or no open shift"},
    422: {"description": "Lines not on the receipt, more than sold, or a refund not allowed"},
}
RETRY: dict[int | str, dict[str, str]] = {
    200: {"description": "A retry: the return made by the first submission"}
}


@router.post("/api/v1/returns", response_model=ReturnPublic, status_code=201,
             responses={**RETRY, **ERRORS})  # fmt: skip
def create_return(data: ReturnCreate, principal: Seller, request: Request) -> Response:
    """The return is committed first, its WeChat/Alipay refunds ``pending``; then the gateway
    is asked for them (outside the write) and each payment's status is in the answer. A retry
    (same UUID) sends any refund still pending."""
    settings = request.app.state.settings
    db = get_database(request)
    with db.write() as session:
        made, created = returns.create(
            session, data=data, actor=principal, approval_limit=settings.return_approval_fen,
            other_store=settings.return_other_store,
        )  # fmt: skip
    made = _send_refunds(request, made, principal)
    return JSONResponse(made.model_dump(mode="json"), status_code=201 if created else 200)


def _send_refunds(request: Request, made: ReturnPublic, actor: Principal) -> ReturnPublic:
    if not any(p.status == "pending" for p in made.payments):
        return made
    db = get_database(request)
    try:
        payment_refunds.send_pending(db, app_gateway(request.app), return_id=made.id, actor=actor)
    except Exception:
        # The return is committed; its refunds stay pending for a retry or the recovery.
        log.exception("sending the refunds of return %s failed", made.id)
    with db.read() as session:
        made = return_views.load(session, return_id=made.id, actor=actor)
    lang = request_language(request)
    payments = [
        p.model_copy(update={"message": payment_codes.reason_text(p.message, lang)})
        for p in made.payments
    ]
    return made.model_copy(update={"payments": payments})


@router.post("/api/v1/returns/without-receipt", response_model=ReturnPublic, status_code=201,
             responses={**RETRY, **ERRORS})  # fmt: skip
def create_without_receipt(data: NoReceiptCreate, principal: Seller, request: Request) -> Response:
    """Goods back without a receipt: a manager approves on the spot; the refund is cash."""
    with get_database(request).write() as session:
        made, created = returns_noreceipt.create(session, data=data, actor=principal)
    return JSONResponse(made.model_dump(mode="json"), status_code=201 if created else 200)


@router.get(
    "/api/v1/returns/lookup",
    response_model=ReturnablePublic,
    responses={404: {"description": "No receipt has this number"},
               422: {"description": "Another store's receipt, and the setting does not allow it"}},
)  # fmt: skip
def lookup(
    principal: Seller, db: ReadDb, request: Request, store_id: StoreQuery,
    number: Annotated[str, Query(min_length=1, max_length=48, description="The order number "
                                 "(the receipt's barcode)")],
) -> object:  # fmt: skip
    """The scanned receipt: each line sold, returned so far, still returnable, its refund."""
    return return_views.lookup(
        db, number=number, store_id=store_id, actor=principal,
        other_store=request.app.state.settings.return_other_store,
    )  # fmt: skip


@router.get("/api/v1/returns/orders", response_model=list[RecentOrder],
            responses={403: {"description": "Another store"}})  # fmt: skip
def recent_orders(
    principal: Seller, db: ReadDb, request: Request, store_id: StoreQuery,
    day: Annotated[date | None, Query(description="Business date of the sale")] = None,
    total: Annotated[int | None, Query(ge=0, le=ID_MAX, description="Total, fen")] = None,
    mobile_tail: Annotated[str | None, Query(pattern=r"^\d{4}$",
                                             description="Last 4 digits of the member's mobile")] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> object:  # fmt: skip
    """The store's sales by date, total or member, newest first: a receipt that will not scan."""
    member_ids = None
    if mobile_tail is not None:
        cipher = cipher_for(request.app.state.settings)
        member_ids = [m.id for m in customers.lookup(db, query=mobile_tail, cipher=cipher)]
    search = return_views.OrderSearch(
        store_id=store_id, day=day, total=total, member_ids=member_ids, limit=limit
    )
    return return_views.recent_orders(db, search=search, actor=principal)


@router.get(
    "/api/v1/returns/{return_id}",
    response_model=ReturnPublic,
    responses={404: {"description": "No such return"}},
)
def get_return(return_id: IdPath, principal: OrderReader, db: ReadDb) -> object:
    return return_views.load(db, return_id=return_id, actor=principal)


@router.get(
    "/api/v1/orders/{order_id}/returnable",
    response_model=ReturnablePublic,
    responses={404: {"description": "No such order"}},
)
def returnable(order_id: IdPath, principal: OrderReader, db: ReadDb) -> object:
    """Each line of the receipt: sold, returned so far, still returnable, and its refund."""
    return return_views.returnable(db, order_id=order_id, actor=principal)
