"""REST: stock on hand, the stock card, and manual adjustments and damage (报损)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.inventory import service
from shouyin.inventory.schemas import AdjustmentIn, MovementPublic, StockCard
from shouyin.web.params import IdPath

router = APIRouter(prefix="/api/v1/stock", tags=["stock"])
StockReader = Annotated[Principal, Depends(require("stock.read"))]
StockAdjuster = Annotated[Principal, Depends(require("stock.adjust"))]


@router.get("/{store_id}/{product_id}", response_model=StockCard, responses={403: {}})
def stock_card(
    store_id: IdPath, product_id: IdPath, principal: StockReader, db: ReadDb
) -> StockCard:
    principal.require_store(store_id)
    movements = service.stock_card(db, store_id=store_id, product_id=product_id)
    return StockCard(
        store_id=store_id, product_id=product_id,
        on_hand=service.on_hand(db, store_id=store_id, product_id=product_id),
        movements=[MovementPublic.model_validate(m) for m in movements],
    )  # fmt: skip


@router.post("/adjustments", status_code=201, responses={403: {}, 404: {}, 422: {}})
def adjust(data: AdjustmentIn, principal: StockAdjuster, db: WriteDb) -> dict[str, int]:
    return {"movements": service.adjust(db, data=data, actor=principal)}
