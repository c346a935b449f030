"""Complaint tickets (投诉): opening one, the timeline, and the member's follow-up answer.

A ticket opens from the till or the office (staff with ``complaints.open``, store-bound
staff only for their store), from a low survey answer (``actor`` None, source "survey") or
through the API. It gets a number of its store's day (TK-S01-20261123-001) and its two
deadlines (first response, resolution) from :mod:`shouyin.service.deadlines`.

The status flow lives in :mod:`shouyin.service.ticket_flow`, reading in
:mod:`shouyin.service.ticket_views`, images in :mod:`shouyin.service.attachments` and
compensation in :mod:`shouyin.service.compensation`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.config import Settings
from shouyin.customers import service as members
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.sales.models import Order
from shouyin.service.deadlines import deadlines_for
from shouyin.service.models import Ticket, TicketEvent
from shouyin.service.ticket_schemas import SOURCES, TicketDetail, TicketOpen
from shouyin.service.ticket_views import detail, list_tickets, load
from shouyin.shared import clock
from shouyin.shared.clock import business_date
from shouyin.shared.numbering import numbers_of
from shouyin.stores.models import Store

__all__ = ["add_event", "detail", "list_tickets", "open_or_replay", "open_ticket",
           "record_follow_up", "responded"]  # fmt: skip
OPEN_PERMISSION = "complaints.open"


def open_ticket(
    session: Session, *, actor: Principal | None, data: TicketOpen, source: str,
    settings: Settings, survey_answer_id: int | None = None,
) -> TicketDetail:  # fmt: skip
    """Open a complaint (or return the one a retry with the same UUID or survey made)."""
    return open_or_replay(
        session, actor=actor, data=data, source=source, settings=settings,
        survey_answer_id=survey_answer_id,
    )[0]  # fmt: skip


def open_or_replay(
    session: Session, *, actor: Principal | None, data: TicketOpen, source: str,
    settings: Settings, survey_answer_id: int | None = None,
) -> tuple[TicketDetail, bool]:  # fmt: skip
    """As :func:`open_ticket`, and whether it was opened now (False: a retry)."""
    if actor is not None:
        actor.require(OPEN_PERMISSION)
        actor.require_store(data.store_id)
    if source not in SOURCES:
        raise ValueError(f"unknown ticket source {source!r}")
    existing = _existing(session, data, survey_answer_id)
    if existing is not None:
        return detail(session, ticket_id=existing, actor=actor, settings=settings), False
    store = _store(session, data.store_id)
    now = clock.utcnow()
    values = _values(session, store, data, source, now, settings) | {
        "survey_answer_id": survey_answer_id, "opened_by": actor.user_id if actor else None,
    }  # fmt: skip
    ticket = _insert_numbered(session, store, values, now)
    if ticket is None:  # a retry got there first
        found = _existing(session, data, survey_answer_id)
        assert found is not None
        return detail(session, ticket_id=found, actor=actor, settings=settings), False
    add_event(session, ticket_id=ticket.id, kind="opened", user_id=values["opened_by"], at=now,
              to_status="new", data={"source": source})  # fmt: skip
    audit.record(
        session, actor=actor, action="ticket.open", entity="ticket", entity_id=ticket.id,
        store_id=store.id,
        after={"number": ticket.number, "category": data.category, "priority": data.priority,
               "source": source, "member_id": values["member_id"], "order_id": data.order_id},
    )  # fmt: skip
    return detail(session, ticket_id=ticket.id, actor=actor, settings=settings), True


def _values(
    session: Session, store: Store, data: TicketOpen, source: str, now: datetime,
    settings: Settings,
) -> dict[str, Any]:  # fmt: skip
    """The new ticket's columns, checked: texts, member and order, deadlines."""
    title, description = _texts(data)
    member_id = _member_and_order(session, data)
    respond_by, resolve_by = deadlines_for(
        session, store_id=store.id, priority=data.priority, start=now, settings=settings
    )
    return {
        "client_uuid": str(data.client_uuid) if data.client_uuid else None,
        "store_id": store.id, "category": data.category, "priority": data.priority,
        "status": "new", "source": source, "title": title, "description": description,
        "member_id": member_id, "order_id": data.order_id, "opened_at": now,
        "respond_by": respond_by, "resolve_by": resolve_by, "updated_at": now,
    }  # fmt: skip


def _existing(session: Session, data: TicketOpen, survey_answer_id: int | None) -> int | None:
    if data.client_uuid is not None:
        found = session.scalar(select(Ticket.id).where(Ticket.client_uuid == str(data.client_uuid)))
        if found is not None:
            return int(found)
    if survey_answer_id is not None:
        found = session.scalar(select(Ticket.id).where(Ticket.survey_answer_id == survey_answer_id))
        if found is not None:
            return int(found)
    return None


