"""REST: returns (退货) against the original receipt, and what a receipt can still return."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, get_database
from shouyin.sales import return_views, returns
from shouyin.sales.return_schemas import ReturnablePublic, ReturnCreate, ReturnPublic
from shouyin.web.params import IdPath

router = APIRouter(tags=["returns"])
Seller = Annotated[Principal, Depends(require("sales.sell"))]
OrderReader = Annotated[Principal, Depends(require("orders.read"))]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed, or a manager's approval is missing or wrong"},
    404: {"description": "Unknown store or order"},
    409: {"description": "The client UUID was used for a different return"},
    422: {"description": "Lines not on the receipt, more than sold, or a refund not allowed"},
}


@router.post(
    "/api/v1/returns",
    response_model=ReturnPublic,
    status_code=201,
    responses={200: {"description": "A retry: the return made by the first submission"}, **ERRORS},
)
def create_return(data: ReturnCreate, principal: Seller, request: Request) -> Response:
    limit: int = request.app.state.settings.return_approval_fen
    with get_database(request).write() as session:
        made, created = returns.create(session, data=data, actor=principal, approval_limit=limit)
    return JSONResponse(made.model_dump(mode="json"), status_code=201 if created else 200)


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
