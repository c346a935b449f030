"""Working a complaint ticket: assign, start, resolve, close, reopen, comment.

The flow is new -> assigned -> in_progress -> resolved -> closed; a resolved or closed ticket
may be reopened (back to assigned, with a new resolution deadline counted from the reopen).
A step that skips the flow is a 409 ``ticket.bad_transition``. Each status change is one
conditional UPDATE on the status (see :func:`shouyin.inventory.states.move_status`): of two
managers pressing "resolve" at once, one wins and the other gets the 409.

The first response (``first_response_at``) is the first assignment, comment or status change
made by staff after the ticket opened; attachments and the system's own steps do not count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.models import User
from shouyin.auth.permissions import permissions_for
from shouyin.auth.principal import Principal
from shouyin.config import Settings
from shouyin.errors import Conflict, ValidationFailed
from shouyin.inventory.states import move_status
from shouyin.service import compensation, ticket_follow_up
from shouyin.service.deadlines import deadlines_for
from shouyin.service.models import Ticket
from shouyin.service.ticket_schemas import TicketDetail, TicketResolve
from shouyin.service.ticket_views import HANDLE, detail, load
from shouyin.service.tickets import add_event, responded
from shouyin.shared import clock

ASSIGNABLE = ("new", "assigned", "in_progress")
REOPENABLE = ("resolved", "closed")


def bad_transition(current: str, wanted: str) -> Conflict:
    return Conflict(
        "A ticket cannot go from {from_status} to {to_status}.",
        code="ticket.bad_transition",
        details={"from_status": current, "to_status": wanted},
    )


def workable(session: Session, ticket_id: int, actor: Principal) -> Ticket:
    """The ticket, if the actor handles complaints in its store (403 otherwise)."""
    actor.require(HANDLE)
    ticket = load(session, ticket_id)
    actor.require_store(ticket.store_id)
    return ticket


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _move(
    session: Session, ticket: Ticket, *, to: str, actor: Principal, at: datetime,
    allowed: tuple[str, ...], comment: str | None = None, action: str | None = None,
    **values: Any,
) -> str:  # fmt: skip
    """Move the ticket to ``to`` if its status is one of ``allowed``; returns the old one."""
    before = ticket.status
    if before not in allowed:
        raise bad_transition(before, to)
    move_status(
        session, ticket, before, to, lambda now: bad_transition(now, to), updated_at=at, **values
    )
    add_event(session, ticket_id=ticket.id, kind="status", user_id=actor.user_id, at=at,
              comment=comment, from_status=before, to_status=to,
              data={"action": action} if action else None)  # fmt: skip
    responded(session, ticket_id=ticket.id, at=at)
    audit.record(
        session, actor=actor, action=f"ticket.{action or to}", entity="ticket", entity_id=ticket.id,
        store_id=ticket.store_id, before={"status": before},
        after={"status": to, "number": ticket.number},
    )  # fmt: skip
    return before


# --- assign ---------------------------------------------------------------------------------


def _assignee(session: Session, user_id: int, store_id: int) -> User:
    """A user of the ticket's store, or of HQ, who can work complaints."""
    user = session.get(User, user_id)
    fits = (
        user is not None and user.active and user.store_id in (None, store_id)
        and HANDLE in permissions_for(user.role)
    )  # fmt: skip
    if not fits:
        raise ValidationFailed(
            "A ticket goes to an active user of its store or of HQ who handles complaints.",
            code="ticket.assignee_invalid",
            details={"user_id": user_id},
        )
    assert user is not None
    return user


def assign(
    session: Session, *, ticket_id: int, user_id: int, actor: Principal,
    comment: str | None = None, settings: Settings | None = None,
) -> TicketDetail:  # fmt: skip
    """Give the ticket to a person: new -> assigned; an assigned or in-progress ticket may be
    given to someone else (its status stays)."""
    ticket = workable(session, ticket_id, actor)
    user = _assignee(session, user_id, ticket.store_id)
    before, at = ticket.status, clock.utcnow()
    if before not in ASSIGNABLE:
        raise bad_transition(before, "assigned")
    after = "assigned" if before == "new" else before
    previous = ticket.assignee_id
    move_status(
        session, ticket, before, after, lambda now: bad_transition(now, "assigned"),
        assignee_id=user.id, updated_at=at,
    )  # fmt: skip
    add_event(
        session, ticket_id=ticket.id, kind="assigned", user_id=actor.user_id, at=at,
        comment=_clean(comment), from_status=before, to_status=after,
        data={"assignee_id": user.id, "assignee_name": user.display_name,
              "previous_id": previous},
    )  # fmt: skip
    responded(session, ticket_id=ticket.id, at=at)
    audit.record(
        session, actor=actor, action="ticket.assign", entity="ticket", entity_id=ticket.id,
        store_id=ticket.store_id, before={"status": before, "assignee_id": previous},
        after={"status": after, "assignee_id": user.id, "number": ticket.number},
    )  # fmt: skip
    return detail(session, ticket_id=ticket.id, actor=actor, settings=settings)


