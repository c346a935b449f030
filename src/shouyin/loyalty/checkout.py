"""Loyalty at the till: what a sale may use (tier, promotions, coupons, points), and what a
completed sale does to the member's balances.

:func:`prepare` reads what the pure pricing needs (one query for the member's account, one
for the coupons given; settings, tiers and promotions come from the cached catalogue).
:func:`record` writes the sale's loyalty effects in a few statements, in the same
transaction as the order: balances (one conditional UPDATE), the ledger row, points lots,
coupon redemption, and a tier upgrade when the sale crosses a threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from shouyin.errors import ValidationFailed
from shouyin.loyalty import coupons, ledger, rules
from shouyin.loyalty.catalogue import Catalogue, TierInfo
from shouyin.loyalty.models import Coupon, CouponTemplate, LedgerEntry, MemberAccount, TierChange
from shouyin.sales import offers
from shouyin.shared.types import table_of


@dataclass(frozen=True)
class MemberState:
    member_id: int
    tier: TierInfo | None
    points: int
    growth: int
    sv_principal: int
    sv_bonus: int


@dataclass(frozen=True)
class Prepared:
    member: MemberState | None
    offers: offers.Offers
    coupon_ids: tuple[int, ...]


@dataclass(frozen=True)
class SaleLoyalty:
    points_earned: int
    points_redeemed: int
    points_balance: int
    sv_principal_paid: int
    sv_bonus_paid: int
    sv_balance: int
    growth: int
    tier_name: str | None
    upgraded_to: str | None


_accounts = table_of(MemberAccount)
_ACCOUNT = select(
    _accounts.c.tier_id, _accounts.c.points, _accounts.c.growth, _accounts.c.sv_principal,
    _accounts.c.sv_bonus,
).where(_accounts.c.member_id == bindparam("m"))  # fmt: skip
_LOCKED_CARD = (
    select(_accounts.c.sv_principal, _accounts.c.sv_bonus)
    .where(_accounts.c.member_id == bindparam("m"))
    .with_for_update()
)
_templates = table_of(CouponTemplate)
_coupons = table_of(Coupon)
_COUPONS = (
    select(
        _coupons.c.id, _coupons.c.code, _coupons.c.member_id, _coupons.c.status,
        _coupons.c.valid_from, _coupons.c.valid_to, _templates.c.active, _templates.c.name,
        _templates.c.kind, _templates.c.value, _templates.c.min_spend, _templates.c.scope,
        _templates.c.scope_ids, _templates.c.gift_product_id, _templates.c.stackable,
    )
    .join(_templates, _templates.c.id == _coupons.c.template_id)
    .where(_coupons.c.code.in_(bindparam("codes", expanding=True)))
)  # fmt: skip
_REDEEM = (
    update(_coupons)
    .where(_coupons.c.id.in_(bindparam("ids", expanding=True)), _coupons.c.status == "issued")
    .values(status="redeemed", order_id=bindparam("order_id"), redeemed_at=bindparam("at"))
)
_ledger = table_of(LedgerEntry)
_WINDOW_GROWTH = select(func.coalesce(func.sum(_ledger.c.growth), 0)).where(
    _ledger.c.member_id == bindparam("m"), _ledger.c.at >= bindparam("since")
)
_SET_TIER = (
    update(_accounts)
    .where(_accounts.c.member_id == bindparam("m"))
    .values(tier_id=bindparam("tier_id"), tier_since=bindparam("at"))
)
_TIER_CHANGE = insert(table_of(TierChange))


def member_state(session: Session, *, member_id: int, catalogue: Catalogue) -> MemberState:
    row = session.connection().execute(_ACCOUNT, {"m": member_id}).first()
    if row is None:  # registered before loyalty, or by an import: entry tier, nothing held
        entry = next((t for t in catalogue.tiers if t.rank == 0), None)
        return MemberState(member_id, entry, 0, 0, 0, 0)
    return MemberState(member_id, catalogue.tier(row[0]), row[1], row[2], row[3], row[4])


def prepare(
    session: Session, *, catalogue: Catalogue, member_id: int | None, coupon_codes: Sequence[str],
    points: int, store_id: int, now: datetime, local: datetime,
) -> Prepared:  # fmt: skip
    member = (
        None
        if member_id is None
        else member_state(session, member_id=member_id, catalogue=catalogue)
    )
    if member is None and points:
        raise ValidationFailed(
            "Points can only be redeemed with a member attached.", code="points.member_required"
        )
    tier = member.tier if member else None
    running = [
        p for p in catalogue.promotions
        if offers.runs(p.window, store_id=store_id, now_utc=now, local=local,
                       tier_id=tier.id if tier else None, is_member=member is not None)
    ]  # fmt: skip
    coupon_offers, coupon_ids = coupons_for_sale(
        session, coupon_codes, member_id, now, catalogue=catalogue
    )
    settings = catalogue.settings
    points_offer = None
    if member is not None and points:
        points_offer = offers.PointsOffer(
            points, member.points, settings.redeem_fen_per_point, settings.redeem_cap_percent
        )
    sale_offers = offers.Offers(
        item_promotions=tuple(p.offer for p in running if not p.is_order_level),
        order_promotions=tuple(p.offer for p in running if p.is_order_level),
        tier=tier.discount() if tier else None, coupons=coupon_offers, points=points_offer,
        conflict=settings.promotion_conflict, tier_on_promoted_items=settings.tier_on_promoted_items,
    )  # fmt: skip
    return Prepared(member, sale_offers, coupon_ids)


def coupons_for_sale(
    session: Session, codes: Sequence[str], member_id: int | None, now: datetime, *,
    catalogue: Catalogue,
) -> tuple[tuple[offers.CouponOffer, ...], tuple[int, ...]]:  # fmt: skip
    """The coupons given for a sale, checked (unknown, used, expired, another's: refused)."""
    if not codes:
        return (), ()
    wanted = [coupons.clean_code(code) for code in codes]
    rows = {row.code: row for row in session.connection().execute(_COUPONS, {"codes": wanted})}
    found: list[Any] = []
    for code in wanted:
        row = rows.get(code)
        _check_coupon(row, code, member_id, now)
        found.append(row)
    offers_ = tuple(
        offers.CouponOffer(
            scope=r.scope, scope_ids=catalogue.scope_ids(r.scope, r.scope_ids or ()), id=r.id,
            code=r.code,
            name=r.name, kind=r.kind, value=r.value, min_spend=r.min_spend,
            gift_product_id=r.gift_product_id, stackable=r.stackable,
        )
        for r in found
    )  # fmt: skip
    return offers_, tuple(r.id for r in found)


def _check_coupon(row: Any, code: str, member_id: int | None, now: datetime) -> None:
    """``row``: a row of :data:`_COUPONS`, or None when the code is unknown."""

    def fail(message: str, error: str) -> ValidationFailed:
        return ValidationFailed(message, code=error, details={"code": code})

    if row is None:
        raise fail("There is no coupon {code}.", "coupon.not_found")
    if row.status == "redeemed":
        raise fail("Coupon {code} has already been used.", "coupon.used")
    if row.status != "issued" or not row.active:
        raise fail("Coupon {code} is no longer valid.", "coupon.void")
    if now < row.valid_from:
        raise fail("Coupon {code} is not valid yet.", "coupon.not_yet_valid")
    if now >= row.valid_to:
        raise fail("Coupon {code} has expired.", "coupon.expired")
    owner = row.member_id
    if owner is not None and owner != member_id:
        raise fail("Coupon {code} belongs to another member.", "coupon.other_member")


def record(
    session: Session, *, prepared: Prepared, catalogue: Catalogue, total: int,
    points_used: int, stored_value: int, order_id: int, store_id: int, user_id: int,
    now: datetime, day: date,
) -> SaleLoyalty | None:  # fmt: skip
    """Write what the sale does to the member's balances; None for a sale without member."""
    conn = session.connection()
    if prepared.coupon_ids:
        _redeem_coupons(conn, prepared.coupon_ids, order_id, now)
    member = prepared.member
    if member is None:
        return None
    settings = catalogue.settings
    principal, bonus = _split(conn, member, stored_value, settings.stored_value_spend)
    paid = total - bonus  # bonus money earns nothing; points already left the total
    multiplier = member.tier.points_multiplier if member.tier else 100
    earned = rules.points_earned(
        paid=paid, earn_fen_per_point=settings.earn_fen_per_point, multiplier=multiplier
    )
    change = ledger.Change(
        kind="sale", points=earned - points_used, growth=paid, sv_principal=-principal,
        sv_bonus=-bonus, order_id=order_id, store_id=store_id, user_id=user_id,
    )  # fmt: skip
    after = ledger.post(conn, member_id=member.member_id, change=change, at=now)
    ledger.spend_lots(conn, member_id=member.member_id, points=points_used)
    expires = rules.expiry_date(day, settings.points_expiry, settings.points_expiry_days)
    ledger.add_lot(
        conn, member_id=member.member_id, points=earned, expires_on=expires, order_id=order_id,
        at=now,
    )  # fmt: skip
    upgraded = _upgrade(conn, member, catalogue, after.growth, order_id, user_id, now)
    if upgraded is not None:
        coupons.issue_on_event(
            session, member_id=member.member_id, event="tier_upgrade", user_id=user_id, at=now
        )
    tier = upgraded or member.tier
    return SaleLoyalty(
        points_earned=earned, points_redeemed=points_used, points_balance=after.points,
        sv_principal_paid=principal, sv_bonus_paid=bonus, sv_balance=after.stored_value,
        growth=paid, tier_name=tier.name if tier else None,
        upgraded_to=upgraded.name if upgraded else None,
    )  # fmt: skip


def _split(
    conn: Connection, member: MemberState, amount: int, order: rules.SpendOrder
) -> tuple[int, int]:
    """(principal, bonus) this payment spends, from the balances as they are now.

    The balances read before pricing may be stale: another till may have spent the
    principal since. The row is locked (PostgreSQL) and read again, so the split is made
    from what is really there and the bonus can cover what the principal no longer does.
    """
    if amount == 0:
        return 0, 0
    row = conn.execute(_LOCKED_CARD, {"m": member.member_id}).first()
    principal, bonus = (row[0], row[1]) if row else (0, 0)
    return rules.split_stored_value(amount, principal=principal, bonus=bonus, order=order)


def _redeem_coupons(conn: Connection, ids: tuple[int, ...], order_id: int, now: datetime) -> None:
    """Each coupon once: the status check in the UPDATE loses the race for the second till."""
    result = conn.execute(_REDEEM, {"ids": list(ids), "order_id": order_id, "at": now})
    if result.rowcount != len(ids):
        raise ValidationFailed(
            "A coupon of this sale was used at another till a moment ago.", code="coupon.used"
        )


def _upgrade(
    conn: Connection, member: MemberState, catalogue: Catalogue, lifetime: int, order_id: int,
    user_id: int, now: datetime,
) -> TierInfo | None:  # fmt: skip
    levels = [
        rules.TierLevel(t.id, t.rank, t.threshold, t.points_multiplier) for t in catalogue.tiers
    ]
    current = member.tier
    level = next((x for x in levels if current and x.id == current.id), None)
    # Growth in the window never exceeds lifetime growth: skip the sum when even that is short.
    if rules.upgrade_to(level, lifetime, levels) is None:
        return None
    since = now - timedelta(days=catalogue.settings.growth_window_days)
    growth = conn.execute(_WINDOW_GROWTH, {"m": member.member_id, "since": since}).scalar_one()
    target = rules.upgrade_to(level, int(growth), levels)
    if target is None:
        return None
    conn.execute(_SET_TIER, {"m": member.member_id, "tier_id": target.id, "at": now})
    conn.execute(
        _TIER_CHANGE,
        {"member_id": member.member_id, "from_tier_id": current.id if current else None,
         "to_tier_id": target.id, "reason": "upgrade", "growth": int(growth),
         "order_id": order_id, "user_id": user_id, "at": now},
    )  # fmt: skip
    return catalogue.tier(target.id)


_SALE_ENTRY = select(
    _ledger.c.member_id, _ledger.c.points, _ledger.c.growth, _ledger.c.sv_principal,
    _ledger.c.sv_bonus, _ledger.c.points_after, _ledger.c.sv_principal_after,
    _ledger.c.sv_bonus_after,
).where(_ledger.c.order_id == bindparam("order_id"), _ledger.c.kind == "sale")  # fmt: skip


def sale_summary(
    session: Session, *, order_id: int, points_redeemed: int, catalogue: Catalogue
) -> SaleLoyalty | None:
    """What a stored sale did for its member, as printed on its receipt.

    The ledger row holds the net points change; the points redeemed come from the order's
    pricing steps, so earned = net + redeemed.
    """
    conn = session.connection()
    row = conn.execute(_SALE_ENTRY, {"order_id": order_id}).first()
    if row is None:
        return None
    change = conn.execute(
        select(TierChange.to_tier_id).where(
            TierChange.order_id == order_id, TierChange.reason == "upgrade"
        )
    ).scalar()
    held = conn.execute(_ACCOUNT, {"m": row.member_id}).first()
    tier = catalogue.tier(change if change is not None else (held[0] if held else None))
    return SaleLoyalty(
        points_earned=row.points + points_redeemed, points_redeemed=points_redeemed,
        points_balance=row.points_after,
        sv_principal_paid=-row.sv_principal, sv_bonus_paid=-row.sv_bonus,
        sv_balance=row.sv_principal_after + row.sv_bonus_after, growth=row.growth,
        tier_name=tier.name if tier else None,
        upgraded_to=tier.name if tier and change is not None else None,
    )  # fmt: skip
