"""Points outside the till on SQLite and PostgreSQL: manual adjustments, expiry, gifts, and the
account summary staff read."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from functools import cache

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.customers.crypto import FieldCipher, KeyRing
from shouyin.customers.schemas import MemberCreate
from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.inventory.models import StockMovement
from shouyin.inventory.service import on_hand
from shouyin.loyalty import ledger, points, service
from shouyin.loyalty.models import LedgerEntry, MemberAccount, PointsLot, Tier
from shouyin.loyalty.points_schemas import GiftCreate, GiftRedemptionIn, GiftUpdate
from shouyin.shared.clock import utcnow
from shouyin.stores.models import Store
from tests import factories


@cache
def cipher() -> FieldCipher:
    return FieldCipher(KeyRing.generate())


def principal(
    session: Session, role: str = "store_manager", store: Store | None = None
) -> Principal:
    return factories.principal_of(factories.make_user(session, role=role, store=store))


def register(session: Session, actor: Principal | None = None, name: str = "张三") -> int:
    actor = actor or principal(session, "hq_admin")
    data = MemberCreate(mobile=f"139{factories.next_id():08d}", name=name, consent=True)
    member = members.register(
        session, data=data, actor=actor, cipher=cipher(), notice_version="2026-01"
    )
    return member.id


def earn(
    session: Session, member_id: int, *, points: int = 0, growth: int = 0, sv: int = 0,
    expires_on: date | None = None, at: datetime | None = None,
) -> None:  # fmt: skip
    """What a sale or recharge does to the account: a ledger row and a lot."""
    conn, at = session.connection(), at or utcnow()
    change = ledger.Change(kind="sale", points=points, growth=growth, sv_principal=sv)
    ledger.post(conn, member_id=member_id, change=change, at=at)
    ledger.add_lot(conn, member_id=member_id, points=points, expires_on=expires_on, order_id=None, at=at)  # fmt: skip


def lots_of(session: Session, member_id: int) -> list[tuple[int, int, date | None]]:
    query = select(PointsLot.earned, PointsLot.remaining, PointsLot.expires_on).where(
        PointsLot.member_id == member_id
    )
    return [tuple(row) for row in session.execute(query.order_by(PointsLot.id))]  # type: ignore[misc]


def assert_consistent(session: Session, member_id: int) -> None:
    """points == sum(ledger.points) == sum(lots.remaining), and so on for every balance."""
    held = ledger.balances(session.connection(), member_id=member_id)
    sums = session.execute(
        select(
            func.coalesce(func.sum(LedgerEntry.points), 0),
            func.coalesce(func.sum(LedgerEntry.growth), 0),
            func.coalesce(func.sum(LedgerEntry.sv_principal), 0),
            func.coalesce(func.sum(LedgerEntry.sv_bonus), 0),
        ).where(LedgerEntry.member_id == member_id)
    ).one()
    lots = session.scalar(
        select(func.coalesce(func.sum(PointsLot.remaining), 0)).where(
            PointsLot.member_id == member_id
        )
    )
    assert (held.points, held.growth, held.sv_principal, held.sv_bonus) == tuple(sums)
    assert held.points == lots


def entries(session: Session, member_id: int, kind: str) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.member_id == member_id, LedgerEntry.kind == kind)
    return list(session.scalars(query.order_by(LedgerEntry.id)))


def test_a_manager_adds_points_as_a_new_lot_with_the_shops_expiry(session: Session) -> None:
    store = factories.make_store(session)
    manager = principal(session, "store_manager", store)
    member_id = register(session)
    result = points.adjust(
        session, member_id=member_id, points=300, reason=" 补录积分 ", actor=manager
    )
    assert result.points == 300
    assert result.entry.kind == "adjust" and result.entry.points == 300
    assert result.entry.reason == "补录积分" and result.entry.store_id == store.id
    today = points.today_for(session, store_id=store.id, at=utcnow())
    assert lots_of(session, member_id) == [(300, 300, date(today.year + 1, 12, 31))]
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "points.adjust")).one()
    assert audit.entity_id == str(member_id) and audit.before == {"points": 0}
    assert audit.after == {"points": 300, "change": 300, "reason": "补录积分"}
    assert_consistent(session, member_id)


def test_taking_points_away_spends_the_soonest_to_expire_first(session: Session) -> None:
    admin = principal(session, "hq_admin")
    member_id = register(session)
    earn(session, member_id, points=100, expires_on=date(2027, 12, 31))
    earn(session, member_id, points=50, expires_on=date(2026, 12, 31))
    result = points.adjust(session, member_id=member_id, points=-70, reason="误录", actor=admin)
    assert result.points == 80 and result.entry.store_id is None
    assert lots_of(session, member_id) == [
        (100, 80, date(2027, 12, 31)),
        (50, 0, date(2026, 12, 31)),
    ]
    assert_consistent(session, member_id)


@pytest.mark.parametrize(
    ("change", "reason", "code"),
    [
        (-81, "太多", "points.insufficient"),
        (0, "没有", "points.adjust_zero"),
        (1_000_001, "太多", "points.adjust_too_large"),
        (10, " ", "points.reason_required"),
        (10, "x", "points.reason_required"),
        (10, "长" * 201, "points.reason_too_long"),
    ],
)
def test_a_bad_adjustment_is_refused_and_changes_nothing(
    session: Session, change: int, reason: str, code: str
) -> None:
    admin = principal(session, "hq_admin")
    member_id = register(session)
    earn(session, member_id, points=80, expires_on=date(2027, 12, 31))
    with pytest.raises(DomainError) as refused:
        points.adjust(session, member_id=member_id, points=change, reason=reason, actor=admin)
    assert refused.value.code == code
    assert ledger.balances(session.connection(), member_id=member_id).points == 80
    assert lots_of(session, member_id) == [(80, 80, date(2027, 12, 31))]
    assert entries(session, member_id, "adjust") == []


def test_adjusting_needs_the_permission(session: Session) -> None:
    member_id = register(session)
    cashier = principal(session, "cashier")
    with pytest.raises(DomainError) as refused:
        points.adjust(session, member_id=member_id, points=10, reason="送积分", actor=cashier)
    assert refused.value.code == "auth.permission_denied"


def test_expiry_writes_off_old_lots_once_per_member(session: Session) -> None:
    first, second, untouched = register(session), register(session), register(session)
    earn(session, first, points=40, expires_on=date(2025, 12, 31))
    earn(session, first, points=60, expires_on=date(2025, 6, 30))
    earn(session, first, points=25, expires_on=date(2026, 1, 1))  # expires at the end of today
    earn(session, second, points=10, expires_on=date(2025, 12, 31))
    earn(session, second, points=5, expires_on=None)  # never expires
    earn(session, untouched, points=7, expires_on=date(2026, 3, 1))
    done = points.expire_points(session, today=date(2026, 1, 1))
    assert (done.members, done.points) == (2, 110)
    rows = entries(session, first, "expire")
    assert [(e.points, e.points_after) for e in rows] == [(-100, 25)]
    assert [e.points for e in entries(session, second, "expire")] == [-10]
    assert entries(session, untouched, "expire") == []
    for member_id in (first, second, untouched):
        assert_consistent(session, member_id)
    again = points.expire_points(session, today=date(2026, 1, 1))
    assert (again.members, again.points) == (0, 0)
    assert len(entries(session, first, "expire")) == 1


def test_the_summary_shows_tier_progress_balances_and_the_soonest_expiry(session: Session) -> None:
    member_id = register(session)
    empty = service.account_summary(session, member_id=member_id)
    assert empty.tier is not None and empty.tier.code == "regular"
    assert (empty.points, empty.growth_window, empty.stored_value.total) == (0, 0, 0)
    assert empty.next_tier is not None and empty.next_tier.code == "silver"
    assert empty.growth_needed == 200_000 and empty.expiring is None
    old = utcnow() - timedelta(days=400)
    earn(session, member_id, points=30, growth=150_000, expires_on=date(2026, 12, 31), at=old)
    earn(session, member_id, points=20, growth=50_000, sv=8_000, expires_on=date(2026, 12, 31))
    earn(session, member_id, points=5, expires_on=date(2027, 12, 31))
    summary = service.account_summary(session, member_id=member_id)
    assert summary.points == 55 and summary.growth_lifetime == 200_000
    assert summary.growth_window == 50_000 and summary.growth_needed == 150_000
    assert summary.expiring is not None
    assert (summary.expiring.on, summary.expiring.points) == (date(2026, 12, 31), 50)
    assert summary.stored_value.principal == 8_000 and summary.stored_value.total == 8_000
    with pytest.raises(DomainError) as missing:
        service.account_summary(session, member_id=2**31 - 1)
    assert missing.value.code == "member.not_found"


def test_history_pages_and_filters_the_ledger(session: Session) -> None:
    admin = principal(session, "hq_admin")
    member_id = register(session)
    earn(session, member_id, points=100, expires_on=date(2030, 1, 1))
    for n in range(3):
        points.adjust(session, member_id=member_id, points=n + 1, reason="活动奖励", actor=admin)
    page = service.history(session, member_id=member_id, limit=2)
    assert page.total == 4 and [e.points for e in page.items] == [3, 2]
    adjusts = service.history(session, member_id=member_id, kind="adjust", limit=10, offset=1)
    assert adjusts.total == 3 and [e.points for e in adjusts.items] == [2, 1]


def _gift_setup(session: Session, stock: int = 5) -> tuple[Store, Principal, int, int]:
    store = factories.make_store(session)
    product = factories.make_product(session, price=2_000, stock={store.id: stock})
    admin = principal(session, "hq_admin")
    gift = points.create_gift(
        session, data=GiftCreate(name="保温杯", points=120, product_id=product.id), actor=admin
    )
    return store, admin, gift.id, product.id


def test_a_gift_spends_points_and_takes_the_product_from_stock(session: Session) -> None:
    store, _admin, gift_id, product_id = _gift_setup(session)
    cashier = principal(session, "cashier", store)
    member_id = register(session)
    earn(session, member_id, points=100, expires_on=date(2026, 12, 31))
    earn(session, member_id, points=100, expires_on=date(2027, 12, 31))
    done = points.redeem_gift(
        session, member_id=member_id, data=GiftRedemptionIn(client_uuid=uuid.uuid4(), gift_id=gift_id, store_id=store.id),
        actor=cashier,
    )  # fmt: skip
    assert done.points == 80 and done.entry.kind == "gift" and done.entry.points == -120
    assert (done.entry.ref_type, done.entry.ref_id, done.entry.reason) == (
        "gift",
        gift_id,
        "保温杯",
    )
    assert [lot[1] for lot in lots_of(session, member_id)] == [0, 80]
    assert on_hand(session, store_id=store.id, product_id=product_id) == 4
    movement = session.scalars(select(StockMovement).where(StockMovement.ref_type == "gift")).one()
    assert (movement.kind, movement.quantity, movement.ref_id) == ("gift", -1, gift_id)
    assert_consistent(session, member_id)


def test_a_retried_gift_redemption_spends_once_and_a_reused_uuid_is_refused(
    session: Session,
) -> None:
    store, _admin, gift_id, product_id = _gift_setup(session)
    cashier = principal(session, "cashier", store)
    member_id, other = register(session), register(session)
    earn(session, member_id, points=300, expires_on=date(2027, 12, 31))
    earn(session, other, points=300, expires_on=date(2027, 12, 31))
    request = GiftRedemptionIn(client_uuid=uuid.uuid4(), gift_id=gift_id, store_id=store.id)
    first = points.redeem_gift(session, member_id=member_id, data=request, actor=cashier)
    again = points.redeem_gift(session, member_id=member_id, data=request, actor=cashier)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.entry == first.entry and again.points == first.points == 180
    assert ledger.balances(session.connection(), member_id=member_id).points == 180
    assert on_hand(session, store_id=store.id, product_id=product_id) == 4
    gifts = select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "gift")
    assert session.scalar(gifts) == 1
    for wrong_member, data in (
        (other, request),
        (member_id, request.model_copy(update={"store_id": factories.make_store(session).id})),
    ):
        with pytest.raises(DomainError) as reused:
            points.redeem_gift(
                session, member_id=wrong_member, data=data, actor=principal(session, "hq_admin")
            )
        assert (reused.value.code, reused.value.status) == ("gift.uuid_reused", 409)
    assert session.scalar(gifts) == 1
    assert_consistent(session, member_id)


def test_a_gift_is_refused_without_enough_points_or_when_retired(session: Session) -> None:
    store, admin, gift_id, product_id = _gift_setup(session)
    cashier = principal(session, "cashier", store)
    member_id = register(session)
    earn(session, member_id, points=100, expires_on=date(2026, 12, 31))
    request = GiftRedemptionIn(client_uuid=uuid.uuid4(), gift_id=gift_id, store_id=store.id)
    with pytest.raises(DomainError) as short:
        points.redeem_gift(session, member_id=member_id, data=request, actor=cashier)
    assert short.value.code == "points.insufficient"
    assert on_hand(session, store_id=store.id, product_id=product_id) == 5
    points.update_gift(
        session, gift_id=gift_id, data=GiftUpdate(active=False, points=50), actor=admin
    )
    with pytest.raises(DomainError) as retired:
        points.redeem_gift(session, member_id=member_id, data=request, actor=cashier)
    assert retired.value.code == "gift.inactive"
    elsewhere = principal(session, "cashier", factories.make_store(session))
    points.update_gift(session, gift_id=gift_id, data=GiftUpdate(active=True), actor=admin)
    with pytest.raises(DomainError) as foreign:
        points.redeem_gift(session, member_id=member_id, data=request, actor=elsewhere)
    assert foreign.value.code == "store.forbidden"
    assert ledger.balances(session.connection(), member_id=member_id).points == 100


def test_a_gift_of_an_unknown_product_is_refused(session: Session) -> None:
    admin = principal(session, "hq_admin")
    with pytest.raises(DomainError) as unknown:
        points.create_gift(
            session, data=GiftCreate(name="礼品", points=10, product_id=2**31 - 1), actor=admin
        )
    assert unknown.value.code == "catalog.product_unknown"
    marketer = principal(session, "hq_marketer")
    gift = points.create_gift(session, data=GiftCreate(name="购物袋", points=10), actor=marketer)
    assert [g.name for g in points.list_gifts(session, active_only=True)] == ["购物袋"]
    assert gift.product_id is None


def test_accounts_are_entry_tier_until_they_move(session: Session) -> None:
    member_id = register(session)
    earn(session, member_id, points=1)
    account = session.get(MemberAccount, member_id)
    entry = session.scalars(select(Tier).where(Tier.rank == 0)).one()
    assert account is not None and account.tier_id == entry.id


def test_two_sends_of_one_gift_redemption_at_once_give_one_gift(database: Database) -> None:
    with database.write() as session:
        store, _admin, gift_id, _product = _gift_setup(session)
        cashier = principal(session, "cashier", store)
        member_id = register(session)
        earn(session, member_id, points=500, expires_on=date(2030, 12, 31))
    request = GiftRedemptionIn(client_uuid=uuid.uuid4(), gift_id=gift_id, store_id=store.id)
    start = threading.Barrier(2, timeout=20)

    def send() -> tuple[int, bool]:
        start.wait()
        with database.write() as session:
            done = points.redeem_gift(session, member_id=member_id, data=request, actor=cashier)
        return done.entry.id, done.replayed

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: send(), range(2)))
    assert results[0][0] == results[1][0]
    assert sorted(replayed for _, replayed in results) == [False, True]
    with database.read() as session:
        assert ledger.balances(session.connection(), member_id=member_id).points == 380
        assert_consistent(session, member_id)
