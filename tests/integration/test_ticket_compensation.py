"""Compensation for complaints on both databases: a coupon and points that the member then
holds, a refund reference, rights, tickets without a member, and breach compensation that
happens once even when two checks grant it at the same moment. Also the other races: two
managers closing one ticket, two tills sending the same complaint."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.config import Settings
from shouyin.db import Database
from shouyin.errors import Conflict, DomainError, Forbidden
from shouyin.loyalty import coupons, ledger
from shouyin.loyalty import service as loyalty
from shouyin.loyalty.models import CouponTemplate
from shouyin.service import compensation, ticket_flow, tickets
from shouyin.service.models import Ticket, TicketCompensation
from shouyin.service.ticket_schemas import CompensationIn, TicketOpen, TicketResolve
from shouyin.shared import clock
from tests import factories
from tests.conftest import make_settings

T = TypeVar("T")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings("sqlite://", tmp_path, complaint_hours="calendar")


def _shop(session: Session) -> dict[str, Any]:
    store = factories.make_store(session, shift=False)
    manager = factories.make_user(session, role="store_manager", store=store)
    template = factories.make_coupon(session, member=None, value=1000).template_id
    return {
        "store": store, "member": factories.make_member(session), "template": template,
        "manager": factories.principal_of(manager),
    }  # fmt: skip


def _ticket(session: Session, shop: dict[str, Any], settings: Settings, *, member: bool = True,
            in_progress: bool = True) -> int:  # fmt: skip
    data = TicketOpen(
        store_id=shop["store"].id, category="product", priority="normal", title="破损",
        description="包装破损", member_id=shop["member"].id if member else None,
        client_uuid=uuid.uuid4(),
    )  # fmt: skip
    manager: Principal = shop["manager"]
    view = tickets.open_ticket(session, actor=manager, data=data, source="office",
                               settings=settings)  # fmt: skip
    if in_progress:
        ticket_flow.assign(session, ticket_id=view.id, user_id=manager.user_id, actor=manager)
        ticket_flow.start(session, ticket_id=view.id, actor=manager)
    return view.id


def test_a_resolve_gives_a_coupon_points_and_a_refund_reference_the_member_then_holds(
    session: Session, settings: Settings
) -> None:
    shop = _shop(session)
    member_id = shop["member"].id
    ticket_id = _ticket(session, shop, settings)
    data = TicketResolve(
        outcome="致歉并补偿",
        compensations=[
            CompensationIn(kind="coupon", coupon_template_id=shop["template"]),
            CompensationIn(kind="points", points=300),
            CompensationIn(kind="refund", refund_reference="RT-T0001-001"),
        ],
    )
    view = ticket_flow.resolve(
        session, ticket_id=ticket_id, data=data, actor=shop["manager"], settings=settings
    )
    given = [(c.reason, c.kind, c.points, c.refund_reference) for c in view.compensations]
    assert given == [
        ("resolution-1", "coupon", None, None),
        ("resolution-2", "points", 300, None),
        ("resolution-3", "refund", None, "RT-T0001-001"),
    ]
    held = coupons.member_coupons(session, member_id=member_id, at=clock.utcnow())
    assert [(c.code, c.source, c.usable) for c in held] == [
        (view.compensations[0].coupon_code, "complaint", True)
    ]
    account = loyalty.account_summary(session, member_id=member_id)
    assert account.points == 300
    entry = loyalty.latest_entry(session, member_id=member_id)
    number = session.get(Ticket, ticket_id).number  # type: ignore[union-attr]
    assert (entry.kind, entry.points, entry.reason) == ("compensation", 300, f"complaint {number}")
    lots = ledger.open_lots(session.connection(), member_id=member_id)
    assert sum(lot.remaining for lot in lots) == 300  # the balance is backed by a lot
    assert [e.kind for e in view.events].count("compensated") == 3
    # Another compensation later takes the next number.
    more = compensation.give(
        session, ticket_id=ticket_id, data=CompensationIn(kind="points", points=50),
        actor=shop["manager"], at=clock.utcnow(),
    )  # fmt: skip
    assert more is not None and more.reason == "resolution-4"


def test_coupons_and_points_need_the_loyalty_rights_too(
    session: Session, settings: Settings
) -> None:
    shop = _shop(session)
    ticket_id = _ticket(session, shop, settings)
    manager: Principal = shop["manager"]
    # A complaint handler who may not issue coupons or adjust points (a narrower role).
    narrow = replace(manager, permissions=manager.permissions - {"coupons.issue", "points.adjust"})
    for item in (CompensationIn(kind="coupon", coupon_template_id=shop["template"]),
                 CompensationIn(kind="points", points=10)):  # fmt: skip
        with pytest.raises(Forbidden):
            compensation.give(session, ticket_id=ticket_id, data=item, actor=narrow,
                              at=clock.utcnow())  # fmt: skip
    refund = CompensationIn(kind="refund", refund_reference="RT-1")
    assert compensation.give(
        session, ticket_id=ticket_id, data=refund, actor=narrow, at=clock.utcnow()
    )
    assert session.scalar(select(func.count()).select_from(TicketCompensation)) == 1


def test_a_ticket_without_a_member_gets_a_note_instead_of_a_coupon(
    session: Session, settings: Settings
) -> None:
    shop = _shop(session)
    ticket_id = _ticket(session, shop, settings, member=False)
    granted = compensation.grant(
        session, ticket_id=ticket_id, kind="points", reason="breach_response", actor=None,
        at=clock.utcnow(), points=200,
    )  # fmt: skip
    assert granted is None
    view = tickets.detail(session, ticket_id=ticket_id, actor=shop["manager"])
    assert view.compensations == [] and view.events[-1].kind == "note"
    assert view.events[-1].data is not None and view.events[-1].data["reason"] == "breach_response"


def test_a_bad_compensation_is_refused_and_nothing_is_given(
    session: Session, settings: Settings
) -> None:
    shop = _shop(session)
    ticket_id = _ticket(session, shop, settings)
    cases: list[dict[str, Any]] = [
        {"kind": "coupon"}, {"kind": "points"}, {"kind": "refund", "refund_reference": "  "},
        {"kind": "coupon", "coupon_template_id": 2**31 - 2},
    ]  # fmt: skip
    for case in cases:
        with pytest.raises(DomainError), session.begin_nested():
            compensation.give(session, ticket_id=ticket_id, data=CompensationIn(**case),
                              actor=shop["manager"], at=clock.utcnow())  # fmt: skip
    assert session.scalar(select(func.count()).select_from(TicketCompensation)) == 0
    # A template the member has used up is refused, not silently skipped.
    used = factories.make_coupon(session, member=shop["member"])
    template = session.get(CouponTemplate, used.template_id)
    assert template is not None
    template.per_member_limit = 1
    session.flush()
    with pytest.raises(Conflict) as limited:
        compensation.give(
            session, ticket_id=ticket_id, actor=shop["manager"], at=clock.utcnow(),
            data=CompensationIn(kind="coupon", coupon_template_id=template.id),
        )  # fmt: skip
    assert limited.value.code == "ticket.coupon_limit"


def test_breach_compensation_is_given_once(session: Session, settings: Settings) -> None:
    shop = _shop(session)
    ticket_id = _ticket(session, shop, settings, in_progress=False)
    results = [
        compensation.grant(
            session, ticket_id=ticket_id, kind="coupon", reason="breach_response", actor=None,
            at=clock.utcnow(), coupon_template_id=shop["template"],
        )
        for _ in range(2)
    ]  # fmt: skip
    assert results[0] is not None and results[1] is None
    held = coupons.member_coupons(session, member_id=shop["member"].id, at=clock.utcnow())
    assert len(held) == 1 and held[0].source == "complaint"
    view = tickets.detail(session, ticket_id=ticket_id, actor=shop["manager"])
    assert [(c.reason, c.user_id) for c in view.compensations] == [("breach_response", None)]


def _race(database: Database, work: Callable[[Session], T]) -> list[T | BaseException]:
    """Run ``work`` twice at the same moment, each in its own committed transaction."""
    start = threading.Barrier(2)

    def one() -> T | BaseException:
        start.wait()
        try:
            with database.write() as session:
                return work(session)
        except DomainError as error:
            return error

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda _: one(), range(2)))


def test_two_checks_granting_the_same_breach_at_once_give_it_once(
    database: Database, settings: Settings
) -> None:
    with database.write() as session:
        shop = _shop(session)
        ticket_id = _ticket(session, shop, settings, in_progress=False)
        member_id = shop["member"].id

    def grant(session: Session) -> int | None:
        row = compensation.grant(
            session, ticket_id=ticket_id, kind="points", reason="breach_resolution",
            actor=None, at=clock.utcnow(), points=200,
        )  # fmt: skip
        return None if row is None else row.id

    results = _race(database, grant)
    assert results.count(None) == 1
    assert len([x for x in results if isinstance(x, int)]) == 1
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(TicketCompensation)) == 1
        assert loyalty.account_summary(session, member_id=member_id).points == 200


def test_two_managers_closing_one_ticket_at_once_close_it_once(
    database: Database, settings: Settings
) -> None:
    with database.write() as session:
        shop = _shop(session)
        ticket_id = _ticket(session, shop, settings)
        ticket_flow.resolve(session, ticket_id=ticket_id, data=TicketResolve(outcome="好"),
                            actor=shop["manager"], settings=settings)  # fmt: skip

    def close(session: Session) -> str:
        return ticket_flow.close(session, ticket_id=ticket_id, actor=shop["manager"]).status

    results = _race(database, close)
    assert sorted(map(str, results)) == sorted(
        ["closed", "A ticket cannot go from closed to closed."]
    )
    with database.read() as session:
        view = tickets.detail(session, ticket_id=ticket_id, actor=shop["manager"])
    assert [e.to_status for e in view.events].count("closed") == 1


def test_two_tills_sending_the_same_complaint_at_once_open_one_ticket(
    database: Database, settings: Settings
) -> None:
    with database.write() as session:
        shop = _shop(session)
    data = TicketOpen(
        store_id=shop["store"].id, category="price", priority="high", title="价签错误",
        description="货架价与收银价不同", client_uuid=uuid.uuid4(),
    )  # fmt: skip

    def open_one(session: Session) -> int:
        return tickets.open_ticket(
            session, actor=shop["manager"], data=data, source="till", settings=settings
        ).id

    results = _race(database, open_one)
    assert results[0] == results[1] and isinstance(results[0], int)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
