"""Feedback surveys: a customer answers once per order through the receipt's signed link.

The answer is linked to the order's store, cashier and member (for the service reports), but
the public side shows only the store's name and the day of the purchase. A low score opens a
complaint (settings.survey_complaint_at) in the same transaction: an answer is never kept
without the complaint it should have opened.

This is a hot path for the bench (survey_submit_p50_ms): one query reads the order, its store
and any earlier answer; one INSERT stores the answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.config import Settings
from shouyin.errors import Conflict, NotFound
from shouyin.sales.models import Order
from shouyin.service import tickets
from shouyin.service.models import SurveyAnswer, Ticket
from shouyin.service.survey_links import read_follow_up_token, read_survey_token
from shouyin.service.survey_schemas import (
    TAGS,
    SurveyPublic,
    SurveyResult,
    SurveySubmit,
    TagPublic,
)
from shouyin.service.ticket_schemas import TicketOpen
from shouyin.shared import i18n
from shouyin.shared.clock import to_local, utcnow
from shouyin.stores.models import Store

# Ties the system-made complaint to its answer: the same answer can never open two.
_TICKET_NAMESPACE = uuid.UUID("5f1d7a52-3c1e-4f0b-9a55-6b1f4a2d9c11")


@dataclass(frozen=True)
class SurveyOrder:
    """The order a survey token names, with what the answer records and the page shows."""

    order_id: int
    store_id: int
    store_name: str
    cashier_id: int | None
    member_id: int | None
    purchase_date: date  # in the store's time zone
    answer_id: int | None  # set once answered


def _answered() -> Conflict:
    return Conflict("This survey has already been answered. Thank you!", code="survey.answered")


def order_id_of(token: str, settings: Settings) -> int:
    """The order of a genuine, unexpired token (404 forged, 410 expired)."""
    return read_survey_token(
        token, secret=settings.resolved_secret(), max_age_days=settings.survey_max_age_days
    )


def load(session: Session, *, order_id: int) -> SurveyOrder:
    row = session.execute(
        select(
            Order.store_id, Store.name, Store.timezone, Order.cashier_id, Order.member_id,
            Order.created_at, SurveyAnswer.id,
        )
        .join(Store, Store.id == Order.store_id)
        .outerjoin(SurveyAnswer, SurveyAnswer.order_id == Order.id)
        .where(Order.id == order_id)
    ).first()  # fmt: skip
    if row is None:  # a genuine token for an order that is gone
        raise NotFound("This survey link is not valid.", code="survey.invalid")
    store_id, name, timezone, cashier_id, member_id, created_at, answer_id = row
    return SurveyOrder(
        order_id=order_id, store_id=store_id, store_name=name, cashier_id=cashier_id,
        member_id=member_id, purchase_date=to_local(created_at, timezone).date(),
        answer_id=answer_id,
    )  # fmt: skip


def tags_public(lang: str) -> list[TagPublic]:
    return [
        TagPublic(code=tag.code, label=i18n.gettext(lang, tag.label), positive=tag.positive)
        for tag in TAGS.values()
    ]


def view(session: Session, *, token: str, settings: Settings, lang: str) -> SurveyPublic:
    found = load(session, order_id=order_id_of(token, settings))
    return SurveyPublic(
        store_name=found.store_name, purchase_date=found.purchase_date,
        answered=found.answer_id is not None, tags=tags_public(lang),
    )  # fmt: skip


def submit(
    session: Session, *, token: str, data: SurveySubmit, settings: Settings, lang: str
) -> SurveyResult:
    """Store the one answer of the order (409 ``survey.answered`` after the first) and open a
    complaint when the score is low."""
    found = load(session, order_id=order_id_of(token, settings))
    if found.answer_id is not None:
        raise _answered()
    now = utcnow()
    answer_id = _insert(session, found, data, lang=i18n.normalise(lang), now=now)
    complaint = wants_complaint(data.satisfaction, settings)
    if complaint:
        open_complaint(session, found=found, answer_id=answer_id, data=data, settings=settings)
    return SurveyResult(submitted_at=now, complaint=complaint)


def _insert(
    session: Session, found: SurveyOrder, data: SurveySubmit, *, lang: str, now: datetime
) -> int:
    row = {
        "order_id": found.order_id, "store_id": found.store_id, "cashier_id": found.cashier_id,
        "member_id": found.member_id, "satisfaction": data.satisfaction, "nps": data.nps,
        "tags": list(data.tags), "comment": data.comment, "lang": lang, "submitted_at": now,
    }  # fmt: skip
    try:
        return int(
            session.execute(
                insert(SurveyAnswer).values(row).returning(SurveyAnswer.id)
            ).scalar_one()
        )
    except IntegrityError:
        # Another submit of the same order committed between our read and our insert (the
        # unique order_id decides on PostgreSQL); the transaction is rolled back by db.py.
        raise _answered() from None


def wants_complaint(satisfaction: int, settings: Settings) -> bool:
    threshold = settings.survey_complaint_at
    return threshold > 0 and satisfaction <= threshold


def complaint_category(tags: list[str]) -> str:
    """The category: "product" or "price" when a negative tag points there, else "service"."""
    pointed = {TAGS[code].category for code in tags if not TAGS[code].positive}
    for category in ("product", "price"):
        if category in pointed:
            return category
    return "service"


def complaint_text(data: SurveySubmit, lang: str) -> str:
    """The customer's comment, or the tags they chose, in the staff's language."""
    if data.comment:
        return data.comment
    labels = [i18n.gettext(lang, TAGS[code].label) for code in data.tags]
    if labels:
        return "、".join(labels) if lang == "zh_CN" else ", ".join(labels)
    return i18n.gettext(lang, "No comment was left with the survey.")


def open_complaint(
    session: Session, *, found: SurveyOrder, answer_id: int, data: SurveySubmit,
    settings: Settings,
) -> None:  # fmt: skip
    """A complaint opened by the system (actor None) from a low survey score."""
    lang = settings.default_language
    title = i18n.gettext(lang, "Survey: satisfaction {score}/5").format(score=data.satisfaction)
    ticket = TicketOpen(
        store_id=found.store_id, category=complaint_category(list(data.tags)),
        priority="high" if data.satisfaction == 1 else "normal", title=title,
        description=complaint_text(data, lang), member_id=found.member_id,
        order_id=found.order_id, client_uuid=uuid.uuid5(_TICKET_NAMESPACE, str(answer_id)),
    )  # fmt: skip
    tickets.open_ticket(
        session, actor=None, data=ticket, source="survey", settings=settings,
        survey_answer_id=answer_id,
    )  # fmt: skip


def is_repeat(session: Session, *, order_id: int, data: SurveySubmit) -> bool:
    """Whether the stored answer is this very one: a double-tapped form shows the thanks."""
    row = session.execute(
        select(SurveyAnswer.satisfaction, SurveyAnswer.nps, SurveyAnswer.tags,
               SurveyAnswer.comment).where(SurveyAnswer.order_id == order_id)
    ).first()  # fmt: skip
    return row is not None and tuple(row) == (
        data.satisfaction, data.nps, list(data.tags), data.comment,
    )  # fmt: skip


def complaint_opened(session: Session, *, order_id: int, settings: Settings) -> bool:
    """For the thanks page: whether this order's answer was low enough to be a complaint."""
    score = session.scalar(
        select(SurveyAnswer.satisfaction).where(SurveyAnswer.order_id == order_id)
    )
    return score is not None and wants_complaint(score, settings)


