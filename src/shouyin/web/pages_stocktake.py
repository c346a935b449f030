"""Back office: stocktakes (盘点) — list and start, review with post and cancel, and a
phone-sized counting page that scans one item at a time."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.catalog.models import Category
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.inventory import stocktakes
from shouyin.inventory.stocktake_schemas import PostIn, StocktakePublic, StocktakeStart
from shouyin.stores import service as stores
from shouyin.web.office_common import PAGE_SIZE, _, error_of, form_uuid, page_count, parse_id
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("stock.read"))]
Counter = Annotated[Principal, Depends(require("stock.adjust"))]
Poster = Annotated[Principal, Depends(require("stocktake.post"))]
Text = Annotated[str, Query(max_length=40)]
StocktakeId = Annotated[int, Path(ge=1, le=ID_MAX)]
STATUS_LABELS = {
    "counting": _("Counting"),
    "posted": _("Stocktake posted"),
    "cancelled": _("Stocktake cancelled"),
}
FILTER_LABELS = {
    "all": _("All lines"),
    "uncounted": _("Not counted yet"),
    "counted": _("Counted"),
    "variance": _("With a variance"),
}
LINES_PER_PAGE = 100


def _categories(db: Session) -> list[dict[str, Any]]:
    """Categories in tree order, each with its depth (for indenting the choice)."""
    rows = db.execute(select(Category.id, Category.name, Category.parent_id)).all()
    children: dict[int | None, list[Any]] = {}
    for row in sorted(rows, key=lambda r: r[1]):
        children.setdefault(row[2], []).append(row)
    ordered: list[dict[str, Any]] = []

    def walk(parent: int | None, depth: int) -> None:
        for cid, name, _parent in children.get(parent, []):
            if depth < 10 and not any(x["id"] == cid for x in ordered):
                ordered.append({"id": cid, "name": name, "depth": depth})
                walk(cid, depth + 1)

    walk(None, 0)
    return ordered


def _list_page(
    request: Request, db: Session, principal: Principal, *, status: str = "",
    store_id: str = "", page: int = 1, form: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None, code: int = 200,
) -> Response:  # fmt: skip
    state = status if status in STATUS_LABELS else None
    store = principal.store_id or parse_id(store_id)
    listed = stocktakes.list_stocktakes(
        db, actor=principal, store_id=store, status=state, limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    every = stores.list_stores(db)
    context = {
        "rows": listed.items, "total": listed.total, "page": page,
        "pages": page_count(listed.total), "status_labels": STATUS_LABELS,
        "filters": {"status": state or "", "store_id": store or ""},
        "stores": [] if principal.store_id else every,
        "own_stores": [s for s in every if principal.store_id in (None, s.id)],
        "categories": _categories(db),
        "can_start": "stock.adjust" in principal.permissions,
        "form": form or {"client_uuid": str(uuid.uuid4())}, "error": error,
    }  # fmt: skip
    return render(request, "office/stocktake/list.html", context, status_code=code)


@router.get("/office/stocktakes")
def stocktakes_page(
    request: Request,
    principal: Reader,
    db: ReadDb,
    status: Text = "",
    store_id: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return _list_page(request, db, principal, status=status, store_id=store_id, page=page)


@router.post("/office/stocktakes")
def start_submit(
    request: Request,
    principal: Counter,
    db: WriteDb,
    client_uuid: Annotated[str, Form(max_length=100)] = "",
    store_id: Annotated[str, Form(max_length=20)] = "",
    category_id: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    form = {"client_uuid": client_uuid.strip(), "store_id": parse_id(store_id),
            "category_id": parse_id(category_id), "note": note.strip()}  # fmt: skip
    try:
        store = principal.store_id or form["store_id"]
        if store is None:
            raise ValidationFailed("Choose the store to count.", code="stocktake.store_missing")
        data = StocktakeStart.model_validate({
            "client_uuid": form_uuid(client_uuid),
            "store_id": store, "category_id": form["category_id"],
            "note": note.strip()[:200] or None,
        })  # fmt: skip
        made, _created = stocktakes.start(db, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _list_page(request, db, principal, form=form, error=error, code=exc.status)
    return RedirectResponse(f"/office/stocktakes/{made.id}?saved=started", status_code=303)


def _review(
    request: Request, db: Session, principal: Principal, stocktake_id: int, *,
    lines: str = "all", page: int = 1, error: dict[str, Any] | None = None, code: int = 200,
) -> Response:  # fmt: skip
    which = lines if lines in FILTER_LABELS else "all"
    found = stocktakes.detail(
        db, stocktake_id=stocktake_id, actor=principal, line_filter=which,
        limit=LINES_PER_PAGE, offset=(page - 1) * LINES_PER_PAGE,
    )  # fmt: skip
    counting = found.status == "counting"
    context = {
        "st": found, "status_labels": STATUS_LABELS, "filter_labels": FILTER_LABELS,
        "which": which, "page": page, "pages": max(1, -(-found.line_total // LINES_PER_PAGE)),
        "can_count": counting and "stock.adjust" in principal.permissions,
        "can_post": counting and "stocktake.post" in principal.permissions,
        "saved": request.query_params.get("saved"), "error": error,
    }  # fmt: skip
    return render(request, "office/stocktake/review.html", context, status_code=code)


@router.get("/office/stocktakes/{stocktake_id}")
def review_page(
    request: Request,
    principal: Reader,
    db: ReadDb,
    stocktake_id: StocktakeId,
    lines: Text = "all",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    return _review(request, db, principal, stocktake_id, lines=lines, page=page)


def _act(
    request: Request, db: Session, principal: Principal, stocktake_id: int, action: Any,
    done: str,
) -> Response:  # fmt: skip
    try:
        action()
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _review(request, db, principal, stocktake_id, error=error, code=exc.status)
    return RedirectResponse(f"/office/stocktakes/{stocktake_id}?saved={done}", status_code=303)


@router.post("/office/stocktakes/{stocktake_id}/post")
def post_submit(
    request: Request,
    principal: Poster,
    db: WriteDb,
    stocktake_id: StocktakeId,
    uncounted_as_zero: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    data = PostIn(uncounted_as_zero=uncounted_as_zero == "on")

    def post() -> StocktakePublic:
        return stocktakes.post(db, stocktake_id=stocktake_id, data=data, actor=principal)

    return _act(request, db, principal, stocktake_id, post, "posted")


@router.post("/office/stocktakes/{stocktake_id}/cancel")
def cancel_submit(
    request: Request, principal: Counter, db: WriteDb, stocktake_id: StocktakeId
) -> Response:
    def cancel() -> StocktakePublic:
        return stocktakes.cancel(db, stocktake_id=stocktake_id, actor=principal)

    return _act(request, db, principal, stocktake_id, cancel, "cancelled")


@router.get("/office/stocktakes/{stocktake_id}/count")
def count_page(
    request: Request, principal: Counter, db: ReadDb, stocktake_id: StocktakeId
) -> Response:
    found = stocktakes.detail(db, stocktake_id=stocktake_id, actor=principal, limit=1)
    texts = {
        "added": _("{name}: {count} counted"),
        "set": _("{name}: count set to {count}"),
        "failed": _("Not counted: {message}"),
    }
    context = {"st": found, "status_labels": STATUS_LABELS, "texts": texts}
    return render(request, "office/stocktake/count.html", context)
