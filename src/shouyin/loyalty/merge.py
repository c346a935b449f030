"""Merging two members' loyalty accounts: balances, lots, coupons and the better tier.

Balances move as two "merge" ledger rows (the duplicate down to zero, the survivor up by the
same amounts), so each member's balances stay the sums of their own ledger rows. The
duplicate's growth arrives in the survivor's ledger dated at the merge: it counts in the
survivor's growth window from then on, which favours the customer (it is one person).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.loyalty import ledger
from shouyin.loyalty.models import Coupon, MemberAccount, PointsLot, Tier, TierChange


def _lock_accounts(conn: Connection, member_ids: list[int], at: datetime) -> None:
    for member_id in member_ids:
        ledger.ensure_account(conn, member_id=member_id, at=at)
    # In id order, so two merges of the same pair never wait on each other in a circle.
    conn.execute(
        select(MemberAccount.member_id)
        .where(MemberAccount.member_id.in_(member_ids))
        .order_by(MemberAccount.member_id)
        .with_for_update()
    ).all()


def _move_balances(
    conn: Connection, *, survivor_id: int, duplicate_id: int, actor: Principal, at: datetime
) -> ledger.Balances:
    moved = ledger.balances(conn, member_id=duplicate_id)
    if moved == ledger.Balances(0, 0, 0, 0):
        return moved
    common: dict[str, Any] = {"kind": "merge", "ref_type": "member", "store_id": actor.store_id,
                              "user_id": actor.user_id or None}  # fmt: skip
    out = ledger.Change(
        points=-moved.points, growth=-moved.growth, sv_principal=-moved.sv_principal,
        sv_bonus=-moved.sv_bonus, ref_id=survivor_id,
        reason=f"Merged into member {survivor_id}", **common,
    )  # fmt: skip
    into = ledger.Change(
        points=moved.points, growth=moved.growth, sv_principal=moved.sv_principal,
        sv_bonus=moved.sv_bonus, ref_id=duplicate_id,
        reason=f"Merged from member {duplicate_id}", **common,
    )  # fmt: skip
    ledger.post(conn, member_id=duplicate_id, change=out, at=at)
    ledger.post(conn, member_id=survivor_id, change=into, at=at)
    return moved


def _tier_of(session: Session, member_id: int) -> Tier | None:
    account = session.get(MemberAccount, member_id, populate_existing=True)
    return session.get(Tier, account.tier_id) if account and account.tier_id else None


def _set_tier(
    session: Session, member_id: int, old: Tier | None, new: Tier | None, actor: Principal,
    at: datetime,
) -> None:  # fmt: skip
    session.execute(
        update(MemberAccount).where(MemberAccount.member_id == member_id)
        .values(tier_id=new.id if new else None, tier_since=at)
    )  # fmt: skip
    session.add(
        TierChange(
            member_id=member_id, from_tier_id=old.id if old else None,
            to_tier_id=new.id if new else None, reason="merge", growth=0,
            user_id=actor.user_id or None, at=at,
        )
    )  # fmt: skip


def _merge_tiers(
    session: Session, *, survivor_id: int, duplicate_id: int, actor: Principal, at: datetime
) -> str | None:
    """The survivor keeps the higher tier; the duplicate drops to the entry tier."""
    kept, other = _tier_of(session, survivor_id), _tier_of(session, duplicate_id)
    entry = session.scalars(select(Tier).where(Tier.rank == 0)).first()
    result = kept.code if kept else None
    if other is not None and (kept is None or other.rank > kept.rank):
        _set_tier(session, survivor_id, kept, other, actor, at)
        result = other.code
    if other is not None and entry is not None and other.id != entry.id:
        _set_tier(session, duplicate_id, other, entry, actor, at)
    session.flush()
    return result


def merge_accounts(
    session: Session, *, survivor_id: int, duplicate_id: int, actor: Principal, at: datetime
) -> dict[str, Any]:
    """Move everything loyalty holds for ``duplicate_id`` to ``survivor_id``; what moved."""
    conn = session.connection()
    _lock_accounts(conn, sorted({survivor_id, duplicate_id}), at)
    moved = _move_balances(
        conn, survivor_id=survivor_id, duplicate_id=duplicate_id, actor=actor, at=at
    )
    lots = conn.execute(
        update(PointsLot).where(PointsLot.member_id == duplicate_id).values(member_id=survivor_id)
    ).rowcount
    coupons = conn.execute(
        update(Coupon).where(Coupon.member_id == duplicate_id).values(member_id=survivor_id)
    ).rowcount
    tier = _merge_tiers(
        session, survivor_id=survivor_id, duplicate_id=duplicate_id, actor=actor, at=at
    )
    return {
        "points": moved.points, "growth": moved.growth, "sv_principal": moved.sv_principal,
        "sv_bonus": moved.sv_bonus, "lots": lots, "coupons": coupons, "tier": tier,
    }  # fmt: skip
