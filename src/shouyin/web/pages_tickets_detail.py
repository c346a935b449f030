"""Back office: one complaint ticket — its deadlines, timeline, images and compensation, and
the steps of its flow (assign, start, resolve, close, reopen), comments and uploads.

Every form posts with the CSRF token and comes back with a redirect and a flash message; an
error shows on the page beside the form it came from, with what was typed kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.loyalty import coupon_templates
from shouyin.service import attachments, ticket_flow, tickets
from shouyin.service.survey_schemas import TAGS
from shouyin.service.ticket_schemas import TicketDetail, TicketResolve
from shouyin.shared import clock
from shouyin.web.office_common import _, error_of, parse_id, parse_whole, validated
from shouyin.web.pages_tickets_common import (
    HANDLE,
    LABELS,
    Handler,
    Reader,
    deadline_of,
    handlers,
    member_names,
)
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
TicketId = Annotated[int, Path(ge=1, le=ID_MAX)]
Note = Annotated[str, Form(max_length=10_000)]
Short = Annotated[str, Form(max_length=100)]
SAVED = ("opened", "assigned", "started", "resolved", "closed", "reopened", "commented",
         "uploaded")  # fmt: skip


def _context(
    request: Request, db: Session, principal: Principal, t: TicketDetail
) -> dict[str, Any]:
    handler = principal.can(HANDLE)
    context: dict[str, Any] = {
        "t": t, "labels": LABELS, "handler": handler,
        "survey_tags": {code: tag.label for code, tag in TAGS.items()},
        "deadline": deadline_of(t, clock.utcnow()),
        "member_name": member_names(request, db, [t.member_id]).get(t.member_id or 0),
        "can_assign": handler and t.status in ticket_flow.ASSIGNABLE,
        "can_start": handler and t.status == "assigned",
        "can_resolve": handler and t.status == "in_progress",
        "can_close": handler and t.status == "resolved",
        "can_reopen": handler and t.status in ticket_flow.REOPENABLE,
        "can_upload": handler and len(t.attachments) < attachments.MAX_PER_TICKET,
        "staff": handlers(db, t.store_id) if handler else [],
        "can_coupon": handler and principal.can("coupons.issue"),
        "can_points": handler and principal.can("points.adjust"),
        "saved": request.query_params.get("saved") if request.query_params.get("saved") in SAVED
                 else None,
    }  # fmt: skip
    # An error shows by its form; if that form is gone (the ticket moved on), at the top.
    context["forms_shown"] = {
        "assign": context["can_assign"], "start": context["can_start"],
        "resolve": context["can_resolve"], "close": context["can_close"],
        "reopen": context["can_reopen"], "comment": handler, "upload": context["can_upload"],
    }  # fmt: skip
    context["coupon_templates"] = (
        [tpl for tpl, _n in coupon_templates.list_templates(db, active=True)]
        if context["can_resolve"] and context["can_coupon"] else []
    )  # fmt: skip
    return context


def _detail_page(
    request: Request, db: Session, principal: Principal, ticket_id: int, *,
    error: dict[str, Any] | None = None, form: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    found = tickets.detail(
        db, ticket_id=ticket_id, actor=principal, settings=request.app.state.settings
    )
    context = _context(request, db, principal, found) | {"error": error, "form": form or {}}
    return render(request, "office/tickets/detail.html", context, status_code=status)


@router.get("/office/tickets/{ticket_id}")
def ticket_page(request: Request, principal: Reader, db: ReadDb, ticket_id: TicketId) -> Response:
    return _detail_page(request, db, principal, ticket_id)


def _act(
    request: Request, db: Session, principal: Principal, ticket_id: int,
    action: Callable[[], object], done: str, form: dict[str, Any],
) -> Response:  # fmt: skip
    """Run one step; on a refusal show the page again with the error by its form."""
    try:
        action()
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc) | {"form": form["name"]}
        return _detail_page(
            request, db, principal, ticket_id, error=error, form=form, status=exc.status
        )
    return RedirectResponse(f"/office/tickets/{ticket_id}?saved={done}", status_code=303)


@router.post("/office/tickets/{ticket_id}/assign")
def assign_submit(
    request: Request, principal: Handler, db: WriteDb, ticket_id: TicketId,
    user_id: Short = "", comment: Note = "",
) -> Response:  # fmt: skip
    form = {"name": "assign", "user_id": parse_id(user_id), "comment": comment}

    def assign() -> object:
        chosen = parse_id(user_id)
        if chosen is None:
            raise ValidationFailed("Choose who handles the ticket.", code="ticket.assignee_missing")
        return ticket_flow.assign(
            db, ticket_id=ticket_id, user_id=chosen, actor=principal, comment=comment[:2000]
        )

    return _act(request, db, principal, ticket_id, assign, "assigned", form)


@router.post("/office/tickets/{ticket_id}/start")
def start_submit(
    request: Request, principal: Handler, db: WriteDb, ticket_id: TicketId, comment: Note = ""
) -> Response:
    form = {"name": "start", "comment": comment}
    return _act(
        request, db, principal, ticket_id,
        lambda: ticket_flow.start(db, ticket_id=ticket_id, actor=principal,
                                  comment=comment[:2000]),
        "started", form,
    )  # fmt: skip


@router.post("/office/tickets/{ticket_id}/close")
def close_submit(
    request: Request, principal: Handler, db: WriteDb, ticket_id: TicketId, comment: Note = ""
) -> Response:
    form = {"name": "close", "comment": comment}
    return _act(
        request, db, principal, ticket_id,
        lambda: ticket_flow.close(db, ticket_id=ticket_id, actor=principal,
                                  comment=comment[:2000]),
        "closed", form,
    )  # fmt: skip


@router.post("/office/tickets/{ticket_id}/reopen")
def reopen_submit(
    request: Request, principal: Handler, db: WriteDb, ticket_id: TicketId, reason: Note = ""
) -> Response:
    form = {"name": "reopen", "reason": reason}
    settings = request.app.state.settings
    return _act(
        request, db, principal, ticket_id,
        lambda: ticket_flow.reopen(db, ticket_id=ticket_id, reason=reason[:2000],
                                   actor=principal, settings=settings),
        "reopened", form,
    )  # fmt: skip


@router.post("/office/tickets/{ticket_id}/comment")
def comment_submit(
    request: Request, principal: Handler, db: WriteDb, ticket_id: TicketId, text: Note = ""
) -> Response:
    form = {"name": "comment", "text": text}

    def add() -> object:
        if len(text.strip()) > 2000:
            raise ValidationFailed(
                "A comment holds at most 2000 characters.", code="ticket.comment_too_long"
            )
        return ticket_flow.comment(db, ticket_id=ticket_id, text=text, actor=principal)

    return _act(request, db, principal, ticket_id, add, "commented", form)


RESOLVE_MESSAGES = {
    "outcome": (_("Describe the outcome in 1 to 4000 characters."), "ticket.outcome_invalid"),
    "compensations": (_("The compensation is not valid."), "ticket.compensation_invalid"),
}


def _compensation(form: dict[str, Any]) -> list[dict[str, Any]]:
    """The one compensation the form offers, as the service takes it; none when not chosen."""
    kind = form["kind"]
    if kind == "coupon":
        return [{"kind": "coupon", "coupon_template_id": parse_id(form["coupon_template_id"])}]
    if kind == "points":
        points = parse_whole(form["points"])
        if points is None or points < 1:
            raise ValidationFailed(
                "Give the points as a whole number above zero.", code="ticket.points_invalid"
            )
        return [{"kind": "points", "points": points}]
    if kind == "refund":
        return [{"kind": "refund", "refund_reference": form["refund_reference"].strip() or None}]
    if kind:
        raise ValidationFailed(
            "Compensation is a coupon, points or a refund reference.",
            code="ticket.compensation_kind",
        )
    return []


@router.post("/office/tickets/{ticket_id}/resolve")
def resolve_submit(
    request: Request, principal: Handler, db: WriteDb, ticket_id: TicketId,
    outcome: Note = "", kind: Short = "", coupon_template_id: Short = "", points: Short = "",
    refund_reference: Short = "",
) -> Response:  # fmt: skip
    known = kind if kind in LABELS["compensation"] else ""  # it goes into an Alpine expression
    form = {"name": "resolve", "outcome": outcome, "kind": known,
            "coupon_template_id": parse_id(coupon_template_id) or "", "points": points.strip(),
            "refund_reference": refund_reference.strip()}  # fmt: skip
    typed = form | {"coupon_template_id": coupon_template_id, "kind": kind}
    settings = request.app.state.settings

    def resolve() -> object:
        values = {"outcome": outcome.strip(), "compensations": _compensation(typed)}
        data = validated(TicketResolve, values, RESOLVE_MESSAGES)
        return ticket_flow.resolve(
            db, ticket_id=ticket_id, data=data, actor=principal, settings=settings
        )

    return _act(request, db, principal, ticket_id, resolve, "resolved", form)


@router.post("/office/tickets/{ticket_id}/attachments")
def upload_submit(
    request: Request,
    principal: Handler,
    db: WriteDb,
    ticket_id: TicketId,
    image: Annotated[UploadFile | None, File()] = None,
) -> Response:
    # One byte more than allowed is enough to know the image is too large.
    data = image.file.read(attachments.MAX_BYTES + 1) if image is not None else b""
    filename = image.filename if image is not None else None
    form = {"name": "upload"}

    def upload() -> object:
        if not data:
            raise ValidationFailed("Choose an image to attach.", code="ticket.attachment_missing")
        return attachments.upload(
            db, ticket_id=ticket_id, filename=filename, data=data, actor=principal
        )

    return _act(request, db, principal, ticket_id, upload, "uploaded", form)
