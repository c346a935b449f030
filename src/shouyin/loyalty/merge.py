"""Merging two members' loyalty accounts: balances, lots, coupons and the better tier.

Balances move as pairs of "merge" ledger rows (the duplicate down, the survivor up by the
same amounts), so each member's balances stay the sums of their own ledger rows. Growth moves
one pair per calendar month of the duplicate's ledger, dated at that month's latest original
entry: the survivor's growth window then counts only what the duplicate earned inside it, and
a merge cannot lift the survivor into a tier that old spending no longer earns.

Coupons move too, except beyond a template's per-member limit: the surplus is voided (and
listed in the merge's audit entry). A merge that would take the survivor's stored value over
the card cap is refused before anything is written (:func:`check_merge`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.errors import Conflict
from shouyin.loyalty import ledger
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
from shouyin.shared.clock import as_utc, to_local
from shouyin.shared.money import format_fen

MONTH_TIMEZONE = "Asia/Shanghai"  # the calendar months growth moves by


def _stored_value(conn: Connection, member_ids: list[int], *, lock: bool) -> dict[int, int]:
    query = select(
        MemberAccount.member_id, MemberAccount.sv_principal + MemberAccount.sv_bonus
    ).where(MemberAccount.member_id.in_(member_ids))
    if lock:
        query = query.order_by(MemberAccount.member_id).with_for_update()
    return {int(m): int(v) for m, v in conn.execute(query)}


def _refuse_over_cap(session: Session, *, survivor_id: int, duplicate_id: int, lock: bool) -> None:
    conn = session.connection()
    held = _stored_value(conn, sorted({survivor_id, duplicate_id}), lock=lock)
    moved, kept = held.get(duplicate_id, 0), held.get(survivor_id, 0)
    cap = loyalty_settings.load(session).stored_value_cap
    if moved > 0 and kept + moved > cap:
        raise Conflict(
            "Merged, the card would hold {total}, over the cap of {cap}: refund part first.",
            code="member.merge_over_cap",
            details={"total": format_fen(kept + moved), "cap": format_fen(cap),
                     "total_fen": kept + moved, "cap_fen": cap},
        )  # fmt: skip


def check_merge(session: Session, *, survivor_id: int, duplicate_id: int) -> None:
    """Refuse (``member.merge_over_cap``) a merge that would take the survivor's stored value
    over the card cap. Writes nothing: call it before any part of a merge is written."""
    _refuse_over_cap(session, survivor_id=survivor_id, duplicate_id=duplicate_id, lock=True)


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


def _growth_by_month(conn: Connection, member_id: int) -> list[tuple[datetime, int]]:
    """(latest entry of the month, growth of the month) for each month with growth, oldest first."""
    rows = conn.execute(
        select(LedgerEntry.at, LedgerEntry.growth)
        .where(LedgerEntry.member_id == member_id, LedgerEntry.growth != 0)
        .order_by(LedgerEntry.at, LedgerEntry.id)
    )
    months: dict[tuple[int, int], tuple[datetime, int]] = {}
    for at, growth in rows:
        local = to_local(at, MONTH_TIMEZONE)
        _, total = months.get((local.year, local.month), (at, 0))
        months[(local.year, local.month)] = (as_utc(at), total + int(growth))
    return [(at, growth) for at, growth in months.values() if growth != 0]


def _post_pair(
    conn: Connection, *, survivor_id: int, duplicate_id: int, common: dict[str, Any],
    moved: ledger.Balances, at: datetime,
) -> None:  # fmt: skip
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


def _move_balances(
    conn: Connection, *, survivor_id: int, duplicate_id: int, actor: Principal, at: datetime
) -> ledger.Balances:
    moved = ledger.balances(conn, member_id=duplicate_id)
    common: dict[str, Any] = {"kind": "merge", "ref_type": "member", "store_id": actor.store_id,
                              "user_id": actor.user_id or None}  # fmt: skip
    pair: dict[str, Any] = {"survivor_id": survivor_id, "duplicate_id": duplicate_id,
                            "common": common}  # fmt: skip
    # Growth keeps its months, so the survivor's window sums stay what they truly were.
    for month_at, growth in _growth_by_month(conn, duplicate_id):
        _post_pair(conn, **pair, moved=ledger.Balances(0, growth, 0, 0), at=month_at)
    rest = ledger.Balances(moved.points, 0, moved.sv_principal, moved.sv_bonus)
    if rest != ledger.Balances(0, 0, 0, 0):
        _post_pair(conn, **pair, moved=rest, at=at)
    return moved


def _void_over_limit(conn: Connection, *, survivor_id: int, moved_ids: list[int]) -> list[str]:
    """Void moved coupons beyond their template's per-member limit; their codes.

    Counted as issuing counts (issued and redeemed, not void); the moved coupons that are
    still issued go first, those ending soonest before the others.
    """
    if not moved_ids:
        return []
    limits = conn.execute(
        select(CouponTemplate.id, CouponTemplate.per_member_limit)
        .where(
            CouponTemplate.per_member_limit.is_not(None),
            CouponTemplate.id.in_(select(Coupon.template_id).where(Coupon.id.in_(moved_ids))),
        )
        .order_by(CouponTemplate.id)
    ).all()
    voided: list[str] = []
    for template_id, limit in limits:
        held = conn.scalar(
            select(func.count()).select_from(Coupon).where(
                Coupon.member_id == survivor_id, Coupon.template_id == template_id,
                Coupon.status != "void",
            )
        ) or 0  # fmt: skip
        surplus = int(held) - int(limit or 0)
        if surplus <= 0:
            continue
        victims = conn.execute(
            select(Coupon.id, Coupon.code)
            .where(Coupon.id.in_(moved_ids), Coupon.template_id == template_id,
                   Coupon.status == "issued")
            .order_by(Coupon.valid_to, Coupon.id)
            .limit(surplus)
        ).all()  # fmt: skip
        if victims:
            conn.execute(
                update(Coupon)
                .where(Coupon.id.in_([v.id for v in victims]), Coupon.status == "issued")
                .values(status="void")
            )
            voided += [v.code for v in victims]
    return voided


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
    # Again under the locks: a recharge may have landed since check_merge.
    _refuse_over_cap(session, survivor_id=survivor_id, duplicate_id=duplicate_id, lock=False)
    moved = _move_balances(
        conn, survivor_id=survivor_id, duplicate_id=duplicate_id, actor=actor, at=at
    )
    lots = conn.execute(
        update(PointsLot).where(PointsLot.member_id == duplicate_id).values(member_id=survivor_id)
    ).rowcount
    moved_coupons = list(conn.scalars(select(Coupon.id).where(Coupon.member_id == duplicate_id)))
    if moved_coupons:
        conn.execute(
            update(Coupon).where(Coupon.id.in_(moved_coupons)).values(member_id=survivor_id)
        )
    voided = _void_over_limit(conn, survivor_id=survivor_id, moved_ids=moved_coupons)
    tier = _merge_tiers(
        session, survivor_id=survivor_id, duplicate_id=duplicate_id, actor=actor, at=at
    )
    return {
        "points": moved.points, "growth": moved.growth, "sv_principal": moved.sv_principal,
        "sv_bonus": moved.sv_bonus, "lots": lots, "coupons": len(moved_coupons),
        "coupons_voided": voided, "tier": tier,
    }  # fmt: skip
