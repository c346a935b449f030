"""What a member can use on the cart in front of the cashier, and the best way to use it.

The till asks before payment; nothing here changes anything. The recommendation is shown,
never applied by itself: the cashier (or the customer) decides. "Best" means the lowest
amount left to pay: the coupon or stackable coupons that save most, then as many points as
the cap allows; stored value then pays what it can of the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.errors import DomainError, ValidationFailed
from shouyin.loyalty import rules
from shouyin.loyalty.checkout import coupons_for_sale
from shouyin.loyalty.models import Coupon
from shouyin.loyalty.settings import LoyaltySettings
from shouyin.sales import service
from shouyin.sales.offers import CouponOffer, PointsOffer
from shouyin.sales.pricing import Cart, PricedCart, price_cart
from shouyin.sales.schemas import QuoteRequest
from shouyin.shared.clock import utcnow

MAX_COUPONS_SHOWN = 50


class CouponOption(BaseModel):
    code: str
    name: str
    kind: str
    value: int
    min_spend: int
    valid_to: datetime
    stackable: bool
    usable: bool
    saving: int  # fen this coupon alone takes off the cart
    problem: str | None = None  # the error code when it cannot be used on this cart


class Recommendation(BaseModel):
    coupon_codes: list[str]
    points: int
    points_value: int
    stored_value: int
    saving: int
    total: int  # left to pay after coupons and points
    rest: int  # left after stored value too: cash or card


class MemberOptions(BaseModel):
    member_id: int
    tier_name: str | None
    tier_discount_bp: int
    points: int
    points_value: int  # what all the points would be worth, before the cap
    sv_principal: int
    sv_bonus: int
    sv_balance: int
    total_without: int  # the cart with tier discount and promotions, nothing redeemed
    max_points: int  # on the cart as it is, without coupons
    coupons: list[CouponOption]
    recommendation: Recommendation


def options(session: Session, *, data: QuoteRequest, actor: Principal) -> MemberOptions:
    if data.member_id is None:
        raise ValidationFailed("Attach a member first.", code="member.required")
    base = data.model_copy(update={"coupon_codes": [], "points": 0})
    now = utcnow()
    catalogue, prepared, cart = service.sale_cart(session, data=base, actor=actor, now=now)
    member = prepared.member
    assert member is not None
    plain = price_cart(cart)
    held = _held_coupons(session, member.member_id, now)
    offers, _ = coupons_for_sale(session, list(held), member.member_id, now, catalogue=catalogue)
    cart = replace(cart, offers=replace(cart.offers, coupons=offers))
    coupons = [_option(cart, plain, offer, held[offer.code]) for offer in offers]
    chosen = _best_coupons(cart, coupons)
    settings = catalogue.settings
    cap = settings.redeem_cap_percent
    due = _price(cart, chosen).total
    points = rules.max_redeemable(
        due=due, held=member.points, fen_per_point=settings.redeem_fen_per_point, cap_percent=cap
    )
    final = _price(cart, chosen, _points(points, member.points, settings))
    balance = member.sv_principal + member.sv_bonus
    tier = member.tier
    return MemberOptions(
        member_id=member.member_id, tier_name=tier.name if tier else None,
        tier_discount_bp=tier.discount_bp if tier else 0, points=member.points,
        points_value=member.points * settings.redeem_fen_per_point,
        sv_principal=member.sv_principal, sv_bonus=member.sv_bonus, sv_balance=balance,
        total_without=plain.total,
        max_points=rules.max_redeemable(
            due=plain.total, held=member.points, fen_per_point=settings.redeem_fen_per_point,
            cap_percent=cap,
        ),
        coupons=coupons,
        recommendation=Recommendation(
            coupon_codes=[c.code for c in chosen], points=points,
            points_value=points * settings.redeem_fen_per_point,
            stored_value=min(balance, final.total), saving=plain.total - final.total,
            total=final.total, rest=final.total - min(balance, final.total),
        ),
    )  # fmt: skip


def _held_coupons(session: Session, member_id: int, now: datetime) -> dict[str, datetime]:
    rows = session.execute(
        select(Coupon.code, Coupon.valid_to)
        .where(Coupon.member_id == member_id, Coupon.status == "issued")
        .where(Coupon.valid_from <= now, Coupon.valid_to > now)
        .order_by(Coupon.valid_to)
        .limit(MAX_COUPONS_SHOWN)
    )
    return {row.code: row.valid_to for row in rows}


def _option(cart: Cart, plain: PricedCart, offer: CouponOffer, valid_to: datetime) -> CouponOption:
    option = CouponOption(
        code=offer.code, name=offer.name, kind=offer.kind, value=offer.value,
        min_spend=offer.min_spend, stackable=offer.stackable, valid_to=valid_to, usable=True,
        saving=0,
    )  # fmt: skip
    try:
        option.saving = plain.total - _price(cart, [option]).total
    except DomainError as exc:
        option.usable, option.problem = False, exc.code
    return option


def _best_coupons(cart: Cart, coupons: Sequence[CouponOption]) -> list[CouponOption]:
    """The single coupon that saves most, or the stackable ones together if they save more.

    Stackable coupons are added best first while each still applies after the others.
    """
    usable = sorted((c for c in coupons if c.usable and c.saving > 0), key=lambda c: -c.saving)
    best: list[CouponOption] = usable[:1]
    best_total = _price(cart, best).total if best else None
    stack: list[CouponOption] = []
    for coupon in (c for c in usable if c.stackable):
        try:
            total = _price(cart, [*stack, coupon]).total
        except DomainError:
            continue
        stack.append(coupon)
        if best_total is None or total < best_total:
            best, best_total = list(stack), total
    return best


def _points(points: int, held: int, settings: LoyaltySettings) -> PointsOffer | None:
    if points <= 0:
        return None
    return PointsOffer(points, held, settings.redeem_fen_per_point, settings.redeem_cap_percent)


def _price(
    cart: Cart, coupons: Sequence[CouponOption] = (), points: PointsOffer | None = None
) -> PricedCart:
    """Price ``cart`` with only the given coupons (out of those it holds) and points."""
    by_code = {c.code: c for c in cart.offers.coupons}
    chosen = tuple(by_code[c.code] for c in coupons)
    return price_cart(replace(cart, offers=replace(cart.offers, coupons=chosen, points=points)))
