"""A member's loyalty account as staff see it: tier, balances, ledger and tier history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, aliased

from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.errors import Conflict
from shouyin.loyalty import ledger
from shouyin.loyalty import settings as loyalty_settings
from shouyin.loyalty.models import (
    Coupon,
    LedgerEntry,
    MemberAccount,
    PointsLot,
    Tier,
    TierChange,
)
from shouyin.loyalty.points_schemas import (
    AccountPublic,
    ExpiringPoints,
    LedgerEntryPublic,
    LedgerPage,
    StoredValuePublic,
    TierChangePublic,
    TierPublic,
)
from shouyin.sales.models import Order
from shouyin.shared.clock import utcnow
from shouyin.shared.money import format_fen
from shouyin.stores.models import Store

DEFAULT_TIMEZONE = "Asia/Shanghai"
KINDS = ("sale", "return", "recharge", "sv_refund", "adjust", "expire", "gift", "merge",
         "compensation", "opening", "erase")  # fmt: skip


def tier_public(tier: Tier) -> TierPublic:
    return TierPublic(
        id=tier.id, code=tier.code, name=tier.name, rank=tier.rank, threshold=tier.threshold,
        discount_bp=tier.discount_bp, points_multiplier=tier.points_multiplier,
    )  # fmt: skip


def window_growth(session: Session, *, member_id: int, since: datetime) -> int:
    query = select(func.coalesce(func.sum(LedgerEntry.growth), 0)).where(
        LedgerEntry.member_id == member_id, LedgerEntry.at >= since
    )
    return int(session.scalar(query) or 0)


def soonest_expiring(session: Session, *, member_id: int) -> ExpiringPoints | None:
    first = (
        select(func.min(PointsLot.expires_on))
        .where(PointsLot.member_id == member_id, PointsLot.remaining > 0)
        .scalar_subquery()
    )
    row = session.execute(
        select(PointsLot.expires_on, func.sum(PointsLot.remaining))
        .where(
            PointsLot.member_id == member_id, PointsLot.remaining > 0,
            PointsLot.expires_on == first,
        )
        .group_by(PointsLot.expires_on)
    ).first()  # fmt: skip
    return None if row is None else ExpiringPoints(on=row[0], points=int(row[1]))


def account_summary(session: Session, *, member_id: int) -> AccountPublic:
    """The member's tier, progress to the next one, and balances (zeros before any activity)."""
    members.get_member(session, member_id=member_id)
    rules = loyalty_settings.load(session)
    tiers = list(session.scalars(select(Tier).where(Tier.active.is_(True)).order_by(Tier.rank)))
    account = session.get(MemberAccount, member_id)
    tier = _current_tier(session, account, tiers)
    growth = window_growth(
        session, member_id=member_id, since=utcnow() - timedelta(days=rules.growth_window_days)
    )
    above = [t for t in tiers if tier is None or t.rank > tier.rank]
    following = above[0] if above else None
    principal, bonus = (account.sv_principal, account.sv_bonus) if account else (0, 0)
    return AccountPublic(
        member_id=member_id,
        tier=tier_public(tier) if tier else None,
        tier_since=account.tier_since if account else None,
        next_tier=tier_public(following) if following else None,
        growth_needed=max(0, following.threshold - growth) if following else None,
        growth_window=growth,
        growth_window_days=rules.growth_window_days,
        growth_lifetime=account.growth if account else 0,
        points=account.points if account else 0,
        expiring=soonest_expiring(session, member_id=member_id),
        stored_value=StoredValuePublic(principal=principal, bonus=bonus, total=principal + bonus),
    )


def _current_tier(
    session: Session, account: MemberAccount | None, tiers: list[Tier]
) -> Tier | None:
    if account is not None and account.tier_id is not None:
        # A retired tier still describes the members who hold it.
        return session.get(Tier, account.tier_id)
    return tiers[0] if tiers and tiers[0].rank == 0 else None


def _entry_query() -> Any:
    return (
        select(LedgerEntry, Order.number, Store.name, Store.timezone)
        .outerjoin(Order, Order.id == LedgerEntry.order_id)
        .outerjoin(Store, Store.id == LedgerEntry.store_id)
    )


def _entry_public(entry: LedgerEntry, number: str | None, store: str | None, zone: str | None) -> LedgerEntryPublic:  # fmt: skip
    return LedgerEntryPublic(
        id=entry.id, at=entry.at, kind=entry.kind, points=entry.points, growth=entry.growth,
        sv_principal=entry.sv_principal, sv_bonus=entry.sv_bonus,
        points_after=entry.points_after, sv_principal_after=entry.sv_principal_after,
        sv_bonus_after=entry.sv_bonus_after, order_id=entry.order_id, order_number=number,
        ref_type=entry.ref_type, ref_id=entry.ref_id, store_id=entry.store_id, store_name=store,
        timezone=zone or DEFAULT_TIMEZONE, reason=entry.reason,
    )  # fmt: skip


