"""PURE offers: item promotions, the tier discount, order promotions, coupons and points.

The checkout service loads what applies to this sale (store, time, member, tier) and hands
it over as :class:`Offers`; these functions only compute. Each returns the reductions of one
pricing step as :class:`Applied` entries (one per promotion, coupon or redemption) so the
receipt can name every discount.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from shouyin.errors import ValidationFailed
from shouyin.shared.money import allocate, format_fen, percent_of, round_div

if TYPE_CHECKING:
    from shouyin.sales.pricing import Cart, CartLine, WorkLine

Scope = Literal["all", "categories", "products"]


@dataclass(frozen=True)
class Applied:
    """What one offer took off each line; ``ref`` names it ("promotion:3", "coupon:AB12")."""

    cuts: list[int]
    label: str = ""
    ref: str | None = None


@dataclass(frozen=True)
class Scoped:
    scope: Scope = "all"
    scope_ids: frozenset[int] = frozenset()

    def covers(self, line: CartLine) -> bool:
        if self.scope == "all":
            return True
        if self.scope == "products":
            return line.product_id in self.scope_ids
        return line.category_id is not None and line.category_id in self.scope_ids


@dataclass(frozen=True)
class Promotion(Scoped):
    id: int = 0
    name: str = ""
    kind: str = "special_price"  # special_price, nth_discount, buy_x_get_y, order_threshold
    params: dict[str, Any] = field(default_factory=dict)
    priority: int = 0


@dataclass(frozen=True)
class TierDiscount(Scoped):
    name: str = ""
    discount_bp: int = 0


@dataclass(frozen=True)
class CouponOffer(Scoped):
    id: int = 0
    code: str = ""
    name: str = ""
    kind: str = "voucher"  # threshold, percent, voucher, gift
    value: int = 0
    min_spend: int = 0
    gift_product_id: int | None = None
    stackable: bool = False


@dataclass(frozen=True)
class PointsOffer:
    points: int
    held: int
    fen_per_point: int
    cap_percent: int


@dataclass(frozen=True)
class Offers:
    item_promotions: tuple[Promotion, ...] = ()
    order_promotions: tuple[Promotion, ...] = ()
    tier: TierDiscount | None = None
    coupons: tuple[CouponOffer, ...] = ()
    points: PointsOffer | None = None
    conflict: Literal["best", "priority"] = "best"
    tier_on_promoted_items: bool = False


NO_OFFERS = Offers()


# --- promotion windows ------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """When and for whom a promotion runs."""

    store_ids: frozenset[int] = frozenset()
    weekdays: frozenset[int] = frozenset()  # ISO 1=Monday
    start_minute: int | None = None
    end_minute: int | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    member_only: bool = False
    tier_ids: frozenset[int] = frozenset()


def runs(
    window: Window, *, store_id: int, now_utc: datetime, local: datetime, tier_id: int | None,
    is_member: bool,
) -> bool:  # fmt: skip
    """Whether a promotion with this window applies to a sale (``local``: store time)."""
    if window.store_ids and store_id not in window.store_ids:
        return False
    if window.valid_from is not None and now_utc < window.valid_from:
        return False
    if window.valid_to is not None and now_utc >= window.valid_to:
        return False
    if window.weekdays and local.isoweekday() not in window.weekdays:
        return False
    minute = local.hour * 60 + local.minute
    if window.start_minute is not None and minute < window.start_minute:
        return False
    if window.end_minute is not None and minute >= window.end_minute:
        return False
    if (window.member_only or window.tier_ids) and not is_member:
        return False
    return not window.tier_ids or tier_id in window.tier_ids


# --- item promotions --------------------------------------------------------------------


def item_promotion_cut(promotion: Promotion, line: WorkLine) -> int:
    """What ``promotion`` takes off ``line`` at its current net (never more than the net)."""
    source, net = line.source, line.net
    if not promotion.covers(source) or net <= 0:
        return 0
    params = promotion.params
    if promotion.kind == "special_price":
        price = int(params.get("price", 0))
        amount = (
            round_div(price * source.quantity, 1000) if source.weighed else price * source.quantity
        )
        return max(0, net - amount)
    if source.weighed:
        return 0  # "the second one" means nothing for goods sold by weight
    if promotion.kind == "nth_discount":
        every, off_bp = int(params.get("n", 2)), int(params.get("percent_off", 5000))
        discounted = source.quantity // max(every, 1)
        return percent_of(round_div(net * discounted, source.quantity), off_bp)
    if promotion.kind == "buy_x_get_y":
        buy, get = int(params.get("buy", 1)), int(params.get("get", 1))
        free = source.quantity // max(buy + get, 1) * get
        return round_div(net * free, source.quantity)
    return 0


def _tier_cut(offers: Offers, line: WorkLine) -> int:
    tier = offers.tier
    if tier is None or not line.source.member_discount or not tier.covers(line.source):
        return 0
    return percent_of(line.net, tier.discount_bp)


def _choose(
    promotions: Sequence[Promotion], cut_of: dict[int, int], conflict: str
) -> Promotion | None:
    candidates = [p for p in promotions if cut_of[p.id] > 0]
    if not candidates:
        return None
    if conflict == "priority":
        return max(candidates, key=lambda p: (p.priority, cut_of[p.id], -p.id))
    return max(candidates, key=lambda p: (cut_of[p.id], p.priority, -p.id))


def apply_item_promotions(cart: Cart, lines: tuple[WorkLine, ...]) -> list[Applied]:
    """One item promotion per line: the best or the highest priority (a setting).

    When the tier discount does not stack with promotions, a promotion that saves the
    customer less than their tier discount would is left out in "best" mode.
    """
    offers = cart.offers
    chosen: dict[int, tuple[Promotion, int]] = {}
    for line in lines:
        cut_of = {p.id: item_promotion_cut(p, line) for p in offers.item_promotions}
        best = _choose(offers.item_promotions, cut_of, offers.conflict)
        if best is None:
            continue
        beaten = offers.conflict == "best" and not offers.tier_on_promoted_items
        if beaten and _tier_cut(offers, line) >= cut_of[best.id]:
            continue
        chosen[line.index] = (best, cut_of[best.id])
    return _group_by_offer(chosen, len(lines))


def _group_by_offer(chosen: dict[int, tuple[Promotion, int]], size: int) -> list[Applied]:
    by_promotion: dict[int, Applied] = {}
    for index, (promotion, cut) in sorted(chosen.items()):
        applied = by_promotion.setdefault(
            promotion.id, Applied([0] * size, promotion.name, f"promotion:{promotion.id}")
        )
        applied.cuts[index] = cut
    return list(by_promotion.values())


def apply_tier_discount(cart: Cart, lines: tuple[WorkLine, ...]) -> list[Applied]:
    offers = cart.offers
    if offers.tier is None or offers.tier.discount_bp <= 0:
        return []
    cuts = [
        0 if line.reduction("item_promotion") and not offers.tier_on_promoted_items
        else _tier_cut(offers, line)
        for line in lines
    ]  # fmt: skip
    return [Applied(cuts, offers.tier.name, "tier")]


# --- order promotions (满减) ------------------------------------------------------------


def order_promotion_cut(promotion: Promotion, lines: Sequence[WorkLine]) -> int:
    """The largest 满减 tier the eligible lines reach: params {"tiers": [[min, off], ...]}."""
    eligible = sum(line.net for line in lines if promotion.covers(line.source))
    reached = [
        int(off) for least, off in promotion.params.get("tiers", []) if eligible >= int(least)
    ]
    return min(max(reached, default=0), eligible)


def apply_order_promotion(cart: Cart, lines: tuple[WorkLine, ...]) -> list[Applied]:
    offers = cart.offers
    cut_of = {p.id: order_promotion_cut(p, lines) for p in offers.order_promotions}
    best = _choose(offers.order_promotions, cut_of, offers.conflict)
    if best is None:
        return []
    cuts = _spread(cut_of[best.id], lines, best)
    return [Applied(cuts, best.name, f"promotion:{best.id}")]


def _spread(cut: int, lines: Sequence[WorkLine], scope: Scoped) -> list[int]:
    """Allocate ``cut`` over the lines in ``scope`` by their net (never above a line's net)."""
    weights = [line.net if scope.covers(line.source) else 0 for line in lines]
    return allocate(cut, weights) if sum(weights) else [0] * len(lines)


# --- coupons ----------------------------------------------------------------------------


def apply_coupons(cart: Cart, lines: tuple[WorkLine, ...]) -> list[Applied]:
    coupons = cart.offers.coupons
    _check_stacking(coupons)
    nets = [line.net for line in lines]
    applied = []
    for coupon in coupons:
        current = tuple(_with_net(line, net) for line, net in zip(lines, nets, strict=True))
        cuts = coupon_cuts(coupon, current)
        nets = [net - cut for net, cut in zip(nets, cuts, strict=True)]
        applied.append(Applied(cuts, coupon.name, f"coupon:{coupon.code}"))
    return applied


def _with_net(line: WorkLine, net: int) -> WorkLine:
    return replace(line, list_amount=net, reductions=())


def _check_stacking(coupons: Sequence[CouponOffer]) -> None:
    codes = [c.code for c in coupons]
    if len(set(codes)) != len(codes):
        raise _coupon_error("The same coupon was given twice.", "coupon.duplicate", codes[0])
    if len(coupons) > 1 and not all(c.stackable for c in coupons):
        alone = next(c for c in coupons if not c.stackable)
        raise _coupon_error(
            "Coupon {code} cannot be combined with other coupons.", "coupon.not_stackable",
            alone.code,
        )  # fmt: skip


def coupon_cuts(coupon: CouponOffer, lines: Sequence[WorkLine]) -> list[int]:
    """What ``coupon`` takes off each line; raises when the cart does not qualify."""
    eligible = sum(line.net for line in lines if coupon.covers(line.source))
    if coupon.kind == "gift" and eligible >= coupon.min_spend:
        return _gift_cuts(coupon, lines)  # 满100送一瓶水: the minimum counts the scope
    if eligible <= 0:
        raise _coupon_error(
            "Coupon {code} does not apply to anything in this sale.", "coupon.out_of_scope",
            coupon.code,
        )  # fmt: skip
    if eligible < coupon.min_spend:
        raise _coupon_error(
            "Coupon {code} needs a spend of at least {min_spend} on eligible items.",
            "coupon.below_minimum", coupon.code, min_spend=format_fen(coupon.min_spend),
            min_spend_fen=coupon.min_spend, eligible_fen=eligible,
        )  # fmt: skip
    if coupon.kind == "percent":
        cut = percent_of(eligible, coupon.value)
    else:  # threshold (满减) and voucher (代金): a fixed amount, never more than is due
        cut = min(coupon.value, eligible)
    return _spread(cut, lines, coupon)


def _gift_cuts(coupon: CouponOffer, lines: Sequence[WorkLine]) -> list[int]:
    """兑换: one unit of the gift product becomes free.

    Goods sold by weight have no "one unit": a gift coupon never applies to them (templates
    refuse them too), or a 10 kg line would go free.
    """
    for line in lines:
        source = line.source
        if source.product_id == coupon.gift_product_id and line.net > 0 and not source.weighed:
            cuts = [0] * len(lines)
            cuts[line.index] = round_div(line.net, source.quantity)
            return cuts
    raise _coupon_error(
        "Coupon {code} is for a gift item that is not in this sale.", "coupon.gift_missing",
        coupon.code, product_id=coupon.gift_product_id,
    )  # fmt: skip


def _coupon_error(message: str, code: str, coupon: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, code=code, details={"code": coupon, **details})


# --- points -----------------------------------------------------------------------------


def apply_points(cart: Cart, lines: tuple[WorkLine, ...]) -> list[Applied]:
    offer = cart.offers.points
    if offer is None or offer.points == 0:
        return []
    if offer.points < 0:
        raise ValidationFailed(
            "The points to redeem must be zero or more.", code="points.invalid",
            details={"points": offer.points},
        )  # fmt: skip
    if offer.points > offer.held:
        raise ValidationFailed(
            "The member has {held} points, fewer than the {points} asked for.",
            code="points.insufficient", details={"points": offer.points, "held": offer.held},
        )  # fmt: skip
    due = sum(line.net for line in lines)
    most = due * offer.cap_percent // 100 // offer.fen_per_point
    if offer.points > most:
        raise ValidationFailed(
            "At most {max_points} points can pay toward this sale.", code="points.over_cap",
            details={"points": offer.points, "max_points": most},
        )  # fmt: skip
    cuts = allocate(offer.points * offer.fen_per_point, [line.net for line in lines])
    return [Applied(cuts, "", f"points:{offer.points}")]
