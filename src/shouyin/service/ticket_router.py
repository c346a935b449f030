"""REST: complaint tickets (投诉): open, assign, work, resolve, attachments, compensation.

Opening needs ``complaints.open``; reading and working tickets ``complaints.handle``. An
image may also be added by whoever opened the ticket while it is new (the till's photo).
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.config import Settings
from shouyin.db import ReadDb, WriteDb
from shouyin.service import attachments, compensation, ticket_flow, ticket_views, tickets
from shouyin.service.ticket_schemas import (
    AttachmentPublic,
    Category,
    CompensationIn,
    CompensationPublic,
    Priority,
    Status,
    TicketAssign,
    TicketComment,
    TicketDetail,
    TicketOpen,
    TicketPage,
    TicketReopen,
    TicketResolve,
    TicketStep,
)
from shouyin.shared import clock
from shouyin.web.params import ID_MAX, IdPath

router = APIRouter(prefix="/api/v1/tickets", tags=["service"])
Opener = Annotated[Principal, Depends(require("complaints.open"))]
Handler = Annotated[Principal, Depends(require("complaints.handle"))]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission, or a ticket of another store)"},
    404: {"description": "Unknown ticket, store, member, order or attachment"},
    409: {"description": "The ticket's status does not allow this (ticket.bad_transition)"},
    422: {"description": "Invalid input"},
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.post(
    "",
    response_model=TicketDetail,
    status_code=201,
    responses={200: {"description": "A retry: the ticket the first request opened"}, **ERRORS},
)
def open_ticket(
    data: TicketOpen,
    principal: Opener,
    db: WriteDb,
    request: Request,
    source: Literal["api", "till", "office"] = "api",
) -> Response:
    """Open a complaint; send a `client_uuid` so a retry returns the same ticket. The till
    and the office pages say where it came from with `source`."""
    view, created = tickets.open_or_replay(
        db, actor=principal, data=data, source=source, settings=_settings(request)
    )
    return JSONResponse(view.model_dump(mode="json"), status_code=201 if created else 200)


@router.get("", response_model=TicketPage, responses=ERRORS)
def list_tickets(
    principal: Handler,
    db: ReadDb,
    store_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    status: Status | None = None,
    priority: Priority | None = None,
    category: Category | None = None,
    assignee_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    member_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=60)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> object:
    """Newest first. `q` matches the number or the title; `overdue` means open and past a
    deadline it has not met."""
    return ticket_views.list_tickets(
        db, actor=principal, store_id=store_id, status=status, priority=priority,
        category=category, assignee_id=assignee_id, member_id=member_id, overdue=overdue, q=q,
        limit=limit, offset=offset,
    )  # fmt: skip


@router.get("/{ticket_id}", response_model=TicketDetail, responses=ERRORS)
def detail(ticket_id: IdPath, principal: Handler, db: ReadDb, request: Request) -> object:
    return ticket_views.detail(
        db, ticket_id=ticket_id, actor=principal, settings=_settings(request)
    )


@router.post("/{ticket_id}/assign", response_model=TicketDetail, responses=ERRORS)
def assign(
    ticket_id: IdPath, data: TicketAssign, principal: Handler, db: WriteDb, request: Request
) -> object:
    """To a complaint handler of the ticket's store or of HQ: new -> assigned (a reassignment
    keeps the status)."""
    return ticket_flow.assign(
        db, ticket_id=ticket_id, user_id=data.user_id, actor=principal, comment=data.comment,
        settings=_settings(request),
    )  # fmt: skip


@router.post("/{ticket_id}/start", response_model=TicketDetail, responses=ERRORS)
def start(
    ticket_id: IdPath, principal: Handler, db: WriteDb, request: Request,
    data: TicketStep | None = None,
) -> object:  # fmt: skip
    """assigned -> in_progress."""
    comment = data.comment if data else None
    return ticket_flow.start(
        db, ticket_id=ticket_id, actor=principal, comment=comment, settings=_settings(request)
    )


@router.post("/{ticket_id}/resolve", response_model=TicketDetail, responses=ERRORS)
def resolve(
    ticket_id: IdPath, data: TicketResolve, principal: Handler, db: WriteDb, request: Request
) -> object:
    """in_progress -> resolved, with the outcome and any compensation (a coupon needs
    `coupons.issue`, points `points.adjust`)."""
    return ticket_flow.resolve(
        db, ticket_id=ticket_id, data=data, actor=principal, settings=_settings(request)
    )


@router.post("/{ticket_id}/close", response_model=TicketDetail, responses=ERRORS)
def close(
    ticket_id: IdPath, principal: Handler, db: WriteDb, request: Request,
    data: TicketStep | None = None,
) -> object:  # fmt: skip
    """resolved -> closed."""
    comment = data.comment if data else None
    return ticket_flow.close(
        db, ticket_id=ticket_id, actor=principal, comment=comment, settings=_settings(request)
    )


@router.post("/{ticket_id}/reopen", response_model=TicketDetail, responses=ERRORS)
def reopen(
    ticket_id: IdPath, data: TicketReopen, principal: Handler, db: WriteDb, request: Request
) -> object:
    """resolved or closed -> assigned again (new if nobody had it), with a reason; the
    resolution deadline starts again."""
    return ticket_flow.reopen(
        db, ticket_id=ticket_id, reason=data.reason, actor=principal, settings=_settings(request)
    )


@router.post("/{ticket_id}/comments", response_model=TicketDetail, responses=ERRORS)
def add_comment(
    ticket_id: IdPath, data: TicketComment, principal: Handler, db: WriteDb, request: Request
) -> object:
    return ticket_flow.comment(
        db, ticket_id=ticket_id, text=data.text, actor=principal, settings=_settings(request)
    )


@router.post(
    "/{ticket_id}/attachments",
    response_model=AttachmentPublic,
    status_code=201,
    responses={
        **ERRORS,
        409: {"description": "The ticket holds its 10 images (ticket.attachment_limit)"},
        413: {"description": "The image is larger than 5 MB"},
        422: {"description": "Not a JPEG, PNG or WebP image"},
    },
)
def upload(
    ticket_id: IdPath,
    file: Annotated[UploadFile, File(description="A JPEG, PNG or WebP image, at most 5 MB")],
    principal: Opener,
    db: WriteDb,
) -> object:
    """Add an image; its type is read from its content, not its name."""
    data = file.file.read(attachments.MAX_BYTES + 1)  # enough to know it is too large
    return attachments.upload(
        db, ticket_id=ticket_id, filename=file.filename, data=data, actor=principal
    )


@router.get(
    "/{ticket_id}/attachments/{attachment_id}",
    response_class=Response,
    responses={**ERRORS, 200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}},
                               "description": "The image"}},
)  # fmt: skip
def download(ticket_id: IdPath, attachment_id: IdPath, principal: Handler, db: ReadDb) -> Response:
    found = attachments.download(
        db, ticket_id=ticket_id, attachment_id=attachment_id, actor=principal
    )
    headers = {
        "Content-Disposition": f'inline; filename="{found.filename}"; '
        f"filename*=UTF-8''{quote(found.filename)}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return Response(found.data, media_type=found.content_type, headers=headers)


@router.post(
    "/{ticket_id}/compensations",
    response_model=CompensationPublic,
    status_code=201,
    responses={
        **ERRORS,
        204: {"description": "Nothing given: a coupon or points for a ticket without a member"},
    },
)
def compensate(
    ticket_id: IdPath, data: CompensationIn, principal: Handler, db: WriteDb
) -> Response:
    """Give the customer something outside a resolve: a coupon (`coupons.issue`), points
    (`points.adjust`) or a refund's reference. A ticket without a member gets no coupon or
    points (204, with a note on the timeline)."""
    granted = compensation.give(
        db, ticket_id=ticket_id, data=data, actor=principal, at=clock.utcnow()
    )
    if granted is None:
        return Response(status_code=204)
    view = next(
        x
        for x in ticket_views.detail(db, ticket_id=ticket_id, actor=principal).compensations
        if x.id == granted.id
    )
    return JSONResponse(view.model_dump(mode="json"), status_code=201)
