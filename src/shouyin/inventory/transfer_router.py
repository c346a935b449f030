"""REST: transfers (调拨) between stores — create, send, receive, cancel, list, detail."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.inventory import transfers
from shouyin.inventory.transfer_schemas import (
    TransferCreate,
    TransferPage,
    TransferPublic,
    TransferReceive,
    TransferStatus,
)
from shouyin.web.params import ID_MAX, IdPath

router = APIRouter(prefix="/api/v1/transfers", tags=["transfers"])
Manager = Annotated[Principal, Depends(require("transfers.manage"))]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission, or not a user of the store concerned)"},
    404: {"description": "Unknown transfer, store or product"},
    409: {"description": "The transfer is not in a state that allows this"},
    422: {"description": "Invalid input, or not enough stock when negative stock is blocked"},
}


@router.post(
    "",
    response_model=TransferPublic,
    status_code=201,
    responses={200: {"description": "A retry: the transfer made by the first request"}, **ERRORS},
)
def create(data: TransferCreate, principal: Manager, db: WriteDb) -> Response:
    view, created = transfers.create(db, data=data, actor=principal)
    return JSONResponse(view.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("", response_model=TransferPage, responses=ERRORS)
def list_transfers(
    principal: Manager,
    db: ReadDb,
    store_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    direction: Literal["in", "out"] | None = None,
    status: TransferStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> object:
    """Newest first; `store_id` as sender or receiver (`direction` narrows it)."""
    return transfers.list_transfers(
        db, actor=principal, store_id=store_id, direction=direction, status=status,
        limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/{transfer_id}", response_model=TransferPublic, responses=ERRORS)
def detail(transfer_id: IdPath, principal: Manager, db: ReadDb) -> object:
    return transfers.detail(db, transfer_id=transfer_id, actor=principal)


@router.post("/{transfer_id}/send", response_model=TransferPublic, responses=ERRORS)
def send(transfer_id: IdPath, principal: Manager, db: WriteDb, request: Request) -> object:
    """The goods leave the sending store; `stock_warnings` lists products now below zero."""
    negative_stock: str = request.app.state.settings.negative_stock
    return transfers.send(
        db, transfer_id=transfer_id, actor=principal, negative_stock=negative_stock
    )


@router.post("/{transfer_id}/receive", response_model=TransferPublic, responses=ERRORS)
def receive(transfer_id: IdPath, data: TransferReceive, principal: Manager, db: WriteDb) -> object:
    """Counted quantities per product (default: as sent); a shortfall stays on the line."""
    return transfers.receive(db, transfer_id=transfer_id, data=data, actor=principal)


@router.post("/{transfer_id}/cancel", response_model=TransferPublic, responses=ERRORS)
def cancel(transfer_id: IdPath, principal: Manager, db: WriteDb) -> object:
    """A draft is dropped; an in-transit transfer's goods go back to the sender."""
    return transfers.cancel(db, transfer_id=transfer_id, actor=principal)
