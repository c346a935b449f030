"""The SLA check on SQLite and PostgreSQL: what is due, a breach escalated once (also with
checks running at once), notices to the store and HQ, warnings once, compensation once,
email through a real SMTP server, business-hour deadlines from the database, the command."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from shouyin.auth.permissions import permissions_for
from shouyin.config import Settings
from shouyin.db import Database
from shouyin.errors import Forbidden, NotFound
from shouyin.loyalty import ledger
from shouyin.service import closed_days, compensation, deadlines, sla
from shouyin.service.closed_days import ClosedDayCreate
from shouyin.service.models import ClosedDay, Notice, Ticket, TicketCompensation, TicketEvent
from shouyin.shared.clock import as_utc
from tests import factories
from tests.conftest import make_settings

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai, a Monday


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def _settings(database: Database, tmp_path: Path, **extra: Any) -> Settings:
    return make_settings(str(database.engine.url), tmp_path, **extra)


def add_ticket(
    session: Session, store: Any, *, respond_in: float, resolve_in: float, status: str = "new",
    member: Any = None, now: datetime = NOW,
) -> Ticket:  # fmt: skip
    """A ticket whose deadlines are ``respond_in`` / ``resolve_in`` hours from ``now``."""
    n = factories.next_id()
    ticket = Ticket(
        number=f"TK-{store.code}-{n:06d}", store_id=store.id, category="service",
        priority="urgent", status=status, source="office", title="店员态度", description="…",
        member_id=member.id if member is not None else None, opened_at=now - timedelta(hours=1),
        respond_by=now + timedelta(hours=respond_in), resolve_by=now + timedelta(hours=resolve_in),
        updated_at=now,
    )  # fmt: skip
    session.add(ticket)
    session.flush()
    return ticket


def _shop(database: Database, **tickets: dict[str, Any]) -> dict[str, Any]:
    with database.write() as session:
        store = factories.make_store(session, shift=False)
        made = {name: add_ticket(session, store, **spec).id for name, spec in tickets.items()}
        return {"store": store, **made}


def _count(database: Database, model: Any, *where: Any) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_due_lists_breached_and_coming_deadlines_only(database: Database) -> None:
    shop = _shop(
        database,
        late={"respond_in": -2, "resolve_in": 20},  # response breached
        soon={"respond_in": 0.25, "resolve_in": 20},  # response due in 15 minutes
        later={"respond_in": 3, "resolve_in": 20},  # nothing due yet
        working={"respond_in": -5, "resolve_in": -1, "status": "in_progress"},  # resolution late
        done={"respond_in": -5, "resolve_in": -1, "status": "resolved"},  # resolved: not due
    )
    with database.read() as session:
        found = sla.due(session, now=NOW, warn_minutes=30)
    got = {(x.ticket_id, x.deadline, x.breached) for x in found}
    assert got == {
        (shop["late"], "response", True),
        (shop["soon"], "response", False),
        (shop["working"], "resolution", True),
    }
    with database.read() as session:
        other = sla.due(session, now=NOW, warn_minutes=30, store_id=shop["store"].id + 1000)
    assert other == []


def test_a_breach_is_escalated_once_to_the_store_and_hq(database: Database, tmp_path: Path) -> None:
    shop = _shop(database, late={"respond_in": -1, "resolve_in": -0.5})
    settings = _settings(database, tmp_path)
    first = sla.run(database, settings, now=NOW)
    assert {(x.ticket_id, x.deadline) for x in first.escalated} == {
        (shop["late"], "response"), (shop["late"], "resolution"),
    }  # fmt: skip
    again = sla.run(database, settings, now=NOW + timedelta(minutes=1))
    assert again.escalated == [] and again.due == 2
    assert _count(database, TicketEvent, TicketEvent.kind == "escalated") == 2
    with database.read() as session:
        ticket = session.get(Ticket, shop["late"])
        assert ticket is not None
        assert ticket.response_breached_at is not None
        assert ticket.resolution_breached_at is not None
        rows = session.scalars(select(Notice).order_by(Notice.id)).all()
    audiences = sorted((x.kind, x.store_id or 0) for x in rows)
    store_id = shop["store"].id
    assert audiences == sorted([
        ("sla.response_breached", store_id), ("sla.response_breached", 0),
        ("sla.resolution_breached", store_id), ("sla.resolution_breached", 0),
    ])  # fmt: skip
    assert all(x.ticket_id == shop["late"] for x in rows)
    assert rows[0].params["store"].startswith(shop["store"].code)
    assert rows[0].params["due"] == "2026-11-23 13:00"  # local time of the store


def test_checks_at_once_escalate_once(database: Database, tmp_path: Path) -> None:
    """Two servers (or the scheduler and the command) at the same moment."""
    shop = _shop(
        database, a={"respond_in": -1, "resolve_in": 5}, b={"respond_in": -2, "resolve_in": 5},
        soon={"respond_in": 0.25, "resolve_in": 5},
    )  # fmt: skip
    settings = _settings(database, tmp_path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(lambda _: sla.run(database, settings, now=NOW), range(4)))
    escalated = sorted(x.ticket_id for d in done for x in d.escalated)
    assert escalated == sorted([shop["a"], shop["b"]])
    assert _count(database, TicketEvent, TicketEvent.kind == "escalated") == 2
    assert _count(database, Notice, Notice.kind.like("%_breached")) == 4  # store and HQ each
    assert sum(d.warned for d in done) == 1
    assert _count(database, Notice, Notice.kind == "sla.response_due") == 1


def test_a_coming_deadline_is_warned_once(database: Database, tmp_path: Path) -> None:
    shop = _shop(database, soon={"respond_in": 0.25, "resolve_in": 0.4})
    settings = _settings(database, tmp_path, complaint_warn_minutes=30)
    first = sla.run(database, settings, now=NOW)
    assert (first.warned, first.escalated) == (2, [])
    assert sla.run(database, settings, now=NOW + timedelta(minutes=1)).warned == 0
    with database.read() as session:
        rows = session.scalars(select(Notice).order_by(Notice.kind)).all()
    assert [(x.kind, x.store_id, x.ticket_id) for x in rows] == [
        ("sla.resolution_due", shop["store"].id, shop["soon"]),
        ("sla.response_due", shop["store"].id, shop["soon"]),
    ]
    assert rows[1].params["due"] == "2026-11-23 14:15"
    # Later the deadline passes: then it is escalated, to the store and HQ.
    late = sla.run(database, settings, now=NOW + timedelta(minutes=20))
    assert [x.deadline for x in late.escalated] == ["response"]


def test_no_warnings_with_zero_warning_time(database: Database, tmp_path: Path) -> None:
    _shop(database, soon={"respond_in": 0.25, "resolve_in": 5})
    done = sla.run(database, _settings(database, tmp_path, complaint_warn_minutes=0), now=NOW)
    assert (done.due, done.warned) == (0, 0)


def test_breach_compensation_granted_once(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.write() as session:
        store = factories.make_store(session, shift=False)
        member = factories.make_member(session)
        factories.fund(session, member)
        ticket_id = add_ticket(session, store, respond_in=-1, resolve_in=10, member=member).id
        member_id = member.id
    calls: list[dict[str, Any]] = []
    real = compensation.grant

    def counting(session: Session, **kw: Any) -> Any:
        calls.append(kw)
        return real(session, **kw)

    monkeypatch.setattr(compensation, "grant", counting)
    settings = _settings(database, tmp_path, complaint_breach_compensation="points:200")
    for minute in range(3):
        sla.run(database, settings, now=NOW + timedelta(minutes=minute))
    assert len(calls) == 1
    assert calls[0]["reason"] == "breach_response" and calls[0]["actor"] is None
    assert calls[0]["kind"] == "points" and calls[0]["points"] == 200
    rows = _count(database, TicketCompensation, TicketCompensation.ticket_id == ticket_id)
    assert rows == 1
    with database.read() as session:
        assert ledger.balances(session.connection(), member_id=member_id).points == 200


def test_failed_compensation_does_not_stop_the_escalation(
    database: Database, tmp_path: Path
) -> None:
    with database.write() as session:
        store = factories.make_store(session, shift=False)
        member = factories.make_member(session)
        add_ticket(session, store, respond_in=-1, resolve_in=10, member=member)
    settings = _settings(database, tmp_path, complaint_breach_compensation="coupon:999999")
    done = sla.run(database, settings, now=NOW)
    assert len(done.escalated) == 1 and done.compensated == 0
    assert _count(database, TicketCompensation) == 0
    assert _count(database, Notice) == 2


def test_breaches_emailed_once(
    database: Database, tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    handler, port = inbox
    shop = _shop(database, late={"respond_in": -1, "resolve_in": 5})
    settings = _settings(database, tmp_path, smtp_host="127.0.0.1", smtp_port=port,
                         mail_from="shop@example.com", public_url="https://shop.example.com",
                         complaint_alert_to="boss@example.com, hq@example.com")  # fmt: skip
    first = sla.run(database, settings, now=NOW)
    assert first.emailed == 1
    sla.run(database, settings, now=NOW + timedelta(minutes=1))
    assert len(handler.messages) == 1
    assert sorted(handler.recipients[0]) == ["boss@example.com", "hq@example.com"]
    message = handler.messages[0]
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    with database.read() as session:
        number = session.scalars(select(Ticket.number)).one()
    assert number in text and shop["store"].code in text
    assert f"https://shop.example.com/office/tickets/{shop['late']}" in text
    assert "店员态度" not in text  # no customer text in an email


def test_no_mail_server_set_no_email(
    database: Database, tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    handler, _port = inbox
    _shop(database, late={"respond_in": -1, "resolve_in": 5})
    settings = _settings(database, tmp_path, complaint_alert_to="boss@example.com")
    done = sla.run(database, settings, now=NOW)
    assert (len(done.escalated), done.emailed) == (1, 0)
    assert handler.messages == []


def test_unreachable_mail_server_still_escalates(database: Database, tmp_path: Path) -> None:
    _shop(database, late={"respond_in": -1, "resolve_in": 5})
    settings = _settings(database, tmp_path, smtp_host="127.0.0.1", smtp_port=_free_port(),
                         complaint_alert_to="boss@example.com")  # fmt: skip
    done = sla.run(database, settings, now=NOW)
    assert (len(done.escalated), done.emailed) == (1, 0)
    assert _count(database, Notice) == 2


def test_business_hour_deadlines_skip_the_night_and_closed_days(
    database: Database, tmp_path: Path
) -> None:
    with database.write() as session:
        store = factories.make_store(session, shift=False)  # open 09:00..21:00
        other = factories.make_store(session, shift=False)
        session.add_all([
            ClosedDay(store_id=store.id, day=date(2026, 11, 24), name="盘点"),
            ClosedDay(store_id=None, day=date(2026, 11, 25), name="公休"),
            ClosedDay(store_id=other.id, day=date(2026, 11, 26), name="其他门店"),
        ])  # fmt: skip
        session.flush()
        start = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 20:00 local
        settings = _settings(database, tmp_path)
        respond, resolve = deadlines.deadlines_for(
            session, store_id=store.id, priority="high", start=start, settings=settings
        )
        calendar = _settings(database, tmp_path, complaint_hours="calendar")
        plain = deadlines.deadlines_for(
            session, store_id=store.id, priority="high", start=start, settings=calendar
        )
    # 4 h: 20:00-21:00 Monday; Tuesday and Wednesday closed; 09:00-12:00 Thursday.
    assert respond == datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
    # 48 h: 1 (Mon) + 12 (Thu) + 12 (Fri) + 12 (Sat) + 11 (Sun) -> Sunday 20:00 local.
    assert resolve == datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert plain == (start + timedelta(hours=4), start + timedelta(hours=48))


def test_check_sla_command_with_a_moved_clock(
    backend: str, configured_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shouyin.cli import app

    monkeypatch.setenv("SHOUYIN_VAR_DIR", str(tmp_path))
    database = Database.from_url(configured_url)
    try:
        shop = _shop(database, t={"respond_in": 1, "resolve_in": 24})
        runner = CliRunner()
        early = runner.invoke(app, ["service", "check-sla", "--at", "2026-11-23T14:10:00+08:00"])
        assert early.exit_code == 0, early.output
        assert "0 newly escalated" in early.output
        late = runner.invoke(app, ["service", "check-sla", "--at", "2026-11-23T15:30:00+08:00"])
        assert late.exit_code == 0, late.output
        assert "1 newly escalated" in late.output
        bad = runner.invoke(app, ["service", "check-sla", "--at", "yesterday"])
        assert bad.exit_code != 0
        with database.read() as session:
            ticket = session.get(Ticket, shop["t"])
            assert ticket is not None and ticket.response_breached_at is not None
    finally:
        database.dispose()


def test_a_store_bound_user_manages_only_their_stores_closed_days(database: Database) -> None:
    """Store managers do not hold stores.write today; should a store-bound role get it, it
    still reaches only its own store."""
    with database.write() as session:
        a = factories.make_store(session, shift=False)
        b = factories.make_store(session, shift=False)
        user = factories.make_user(session, role="store_manager", store=a)
        bound = replace(
            factories.principal_of(user),
            permissions=permissions_for("store_manager") | {"stores.write"},
        )
        hq = factories.principal_of(factories.make_user(session, role="hq_admin"))
        theirs = closed_days.create_days(
            session, actor=hq, data=ClosedDayCreate(store_id=b.id, day=date(2027, 1, 2), name="b")
        )[0].id
        made = closed_days.create_days(
            session,
            actor=bound,
            data=ClosedDayCreate(store_id=a.id, day=date(2027, 1, 2), name="a"),
        )
        assert [x.store_id for x in made] == [a.id]
        with pytest.raises(Forbidden):
            closed_days.create_days(
                session, actor=bound,
                data=ClosedDayCreate(store_id=b.id, day=date(2027, 1, 3), name="b"),
            )  # fmt: skip
        with pytest.raises(Forbidden) as chain:
            closed_days.create_days(
                session, actor=bound, data=ClosedDayCreate(day=date(2027, 1, 3), name="all")
            )
        assert chain.value.code == "closed_day.hq_only"
        with pytest.raises(NotFound):
            closed_days.delete_day(session, actor=bound, closed_day_id=theirs)
        seen = closed_days.list_days(session, actor=bound)
        assert [x.store_id for x in seen] == [a.id]


def test_a_ticket_opened_in_the_evening_breaches_next_morning_and_gets_a_coupon(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole path: open (deadlines in business hours), the clock moves, the check
    escalates, the member gets the configured coupon once."""
    from shouyin.loyalty.models import Coupon
    from shouyin.service import tickets
    from shouyin.service.ticket_schemas import TicketOpen

    with database.write() as session:
        store = factories.make_store(session, shift=False)  # 09:00..21:00
        member = factories.make_member(session)
        template_id = factories.make_coupon(session, member=None).template_id
        ids = {"store": store.id, "member": member.id}
    settings = _settings(database, tmp_path, complaint_breach_compensation=f"coupon:{template_id}")
    opened_at = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)  # 20:30 local
    monkeypatch.setattr("shouyin.shared.clock.utcnow", lambda: opened_at)
    data = TicketOpen(store_id=ids["store"], category="service", priority="urgent",
                      title="排队太久", description="等了二十分钟", member_id=ids["member"])  # fmt: skip
    with database.write() as session:
        ticket_id = tickets.open_ticket(
            session, actor=None, data=data, source="office", settings=settings
        ).id
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        # One hour to respond: 30 minutes tonight, 30 from 09:00 tomorrow.
        assert as_utc(ticket.respond_by) == datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
    monkeypatch.undo()
    night = sla.run(database, settings, now=datetime(2026, 11, 23, 20, 0, tzinfo=UTC))  # 04:00
    assert night.escalated == [] and night.warned == 0
    morning = sla.run(database, settings, now=datetime(2026, 11, 24, 1, 31, tzinfo=UTC))
    assert [(x.deadline, x.compensated) for x in morning.escalated] == [("response", True)]
    sla.run(database, settings, now=datetime(2026, 11, 24, 1, 40, tzinfo=UTC))
    with database.read() as session:
        coupons = session.scalars(select(Coupon).where(Coupon.member_id == ids["member"])).all()
        kinds = session.scalars(
            select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket_id)
        ).all()
    assert [x.template_id for x in coupons] == [template_id]
    assert kinds.count("escalated") == 1 and kinds.count("compensated") == 1


