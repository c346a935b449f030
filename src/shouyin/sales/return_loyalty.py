"""What a return undoes on the member's side: points, stored value, growth value, coupons.

Rules (see docs/returns.md):
- Earned points are taken back in proportion to the money refunded (round half up); the
  return that completes the order takes back what is left, so a full return takes back
  exactly what the sale earned. Points never go below zero: when the member has already
  spent them, what is there is taken and the shortfall is recorded on the return
  (``points_unrecovered``); it is not chased later.
- Redeemed points go back in proportion to the returned lines' share of them, as a new lot
  that expires as points earned on the day of the sale would.
- Stored value goes back to principal and bonus in the ratio the sale spent them.
- Growth value goes down by the refund minus the bonus given back (what the sale added).
  The tier is not lowered here: the monthly review does that.
- Coupons go back (issued again, no order) only when the whole order has been returned.
All balance changes are ONE ``ledger.post`` of kind "return".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, select, update

from shouyin.loyalty import ledger, rules
from shouyin.loyalty.models import Coupon, LedgerEntry, MemberAccount, PointsLot
from shouyin.loyalty.settings import LoyaltySettings
from shouyin.sales import refund_rules
from shouyin.sales.return_views import OrderFacts


@dataclass(frozen=True)
class Reversal:
    member_id: int
    points_taken: int = 0
    points_unrecovered: int = 0
    points_given: int = 0
    growth: int = 0
    sv_principal: int = 0
    sv_bonus: int = 0
    held_before: int = 0  # the member's points before this return


@dataclass(frozen=True)
class SaleEffects:
    earned: int
    principal: int  # stored value principal spent
    bonus: int


def sale_effects(conn: Connection, facts: OrderFacts) -> SaleEffects | None:
    row = conn.execute(
        select(LedgerEntry.points, LedgerEntry.sv_principal, LedgerEntry.sv_bonus).where(
            LedgerEntry.order_id == facts.id, LedgerEntry.kind == "sale"
        )
    ).first()
    if row is None:
        return None
    return SaleEffects(row.points + facts.points_redeemed, -row.sv_principal, -row.sv_bonus)


def _held_points(conn: Connection, member_id: int) -> int:
    """The member's points now.

    Not locked: checkout locks stock levels before the member's account, and a return
    writes its stock movements before ``ledger.post`` in the same order, so the two never
    deadlock. Should another till spend the points between this read and the post, the
    post refuses (``points.insufficient``), nothing is written and the return can be sent
    again.
    """
    query = select(MemberAccount.points).where(MemberAccount.member_id == member_id)
    return int(conn.execute(query).scalar() or 0)


def plan(
    conn: Connection, facts: OrderFacts, *, refund: int, sv_back: int, points_given: int,
    whole: bool,
) -> Reversal | None:  # fmt: skip
    """What this return does to the member's balances (reads, writes nothing)."""
    if facts.member_id is None:
        return None
    effects = sale_effects(conn, facts)
    if effects is None:
        return None
    earlier = facts.earlier
    principal, bonus = refund_rules.stored_value_back(
        sv_back, principal_spent=effects.principal, bonus_spent=effects.bonus,
        sv_back_before=earlier.sv_principal + earlier.sv_bonus,
        principal_back_before=earlier.sv_principal,
    )  # fmt: skip
    take = refund_rules.points_to_take(
        earned=effects.earned, total=facts.total, refunded_after=earlier.refund + refund,
        taken_before=earlier.points_taken, whole=whole,
    )  # fmt: skip
    held = _held_points(conn, facts.member_id)
    taken, unrecovered = refund_rules.recoverable(held=held, given=points_given, take=take)
    return Reversal(
        member_id=facts.member_id, points_taken=taken, points_unrecovered=unrecovered,
        points_given=points_given, growth=refund - bonus, sv_principal=principal,
        sv_bonus=bonus, held_before=held,
    )  # fmt: skip


def apply(
    conn: Connection, reversal: Reversal, *, facts: OrderFacts, return_id: int,
    store_id: int, user_id: int, now: datetime, settings: LoyaltySettings,
) -> None:  # fmt: skip
    change = ledger.Change(
        kind="return", points=reversal.points_given - reversal.points_taken,
        growth=-reversal.growth, sv_principal=reversal.sv_principal, sv_bonus=reversal.sv_bonus,
        order_id=facts.id, ref_type="return", ref_id=return_id, store_id=store_id,
        user_id=user_id,
    )  # fmt: skip
    ledger.post(conn, member_id=reversal.member_id, change=change, at=now)
    # Points taken back come out of the lots held before; what the given-back points must
    # cover is simply never added as a lot.
    from_lots = min(reversal.points_taken, reversal.held_before)
    _take_back(conn, member_id=reversal.member_id, order_id=facts.id, points=from_lots)
    expires = _expiry(facts.business_date, settings)
    ledger.add_lot(
        conn, member_id=reversal.member_id,
        points=reversal.points_given - (reversal.points_taken - from_lots),
        expires_on=expires, order_id=None, at=now,
    )  # fmt: skip


def _expiry(sold_on: date, settings: LoyaltySettings) -> date | None:
    return rules.expiry_date(sold_on, settings.points_expiry, settings.points_expiry_days)


def _take_back(conn: Connection, *, member_id: int, order_id: int, points: int) -> None:
    """Earned points come back out of the sale's own lot first, then the oldest lots."""
    if points <= 0:
        return
    lot = conn.execute(
        select(PointsLot.id, PointsLot.remaining).where(
            PointsLot.order_id == order_id, PointsLot.member_id == member_id,
            PointsLot.remaining > 0,
        )
    ).first()  # fmt: skip
    from_lot = min(points, lot.remaining) if lot is not None else 0
    if lot is not None and from_lot:
        conn.execute(
            update(PointsLot)
            .where(PointsLot.id == lot.id)
            .values(remaining=PointsLot.remaining - from_lot)
        )
    ledger.spend_lots(conn, member_id=member_id, points=points - from_lot)


def give_back_coupons(conn: Connection, *, order_id: int) -> list[str]:
    """Coupons of a wholly returned order are issued again (they may since have expired)."""
    codes = list(
        conn.execute(
            select(Coupon.code).where(Coupon.order_id == order_id, Coupon.status == "redeemed")
        ).scalars()
    )
    if codes:
        conn.execute(
            update(Coupon)
            .where(Coupon.order_id == order_id, Coupon.status == "redeemed")
            .values(status="issued", order_id=None, redeemed_at=None)
        )
    return codes
