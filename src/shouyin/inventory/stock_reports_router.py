"""REST: stock reports (value at cost, turnover, sell-through, slow movers, negative stock)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb
from shouyin.inventory import stock_reports, stock_reports_table
from shouyin.inventory.stock_report_schemas import Kind, StockReport
from shouyin.shared import i18n
from shouyin.shared.clock import to_local
from shouyin.shared.tabular import write_table
from shouyin.stores.service import get_store
from shouyin.web.params import ID_MAX
from shouyin.web.templating import request_language

router = APIRouter(prefix="/api/v1/stock-reports", tags=["stock reports"])
# The service also requires stock.read: both rights are needed.
Reader = Annotated[Principal, Depends(require("reports.read"))]
OptionalId = Annotated[int | None, Query(ge=1, le=ID_MAX)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission or store)"},
    404: {"description": "Unknown store or category"},
    422: {"description": "Invalid input: a reversed period or one over 366 days"},
}


@router.get(
    "/{kind}",
    response_model=StockReport,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}, **ERRORS},
)
def stock_report(
    kind: Annotated[Kind, Path()], principal: Reader, db: ReadDb, request: Request,
    store_id: OptionalId = None, category_id: OptionalId = None,
    days: Annotated[int, Query(ge=1, le=stock_reports.MAX_DAYS)] = stock_reports.DEFAULT_DAYS,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    format: Literal["json", "csv", "xlsx"] = "json",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> object:  # fmt: skip
    """One report for a store (a store-bound user: their own) or, for HQ, all stores.

    ``days``: slow movers, no sale in this many days. ``from``/``to``: turnover, business
    days (default the last 30). ``format=csv|xlsx`` exports every row, ignoring limit and
    offset. Needs reports.read and stock.read."""
    query = stock_reports.ReportQuery(kind, store_id, category_id, days, start, end)
    if format == "json":
        return stock_reports.report(db, query=query, actor=principal, limit=limit, offset=offset)
    found = stock_reports.report(db, query=query, actor=principal, limit=None)
    return export(db, request, found, format)


def export(
    db: Session, request: Request, found: StockReport, fmt: Literal["csv", "xlsx"]
) -> Response:
    """The whole report as an attachment named after the report, the store and the day."""
    lang = request_language(request)

    def tr(text: str) -> str:
        return i18n.gettext(lang, text)

    timezone, place = stock_reports.CHAIN_TIMEZONE, "all-stores"
    if found.store_id is not None:  # the id, not the code: a header filename is ASCII
        timezone, place = get_store(db, store_id=found.store_id).timezone, f"store-{found.store_id}"
    header = stock_reports_table.header(found.kind, tr)
    rows = stock_reports_table.rows(found, tr, timezone)
    body = write_table(header, rows, fmt=fmt, sheet=found.kind)
    day = f"{to_local(found.as_of, timezone):%Y%m%d}"
    name = f"stock-{found.kind}-{place}-{day}.{fmt}"
    media = XLSX if fmt == "xlsx" else "text/csv; charset=utf-8"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media, headers=disposition)
