"""REST: service analytics (feedback scores, NPS, complaint volumes, times, breaches, and the
top words of customers' free text), as JSON or as the CSV or Excel table behind a chart."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.customers.keys import cipher_for
from shouyin.db import ReadDb
from shouyin.service import analytics, analytics_tables
from shouyin.service.analytics_schemas import (
    ComplaintReport,
    FeedbackReport,
    Group,
    ReportPeriod,
    WordSource,
    WordsReport,
)
from shouyin.shared import i18n
from shouyin.shared.tabular import write_table
from shouyin.web.params import ID_MAX
from shouyin.web.templating import request_language

router = APIRouter(prefix="/api/v1/service-reports", tags=["service"])
Reader = Annotated[Principal, Depends(require("feedback.read"))]
# Words come from customers' free text: complaint handlers only.
Handler = Annotated[Principal, Depends(require("complaints.handle"))]
StoreId = Annotated[int | None, Query(ge=1, le=ID_MAX, description="HQ: one store; default all")]
Start = Annotated[date | None, Query(alias="from", description="First business day")]
End = Annotated[date | None, Query(alias="to", description="Last business day")]
Format = Literal["json", "csv", "xlsx"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission, or another store)"},
    404: {"description": "Unknown store"},
    422: {"description": "Invalid input: a reversed period or one over 366 days"},
}
FILES: dict[int | str, dict[str, object]] = {200: {"content": {"text/csv": {}, XLSX: {}}}}


def _query(
    store_id: int | None, start: date | None, end: date | None, group: Group
) -> analytics.ReportQuery:
    return analytics.ReportQuery(store_id=store_id, start=start, end=end, group=group)


@router.get("/feedback", response_model=FeedbackReport, responses={**FILES, **ERRORS})
def feedback(
    principal: Reader, db: ReadDb, request: Request, store_id: StoreId = None,
    start: Start = None, end: End = None, group: Group = "day", format: Format = "json",
    table: analytics_tables.FeedbackTable = "trend",
) -> object:  # fmt: skip
    """Answers, average satisfaction (1-5) and NPS over the period (default the last 30
    days), by store and cashier, and tag counts; no comments. ``format=csv|xlsx`` exports
    ``table``: trend, stores (per store and period), cashiers, tags."""
    found = analytics.feedback(db, query=_query(store_id, start, end, group), actor=principal)
    if format == "json":
        return found
    tr = _translator(request)
    header, rows = analytics_tables.feedback_table(found, table, tr)
    return _file(header, rows, format, f"feedback-{table}", found.period)


@router.get("/complaints", response_model=ComplaintReport, responses={**FILES, **ERRORS})
def complaints(
    principal: Reader, db: ReadDb, request: Request, store_id: StoreId = None,
    start: Start = None, end: End = None, group: Group = "day", format: Format = "json",
    table: analytics_tables.ComplaintTable = "trend",
) -> object:  # fmt: skip
    """Complaints by category and store, hours to first response and to resolution (median
    and p90), breach and reopen rates, repeat complainants (names only with
    complaints.handle). ``format=csv|xlsx`` exports ``table``: trend, stores, categories,
    repeat."""
    cipher = cipher_for(request.app.state.settings)
    query = _query(store_id, start, end, group)
    found = analytics.complaints(db, query=query, actor=principal, cipher=cipher)
    if format == "json":
        return found
    tr = _translator(request)
    header, rows = analytics_tables.complaint_table(found, table, tr, found.period.timezone)
    return _file(header, rows, format, f"complaints-{table}", found.period)


@router.get("/words", response_model=WordsReport, responses={**FILES, **ERRORS})
def words(
    principal: Handler, db: ReadDb, request: Request, store_id: StoreId = None,
    start: Start = None, end: End = None, format: Format = "json",
    source: WordSource = "all",
    limit: Annotated[int, Query(ge=1, le=analytics.WORDS_MAX)] = analytics.WORDS_DEFAULT,
) -> object:  # fmt: skip
    """The most frequent words of survey comments and ticket descriptions (jieba), stop words
    and punctuation removed. Needs complaints.handle: the words come from free text."""
    query = _query(store_id, start, end, "day")
    found = analytics.words(db, query=query, actor=principal, source=source, limit=limit)
    if format == "json":
        return found
    header, rows = analytics_tables.words_table(found, _translator(request))
    return _file(header, rows, format, "words", found.period)


def _translator(request: Request) -> analytics_tables.Translate:
    lang = request_language(request)
    return lambda text: i18n.gettext(lang, text)


def _file(
    header: list[str], rows: list[list[str]], fmt: Literal["csv", "xlsx", "json"], name: str,
    period: ReportPeriod,
) -> Response:  # fmt: skip
    """An attachment named after the table, the place and the period (ASCII only)."""
    kind: Literal["csv", "xlsx"] = "xlsx" if fmt == "xlsx" else "csv"
    body = write_table(header, rows, fmt=kind, sheet=name[:31])
    place = "all-stores" if period.store_id is None else f"store-{period.store_id}"
    filename = f"service-{name}-{place}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.{kind}"
    media = XLSX if kind == "xlsx" else "text/csv; charset=utf-8"
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=media, headers=disposition)
