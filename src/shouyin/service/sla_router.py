"""REST: notices (breaches, warnings), closed days, and the SLA check (due list, run now)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb, get_database
from shouyin.service import closed_days, notices, sla
from shouyin.service.closed_days import ClosedDayCreate, ClosedDayPublic
from shouyin.shared.clock import utcnow
from shouyin.web.params import ID_MAX, IdPath
from shouyin.web.templating import request_language

router = APIRouter(prefix="/api/v1/service", tags=["service"])
Handler = Annotated[Principal, Depends(require("complaints.handle"))]
StoreReader = Annotated[Principal, Depends(require("stores.read"))]
StoreWriter = Annotated[Principal, Depends(require("stores.write"))]
StoreQuery = Annotated[int | None, Query(ge=1, le=ID_MAX)]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission, or another store)"},
    404: {"description": "No such notice, closed day or store"},
}


class NoticePublic(BaseModel):
    id: int
    store_id: int | None
    kind: str
    ticket_id: int | None
    text: str  # in the reader's language
    created_at: datetime
    read_at: datetime | None


class NoticePage(BaseModel):
    items: list[NoticePublic]
    total: int
    unread: int


class UnreadOut(BaseModel):
    unread: int


class MarkedOut(BaseModel):
    marked: int


class DueOut(BaseModel):
    ticket_id: int
    number: str
    store_id: int
    priority: str
    status: str
    deadline: str  # response | resolution
    due_at: datetime
    breached: bool
    escalated: bool


class CheckOut(BaseModel):
    due: int
    escalated: int
    compensated: int
    warned: int
    emailed: int


@router.get("/notices", response_model=NoticePage, responses=ERRORS)
def list_notices(
    request: Request,
    principal: Handler,
    db: ReadDb,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> NoticePage:
    """Newest first: a store's managers see their store's notices, HQ sees HQ's."""
    items, total = notices.list_notices(
        db, actor=principal, lang=request_language(request), unread_only=unread,
        limit=limit, offset=offset,
    )  # fmt: skip
    count = notices.unread_count(db, actor=principal)
    return NoticePage(items=[NoticePublic(**vars(x)) for x in items], total=total, unread=count)


@router.get("/notices/unread-count", response_model=UnreadOut)
def unread_count(principal: Handler, db: ReadDb) -> UnreadOut:
    return UnreadOut(unread=notices.unread_count(db, actor=principal))


@router.post("/notices/read-all", response_model=MarkedOut)
def read_all(principal: Handler, db: WriteDb) -> MarkedOut:
    return MarkedOut(marked=notices.mark_all_read(db, actor=principal, at=utcnow()))


@router.post("/notices/{notice_id}/read", response_model=NoticePublic, responses=ERRORS)
def read_one(request: Request, notice_id: IdPath, principal: Handler, db: WriteDb) -> NoticePublic:
    notice = notices.mark_read(db, actor=principal, notice_id=notice_id, at=utcnow())
    return NoticePublic(**vars(notices.view_of(notice, request_language(request))))


@router.get("/closed-days", response_model=list[ClosedDayPublic], responses=ERRORS)
def list_closed_days(
    principal: StoreReader,
    db: ReadDb,
    store_id: StoreQuery = None,
    since: date | None = None,
) -> object:
    """Days that apply to the store (its own and the whole chain's); HQ without a store sees
    all."""
    return closed_days.list_days(db, actor=principal, store_id=store_id, since=since)


@router.post(
    "/closed-days", response_model=list[ClosedDayPublic], status_code=201,
    responses={**ERRORS, 409: {"description": "Every day of the span is closed already"}},
)  # fmt: skip
def create_closed_days(data: ClosedDayCreate, principal: StoreWriter, db: WriteDb) -> object:
    """A day or a span of days (``until``, at most 31); ``store_id`` null closes every store
    (head office only). Tickets already open keep their deadlines."""
    return closed_days.create_days(db, actor=principal, data=data)


@router.delete(
    "/closed-days/{closed_day_id}", status_code=204, response_class=Response, responses=ERRORS
)
def delete_closed_day(closed_day_id: IdPath, principal: StoreWriter, db: WriteDb) -> Response:
    closed_days.delete_day(db, actor=principal, closed_day_id=closed_day_id)
    return Response(status_code=204)


@router.get("/sla/due", response_model=list[DueOut], responses=ERRORS)
def due_list(
    request: Request, principal: Handler, db: ReadDb, store_id: StoreQuery = None
) -> list[DueOut]:
    """Open tickets whose deadline passed or comes within the warning time, by ticket."""
    warn: int = request.app.state.settings.complaint_warn_minutes
    found = sla.due(db, now=utcnow(), warn_minutes=warn, store_id=principal.scope_store(store_id))
    return [DueOut(**vars(x)) for x in found]


@router.post("/sla/check", response_model=CheckOut)
def check_now(request: Request, principal: Handler) -> CheckOut:
    """Run the check now (the server runs it every minute): escalate, compensate, warn."""
    done = sla.run(get_database(request), request.app.state.settings)
    return CheckOut(
        due=done.due, escalated=len(done.escalated), compensated=done.compensated,
        warned=done.warned, emailed=done.emailed,
    )  # fmt: skip
