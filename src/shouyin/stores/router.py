"""REST: stores and their registers (tills)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import Forbidden
from shouyin.stores import service
from shouyin.stores.models import Register, Store
from shouyin.stores.schemas import (
    RegisterCreate,
    RegisterPublic,
    StoreCreate,
    StorePublic,
    StoreUpdate,
)
from shouyin.web.params import IdPath

router = APIRouter(prefix="/api/v1/stores", tags=["stores"])
StoreReader = Annotated[Principal, Depends(require("stores.read"))]
StoreWriter = Annotated[Principal, Depends(require("stores.write"))]
# Bounded so an absurd id is a 422, not an integer overflow in the database.
StoreId = IdPath
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission or store)"},
    404: {"description": "No such store"},
}


def _visible_store(session: Session, principal: Principal, store_id: int) -> Store:
    principal.require_store(store_id)
    return service.get_store(session, store_id=store_id)


@router.get("", response_model=list[StorePublic])
def list_stores(principal: StoreReader, db: ReadDb) -> list[Store]:
    return service.list_stores(db, store_id=principal.store_id)


@router.post(
    "",
    response_model=StorePublic,
    status_code=201,
    responses={403: ERRORS[403], 409: {"description": "The code is taken"}},
)
def create_store(data: StoreCreate, principal: StoreWriter, db: WriteDb) -> Store:
    # A new store is a chain decision: staff bound to one store never make one.
    if principal.store_id is not None:
        raise Forbidden("Only head office can open a store.", code="store.hq_only")
    return service.create_store(db, data=data, actor=principal)


@router.get("/{store_id}", response_model=StorePublic, responses=ERRORS)
def get_store(store_id: StoreId, principal: StoreReader, db: ReadDb) -> Store:
    return _visible_store(db, principal, store_id)


@router.patch("/{store_id}", response_model=StorePublic, responses=ERRORS)
def update_store(
    store_id: StoreId, data: StoreUpdate, principal: StoreWriter, db: WriteDb
) -> Store:
    principal.require_store(store_id)
    return service.update_store(db, store_id=store_id, data=data, actor=principal)


@router.get("/{store_id}/registers", response_model=list[RegisterPublic], responses=ERRORS)
def list_registers(store_id: StoreId, principal: StoreReader, db: ReadDb) -> list[Register]:
    _visible_store(db, principal, store_id)
    return service.list_registers(db, store_id=store_id)


@router.post(
    "/{store_id}/registers",
    response_model=RegisterPublic,
    status_code=201,
    responses={**ERRORS, 409: {"description": "The store has a register with this code"}},
)
def create_register(
    store_id: StoreId, data: RegisterCreate, principal: StoreWriter, db: WriteDb
) -> Register:
    principal.require_store(store_id)
    return service.create_register(db, store_id=store_id, data=data, actor=principal)
