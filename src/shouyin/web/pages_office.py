"""Back office: the day summary and order history pages.

``router`` here is the whole back office: these pages, the stores, users and audit pages, and
the REST routers for stores, audit and reports, so the app lists one module for all of it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from shouyin.analytics import router as analytics_api
from shouyin.analytics.day_summary import DaySummary, current_day, day_summary
from shouyin.audit import router as audit_api
from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb
from shouyin.sales import history, orders
from shouyin.sales.orders import METHOD_LABELS, STEP_LABELS
from shouyin.sales.receipt import render_text
from shouyin.shared import i18n
from shouyin.stores import router as stores_api
from shouyin.stores import service as stores
from shouyin.web import pages_office_audit, pages_office_stores, pages_office_users
from shouyin.web.office_common import (
    PAGE_SIZE,
    STATUS_LABELS,
    page_count,
    parse_day,
    parse_id,
)
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render, request_language

pages = APIRouter(include_in_schema=False)
ReportReader = Annotated[Principal, Depends(require("reports.read"))]
OrderReader = Annotated[Principal, Depends(require("orders.read"))]
Text = Annotated[str, Query(max_length=40)]


def _chart_data(summary: DaySummary, lang: str) -> dict[str, Any]:
    """What the charts draw, embedded in the page as JSON (amounts in fen)."""
    return {
        "hours": [f"{row.hour:02d}" for row in summary.by_hour],
        "sales": [row.sales for row in summary.by_hour],
        "orders": [row.orders for row in summary.by_hour],
        "methods": [
            {"name": i18n.gettext(lang, METHOD_LABELS.get(m.method, m.method)), "value": m.amount}
            for m in summary.by_method
        ],
        "labels": {
            "sales": i18n.gettext(lang, "Sales"),
            "orders": i18n.gettext(lang, "Orders"),
        },
    }


@pages.get("/office/summary")
def summary_page(
    request: Request,
    principal: ReportReader,
    db: ReadDb,
    store_id: Text = "",
    day: Text = "",
) -> Response:
    chosen = principal.scope_store(parse_id(store_id))
    if chosen is not None:
        stores.get_store(db, store_id=chosen)
    the_day = parse_day(day) or current_day(db, store_id=chosen)
    summary = day_summary(db, store_id=chosen, day=the_day)
    context = {
        "summary": summary, "store_id": chosen, "day": the_day,
        "stores": stores.list_stores(db, store_id=principal.store_id),
        "can_pick_store": principal.store_id is None,
        "method_labels": METHOD_LABELS,
        "chart": _chart_data(summary, request_language(request)),
    }  # fmt: skip
    return render(request, "office/summary.html", context)


@pages.get("/office/orders")
def orders_page(
    request: Request,
    principal: OrderReader,
    db: ReadDb,
    date_from: Text = "",
    date_to: Text = "",
    store_id: Text = "",
    number: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    where = history.OrderFilter(
        store_id=principal.scope_store(parse_id(store_id)), date_from=parse_day(date_from),
        date_to=parse_day(date_to), number=number.strip() or None,
    )  # fmt: skip
    rows, total = history.list_orders(
        db, store_id=where.store_id, date_from=where.date_from, date_to=where.date_to,
        number=where.number, cashier_id=None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    context = {
        "rows": rows, "total": total, "page": page, "pages": page_count(total),
        "filters": where, "stores": stores.list_stores(db, store_id=principal.store_id),
        "can_pick_store": principal.store_id is None, "method_labels": METHOD_LABELS,
        "status_labels": STATUS_LABELS,
    }  # fmt: skip
    return render(request, "office/orders.html", context)


@pages.get("/office/orders/{order_id}")
def order_page(
    request: Request,
    principal: OrderReader,
    db: ReadDb,
    order_id: Annotated[int, Path(ge=1, le=ID_MAX)],
) -> Response:
    detail = history.order_detail(db, order_id=order_id, store_id=principal.store_id)
    # Rendered here and escaped by the template: product names are user input.
    receipt = render_text(
        orders.receipt_data(db, order_id=order_id, actor=principal, lang=request_language(request))
    )
    context = {
        "detail": detail, "order": detail.order, "step_labels": STEP_LABELS,
        "method_labels": METHOD_LABELS, "status_labels": STATUS_LABELS, "receipt": receipt,
    }  # fmt: skip
    return render(request, "office/order.html", context)


router = APIRouter()
for _part in (
    stores_api.router,
    audit_api.router,
    analytics_api.router,
    pages,
    pages_office_stores.router,
    pages_office_users.router,
    pages_office_audit.router,
):
    router.include_router(_part)
