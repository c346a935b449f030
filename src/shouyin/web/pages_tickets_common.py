"""What the complaint pages share: who may see them, labels, the member's masked name and the
deadline a ticket is working against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.auth import service as users
from shouyin.auth.dependencies import require
from shouyin.auth.models import User
from shouyin.auth.permissions import permissions_for
from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.customers.keys import cipher_for
from shouyin.customers.models import Member
from shouyin.service.ticket_schemas import OPEN_STATUSES, TicketSummary
from shouyin.shared.clock import as_utc
from shouyin.web.office_common import _

# Reading the queue and a ticket: everyone who reads service reports (store managers, HQ,
# auditors). Customers' words stay hidden from those without complaints.handle (the service
# leaves them out); working a ticket needs complaints.handle.
Reader = Annotated[Principal, Depends(require("feedback.read"))]
Handler = Annotated[Principal, Depends(require("complaints.handle"))]
HANDLE = "complaints.handle"

STATUS_LABELS = {
    "new": _("New ticket"),
    "assigned": _("Assigned"),
    "in_progress": _("In progress"),
    "resolved": _("Ticket resolved"),
    "closed": _("Ticket closed"),
}
PRIORITY_LABELS = {"urgent": _("Urgent"), "high": _("High"), "normal": _("Normal")}
CATEGORY_LABELS = {
    "product": _("Product"),
    "service": _("Service"),
    "price": _("Pricing"),
    "environment": _("Store environment"),
    "other": _("Other"),
}
SOURCE_LABELS = {
    "till": _("At the till"),
    "office": _("Back office"),
    "survey": _("Survey answer"),
    "api": _("Through the API"),
}
COMPENSATION_LABELS = {"coupon": _("Coupon"), "points": _("Points given"), "refund": _("Refund")}
LABELS = {
    "status": STATUS_LABELS,
    "priority": PRIORITY_LABELS,
    "category": CATEGORY_LABELS,
    "source": SOURCE_LABELS,
    "compensation": COMPENSATION_LABELS,
}


def masked_name(name: str) -> str:
    """The first character and two stars ("张三丰" -> "张**"): enough to tell customers apart in a queue, nothing more."""
    name = name.strip()
    return name[:1] + "**" if name else ""


def member_names(request: Request, db: Session, member_ids: Iterable[int | None]) -> dict[int, str]:
    """Masked names of the members, in one query: the queue never shows a full name."""
    wanted = {m for m in member_ids if m is not None}
    if not wanted:
        return {}
    cipher = cipher_for(request.app.state.settings)
    found = db.scalars(select(Member).where(Member.id.in_(wanted)))
    return {m.id: masked_name(members.summary(m, cipher).name) for m in found}


def handlers(db: Session, store_id: int | None) -> list[User]:
    """Who tickets can go to: active users who handle complaints, of the store (and HQ)."""
    return [
        u for u in users.list_users(db)
        if u.active and HANDLE in permissions_for(u.role)
        and (store_id is None or u.store_id in (None, store_id))
    ]  # fmt: skip


@dataclass(frozen=True)
class Deadline:
    """The deadline an open ticket works against now, and the minutes left (negative: late)."""

    kind: str  # "respond" until the first response, then "resolve"
    at: datetime
    minutes_left: int
    overdue: bool


def deadline_of(ticket: TicketSummary, now: datetime) -> Deadline | None:
    if ticket.status not in OPEN_STATUSES:
        return None
    responded = ticket.first_response_at is not None
    kind, at = ("resolve", ticket.resolve_by) if responded else ("respond", ticket.respond_by)
    left = (as_utc(at) - now).total_seconds()
    # Whole minutes toward zero, so "0 min" shows in the last minute before a deadline.
    minutes = int(left // 60) if left >= 0 else -int(-left // 60)
    return Deadline(kind=kind, at=at, minutes_left=minutes, overdue=ticket.overdue or left < 0)
