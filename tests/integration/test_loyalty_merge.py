"""Merging duplicate members moves every loyalty balance exactly, on SQLite and PostgreSQL:
points with their lots, stored value, growth, coupons, and the better tier."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.customers import duplicates
from shouyin.loyalty import ledger
from shouyin.loyalty.models import (
    Coupon,
    CouponTemplate,
    LedgerEntry,
    MemberAccount,
    PointsLot,
    Tier,
    TierChange,
)
from shouyin.shared.clock import utcnow
from tests import factories
from tests.integration.test_points_ops import assert_consistent, earn, principal, register


def set_tier(session: Session, member_id: int, code: str) -> None:
    ledger.ensure_account(session.connection(), member_id=member_id, at=utcnow())
    tier = session.scalars(select(Tier.id).where(Tier.code == code)).one()
    session.execute(
        update(MemberAccount).where(MemberAccount.member_id == member_id).values(tier_id=tier)
    )


def coupon_for(session: Session, member_id: int) -> int:
    template = CouponTemplate(name="满100减20", kind="threshold", value=2_000, min_spend=10_000)
    session.add(template)
    session.flush()
    now = utcnow()
    coupon = Coupon(
        template_id=template.id, member_id=member_id, code=f"C{factories.next_id():08d}",
        valid_from=now, valid_to=now + timedelta(days=30),
    )  # fmt: skip
    session.add(coupon)
    session.flush()
    return coupon.id


def tier_code(session: Session, member_id: int) -> str:
    account = session.get(MemberAccount, member_id, populate_existing=True)
    assert account is not None
    return session.scalars(select(Tier.code).where(Tier.id == account.tier_id)).one()


def test_merging_moves_points_stored_value_growth_coupons_and_the_higher_tier(
    session: Session,
) -> None:
    manager = principal(session, "store_manager")
    survivor, duplicate = register(session, name="王芳"), register(session, name="王芳")
    earn(session, survivor, points=100, growth=300_000, sv=5_000, expires_on=date(2027, 12, 31))
    earn(session, duplicate, points=40, growth=600_000, sv=2_500, expires_on=date(2026, 12, 31))
    earn(session, duplicate, points=60, expires_on=None)
    ledger.post(
        session.connection(), member_id=duplicate, at=utcnow(),
        change=ledger.Change(kind="recharge", sv_bonus=300),
    )  # fmt: skip
    set_tier(session, survivor, "silver")
    set_tier(session, duplicate, "gold")
    coupon = coupon_for(session, duplicate)

    duplicates.merge(session, survivor_id=survivor, duplicate_id=duplicate, actor=manager)

    kept = ledger.balances(session.connection(), member_id=survivor)
    gone = ledger.balances(session.connection(), member_id=duplicate)
    assert kept == ledger.Balances(points=200, growth=900_000, sv_principal=7_500, sv_bonus=300)
    assert gone == ledger.Balances(0, 0, 0, 0)
    merges = session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == "merge").order_by(LedgerEntry.id)
    ).all()
    assert [(e.member_id, e.points, e.growth, e.sv_principal, e.sv_bonus) for e in merges] == [
        (duplicate, -100, -600_000, -2_500, -300),
        (survivor, 100, 600_000, 2_500, 300),
    ]
    lots = session.scalars(select(PointsLot.member_id).where(PointsLot.member_id == duplicate))
    assert list(lots) == []
    assert session.get(Coupon, coupon, populate_existing=True).member_id == survivor  # type: ignore[union-attr]
    assert tier_code(session, survivor) == "gold" and tier_code(session, duplicate) == "regular"
    changes = session.scalars(select(TierChange).where(TierChange.reason == "merge")).all()
    assert {c.member_id for c in changes} == {survivor, duplicate}
    for member_id in (survivor, duplicate):
        assert_consistent(session, member_id)
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "member.merge")).one()
    assert audit.after is not None
    assert audit.after["loyalty"] == {
        "points": 100, "growth": 600_000, "sv_principal": 2_500, "sv_bonus": 300,
        "lots": 2, "coupons": 1, "tier": "gold",
    }  # fmt: skip


def test_the_survivor_keeps_its_tier_when_it_is_higher_and_empty_accounts_merge(
    session: Session,
) -> None:
    admin = principal(session, "hq_admin")
    survivor, duplicate = register(session, name="李雷"), register(session, name="李雷")
    set_tier(session, survivor, "diamond")
    duplicates.merge(session, survivor_id=survivor, duplicate_id=duplicate, actor=admin)
    assert tier_code(session, survivor) == "diamond"
    assert session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "merge")).all() == []
    assert session.scalars(select(TierChange)).all() == []
    for member_id in (survivor, duplicate):
        assert_consistent(session, member_id)
