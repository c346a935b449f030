"""REST: held carts (挂单), parked and recalled per till."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.sales import held
from shouyin.web.params import ID_MAX, IdPath

router = APIRouter(prefix="/api/v1/held-carts", tags=["held carts"])
Seller = Annotated[Principal, Depends(require("sales.sell"))]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission or store)"},
    404: {"description": "Unknown or already recalled cart (held.not_found), unknown register"},
}


@router.post(
    "",
    response_model=held.HeldCartPublic,
    status_code=201,
    responses={
        **ERRORS,
        409: {"description": "The till holds its limit of parked carts (held.limit), or empty"},
        422: {"description": "Invalid cart"},
    },
)
def park(data: held.HeldCartCreate, principal: Seller, db: WriteDb, request: Request) -> object:
    limit: int = request.app.state.settings.held_cart_limit
    return held.park(db, data=data, actor=principal, limit=limit)


@router.get("", response_model=held.HeldCartPage, responses=ERRORS)
def list_held(
    principal: Seller,
    db: ReadDb,
    register_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    store_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> object:
    """Newest first, with who parked each cart and when."""
    return held.list_held(
        db, actor=principal, store_id=store_id, register_id=register_id, limit=limit, offset=offset
    )


@router.post("/{held_id}/recall", response_model=held.HeldCartRecalled, responses=ERRORS)
def recall(held_id: IdPath, principal: Seller, db: WriteDb) -> object:
    """The cart, taken off the list in the same transaction: a cart is recalled once."""
    return held.recall(db, held_id=held_id, actor=principal)


@router.delete("/{held_id}", status_code=204, response_class=Response, responses=ERRORS)
def delete(held_id: IdPath, principal: Seller, db: WriteDb) -> Response:
    held.delete_held(db, held_id=held_id, actor=principal)
    return Response(status_code=204)