# --- status steps ---------------------------------------------------------------------------


def start(
    session: Session,
    *,
    ticket_id: int,
    actor: Principal,
    comment: str | None = None,
    settings: Settings | None = None,
) -> TicketDetail:
    """assigned -> in_progress: the assignee (or a manager) starts working it."""
    ticket = workable(session, ticket_id, actor)
    _move(session, ticket, to="in_progress", actor=actor, at=clock.utcnow(),
          allowed=("assigned",), comment=_clean(comment))  # fmt: skip
    return detail(session, ticket_id=ticket.id, actor=actor, settings=settings)


def resolve(
    session: Session, *, ticket_id: int, data: TicketResolve, actor: Principal,
    settings: Settings,
) -> TicketDetail:  # fmt: skip
    """in_progress -> resolved with the outcome and what the customer was given; the member
    is then asked the follow-up question (by email after the commit, when set up)."""
    ticket = workable(session, ticket_id, actor)
    outcome = _clean(data.outcome)
    if outcome is None:
        raise ValidationFailed("Describe the outcome.", code="ticket.outcome_required")
    at = clock.utcnow()
    _move(session, ticket, to="resolved", actor=actor, at=at, allowed=("in_progress",),
          outcome=outcome, resolved_at=at, closed_at=None)  # fmt: skip
    for item in data.compensations:
        compensation.give(session, ticket_id=ticket.id, data=item, actor=actor, at=at)
    ticket_follow_up.queue_mail(session, ticket=ticket, settings=settings)
    return detail(session, ticket_id=ticket.id, actor=actor, settings=settings)


def close(
    session: Session,
    *,
    ticket_id: int,
    actor: Principal,
    comment: str | None = None,
    settings: Settings | None = None,
) -> TicketDetail:
    """resolved -> closed."""
    ticket = workable(session, ticket_id, actor)
    at = clock.utcnow()
    _move(session, ticket, to="closed", actor=actor, at=at, allowed=("resolved",),
          comment=_clean(comment), closed_at=at)  # fmt: skip
    return detail(session, ticket_id=ticket.id, actor=actor, settings=settings)


def reopen(
    session: Session, *, ticket_id: int, reason: str, actor: Principal, settings: Settings
) -> TicketDetail:
    """resolved or closed -> assigned (to whoever had it), with a reason; the resolution
    deadline starts again from now, and missing it escalates again (a breach compensates
    once all the same: compensation is unique per ticket and reason)."""
    ticket = workable(session, ticket_id, actor)
    text = _clean(reason)
    if text is None:
        raise ValidationFailed("Give a reason for reopening.", code="ticket.reason_required")
    at = clock.utcnow()
    _, resolve_by = deadlines_for(
        session, store_id=ticket.store_id, priority=ticket.priority, start=at, settings=settings
    )
    to = "assigned" if ticket.assignee_id is not None else "new"
    _move(session, ticket, to=to, actor=actor, at=at, allowed=REOPENABLE, comment=text,
          action="reopen", resolve_by=resolve_by, resolved_at=None, closed_at=None,
          resolution_breached_at=None, reopened=Ticket.reopened + 1)  # fmt: skip
    return detail(session, ticket_id=ticket.id, actor=actor, settings=settings)


# --- comments -------------------------------------------------------------------------------


def comment(
    session: Session,
    *,
    ticket_id: int,
    text: str,
    actor: Principal,
    settings: Settings | None = None,
) -> TicketDetail:
    """A note on the timeline, in any status."""
    ticket = workable(session, ticket_id, actor)
    cleaned = _clean(text)
    if cleaned is None:
        raise ValidationFailed("Write a comment.", code="ticket.comment_required")
    at = clock.utcnow()
    add_event(session, ticket_id=ticket.id, kind="comment", user_id=actor.user_id, at=at,
              comment=cleaned)  # fmt: skip
    responded(session, ticket_id=ticket.id, at=at)
    ticket.updated_at = at
    session.flush()
    return detail(session, ticket_id=ticket.id, actor=actor, settings=settings)
