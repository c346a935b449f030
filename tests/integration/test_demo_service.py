"""The demo's customer service data: answers of real orders, complaints worked through the
flow with a few deadlines missed, an open breached ticket with its notices, and reports
that have something to show."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from shouyin.auth.models import User
from shouyin.customers.crypto import FieldCipher, KeyRing
from shouyin.db import Database
from shouyin.demo import loader
from shouyin.sales.models import Order
from shouyin.service import analytics
from shouyin.service.analytics import ReportQuery
from shouyin.service.models import Notice, SurveyAnswer, Ticket, TicketEvent
from shouyin.shared.clock import as_utc, business_date, utcnow
from tests import factories
from tests.conftest import DatabaseMaker

LAST_DAY = date(2026, 3, 13)
DAYS = 14
CIPHER = FieldCipher(KeyRing.generate())
OPEN = ("new", "assigned", "in_progress")


def _load(db: Database, *, seed: int = 42, days: int = DAYS) -> loader.DemoSummary:
    with db.write() as session:
        return loader.load_demo(
            session, days=days, seed=seed, last_day=LAST_DAY, members=300, cipher=CIPHER
        )


def test_answers_belong_to_real_orders_of_their_store(database: Database) -> None:
    summary = _load(database)
    with database.read() as session:
        rows = session.execute(
            select(SurveyAnswer, Order)
            .join(Order, Order.id == SurveyAnswer.order_id)
            .order_by(SurveyAnswer.id)
        ).all()
        answers = session.scalar(select(func.count()).select_from(SurveyAnswer))
    assert len(rows) == answers and 0.015 < len(rows) / summary.orders < 0.05
    for answer, order in rows:
        assert (answer.store_id, answer.cashier_id, answer.member_id) == (
            order.store_id, order.cashier_id, order.member_id)  # fmt: skip
        assert timedelta(0) < as_utc(answer.submitted_at) - as_utc(order.created_at)
        assert as_utc(answer.submitted_at) - as_utc(order.created_at) < timedelta(days=3)
    scores = [answer.satisfaction for answer, _ in rows]
    assert sum(s >= 4 for s in scores) > 0.7 * len(scores)
    assert sum(1 for answer, _ in rows if answer.comment) > 0


def test_tickets_are_numbered_and_worked_in_order(database: Database) -> None:
    _load(database)
    with database.read() as session:
        tickets = session.scalars(select(Ticket).order_by(Ticket.id)).all()
        events = session.scalars(select(TicketEvent).order_by(TicketEvent.id)).all()
        low = session.scalars(select(SurveyAnswer.id).where(SurveyAnswer.satisfaction <= 2)).all()
        managers = set(session.scalars(select(User.id).where(User.role == "store_manager")))
    numbers = [t.number for t in tickets]
    assert len(set(numbers)) == len(numbers) >= 3 * 4
    assert {t.survey_answer_id for t in tickets if t.source == "survey"} == set(low)
    assert {t.source for t in tickets} >= {"till", "office"}
    by_ticket: dict[int, list[TicketEvent]] = {}
    for event in events:
        by_ticket.setdefault(event.ticket_id, []).append(event)
    closed = [t for t in tickets if t.status == "closed"]
    assert closed
    for ticket in closed:
        timeline = by_ticket[ticket.id]
        times = [as_utc(e.at) for e in timeline]
        assert times == sorted(times)
        assert timeline[0].kind == "opened" and times[0] == as_utc(ticket.opened_at)
        kinds = {e.kind for e in timeline}
        assert {"assigned", "status", "comment"} <= kinds
        assert ticket.assignee_id in managers and ticket.outcome
        assert ticket.first_response_at and ticket.resolved_at and ticket.closed_at
        assert as_utc(ticket.opened_at) < as_utc(ticket.first_response_at)
        assert as_utc(ticket.resolved_at) <= as_utc(ticket.closed_at)


def test_an_open_ticket_is_breached_with_notices(database: Database) -> None:
    _load(database)
    with database.read() as session:
        open_now = session.scalars(select(Ticket).where(Ticket.status.in_(OPEN))).all()
        notices = session.scalars(select(Notice)).all()
        escalated = session.scalars(
            select(TicketEvent.ticket_id).where(TicketEvent.kind == "escalated")
        ).all()
    assert {t.status for t in open_now} == set(OPEN)
    breached = [t for t in open_now if t.response_breached_at or t.resolution_breached_at]
    assert breached
    for ticket in breached:
        assert ticket.id in escalated
        found = {(n.store_id, n.kind) for n in notices if n.ticket_id == ticket.id}
        assert {store for store, _ in found} == {ticket.store_id, None}
    assert all(n.read_at is None for n in notices)


def test_reports_show_nps_and_breaches(database: Database) -> None:
    _load(database)
    with database.write() as session:
        admin = factories.principal_of(
            session.scalars(select(User).where(User.username == "admin")).one()
        )
        query = ReportQuery(start=LAST_DAY - timedelta(days=DAYS - 1), end=LAST_DAY)
        feedback = analytics.feedback(session, query=query, actor=admin)
        complaints = analytics.complaints(session, query=query, actor=admin, cipher=CIPHER)
        today = business_date(utcnow(), "Asia/Shanghai", 0)
        recent = analytics.complaints(
            session, query=ReportQuery(start=today - timedelta(days=3), end=today), actor=admin,
            cipher=CIPHER,
        )  # fmt: skip
    assert feedback.summary.answers > 0 and feedback.summary.nps
    assert feedback.tags
    figures = complaints.summary
    assert figures.tickets > 0
    assert figures.response_breach_rate or figures.resolution_breach_rate
    assert recent.summary.tickets == 5 and recent.summary.response_breach_rate


def test_the_same_seed_gives_the_same_answers(db_maker: DatabaseMaker) -> None:
    found = []
    for _ in range(2):
        db = Database.from_url(db_maker.url("sqlite"))
        _load(db, days=3, seed=7)
        with db.read() as session:
            answers = session.execute(
                select(SurveyAnswer.order_id, SurveyAnswer.satisfaction, SurveyAnswer.nps,
                       SurveyAnswer.tags, SurveyAnswer.comment, SurveyAnswer.submitted_at)
                .order_by(SurveyAnswer.order_id)
            ).all()  # fmt: skip
            tickets = session.execute(
                select(Ticket.number, Ticket.title, Ticket.status, Ticket.opened_at)
                .where(Ticket.status.not_in(OPEN))
                .order_by(Ticket.number)
            ).all()  # fmt: skip
        db.dispose()
        found.append((answers, tickets))
    assert found[0][0] and found[0] == found[1]
