"""Back office: notices for managers (missed and coming complaint deadlines), and the days
stores are closed (business-hour deadlines skip them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError
from shouyin.service import closed_days, notices
from shouyin.service.closed_days import ClosedDayCreate
from shouyin.shared.clock import to_local, utcnow
from shouyin.stores import service as stores
from shouyin.web.office_common import (
    PAGE_SIZE,
    _,
    error_of,
    page_count,
    parse_day,
    parse_id,
    validated,
)
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render, request_language

router = APIRouter(include_in_schema=False)
Handler = Annotated[Principal, Depends(require("complaints.handle"))]
StoreReader = Annotated[Principal, Depends(require("stores.read"))]
StoreWriter = Annotated[Principal, Depends(require("stores.write"))]
PathId = Annotated[int, Path(ge=1, le=ID_MAX)]
FormText = Annotated[str, Form(max_length=100)]
DAYS_PAGE = "/office/closed-days"
DAY_MESSAGES = {
    "store_id": (_("Choose a store."), "closed_day.store_invalid"),
    "day": (_("A date is written as YYYY-MM-DD, for example 2024-05-01."), "office.date_invalid"),
    "name": (_("A closed day needs a name of at most 60 characters."), "closed_day.name_invalid"),
    "": (_("The last day is the first day or up to 30 days after it."), "closed_day.span_invalid"),
}


@router.get("/office/notices")
def notices_page(
    request: Request,
    principal: Handler,
    db: ReadDb,
    unread: Annotated[int, Query(ge=0, le=1)] = 0,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    items, total = notices.list_notices(
        db, actor=principal, lang=request_language(request), unread_only=bool(unread),
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    context = {
        "items": items, "total": total, "unread": unread, "page": page,
        "pages": page_count(total), "unread_count": notices.unread_count(db, actor=principal),
        "done": request.query_params.get("done"),
    }  # fmt: skip
    return render(request, "office/notices/list.html", context)


@router.get("/office/notices/badge")
def notices_badge(principal: Handler, db: ReadDb) -> Response:
    """The unread count for the navigation, as the inside of the element that loads it with
    htmx (base.html): nothing when there is nothing unread."""
    count = notices.unread_count(db, actor=principal)
    if not count:
        return HTMLResponse("")
    shown = "99+" if count > 99 else str(count)
    return HTMLResponse(f'<span class="badge off notice-count">{shown}</span>')


@router.post("/office/notices/{notice_id}/read")
def read_notice(
    principal: Handler, db: WriteDb, notice_id: PathId, back: FormText = ""
) -> Response:
    notice = notices.mark_read(db, actor=principal, notice_id=notice_id, at=utcnow())
    if back == "ticket" and notice.ticket_id is not None:
        return RedirectResponse(f"/office/tickets/{notice.ticket_id}", status_code=303)
    return RedirectResponse("/office/notices?done=read", status_code=303)


@router.post("/office/notices/read-all")
def read_all_notices(principal: Handler, db: WriteDb) -> Response:
    notices.mark_all_read(db, actor=principal, at=utcnow())
    return RedirectResponse("/office/notices?done=read", status_code=303)


def _days_page(
    request: Request, db: Session, principal: Principal, *, store_id: int | None,
    form: dict[str, Any] | None = None, error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    listed = stores.list_stores(db, store_id=principal.store_id)
    since = to_local(utcnow(), "Asia/Shanghai").date() - timedelta(days=31)
    days = closed_days.list_days(db, actor=principal, store_id=store_id, since=since)
    context = {
        "days": days, "stores": listed, "store_names": {s.id: f"{s.code} {s.name}" for s in listed},
        "store_id": store_id, "form": form or {"store_id": principal.store_id or ""},
        "can_write": principal.can("stores.write"), "error": error,
        "done": request.query_params.get("done"), "hq": principal.store_id is None,
    }  # fmt: skip
    return render(request, "office/notices/closed_days.html", context, status_code=status)


@router.get(DAYS_PAGE)
def closed_days_page(
    request: Request,
    principal: StoreReader,
    db: ReadDb,
    store_id: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    return _days_page(request, db, principal, store_id=parse_id(store_id))


@router.post(DAYS_PAGE)
def add_closed_days(
    request: Request,
    principal: StoreWriter,
    db: WriteDb,
    store_id: FormText = "",
    day: FormText = "",
    until: FormText = "",
    name: FormText = "",
) -> Response:
    typed = {"store_id": store_id, "day": day, "until": until, "name": name}
    try:
        data = validated(ClosedDayCreate, _day_values(principal, typed), DAY_MESSAGES)
        made = closed_days.create_days(db, actor=principal, data=data)
    except DomainError as exc:
        db.rollback()
        return _days_page(
            request, db, principal, store_id=parse_id(store_id), form=typed,
            error=error_of(request, exc), status=exc.status,
        )  # fmt: skip
    return RedirectResponse(f"{DAYS_PAGE}?done=added-{len(made)}", status_code=303)


def _day_values(principal: Principal, typed: dict[str, str]) -> dict[str, Any]:
    first = parse_day(typed["day"])
    last = parse_day(typed["until"])
    store = parse_id(typed["store_id"]) if principal.store_id is None else principal.store_id
    return {"store_id": store, "day": first or "", "until": last, "name": typed["name"].strip()}


@router.post(DAYS_PAGE + "/{closed_day_id}/delete")
def delete_closed_day(principal: StoreWriter, db: WriteDb, closed_day_id: PathId) -> Response:
    closed_days.delete_day(db, actor=principal, closed_day_id=closed_day_id)
    return RedirectResponse(f"{DAYS_PAGE}?done=deleted", status_code=303)
