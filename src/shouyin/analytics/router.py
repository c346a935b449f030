"""REST: reports."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from shouyin.analytics.day_summary import DaySummary, current_day, day_summary
from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb
from shouyin.stores import service as stores

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])
ReportReader = Annotated[Principal, Depends(require("reports.read"))]


@router.get(
    "/day-summary",
    response_model=DaySummary,
    responses={403: {"description": "Not allowed (permission or store)"}, 404: {}},
)
def get_day_summary(
    principal: ReportReader,
    db: ReadDb,
    store_id: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Omit for the whole chain (HQ)")
    ] = None,
    day: Annotated[
        date | None, Query(description="Business date; default: today's in the store")
    ] = None,
) -> DaySummary:
    # Store staff always get their own store, whatever they ask for (another is refused).
    scoped = principal.scope_store(store_id)
    if scoped is not None:
        stores.get_store(db, store_id=scoped)
    return day_summary(db, store_id=scoped, day=day or current_day(db, store_id=scoped))
