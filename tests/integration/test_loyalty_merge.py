"""Merging duplicate members moves every loyalty balance exactly, on SQLite and PostgreSQL:
points with their lots, stored value, growth, coupons, and the better tier."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.customers import duplicates
from shouyin.customers.models import Member
from shouyin.errors import DomainError
from shouyin.loyalty import ledger, service
from shouyin.loyalty import settings as loyalty_settings
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


def coupon_for(session: Session, member_id: int, template: CouponTemplate | None = None) -> int:
    if template is None:
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
        (duplicate, 0, -600_000, 0, 0),
        (survivor, 0, 600_000, 0, 0),
        (duplicate, -100, 0, -2_500, -300),
        (survivor, 100, 0, 2_500, 300),
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
        "lots": 2, "coupons": 1, "coupons_voided": [], "tier": "gold",
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


def test_growth_moves_by_month_so_the_window_counts_only_what_was_earned_inside_it(
    session: Session,
) -> None:
    manager = principal(session, "store_manager")
    survivor, duplicate = register(session, name="赵敏"), register(session, name="赵敏")
    now = utcnow()
    old, older = now - timedelta(days=500), now - timedelta(days=480)
    recent = now - timedelta(days=20)
    earn(session, survivor, growth=50_000, at=now - timedelta(days=5))
    earn(session, duplicate, growth=400_000, at=older - timedelta(days=1))
    earn(session, duplicate, growth=300_000, at=old)
    earn(session, duplicate, growth=80_000, at=recent)
    window = service.window_growth(session, member_id=survivor, since=now - timedelta(days=365))
    assert window == 50_000

    duplicates.merge(session, survivor_id=survivor, duplicate_id=duplicate, actor=manager)

    since = now - timedelta(days=365)
    assert service.window_growth(session, member_id=survivor, since=since) == 130_000
    assert service.window_growth(session, member_id=duplicate, since=since) == 0
    assert ledger.balances(session.connection(), member_id=survivor).growth == 830_000
    into = session.scalars(
        select(LedgerEntry).where(LedgerEntry.member_id == survivor, LedgerEntry.kind == "merge")
    ).all()
    assert sum(e.growth for e in into) == 780_000
    # Each row is dated at the latest original entry of its month, never at the merge.
    assert all(
        e.at.replace(tzinfo=None) < now.replace(tzinfo=None) - timedelta(days=19) for e in into
    )
    for member_id in (survivor, duplicate):
        assert_consistent(session, member_id)


def _limited_template(session: Session, limit: int) -> CouponTemplate:
    template = CouponTemplate(name="新人券", kind="voucher", value=1_000, per_member_limit=limit)
    session.add(template)
    session.flush()
    return template


def test_coupons_over_the_per_member_limit_are_voided_and_audited(session: Session) -> None:
    manager = principal(session, "store_manager")
    survivor, duplicate = register(session, name="周芷若"), register(session, name="周芷若")
    welcome, unlimited = _limited_template(session, 1), _limited_template(session, 5)
    kept = coupon_for(session, survivor, welcome)
    surplus = coupon_for(session, duplicate, welcome)
    other = coupon_for(session, duplicate, unlimited)

    duplicates.merge(session, survivor_id=survivor, duplicate_id=duplicate, actor=manager)

    def status(coupon_id: int) -> tuple[int | None, str]:
        coupon = session.get(Coupon, coupon_id, populate_existing=True)
        assert coupon is not None
        return coupon.member_id, coupon.status

    assert status(kept) == (survivor, "issued")
    assert status(surplus) == (survivor, "void")
    assert status(other) == (survivor, "issued")
    code = session.get(Coupon, surplus)
    assert code is not None
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "member.merge")).one()
    assert audit.after is not None
    assert audit.after["loyalty"]["coupons_voided"] == [code.code]
    assert audit.after["loyalty"]["coupons"] == 2


def test_a_merge_over_the_stored_value_cap_is_refused_before_anything_moves(
    session: Session,
) -> None:
    manager = principal(session, "store_manager")
    settings = loyalty_settings.load(session)
    loyalty_settings.save(session, settings.model_copy(update={"stored_value_cap": 10_000}))
    survivor, duplicate = register(session, name="张无忌"), register(session, name="张无忌")
    earn(session, survivor, points=10, sv=6_000, expires_on=None)
    earn(session, duplicate, points=20, sv=4_001, expires_on=None)
    coupon = coupon_for(session, duplicate)
    entries = session.scalar(select(func.count()).select_from(LedgerEntry))

    with pytest.raises(DomainError) as refused:
        duplicates.merge(session, survivor_id=survivor, duplicate_id=duplicate, actor=manager)

    assert refused.value.code == "member.merge_over_cap" and refused.value.status == 409
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries
    assert ledger.balances(session.connection(), member_id=duplicate).sv_principal == 4_001
    assert session.get(Coupon, coupon, populate_existing=True).member_id == duplicate  # type: ignore[union-attr]
    gone = session.get(Member, duplicate, populate_existing=True)
    assert gone is not None and gone.status == "active" and gone.merged_into is None
    # Exactly at the cap is allowed.
    ledger.post(
        session.connection(), member_id=duplicate, at=utcnow(),
        change=ledger.Change(kind="sv_refund", sv_principal=-1),
    )  # fmt: skip
    duplicates.merge(session, survivor_id=survivor, duplicate_id=duplicate, actor=manager)
    assert ledger.balances(session.connection(), member_id=survivor).stored_value == 10_000
