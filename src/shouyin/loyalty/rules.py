"""PURE loyalty rules: earning, tiers, lots, stored value. No database, no web.

Everything here takes plain numbers and returns plain numbers, so the rules are tested with
hypothesis and the services only fetch and write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from shouyin.errors import ValidationFailed
from shouyin.shared.money import allocate


@dataclass(frozen=True)
class TierLevel:
    id: int
    rank: int
    threshold: int  # growth value needed, in fen
    points_multiplier: int = 100  # percent


def points_earned(*, paid: int, earn_fen_per_point: int, multiplier: int) -> int:
    """Whole points for ``paid`` fen (¥10 = 1 point by default), times the tier multiplier.

    The multiplier applies to the base points and the result is floored: a member never gets
    a point the shop did not promise, and a refund takes back the same whole number.
    """
    if paid <= 0:
        return 0
    return (paid // earn_fen_per_point) * multiplier // 100


def tier_for(growth: int, tiers: Sequence[TierLevel]) -> TierLevel | None:
    """The highest tier whose threshold ``growth`` reaches (None when no tier is defined)."""
    reached = [tier for tier in tiers if growth >= tier.threshold]
    return max(reached, key=lambda tier: tier.rank, default=None)


def upgrade_to(
    current: TierLevel | None, growth: int, tiers: Sequence[TierLevel]
) -> TierLevel | None:
    """The tier a sale moves a member up to, or None: sales only ever move members up."""
    earned = tier_for(growth, tiers)
    if earned is None or (current is not None and earned.rank <= current.rank):
        return None
    return earned


def review_to(
    current: TierLevel | None, growth: int, tiers: Sequence[TierLevel]
) -> TierLevel | None:
    """The tier a review moves a member down to, or None when they keep their tier."""
    earned = tier_for(growth, tiers)
    if current is None or earned is None or earned.rank >= current.rank:
        return None
    return earned


def expiry_date(
    earned_on: date, policy: Literal["end_of_next_year", "days", "never"], days: int
) -> date | None:
    if policy == "never":
        return None
    if policy == "days":
        return earned_on + timedelta(days=days)
    return date(earned_on.year + 1, 12, 31)


@dataclass(frozen=True)
class Lot:
    id: int
    remaining: int


def spend_lots(lots: Sequence[Lot], points: int) -> list[tuple[int, int]]:
    """(lot id, points taken) spending ``lots`` in the order given (oldest first)."""
    if points < 0:
        raise ValueError("cannot spend a negative number of points")
    taken: list[tuple[int, int]] = []
    left = points
    for lot in lots:
        if left == 0:
            break
        take = min(lot.remaining, left)
        if take > 0:
            taken.append((lot.id, take))
            left -= take
    if left:
        raise ValidationFailed(
            "The member does not have that many points.",
            code="points.insufficient",
            details={"requested": points, "held": points - left},
        )
    return taken


SpendOrder = Literal["principal_first", "bonus_first", "proportional"]


def split_stored_value(
    amount: int, *, principal: int, bonus: int, order: SpendOrder
) -> tuple[int, int]:
    """(principal, bonus) spent to pay ``amount`` from a card holding both."""
    if amount < 0:
        raise ValueError("cannot pay a negative amount")
    if amount > principal + bonus:
        raise ValidationFailed(
            "The stored-value balance is not enough.",
            code="stored_value.insufficient",
            details={"amount": amount, "balance": principal + bonus},
        )
    if order == "principal_first":
        from_principal = min(amount, principal)
        return from_principal, amount - from_principal
    if order == "bonus_first":
        from_bonus = min(amount, bonus)
        return amount - from_bonus, from_bonus
    from_principal, from_bonus = allocate(amount, [principal, bonus])
    return from_principal, from_bonus


@dataclass(frozen=True)
class BonusRule:
    id: int
    min_principal: int
    bonus: int


def recharge_bonus(principal: int, rules: Sequence[BonusRule]) -> BonusRule | None:
    """The rule a recharge earns: the largest bonus among those whose minimum it reaches."""
    reached = [rule for rule in rules if principal >= rule.min_principal]
    return max(reached, key=lambda rule: (rule.bonus, rule.min_principal), default=None)


def max_redeemable(*, due: int, held: int, fen_per_point: int, cap_percent: int) -> int:
    """The most points that may pay toward ``due`` fen: the cap and the balance both hold."""
    cap_fen = due * cap_percent // 100
    return max(0, min(held, cap_fen // fen_per_point))