# --- the follow-up question after a complaint ---------------------------------------------


@dataclass(frozen=True)
class FollowUpState:
    ticket_id: int
    resolved: bool  # the question is asked only once the complaint is resolved (or closed)
    answered: bool


def follow_up_state(session: Session, *, token: str, settings: Settings) -> FollowUpState:
    """The ticket a follow-up token names, with nothing about its member or its text."""
    ticket_id = read_follow_up_token(
        token, secret=settings.resolved_secret(), max_age_days=settings.survey_max_age_days
    )
    row = session.execute(
        select(Ticket.status, Ticket.follow_up_score).where(Ticket.id == ticket_id)
    ).first()
    if row is None:
        raise NotFound("This survey link is not valid.", code="survey.invalid")
    status, score = row
    return FollowUpState(
        ticket_id=ticket_id, resolved=status in ("resolved", "closed"), answered=score is not None
    )


def answer_follow_up(session: Session, *, token: str, score: int, settings: Settings) -> None:
    """Record the member's 1-5 on how their complaint was handled (409 when answered)."""
    state = follow_up_state(session, token=token, settings=settings)
    if state.answered:
        raise Conflict(
            "You have already answered this question. Thank you!",
            code="ticket.follow_up_answered",
        )
    tickets.record_follow_up(session, ticket_id=state.ticket_id, score=score, at=utcnow())
