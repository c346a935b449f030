"""Reading complaint tickets: the list with its filters, and one ticket with its timeline,
attachments and compensations.

Who may read: staff who open complaints, who handle them, or who read feedback reports.
Store-bound staff read only their store's tickets. Customers' free text (the description,
comments, the survey comment) goes only to ``complaints.handle``; everyone else gets None.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from shouyin.auth.models import User
from shouyin.auth.permissions import Role, permissions_for
from shouyin.auth.principal import Principal
from shouyin.config import Settings
from shouyin.errors import NotFound
from shouyin.loyalty.models import Coupon
from shouyin.sales.models import Order
from shouyin.service import survey_links
from shouyin.service.models import (
    SurveyAnswer,
    Ticket,
    TicketAttachment,
    TicketCompensation,
    TicketEvent,
)
from shouyin.service.ticket_schemas import (
    OPEN_STATUSES,
    AttachmentPublic,
    CompensationPublic,
    SurveyBrief,
    TicketDetail,
    TicketEventPublic,
    TicketPage,
    TicketSummary,
)
from shouyin.shared import clock
from shouyin.shared.clock import as_utc
from shouyin.stores.models import Store

HANDLE = "complaints.handle"
READ_PERMISSIONS = ("complaints.handle", "complaints.open", "feedback.read")
URL = "/api/v1/tickets"


def require_reader(actor: Principal) -> None:
    if not any(actor.can(p) for p in READ_PERMISSIONS):
        actor.require(HANDLE)  # raises, naming the permission that would do


def load(session: Session, ticket_id: int, *, for_update: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.id == ticket_id)
    ticket = session.scalars(query.with_for_update() if for_update else query).first()
    if ticket is None:
        raise NotFound("No such ticket.", code="ticket.not_found")
    return ticket


def visible(session: Session, ticket_id: int, actor: Principal) -> Ticket:
    """The ticket, if the actor may read it (403 for another store's staff)."""
    require_reader(actor)
    ticket = load(session, ticket_id)
    actor.require_store(ticket.store_id)
    return ticket


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Open, and past the first-response deadline without a response, or past resolution."""
    return and_(
        Ticket.status.in_(OPEN_STATUSES),
        or_(
            and_(Ticket.first_response_at.is_(None), Ticket.respond_by < now),
            Ticket.resolve_by < now,
        ),
    )


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    if ticket.status not in OPEN_STATUSES:
        return False
    late_response = ticket.first_response_at is None and as_utc(ticket.respond_by) < now
    return late_response or as_utc(ticket.resolve_by) < now


# --- the list -------------------------------------------------------------------------------


def list_tickets(
    session: Session, *, actor: Principal, store_id: int | None = None,
    status: str | None = None, priority: str | None = None, category: str | None = None,
    assignee_id: int | None = None, member_id: int | None = None, overdue: bool | None = None,
    q: str | None = None, limit: int = 50, offset: int = 0,
) -> TicketPage:  # fmt: skip
    """Newest first. ``q`` matches the number or the title; ``overdue`` as on the detail."""
    require_reader(actor)
    store_id = actor.scope_store(store_id)
    now = clock.utcnow()
    where: list[ColumnElement[bool]] = []
    for column, value in (
        (Ticket.store_id, store_id), (Ticket.status, status), (Ticket.priority, priority),
        (Ticket.category, category), (Ticket.assignee_id, assignee_id),
        (Ticket.member_id, member_id),
    ):  # fmt: skip
        if value is not None:
            where.append(column == value)
    if overdue is not None:
        condition = overdue_condition(now)
        where.append(condition if overdue else ~condition)
    if q and q.strip():
        pattern = f"%{q.strip()}%"
        where.append(or_(Ticket.number.ilike(pattern), Ticket.title.ilike(pattern)))
    total = session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    query = (
        _summary_query()
        .where(*where)
        .order_by(Ticket.opened_at.desc(), Ticket.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [_summary(t, code, name, now) for t, code, name in session.execute(query)]
    return TicketPage(items=items, total=int(total), limit=limit, offset=offset)


def _summary_query() -> Any:
    assignee = aliased(User)
    return (
        select(Ticket, Store.code, assignee.display_name)
        .join(Store, Store.id == Ticket.store_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        # Status steps are conditional UPDATEs: read the row as it is now, not as loaded.
        .execution_options(populate_existing=True)
    )


def _summary_fields(ticket: Ticket, store_code: str, assignee: str | None, now: datetime) -> Any:
    return {
        "id": ticket.id, "number": ticket.number, "store_id": ticket.store_id,
        "store_code": store_code, "category": ticket.category, "priority": ticket.priority,
        "status": ticket.status, "source": ticket.source, "title": ticket.title,
        "member_id": ticket.member_id, "order_id": ticket.order_id,
        "assignee_id": ticket.assignee_id, "assignee_name": assignee,
        "opened_at": ticket.opened_at, "respond_by": ticket.respond_by,
        "resolve_by": ticket.resolve_by, "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at, "closed_at": ticket.closed_at,
        "reopened": ticket.reopened, "overdue": is_overdue(ticket, now),
    }  # fmt: skip


def _summary(ticket: Ticket, store_code: str, assignee: str | None, now: datetime) -> TicketSummary:
    return TicketSummary(**_summary_fields(ticket, store_code, assignee, now))


# --- one ticket -----------------------------------------------------------------------------


def detail(
    session: Session, *, ticket_id: int, actor: Principal | None, settings: Settings | None = None
) -> TicketDetail:
    """One ticket with its timeline. ``actor`` None: the system (sees everything).

    ``settings`` is needed only for the follow-up link; without it the link is None."""
    if actor is not None:
        visible(session, ticket_id, actor)
    else:
        load(session, ticket_id)  # 404 for an unknown ticket
    text = actor is None or actor.can(HANDLE)
    row = session.execute(_summary_query().where(Ticket.id == ticket_id)).one()
    ticket, store_code, assignee = row
    store = session.get(Store, ticket.store_id)
    assert store is not None
    names = _user_names(session, ticket)
    return TicketDetail(
        **_summary_fields(ticket, store_code, assignee, clock.utcnow()),
        description=ticket.description if text else None, text_visible=text,
        store_name=store.name, order_number=_order_number(session, ticket.order_id),
        survey_answer_id=ticket.survey_answer_id, opened_by=ticket.opened_by,
        opened_by_name=names.get(ticket.opened_by or 0),
        response_breached_at=ticket.response_breached_at,
        resolution_breached_at=ticket.resolution_breached_at, outcome=ticket.outcome,
        follow_up_score=ticket.follow_up_score, follow_up_at=ticket.follow_up_at,
        follow_up_url=follow_up_link(ticket, settings) if text else None,
        updated_at=ticket.updated_at, survey=_survey(session, ticket.survey_answer_id, text),
        events=_events(session, ticket.id, names, text),
        attachments=attachments_of(session, ticket.id),
        compensations=_compensations(session, ticket.id),
    )  # fmt: skip


def follow_up_link(ticket: Ticket, settings: Settings | None) -> str | None:
    """The member's follow-up link: once resolved, until answered."""
    if settings is None or ticket.follow_up_score is not None:
        return None
    if ticket.status not in ("resolved", "closed"):
        return None
    return survey_links.follow_up_url(ticket.id, settings)


def _user_names(session: Session, ticket: Ticket) -> dict[int, str]:
    ids = select(TicketEvent.user_id).where(TicketEvent.ticket_id == ticket.id)
    query = select(User.id, User.display_name).where(
        or_(User.id.in_(ids), User.id == ticket.opened_by)
    )
    return {int(i): str(n) for i, n in session.execute(query)}


def _order_number(session: Session, order_id: int | None) -> str | None:
    if order_id is None:
        return None
    return session.scalar(select(Order.number).where(Order.id == order_id))


def _survey(session: Session, answer_id: int | None, text: bool) -> SurveyBrief | None:
    if answer_id is None:
        return None
    answer = session.get(SurveyAnswer, answer_id)
    if answer is None:
        return None
    return SurveyBrief(
        id=answer.id, satisfaction=answer.satisfaction, nps=answer.nps,
        tags=list(answer.tags or []), comment=answer.comment if text else None,
        submitted_at=answer.submitted_at,
    )  # fmt: skip


def _events(
    session: Session, ticket_id: int, names: dict[int, str], text: bool
) -> list[TicketEventPublic]:
    query = (
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    return [
        TicketEventPublic(
            id=e.id, at=e.at, kind=e.kind, user_id=e.user_id,
            user_name=names.get(e.user_id) if e.user_id is not None else None,
            from_status=e.from_status, to_status=e.to_status,
            comment=e.comment if text else None, data=e.data,
        )
        for e in session.scalars(query)
    ]  # fmt: skip


def attachments_of(session: Session, ticket_id: int) -> list[AttachmentPublic]:
    query = (
        select(
            TicketAttachment.id, TicketAttachment.filename, TicketAttachment.content_type,
            TicketAttachment.size, TicketAttachment.uploaded_by, TicketAttachment.uploaded_at,
        )
        .where(TicketAttachment.ticket_id == ticket_id)
        .order_by(TicketAttachment.id)
    )  # fmt: skip
    return [
        AttachmentPublic(
            id=row.id, filename=row.filename, content_type=row.content_type, size=row.size,
            uploaded_by=row.uploaded_by, uploaded_at=row.uploaded_at,
            url=f"{URL}/{ticket_id}/attachments/{row.id}",
        )
        for row in session.execute(query)
    ]  # fmt: skip


def _compensations(session: Session, ticket_id: int) -> list[CompensationPublic]:
    query = (
        select(TicketCompensation, Coupon.code)
        .outerjoin(Coupon, Coupon.id == TicketCompensation.coupon_id)
        .where(TicketCompensation.ticket_id == ticket_id)
        .order_by(TicketCompensation.id)
    )
    return [
        CompensationPublic(
            id=c.id, reason=c.reason, kind=c.kind, coupon_id=c.coupon_id, coupon_code=code,
            points=c.points, refund_reference=c.refund_reference, user_id=c.user_id, at=c.at,
        )
        for c, code in session.execute(query)
    ]  # fmt: skip


def assignees(session: Session, *, store_id: int, actor: Principal) -> list[tuple[int, str]]:
    """Who a ticket of the store can go to: (user id, name) of the active users of the store
    or of HQ whose role handles complaints, the store's own first."""
    require_reader(actor)
    actor.require_store(store_id)
    roles = [role for role in Role if HANDLE in permissions_for(role)]
    query = (
        select(User.id, User.display_name)
        .where(User.active.is_(True), User.role.in_(roles),
               or_(User.store_id == store_id, User.store_id.is_(None)))
        .order_by(User.store_id.is_(None), User.display_name, User.id)
    )  # fmt: skip
    return [(int(i), str(n)) for i, n in session.execute(query)]