def test_a_reopened_ticket_that_misses_its_new_deadline_escalates_again(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shouyin.service import ticket_flow

    with database.write() as session:
        store = factories.make_store(session, shift=False)
        member = factories.make_member(session)
        manager = factories.principal_of(
            factories.make_user(session, role="store_manager", store=store)
        )
        ticket_id = add_ticket(session, store, respond_in=5, resolve_in=-1, status="in_progress",
                               member=member).id  # fmt: skip
    settings = _settings(database, tmp_path, complaint_breach_compensation="points:50",
                         complaint_hours="calendar")  # fmt: skip
    first = sla.run(database, settings, now=NOW)
    assert [x.deadline for x in first.escalated] == ["resolution"]
    with database.write() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.status, ticket.resolved_at, ticket.first_response_at = "resolved", NOW, NOW
    monkeypatch.setattr("shouyin.shared.clock.utcnow", lambda: NOW)
    with database.write() as session:
        ticket_flow.reopen(session, ticket_id=ticket_id, reason="顾客又来电", actor=manager,
                           settings=settings)  # fmt: skip
    monkeypatch.undo()
    resolve_hours = 24  # urgent, calendar hours
    quiet = sla.run(database, settings, now=NOW + timedelta(hours=resolve_hours - 1))
    assert quiet.escalated == []
    again = sla.run(database, settings, now=NOW + timedelta(hours=resolve_hours, minutes=1))
    assert [(x.deadline, x.compensated) for x in again.escalated] == [("resolution", False)]
    rows = _count(database, TicketCompensation, TicketCompensation.ticket_id == ticket_id)
    assert rows == 1  # the breach compensated once, the first time
