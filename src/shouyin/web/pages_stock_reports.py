"""Back office: stock reports per store and category, with CSV and Excel export."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.catalog.models import Category
from shouyin.db import ReadDb
from shouyin.errors import DomainError
from shouyin.inventory import stock_reports
from shouyin.inventory.stock_report_schemas import KINDS, Kind
from shouyin.stores import service as stores
from shouyin.web.office_common import PAGE_SIZE, _, error_of, page_count, parse_day, parse_id
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
# The service also requires stock.read, as the menu link does.
Reader = Annotated[Principal, Depends(require("reports.read"))]
Text = Annotated[str, Query(max_length=40)]
PAGE = "/office/stock-reports"
KIND_LABELS = {
    "valuation": _("Value at cost"),
    "turnover": _("Turnover and sell-through"),
    "slow-movers": _("Slow movers"),
    "negative": _("Negative stock"),
}


def _categories(db: Session) -> list[tuple[int, str]]:
    """Every category under its parent, indented by depth, for the filter."""
    rows = db.execute(select(Category.id, Category.name, Category.parent_id)
                      .order_by(Category.sort, Category.name)).all()  # fmt: skip
    children: dict[int | None, list[tuple[int, str]]] = {}
    for cid, name, parent in rows:
        children.setdefault(parent, []).append((cid, name))
    listed: list[tuple[int, str]] = []
    seen: set[int] = set()

    def walk(parent: int | None, depth: int) -> None:
        for cid, name in children.get(parent, []):
            if cid not in seen:  # a cycle would be a data error
                seen.add(cid)
                listed.append((cid, "　" * depth + name))
                walk(cid, depth + 1)

    walk(None, 0)
    return listed


@router.get(PAGE)
def page(
    request: Request, principal: Reader, db: ReadDb, kind: Text = "valuation",
    store_id: Text = "", category_id: Text = "", days: Text = "30",
    start: Annotated[str, Query(alias="from", max_length=40)] = "",
    end: Annotated[str, Query(alias="to", max_length=40)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:  # fmt: skip
    chosen: Kind = next((k for k in KINDS if k == kind), "valuation")
    store = principal.store_id or parse_id(store_id)
    filters = {"kind": chosen, "store_id": store or "", "category_id": parse_id(category_id) or "",
               "days": days.strip() or "30", "from": start.strip(), "to": end.strip()}  # fmt: skip
    context: dict[str, Any] = {
        "kinds": KIND_LABELS, "filters": filters, "found": None, "error": None,
        "stores": [] if principal.store_id else stores.list_stores(db),
        "categories": _categories(db), "page": page, "pages": 1,
        "qs": urlencode(filters),
        # The API refuses blank ids and dates: only what is set goes into the export links.
        "export_qs": urlencode({k: v for k, v in filters.items() if v != "" and k != "kind"}),
    }  # fmt: skip
    status = 200
    try:
        found = _report(db, principal, filters, page)
        context.update(found=found, pages=page_count(found.total))
    except DomainError as exc:
        context["error"] = error_of(request, exc)
        status = exc.status
    return render(request, "office/stock_reports/page.html", context, status_code=status)


def _report(db: Session, principal: Principal, filters: dict[str, Any], page: int) -> Any:
    raw_days = str(filters["days"])
    days = int(raw_days) if raw_days.isascii() and raw_days.isdigit() and len(raw_days) < 6 else 0
    query = stock_reports.ReportQuery(
        filters["kind"], filters["store_id"] or None, filters["category_id"] or None, days,
        parse_day(filters["from"]), parse_day(filters["to"]),
    )  # fmt: skip
    return stock_reports.report(
        db, query=query, actor=principal, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
