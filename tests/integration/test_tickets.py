"""Complaint tickets against both databases: opening (till, survey, retries), the whole status
flow with its timeline, flow-skipping steps, other stores, privacy and the follow-up."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.auth.models import User
from shouyin.auth.principal import Principal
from shouyin.config import Settings
from shouyin.customers.keys import cipher_for
from shouyin.customers.models import Member
from shouyin.db import Database
from shouyin.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from shouyin.sales import service as sales
from shouyin.sales.schemas import OrderCreate
from shouyin.service import ticket_flow, ticket_views, tickets
from shouyin.service.models import SurveyAnswer, Ticket
from shouyin.service.ticket_schemas import TicketOpen, TicketResolve
from shouyin.shared import clock, mail
from shouyin.shared.clock import as_utc, business_date
from tests import factories
from tests.conftest import make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings("sqlite://", tmp_path, complaint_hours="calendar")


def _shop(session: Session) -> dict[str, Any]:
    store = factories.make_store(session)
    other = factories.make_store(session)

    def who(role: str, where: Any = store) -> Principal:
        return factories.principal_of(factories.make_user(session, role=role, store=where))

    member = factories.make_member(session)
    return {
        "store": store, "other": other, "register": factories.register_of(session, store),
        "tea": factories.make_product(session, price=1500, stock={store.id: 50}),
        "member": member, "cashier": who("cashier"), "manager": who("store_manager"),
        "other_manager": who("store_manager", other), "hq": who("hq_admin", None),
        "auditor": who("auditor", None),
    }  # fmt: skip


def _sell(session: Session, shop: dict[str, Any]) -> int:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "member_id": shop["member"].id,
        "lines": [{"product_id": shop["tea"].id, "quantity": 1}],
        "payments": [{"method": "cash", "amount": 1500}],
    }  # fmt: skip
    order, _ = sales.checkout(
        session, data=OrderCreate.model_validate(body), actor=shop["cashier"],
        discount_audit_percent=100,
    )  # fmt: skip
    return order.id


def _data(shop: dict[str, Any], **extra: Any) -> TicketOpen:
    body: dict[str, Any] = {
        "store_id": shop["store"].id, "category": "product", "priority": "urgent",
        "title": "茶叶受潮", "description": "顾客说买回去的茶叶受潮结块，电话 13800000000。",
        "client_uuid": str(uuid.uuid4()),
    }  # fmt: skip
    body.update(extra)
    return TicketOpen.model_validate(body)


def _open(session: Session, shop: dict[str, Any], settings: Settings, **extra: Any) -> int:
    view = tickets.open_ticket(
        session, actor=shop["cashier"], data=_data(shop, **extra), source="till",
        settings=settings,
    )  # fmt: skip
    return view.id


def test_a_complaint_goes_through_the_whole_flow_with_every_step_timed(
    session: Session, settings: Settings
) -> None:
    shop = _shop(session)
    order_id = _sell(session, shop)
    view = tickets.open_ticket(
        session, actor=shop["cashier"], data=_data(shop, order_id=order_id), source="till",
        settings=settings,
    )  # fmt: skip
    store = shop["store"]
    day = business_date(view.opened_at, store.timezone, store.day_cutoff_minutes)
    assert view.number == f"TK-{store.code}-{day:%Y%m%d}-001"
    # The member comes from the order; urgent: respond in 1 hour, resolve in 24 (calendar).
    assert view.status == "new" and view.member_id == shop["member"].id
    assert view.order_number is not None and view.source == "till"
    assert as_utc(view.respond_by) - as_utc(view.opened_at) == timedelta(hours=1)
    assert as_utc(view.resolve_by) - as_utc(view.opened_at) == timedelta(hours=24)
    assert view.first_response_at is None
    second = _open(session, shop, settings)
    assert session.get(Ticket, second).number.endswith("-002")  # type: ignore[union-attr]

    manager = shop["manager"]
    assigned = ticket_flow.assign(
        session, ticket_id=view.id, user_id=manager.user_id, actor=manager, comment="我来处理"
    )
    assert assigned.status == "assigned" and assigned.assignee_id == manager.user_id
    assert assigned.first_response_at is not None  # the assignment is the first response
    first_response = assigned.first_response_at
    ticket_flow.start(session, ticket_id=view.id, actor=manager)
    ticket_flow.comment(session, ticket_id=view.id, text="已致电顾客", actor=manager)
    resolved = ticket_flow.resolve(
        session, ticket_id=view.id, data=TicketResolve(outcome="换货并致歉"), actor=manager,
        settings=settings,
    )  # fmt: skip
    assert resolved.status == "resolved" and resolved.outcome == "换货并致歉"
    assert resolved.resolved_at is not None and resolved.first_response_at == first_response
    closed = ticket_flow.close(session, ticket_id=view.id, actor=manager)
    assert closed.status == "closed" and closed.closed_at is not None

    reopened = ticket_flow.reopen(
        session, ticket_id=view.id, reason="顾客仍不满意", actor=manager, settings=settings
    )
    assert reopened.status == "assigned" and reopened.reopened == 1
    assert reopened.closed_at is None and reopened.resolved_at is None
    assert as_utc(reopened.resolve_by) > as_utc(view.resolve_by)
    steps = [(e.kind, e.from_status, e.to_status, e.comment) for e in reopened.events]
    assert steps == [
        ("opened", None, "new", None),
        ("assigned", "new", "assigned", "我来处理"),
        ("status", "assigned", "in_progress", None),
        ("comment", None, None, "已致电顾客"),
        ("status", "in_progress", "resolved", None),
        ("status", "resolved", "closed", None),
        ("status", "closed", "assigned", "顾客仍不满意"),
    ]
    assert {e.user_name for e in reopened.events} == {
        session.get(User, shop["cashier"].user_id).display_name,  # type: ignore[union-attr]
        session.get(User, manager.user_id).display_name,  # type: ignore[union-attr]
    }
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "ticket",
                                        AuditEntry.entity_id == str(view.id))
        .order_by(AuditEntry.id)
    ).all()  # fmt: skip
    assert actions == ["ticket.open", "ticket.assign", "ticket.in_progress", "ticket.resolved",
                       "ticket.closed", "ticket.reopen"]  # fmt: skip


def test_a_comment_alone_is_the_first_response(session: Session, settings: Settings) -> None:
    shop = _shop(session)
    ticket_id = _open(session, shop, settings)
    before = clock.utcnow()
    view = ticket_flow.comment(session, ticket_id=ticket_id, text="收到", actor=shop["manager"])
    assert view.status == "new" and view.first_response_at is not None
    assert as_utc(view.first_response_at) >= before - timedelta(seconds=1)


@pytest.mark.parametrize(
    ("steps", "wanted"),
    [
        ([], "start"),  # new -> in_progress skips assigned
        ([], "resolve"),  # new -> resolved
        (["assign"], "resolve"),  # assigned -> resolved skips in progress
        (["assign"], "close"),
        (["assign", "start", "resolve", "close"], "start"),  # closed -> in_progress
        (["assign", "start"], "reopen"),  # only resolved or closed reopen
        (["assign", "start", "resolve", "close"], "assign"),
    ],
)
def test_a_step_that_skips_the_flow_is_refused_and_changes_nothing(
    session: Session, settings: Settings, steps: list[str], wanted: str
) -> None:
    shop = _shop(session)
    ticket_id = _open(session, shop, settings)
    manager: Principal = shop["manager"]
    calls: dict[str, Any] = {
        "assign": lambda: ticket_flow.assign(
            session, ticket_id=ticket_id, user_id=manager.user_id, actor=manager),
        "start": lambda: ticket_flow.start(session, ticket_id=ticket_id, actor=manager),
        "resolve": lambda: ticket_flow.resolve(
            session, ticket_id=ticket_id, data=TicketResolve(outcome="好了"), actor=manager,
            settings=settings),
        "close": lambda: ticket_flow.close(session, ticket_id=ticket_id, actor=manager),
        "reopen": lambda: ticket_flow.reopen(
            session, ticket_id=ticket_id, reason="再看看", actor=manager, settings=settings),
    }  # fmt: skip
    for step in steps:
        calls[step]()
    status = session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))
    events = tickets.detail(session, ticket_id=ticket_id, actor=manager).events
    with pytest.raises(Conflict) as refused:
        calls[wanted]()
    assert refused.value.code == "ticket.bad_transition" and refused.value.status == 409
    assert refused.value.details["from_status"] == status
    assert f"from {status} to " in refused.value.message
    after = tickets.detail(session, ticket_id=ticket_id, actor=manager)
    assert after.status == status and len(after.events) == len(events)


def test_staff_of_another_store_can_neither_read_nor_change_a_ticket(
    session: Session, settings: Settings
) -> None:
    shop = _shop(session)
    ticket_id = _open(session, shop, settings)
    outsider = shop["other_manager"]
    with pytest.raises(Forbidden):
        tickets.detail(session, ticket_id=ticket_id, actor=outsider)
    with pytest.raises(Forbidden):
        ticket_flow.assign(session, ticket_id=ticket_id, user_id=outsider.user_id, actor=outsider)
    with pytest.raises(Forbidden):
        ticket_flow.comment(session, ticket_id=ticket_id, text="x", actor=outsider)
    assert tickets.list_tickets(session, actor=outsider).total == 0
    # Nor can a ticket be opened for another store, or given to another store's manager.
    with pytest.raises(Forbidden):
        tickets.open_ticket(session, actor=outsider, data=_data(shop), source="office",
                            settings=settings)  # fmt: skip
    with pytest.raises(ValidationFailed) as wrong:
        ticket_flow.assign(
            session, ticket_id=ticket_id, user_id=outsider.user_id, actor=shop["manager"]
        )
    assert wrong.value.code == "ticket.assignee_invalid"
    with pytest.raises(ValidationFailed):  # a cashier does not handle complaints
        ticket_flow.assign(
            session, ticket_id=ticket_id, user_id=shop["cashier"].user_id, actor=shop["manager"]
        )
    hq = shop["hq"]
    view = ticket_flow.assign(session, ticket_id=ticket_id, user_id=hq.user_id, actor=hq)
    assert view.assignee_id == hq.user_id
    with pytest.raises(Forbidden):  # a cashier opens complaints but does not work them
        ticket_flow.start(session, ticket_id=ticket_id, actor=shop["cashier"])


def test_only_complaint_handlers_read_the_customers_words(
    session: Session, settings: Settings
) -> None:
    shop = _shop(session)
    ticket_id = _open(session, shop, settings)
    ticket_flow.comment(session, ticket_id=ticket_id, text="顾客姓王", actor=shop["manager"])
    for reader in (shop["cashier"], shop["auditor"]):
        view = tickets.detail(session, ticket_id=ticket_id, actor=reader)
        assert view.description is None and not view.text_visible
        assert [e.comment for e in view.events] == [None, None]
        assert view.title == "茶叶受潮"  # the title is what lists show
    full = tickets.detail(session, ticket_id=ticket_id, actor=shop["manager"])
    assert full.description is not None and "受潮" in full.description and full.text_visible
    assert full.events[1].comment == "顾客姓王"


def test_opening_twice_with_one_uuid_makes_one_ticket(session: Session, settings: Settings) -> None:
    shop = _shop(session)
    data = _data(shop)
    first, made = tickets.open_or_replay(
        session, actor=shop["cashier"], data=data, source="till", settings=settings
    )
    again, made_again = tickets.open_or_replay(
        session, actor=shop["cashier"], data=data, source="till", settings=settings
    )
    assert made and not made_again and again.id == first.id
    count = session.scalar(select(func.count()).where(Ticket.client_uuid == str(data.client_uuid)))
    assert count == 1


def test_bad_input_is_refused_with_a_clear_error(session: Session, settings: Settings) -> None:
    shop = _shop(session)
    order_id = _sell(session, shop)
    cases: list[tuple[dict[str, Any], type[DomainError], str]] = [
        ({"title": "   "}, ValidationFailed, "ticket.title_invalid"),
        ({"description": " \n "}, ValidationFailed, "ticket.description_invalid"),
        ({"member_id": 2**31 - 2}, NotFound, "member.not_found"),
        ({"order_id": 2**31 - 2}, NotFound, "ticket.order_not_found"),
        ({"store_id": shop["other"].id, "order_id": order_id}, ValidationFailed,
         "ticket.order_other_store"),
    ]  # fmt: skip
    for extra, error, code in cases:
        with pytest.raises(error) as refused:
            tickets.open_ticket(session, actor=shop["hq"], data=_data(shop, **extra),
                                source="office", settings=settings)  # fmt: skip
        assert refused.value.code == code
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_low_survey_answer_opens_one_ticket_by_the_system(
    session: Session, settings: Settings
) -> None:
    shop = _shop(session)
    order_id = _sell(session, shop)
    answer = SurveyAnswer(
        order_id=order_id, store_id=shop["store"].id, member_id=shop["member"].id,
        satisfaction=1, nps=2, tags=["long_queue"], comment="排队太久", submitted_at=clock.utcnow(),
    )  # fmt: skip
    session.add(answer)
    session.flush()
    data = _data(shop, order_id=order_id, client_uuid=None, category="service", priority="high")
    views = [
        tickets.open_ticket(session, actor=None, data=data, source="survey", settings=settings,
                            survey_answer_id=answer.id)
        for _ in range(2)
    ]  # fmt: skip
    assert views[0].id == views[1].id and views[0].opened_by is None
    assert views[0].source == "survey" and views[0].member_id == shop["member"].id
    manager_view = tickets.detail(session, ticket_id=views[0].id, actor=shop["manager"])
    assert manager_view.survey is not None and manager_view.survey.comment == "排队太久"
    cashier_view = tickets.detail(session, ticket_id=views[0].id, actor=shop["cashier"])
    assert cashier_view.survey is not None and cashier_view.survey.comment is None
    assert cashier_view.survey.satisfaction == 1


def test_the_follow_up_is_answered_once_and_only_after_resolving(
    session: Session, settings: Settings
) -> None:
    shop = _shop(session)
    ticket_id = _open(session, shop, settings, member_id=shop["member"].id)
    now = clock.utcnow()
    with pytest.raises(Conflict) as early:
        tickets.record_follow_up(session, ticket_id=ticket_id, score=4, at=now)
    assert early.value.code == "ticket.follow_up_not_ready"
    manager = shop["manager"]
    ticket_flow.assign(session, ticket_id=ticket_id, user_id=manager.user_id, actor=manager)
    ticket_flow.start(session, ticket_id=ticket_id, actor=manager)
    ticket_flow.resolve(session, ticket_id=ticket_id, data=TicketResolve(outcome="退款"),
                        actor=manager, settings=settings)  # fmt: skip
    now = clock.utcnow()
    tickets.record_follow_up(session, ticket_id=ticket_id, score=4, at=now)
    with pytest.raises(Conflict) as twice:
        tickets.record_follow_up(session, ticket_id=ticket_id, score=1, at=now)
    assert twice.value.code == "ticket.follow_up_answered"
    view = tickets.detail(session, ticket_id=ticket_id, actor=manager)
    assert view.follow_up_score == 4 and view.follow_up_url is None
    assert view.events[-1].kind == "follow_up" and view.events[-1].data == {"score": 4}


def test_the_list_filters_and_pages(session: Session, settings: Settings) -> None:
    shop = _shop(session)
    first = _open(session, shop, settings, title="价格不对", category="price", priority="normal")
    second = _open(session, shop, settings, member_id=shop["member"].id)
    manager = shop["manager"]
    ticket_flow.assign(session, ticket_id=second, user_id=manager.user_id, actor=manager)

    def ids(**filters: Any) -> list[int]:
        page = tickets.list_tickets(session, actor=manager, **filters)
        return [x.id for x in page.items]

    assert ids() == [second, first]
    assert ids(category="price") == [first] and ids(status="assigned") == [second]
    assert ids(assignee_id=manager.user_id) == [second]
    assert ids(member_id=shop["member"].id) == [second]
    assert ids(q="价格") == [first] and ids(q=session.get(Ticket, first).number) == [first]  # type: ignore[union-attr]
    assert ids(overdue=True) == [] and ids(limit=1, offset=1) == [first]
    hq = tickets.list_tickets(session, actor=shop["hq"], store_id=shop["store"].id)
    assert hq.total == 2
    assert tickets.list_tickets(session, actor=shop["hq"], store_id=shop["other"].id).total == 0


def test_a_ticket_past_its_deadline_is_overdue(
    session: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = _shop(session)
    ticket_id = _open(session, shop, settings)
    later = clock.utcnow() + timedelta(hours=2)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    page = tickets.list_tickets(session, actor=shop["manager"], overdue=True)
    assert [x.id for x in page.items] == [ticket_id] and page.items[0].overdue


def test_a_ticket_can_go_to_the_stores_handlers_and_hq(session: Session) -> None:
    shop = _shop(session)
    found = ticket_views.assignees(session, store_id=shop["store"].id, actor=shop["manager"])
    ids = [user_id for user_id, _ in found]
    assert shop["manager"].user_id in ids and shop["hq"].user_id in ids
    assert ids.index(shop["manager"].user_id) < ids.index(shop["hq"].user_id)
    assert shop["cashier"].user_id not in ids and shop["other_manager"].user_id not in ids
    with pytest.raises(Forbidden):
        ticket_views.assignees(session, store_id=shop["store"].id, actor=shop["other_manager"])


def test_the_follow_up_email_goes_only_when_the_resolve_is_committed(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"smtp_host": "127.0.0.1"})
    sent: list[dict[str, Any]] = []

    def send(_settings: Any, **message: Any) -> bool:
        sent.append(message)
        return True

    monkeypatch.setattr(mail, "send", send)
    with database.write() as session:
        shop = _shop(session)
        member = session.get(Member, shop["member"].id)
        assert member is not None
        member.email_enc = cipher_for(settings).encrypt("email", "li@example.com")
        ticket_ids = [_open(session, shop, settings, member_id=member.id) for _ in range(2)]
        manager: Principal = shop["manager"]
        for ticket_id in ticket_ids:
            ticket_flow.assign(session, ticket_id=ticket_id, user_id=manager.user_id,
                               actor=manager)  # fmt: skip
            ticket_flow.start(session, ticket_id=ticket_id, actor=manager)

    def resolve(session: Session, ticket_id: int) -> None:
        ticket_flow.resolve(session, ticket_id=ticket_id, data=TicketResolve(outcome="已处理"),
                            actor=manager, settings=settings)  # fmt: skip

    with database.write() as session:
        resolve(session, ticket_ids[0])
        session.rollback()  # as a page does when a later step fails
    assert sent == []
    with database.write() as session:
        resolve(session, ticket_ids[1])
        assert sent == []  # not before the commit
    (message,) = sent
    assert message["to"] == ["li@example.com"] and "/s/f/" in message["text"]
