"""Back office: the complaint queue (投诉) with its filters, and a new complaint by hand.

A ticket's own page and its actions are in pages_tickets_detail.py.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.customers.keys import cipher_for
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.sales import history
from shouyin.service import tickets
from shouyin.service.ticket_schemas import OPEN_STATUSES, TicketOpen
from shouyin.shared import clock
from shouyin.stores import service as stores
from shouyin.web import pages_tickets_detail
from shouyin.web.office_common import (
    PAGE_SIZE,
    _,
    error_of,
    form_uuid,
    page_count,
    parse_id,
    validated,
)
from shouyin.web.pages_tickets_common import (
    LABELS,
    Handler,
    Reader,
    deadline_of,
    handlers,
    member_names,
)
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Query(max_length=40)]
FormText = Annotated[str, Form(max_length=40)]
# The queue's status filter: one status, or every open one (the default).
OPEN_FILTER = "open"


def _assignee_filter(principal: Principal, text: str) -> tuple[int | None, bool]:
    """(assignee id, unassigned only) from the filter: "mine", "none" or a user id."""
    if text == "mine":
        return principal.user_id, False
    if text == "none":
        return None, True
    return parse_id(text), False


def _filters(principal: Principal, values: dict[str, str]) -> dict[str, Any]:
    """The filters as typed, cleaned: unknown values mean "any"."""
    status = values["status"]
    clean = {
        "status": status if status in LABELS["status"] or status in ("", OPEN_FILTER) else "",
        "priority": values["priority"] if values["priority"] in LABELS["priority"] else "",
        "category": values["category"] if values["category"] in LABELS["category"] else "",
        "assignee": values["assignee"] if values["assignee"] in ("mine", "none") else "",
        "store_id": principal.store_id or parse_id(values["store_id"]) or "",
        "overdue": values["overdue"] == "1",
        "q": values["q"].strip(),
    }
    if not clean["assignee"] and parse_id(values["assignee"]):
        clean["assignee"] = str(parse_id(values["assignee"]))
    return clean


class _Page:
    """A page of tickets put together here (the service's TicketPage has limit/offset)."""

    def __init__(self, *, items: list[Any], total: int) -> None:
        self.items, self.total = items, total


def _listed(db: Session, principal: Principal, chosen: dict[str, Any], page: int) -> Any:
    assignee_id, unassigned = _assignee_filter(principal, chosen["assignee"])
    status = chosen["status"]
    if unassigned:
        # The flow gives a ticket its person when it leaves "new" and never takes them away:
        # "nobody yet" is the new tickets.
        if status not in ("", OPEN_FILTER, "new"):
            return _Page(items=[], total=0)
        status = "new"
    query: dict[str, Any] = {
        "actor": principal, "store_id": chosen["store_id"] or None,
        "priority": chosen["priority"] or None, "category": chosen["category"] or None,
        "assignee_id": assignee_id, "overdue": True if chosen["overdue"] else None,
        "q": chosen["q"] or None,
    }  # fmt: skip
    if status != OPEN_FILTER:
        offset = (page - 1) * PAGE_SIZE
        return tickets.list_tickets(
            db, **query, status=status or None, limit=PAGE_SIZE, offset=offset
        )
    return _open_tickets(db, query, page)


def _open_tickets(db: Session, query: dict[str, Any], page: int) -> _Page:
    """Every open status, newest first. The service lists one status at a time: the newest
    page * PAGE_SIZE of each hold the page wanted, merged."""
    rows: list[Any] = []
    total = 0
    for status in OPEN_STATUSES:
        listed = tickets.list_tickets(db, **query, status=status, limit=page * PAGE_SIZE)
        rows.extend(listed.items)
        total += listed.total
    rows.sort(key=lambda r: (r.opened_at, r.id), reverse=True)
    start = (page - 1) * PAGE_SIZE
    return _Page(items=rows[start : start + PAGE_SIZE], total=total)


@router.get("/office/tickets")
def tickets_page(
    request: Request,
    principal: Reader,
    db: ReadDb,
    status: Text = OPEN_FILTER,
    priority: Text = "",
    category: Text = "",
    assignee: Text = "",
    store_id: Text = "",
    overdue: Text = "",
    q: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    typed = {"status": status, "priority": priority, "category": category, "assignee": assignee,
             "store_id": store_id, "overdue": overdue, "q": q}  # fmt: skip
    chosen = _filters(principal, typed)
    listed = _listed(db, principal, chosen, page)
    now = clock.utcnow()
    context = {
        "rows": listed.items, "total": listed.total, "page": page,
        "pages": page_count(listed.total), "labels": LABELS, "filters": chosen,
        "deadlines": {t.id: deadline_of(t, now) for t in listed.items},
        "members": member_names(request, db, (t.member_id for t in listed.items)),
        "stores": [] if principal.store_id else stores.list_stores(db),
        "staff": handlers(db, principal.store_id or chosen["store_id"] or None),
        "saved": request.query_params.get("saved"),
    }  # fmt: skip
    return render(request, "office/tickets/list.html", context)


# --- a new complaint ------------------------------------------------------------------------


def _new_page(
    request: Request, db: Session, principal: Principal, *, form: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    choices = stores.list_stores(db, store_id=principal.store_id)
    blank = {"client_uuid": str(uuid.uuid4()), "store_id": principal.store_id or "",
             "category": "product", "priority": "normal"}  # fmt: skip
    context = {"stores": choices, "labels": LABELS, "form": form or blank, "error": error,
               "can_pick_store": principal.store_id is None}  # fmt: skip
    return render(request, "office/tickets/new.html", context, status_code=status)


@router.get("/office/tickets/new")
def new_ticket_page(request: Request, principal: Handler, db: ReadDb) -> Response:
    return _new_page(request, db, principal)


def find_member(request: Request, db: Session, text: str) -> int | None:
    """The member a card number or mobile names; blank: none. Exactly one must match."""
    text = text.strip()
    if not text:
        return None
    cipher = cipher_for(request.app.state.settings)
    found = members.lookup(db, query=text, cipher=cipher, limit=2)
    if not found:
        raise ValidationFailed(
            "No member has the card number or mobile {value}.",
            code="ticket.member_unknown", details={"value": text},
        )  # fmt: skip
    if len(found) > 1:
        raise ValidationFailed(
            "Several members match {value}: type the full card number or mobile.",
            code="ticket.member_ambiguous", details={"value": text},
        )  # fmt: skip
    return found[0].id


def find_order(db: Session, principal: Principal, text: str, store_id: int | None) -> int | None:
    """The order with this number, in the ticket's store; blank: none."""
    text = text.strip()
    if not text:
        return None
    rows, _total = history.list_orders(
        db, store_id=principal.store_id or store_id, date_from=None, date_to=None,
        number=text, cashier_id=None, limit=5, offset=0,
    )  # fmt: skip
    for row in rows:
        if row.number == text:
            return row.id
    raise ValidationFailed(
        "No sale has the number {value} in this store.",
        code="ticket.order_unknown", details={"value": text},
    )  # fmt: skip


@router.post("/office/tickets/new")
def new_ticket_submit(
    request: Request,
    principal: Handler,
    db: WriteDb,
    client_uuid: Annotated[str, Form(max_length=100)] = "",
    store_id: FormText = "",
    category: FormText = "",
    priority: FormText = "",
    title: Annotated[str, Form(max_length=400)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    member: Annotated[str, Form(max_length=60)] = "",
    order_number: Annotated[str, Form(max_length=60)] = "",
) -> Response:
    form = {"client_uuid": client_uuid.strip(), "store_id": parse_id(store_id) or "",
            "category": category, "priority": priority, "title": title, "description": description,
            "member": member.strip(), "order_number": order_number.strip()}  # fmt: skip
    try:
        store = principal.store_id or parse_id(store_id)
        if store is None:
            raise ValidationFailed("Choose the store.", code="ticket.store_missing")
        data = _ticket_open(form, store, find_member(request, db, member),
                            find_order(db, principal, order_number, store))  # fmt: skip
        made = tickets.open_ticket(
            db, actor=principal, data=data, source="office", settings=request.app.state.settings
        )
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _new_page(request, db, principal, form=form, error=error, status=exc.status)
    return RedirectResponse(f"/office/tickets/{made.id}?saved=opened", status_code=303)


OPEN_MESSAGES = {
    "category": (_("Choose a category."), "ticket.category_invalid"),
    "priority": (_("Choose a priority."), "ticket.priority_invalid"),
    "title": (_("Give the complaint a title of 1 to 120 characters."), "ticket.title_invalid"),
    "description": (
        _("Describe the complaint in 1 to 4000 characters."), "ticket.description_invalid",
    ),
}  # fmt: skip


def _ticket_open(
    form: dict[str, Any], store_id: int, member_id: int | None, order_id: int | None
) -> TicketOpen:
    values = {
        "store_id": store_id, "category": form["category"], "priority": form["priority"],
        "title": form["title"].strip(), "description": form["description"].strip(),
        "member_id": member_id, "order_id": order_id,
        "client_uuid": form_uuid(form["client_uuid"]),
    }  # fmt: skip
    return validated(TicketOpen, values, OPEN_MESSAGES)


router.include_router(pages_tickets_detail.router)
