"""Compensation for a complaint: a coupon, points, or the reference of a refund.

A coupon is issued from a coupon template to the ticket's member (the template's validity
and per-member limit apply, source "complaint"); points go on the member's loyalty ledger
(kind "compensation", a new lot that expires as the shop's points rules say, reason
"complaint TK-..."); a refund is only its reference: the money goes back at the till.

Rights: by hand (at resolve, or on its own) it needs ``complaints.handle`` in the ticket's
store, and for a coupon also ``coupons.issue``, for points ``points.adjust`` -- the same
rights the loyalty pages ask for, so a ticket is no back door to free coupons or points.
``actor`` None is the system (breach compensation by the SLA check).

Each (ticket, reason) is granted once: the row is inserted first, in a savepoint, and the
unique key refuses a second (or concurrent) grant of the same reason before anything is
issued. Breach reasons are "breach_response"/"breach_resolution"; by hand "resolution-N".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.errors import Conflict, ValidationFailed
from shouyin.loyalty import coupons, ledger
from shouyin.loyalty import points as loyalty_points
from shouyin.loyalty.models import Coupon
from shouyin.service.models import Ticket, TicketCompensation
from shouyin.service.ticket_schemas import MAX_POINTS, CompensationIn
from shouyin.service.ticket_views import HANDLE, load
from shouyin.service.tickets import add_event

KINDS = ("coupon", "points", "refund")
COUPON_SOURCE = "complaint"
MANUAL = "resolution-"


def _(text: str) -> str:
    """Marks a timeline note for translation: stored as is, shown translated."""
    return text


NO_MEMBER = _("No compensation: the ticket has no member.")


def grant(
    session: Session, *, ticket_id: int, kind: str, reason: str, actor: Principal | None,
    at: datetime, coupon_template_id: int | None = None, points: int | None = None,
    refund_reference: str | None = None,
) -> TicketCompensation | None:  # fmt: skip
    """Give the ticket's member a compensation once per ``reason``.

    None when that reason was granted already, or when a coupon or points were meant for a
    ticket without a member (a note on the timeline says so)."""
    ticket = load(session, ticket_id)
    if actor is not None:
        _check_rights(actor, ticket, kind)
    reference = _check_input(kind, coupon_template_id, points, refund_reference)
    if kind != "refund" and ticket.member_id is None:
        add_event(session, ticket_id=ticket.id, kind="note", user_id=_user(actor), at=at,
                  data={"message": NO_MEMBER, "kind": kind, "reason": reason})  # fmt: skip
        return None
    row = TicketCompensation(
        ticket_id=ticket.id, reason=reason, kind=kind, points=points if kind == "points" else None,
        refund_reference=reference, user_id=_user(actor), at=at,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None  # granted already (or a moment ago by another request)
    code = _give(session, ticket, row, actor, at, coupon_template_id)
    _record(session, ticket, row, actor, at, code, coupon_template_id)
    return row


def give(
    session: Session, *, ticket_id: int, data: CompensationIn, actor: Principal, at: datetime
) -> TicketCompensation | None:
    """A compensation by hand (reason resolution-1, resolution-2, ...): the next free number
    is taken, so two handlers giving something at the same moment both give it. None: the
    ticket has no member for a coupon or points."""
    for _attempt in range(5):
        taken = session.scalar(
            select(func.count()).where(
                TicketCompensation.ticket_id == ticket_id,
                TicketCompensation.reason.startswith(MANUAL),
            )
        )
        reason = f"{MANUAL}{int(taken or 0) + 1}"
        granted = grant(
            session, ticket_id=ticket_id, kind=data.kind, reason=reason, actor=actor, at=at,
            coupon_template_id=data.coupon_template_id, points=data.points,
            refund_reference=data.refund_reference,
        )  # fmt: skip
        if granted is not None or _skipped(session, ticket_id, data.kind):
            return granted
    raise Conflict("Too many compensations at once; try again.", code="ticket.compensation_busy")


def _skipped(session: Session, ticket_id: int, kind: str) -> bool:
    """A coupon or points for a ticket without a member: grant noted it and gave nothing."""
    return kind != "refund" and load(session, ticket_id).member_id is None


def _user(actor: Principal | None) -> int | None:
    return actor.user_id if actor is not None else None


def _check_rights(actor: Principal, ticket: Ticket, kind: str) -> None:
    actor.require(HANDLE)
    actor.require_store(ticket.store_id)
    if kind == "coupon":
        actor.require("coupons.issue")
    elif kind == "points":
        actor.require("points.adjust")


def _check_input(
    kind: str, template_id: int | None, amount: int | None, reference: str | None
) -> str | None:
    """The refund reference, trimmed; the other kinds need their own field."""
    if kind not in KINDS:
        raise ValidationFailed(
            "Compensation is a coupon, points or a refund reference.",
            code="ticket.compensation_kind",
        )
    if kind == "coupon" and template_id is None:
        raise ValidationFailed(
            "Choose the coupon template to give.", code="ticket.compensation_template"
        )
    if kind == "points" and (amount is None or not 1 <= amount <= MAX_POINTS):
        raise ValidationFailed(
            "Give 1 to {limit} points.", code="ticket.compensation_points",
            details={"limit": MAX_POINTS},
        )  # fmt: skip
    if kind == "refund":
        text = (reference or "").strip()
        if not 1 <= len(text) <= 60:
            raise ValidationFailed(
                "Give the refund's reference (1 to 60 characters).",
                code="ticket.compensation_refund",
            )
        return text
    return None


def _give(
    session: Session, ticket: Ticket, row: TicketCompensation, actor: Principal | None,
    at: datetime, template_id: int | None,
) -> str | None:  # fmt: skip
    """Issue the coupon or post the points; the coupon's code."""
    if row.kind == "refund":
        return None
    assert ticket.member_id is not None
    members.get_member(session, member_id=ticket.member_id)
    if row.kind == "coupon":
        assert template_id is not None
        coupon = _issue_coupon(session, ticket.member_id, template_id, _user(actor), at)
        row.coupon_id = coupon.id
        session.flush()
        return coupon.code
    assert row.points is not None
    _post_points(session, ticket, row.points, actor, at)
    return None