def _store(session: Session, store_id: int) -> Store:
    store = session.get(Store, store_id)
    if store is None or not store.active:
        raise NotFound(
            "Store {store_id} is unknown.", code="store.not_found", details={"store_id": store_id}
        )
    return store


def _texts(data: TicketOpen) -> tuple[str, str]:
    title, description = data.title.strip(), data.description.strip()
    if not 1 <= len(title) <= 120:
        raise ValidationFailed("The title needs 1 to 120 characters.", code="ticket.title_invalid")
    if not 1 <= len(description) <= 4000:
        raise ValidationFailed(
            "The description needs 1 to 4000 characters.", code="ticket.description_invalid"
        )
    return title, description


def _member_and_order(session: Session, data: TicketOpen) -> int | None:
    """The member of the complaint: as given, else the member of the order."""
    member_id = data.member_id
    if data.order_id is not None:
        row = session.execute(
            select(Order.store_id, Order.member_id).where(Order.id == data.order_id)
        ).first()
        if row is None:
            raise NotFound("No such order.", code="ticket.order_not_found")
        if row.store_id != data.store_id:
            raise ValidationFailed(
                "The order was not made in this store.", code="ticket.order_other_store"
            )
        if member_id is None:
            member_id = row.member_id
    if member_id is not None:
        members.ensure_active(session, member_id=member_id)
    return member_id


def _insert_numbered(
    session: Session, store: Store, values: dict[str, Any], now: datetime
) -> Ticket | None:
    """Insert with the next number of the store's day; None when a retry of the same UUID
    or survey answer was stored first. Two writers may pick the same number: the unique key
    refuses the second, which takes the next one (in a savepoint, so nothing else is lost)."""
    day = business_date(now, store.timezone, store.day_cutoff_minutes)
    stem = f"TK-{store.code}-{day:%Y%m%d}-"
    for _ in range(5):
        count = session.scalar(
            select(func.count()).select_from(Ticket).where(numbers_of(Ticket.number, stem))
        )
        count = int(count or 0)
        ticket = Ticket(number=f"{stem}{count + 1:03d}", **values)
        try:
            with session.begin_nested():
                session.add(ticket)
                session.flush()
            return ticket
        except IntegrityError:
            if _taken_key(session, values):
                return None
    raise Conflict("Too many tickets at once; try again.", code="ticket.number_busy")


def _taken_key(session: Session, values: dict[str, Any]) -> bool:
    for column in ("client_uuid", "survey_answer_id"):
        if values[column] is not None:
            query = select(Ticket.id).where(getattr(Ticket, column) == values[column])
            if session.scalar(query) is not None:
                return True
    return False


# --- the timeline ---------------------------------------------------------------------------


def add_event(
    session: Session, *, ticket_id: int, kind: str, user_id: int | None, at: datetime,
    comment: str | None = None, from_status: str | None = None, to_status: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """Append one step to the ticket's timeline (who, when, what, an optional comment)."""
    session.add(
        TicketEvent(ticket_id=ticket_id, kind=kind, user_id=user_id, at=at, comment=comment,
                    from_status=from_status, to_status=to_status, data=data)
    )  # fmt: skip
    session.flush()


def responded(session: Session, *, ticket_id: int, at: datetime) -> None:
    """The first response: the first assignment, comment or status change by staff after
    the ticket opened. Set once (a conditional UPDATE: of two at once, the first counts)."""
    session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.first_response_at.is_(None))
        .values(first_response_at=at)
        .execution_options(synchronize_session=False)
    )


# --- the follow-up question -----------------------------------------------------------------


def record_follow_up(session: Session, *, ticket_id: int, score: int, at: datetime) -> None:
    """The member's answer (1..5) to "were you satisfied with how we handled it?".

    Only after the ticket was resolved; once (409 ``ticket.follow_up_answered``)."""
    if not 1 <= score <= 5:
        raise ValidationFailed("The score must be 1 to 5.", code="ticket.follow_up_score")
    ticket = load(session, ticket_id)
    if ticket.status not in ("resolved", "closed"):
        raise Conflict("The ticket is not resolved yet.", code="ticket.follow_up_not_ready")
    done = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.follow_up_score.is_(None))
        .values(follow_up_score=score, follow_up_at=at)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(
            "The follow-up question was already answered.", code="ticket.follow_up_answered"
        )
    add_event(session, ticket_id=ticket_id, kind="follow_up", user_id=None, at=at,
              data={"score": score})  # fmt: skip
    session.refresh(ticket)