def latest_entry(session: Session, *, member_id: int) -> LedgerEntryPublic:
    """The member's newest ledger row (the one a service has just posted)."""
    query = _entry_query().where(LedgerEntry.member_id == member_id)
    row = session.execute(query.order_by(LedgerEntry.id.desc()).limit(1)).one()
    return _entry_public(*row)


def entry_by_id(session: Session, *, entry_id: int) -> LedgerEntryPublic:
    row = session.execute(_entry_query().where(LedgerEntry.id == entry_id)).one()
    return _entry_public(*row)


def history(
    session: Session, *, member_id: int, kind: str | None = None, limit: int = 50, offset: int = 0
) -> LedgerPage:
    """The member's ledger, newest first, optionally of one kind."""
    members.get_member(session, member_id=member_id)
    where = [LedgerEntry.member_id == member_id]
    if kind:
        where.append(LedgerEntry.kind == kind)
    total = session.scalar(select(func.count()).select_from(LedgerEntry).where(*where)) or 0
    query = _entry_query().where(*where).order_by(LedgerEntry.at.desc(), LedgerEntry.id.desc())
    rows = session.execute(query.limit(limit).offset(offset)).all()
    items = [_entry_public(*row) for row in rows]
    return LedgerPage(items=items, total=total, limit=limit, offset=offset)


def tier_history(session: Session, *, member_id: int) -> list[TierChangePublic]:
    """Every tier move of the member, newest first."""
    members.get_member(session, member_id=member_id)
    before, after = aliased(Tier), aliased(Tier)
    query = (
        select(TierChange, before.name, after.name)
        .outerjoin(before, before.id == TierChange.from_tier_id)
        .outerjoin(after, after.id == TierChange.to_tier_id)
        .where(TierChange.member_id == member_id)
        .order_by(TierChange.at.desc(), TierChange.id.desc())
    )
    return [_change_public(change, old, new) for change, old, new in session.execute(query)]


def _change_public(change: TierChange, old: str | None, new: str | None) -> TierChangePublic:
    return TierChangePublic(
        id=change.id, at=change.at, from_tier=old, to_tier=new, reason=change.reason,
        growth=change.growth, order_id=change.order_id,
    )  # fmt: skip


# --- erasure -------------------------------------------------------------------------------


def erase_accounts(
    session: Session, *, member_ids: list[int], actor: Principal, at: datetime
) -> dict[str, int]:
    """Close the loyalty of members being erased (PIPL): what was written off.

    Refused (``member.erase_balance``) while any of them holds stored-value principal: that
    is the customer's money and must be refunded first. Otherwise points (and their lots),
    the remaining bonus and issued coupons are written off as "erase" ledger rows, in the
    caller's transaction. Growth stays: it is history, not value.
    """
    conn = session.connection()
    held = conn.execute(
        select(MemberAccount.member_id, MemberAccount.points, MemberAccount.sv_principal,
               MemberAccount.sv_bonus)
        .where(MemberAccount.member_id.in_(member_ids))
        .order_by(MemberAccount.member_id)
        .with_for_update()
    ).all()  # fmt: skip
    principal = sum(int(row.sv_principal) for row in held)
    if principal > 0:
        raise Conflict(
            "The member still holds {principal} of stored value: refund the balance first.",
            code="member.erase_balance",
            details={"principal": format_fen(principal), "principal_fen": principal},
        )
    written = {"points": 0, "sv_bonus": 0, "coupons_voided": 0}
    for row in held:
        if row.points or row.sv_bonus:
            change = ledger.Change(
                kind="erase", points=-int(row.points), sv_bonus=-int(row.sv_bonus),
                store_id=actor.store_id, user_id=actor.user_id or None, reason="Member erased",
            )  # fmt: skip
            ledger.post(conn, member_id=row.member_id, change=change, at=at)
            written["points"] += int(row.points)
            written["sv_bonus"] += int(row.sv_bonus)
    conn.execute(
        update(PointsLot)
        .where(PointsLot.member_id.in_(member_ids), PointsLot.remaining > 0)
        .values(remaining=0)
    )
    written["coupons_voided"] = conn.execute(
        update(Coupon)
        .where(Coupon.member_id.in_(member_ids), Coupon.status == "issued")
        .values(status="void")
    ).rowcount
    return written