def _issue_coupon(
    session: Session, member_id: int, template_id: int, user_id: int | None, at: datetime
) -> Coupon:
    coupon = coupons.issue_one(
        session, template_id=template_id, member_id=member_id, source=COUPON_SOURCE,
        user_id=user_id, at=at,
    )  # fmt: skip
    if coupon is None:
        raise Conflict(
            "The member already holds as many coupons of this template as it allows.",
            code="ticket.coupon_limit",
        )
    return coupon


def _post_points(
    session: Session, ticket: Ticket, amount: int, actor: Principal | None, at: datetime
) -> None:
    assert ticket.member_id is not None
    conn = session.connection()
    change = ledger.Change(
        kind="compensation", points=amount, ref_type="ticket", ref_id=ticket.id,
        store_id=ticket.store_id, user_id=_user(actor), reason=f"complaint {ticket.number}",
    )  # fmt: skip
    ledger.post(conn, member_id=ticket.member_id, change=change, at=at)
    today = loyalty_points.today_for(session, store_id=ticket.store_id, at=at)
    loyalty_points.earn_lot(
        session, conn, member_id=ticket.member_id, points=amount, today=today, at=at
    )


def _record(
    session: Session, ticket: Ticket, row: TicketCompensation, actor: Principal | None,
    at: datetime, code: str | None, template_id: int | None,
) -> None:  # fmt: skip
    what: dict[str, Any] = {"kind": row.kind, "reason": row.reason}
    if row.kind == "coupon":
        what |= {"coupon_template_id": template_id, "coupon_code": code}
    elif row.kind == "points":
        what |= {"points": row.points}
    else:
        what |= {"refund_reference": row.refund_reference}
    add_event(session, ticket_id=ticket.id, kind="compensated", user_id=_user(actor), at=at,
              data=what)  # fmt: skip
    audit.record(
        session, actor=actor, action="ticket.compensate", entity="ticket", entity_id=ticket.id,
        store_id=ticket.store_id,
        after={**what, "number": ticket.number, "member_id": ticket.member_id},
    )  # fmt: skip
