"""Back office: service analytics with charts and export.

Scores and counts for feedback.read; the top words of customers' free text only for
complaints.handle (the same rule as the API)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.customers.keys import cipher_for
from shouyin.db import ReadDb
from shouyin.errors import DomainError
from shouyin.service import analytics
from shouyin.service.analytics_schemas import GROUPS, ComplaintReport, FeedbackReport, Group
from shouyin.service.analytics_tables import CATEGORY_LABELS
from shouyin.stores import service as stores
from shouyin.web.office_common import _, error_of, parse_day, parse_id
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("feedback.read"))]
Text = Annotated[str, Query(max_length=40)]
PAGE = "/office/service-reports"
API = "/api/v1/service-reports"
GROUP_LABELS = {"day": _("By day"), "week": _("By week"), "month": _("By month")}


@router.get(PAGE)
def page(
    request: Request, principal: Reader, db: ReadDb, store_id: Text = "", group: Text = "day",
    start: Annotated[str, Query(alias="from", max_length=40)] = "",
    end: Annotated[str, Query(alias="to", max_length=40)] = "",
) -> Response:  # fmt: skip
    chosen: Group = next((g for g in GROUPS if g == group), "day")
    store = principal.store_id or parse_id(store_id)
    error, status = None, 200
    try:
        query = analytics.ReportQuery(store, parse_day(start), parse_day(end), chosen)
        context = _reports(request, db, principal, query)
    except DomainError as exc:  # show the default period with the message
        error, status = error_of(request, exc), exc.status
        context = _reports(request, db, principal, analytics.ReportQuery(store, group=chosen))
    period = context["feedback"].period
    filters = {"store_id": store or "", "group": chosen, "from": period.start.isoformat(),
               "to": period.end.isoformat()}  # fmt: skip
    context.update(
        error=error, filters=filters, groups=GROUP_LABELS, categories=CATEGORY_LABELS,
        stores=[] if principal.store_id else stores.list_stores(db),
        export_qs=urlencode({k: v for k, v in filters.items() if v != ""}),
        # Words have no grouping.
        words_qs=urlencode({k: v for k, v in filters.items() if v != "" and k != "group"}),
    )  # fmt: skip
    return render(request, "office/service_reports/page.html", context, status_code=status)


def _reports(
    request: Request, db: Session, principal: Principal, query: analytics.ReportQuery
) -> dict[str, Any]:
    feedback = analytics.feedback(db, query=query, actor=principal)
    cipher = cipher_for(request.app.state.settings)
    complaints = analytics.complaints(db, query=query, actor=principal, cipher=cipher)
    # Words come from customers' free text: never even computed for other readers.
    words = (
        analytics.words(db, query=query, actor=principal)
        if principal.can("complaints.handle")
        else None
    )
    return {"feedback": feedback, "complaints": complaints, "words": words,
            "chart": chart_data(feedback, complaints)}  # fmt: skip


def chart_data(feedback: FeedbackReport, complaints: ComplaintReport) -> dict[str, Any]:
    """What the charts draw, as plain lists (None where a bucket has no data)."""
    return {
        "buckets": [p.bucket for p in feedback.trend],
        "satisfaction": [p.satisfaction_avg for p in feedback.trend],
        "nps": [p.nps for p in feedback.trend],
        "answers": [p.answers for p in feedback.trend],
        "categories": {c: [p.categories[c] for p in complaints.trend] for c in CATEGORY_LABELS},
        "stores": [s.store_name or s.store_code for s in complaints.stores],
        "store_categories": {
            c: [s.categories[c] for s in complaints.stores] for c in CATEGORY_LABELS
        },
        "response_median": [p.response.median_hours for p in complaints.trend],
        "response_p90": [p.response.p90_hours for p in complaints.trend],
        "resolution_median": [p.resolution.median_hours for p in complaints.trend],
        "resolution_p90": [p.resolution.p90_hours for p in complaints.trend],
    }
