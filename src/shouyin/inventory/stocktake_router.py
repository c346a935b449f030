"""REST: stocktakes (盘点) — start, count, review, post, cancel, list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse, Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.inventory import stocktakes
from shouyin.inventory.stocktake_schemas import (
    CountIn,
    CountResult,
    LineFilter,
    PostIn,
    StocktakePage,
    StocktakePublic,
    StocktakeStart,
    StocktakeStatus,
)
from shouyin.web.params import ID_MAX, IdPath

router = APIRouter(prefix="/api/v1/stocktakes", tags=["stocktakes"])
Reader = Annotated[Principal, Depends(require("stock.read"))]
Counter = Annotated[Principal, Depends(require("stock.adjust"))]
Poster = Annotated[Principal, Depends(require("stocktake.post"))]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission, or not a user of the store)"},
    404: {"description": "Unknown stocktake, store, category or product"},
    409: {"description": "An open stocktake exists, or this one is posted or cancelled"},
    422: {"description": "Invalid input, such as a negative count"},
}


@router.post(
    "",
    response_model=StocktakePublic,
    status_code=201,
    responses={200: {"description": "A retry: the stocktake started by the first request"},
               **ERRORS},
)  # fmt: skip
def start(data: StocktakeStart, principal: Counter, db: WriteDb) -> Response:
    """Snapshot on-hand of the store (or a category and its subcategories)."""
    view, created = stocktakes.start(db, data=data, actor=principal)
    return JSONResponse(view.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("", response_model=StocktakePage, responses=ERRORS)
def list_stocktakes(
    principal: Reader,
    db: ReadDb,
    store_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    status: StocktakeStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> object:
    return stocktakes.list_stocktakes(
        db, actor=principal, store_id=store_id, status=status, limit=limit, offset=offset
    )


@router.get("/{stocktake_id}", response_model=StocktakePublic, responses=ERRORS)
def detail(
    stocktake_id: IdPath,
    principal: Reader,
    db: ReadDb,
    lines: LineFilter = "all",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> object:
    """A page of lines (`lines`: all, uncounted, counted, variance); variances are previews
    until posted."""
    return stocktakes.detail(
        db, stocktake_id=stocktake_id, actor=principal, line_filter=lines, limit=limit,
        offset=offset,
    )  # fmt: skip


@router.post("/{stocktake_id}/counts", response_model=CountResult, responses=ERRORS)
def count(stocktake_id: IdPath, data: CountIn, principal: Counter, db: WriteDb) -> object:
    """`set` records the count; `add` adds to it (a scan adds 1)."""
    return stocktakes.count(db, stocktake_id=stocktake_id, data=data, actor=principal)


@router.post("/{stocktake_id}/post", response_model=StocktakePublic, responses=ERRORS)
def post(
    stocktake_id: IdPath,
    principal: Poster,
    db: WriteDb,
    data: Annotated[PostIn | None, Body()] = None,
) -> object:
    """Variances become stock movements; uncounted lines are left alone unless
    `uncounted_as_zero`."""
    return stocktakes.post(db, stocktake_id=stocktake_id, data=data or PostIn(), actor=principal)


@router.post("/{stocktake_id}/cancel", response_model=StocktakePublic, responses=ERRORS)
def cancel(stocktake_id: IdPath, principal: Counter, db: WriteDb) -> object:
    return stocktakes.cancel(db, stocktake_id=stocktake_id, actor=principal)
