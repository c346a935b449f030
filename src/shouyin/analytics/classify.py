"""Customer classification: new vs returning, active / at risk / lost, high vs low value. Pure.

Three independent labels per member, from the same ``MemberStats`` that RFM scores:

- **buyer**: 新客 (one order) or 回头客 (more than one);
- **activity**: 活跃 when the last purchase is at most ``active_days`` ago, 沉睡 (at risk)
  up to ``at_risk_days``, 流失 (lost) beyond;
- **value**: 高价值 when spend is at or above the spend of the member at the top
  ``high_value_top_percent`` cut, and above zero. Everyone tied with that member is high
  too, so the high share can exceed the percentage when spends tie at the boundary; this
  keeps the label a function of spend alone (equal spend, equal label).

The thresholds come in as ``Thresholds``; the settings map onto it. See docs/insight.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from shouyin.analytics.rfm import MemberStats


class Buyer(StrEnum):
    NEW = "new"
    RETURNING = "returning"

    @property
    def name_zh(self) -> str:
        return {"new": "新客", "returning": "回头客"}[self.value]


class Activity(StrEnum):
    ACTIVE = "active"
    AT_RISK = "at_risk"
    LOST = "lost"

    @property
    def name_zh(self) -> str:
        return {"active": "活跃", "at_risk": "沉睡", "lost": "流失"}[self.value]


@dataclass(frozen=True)
class Thresholds:
    active_days: int = 60
    at_risk_days: int = 180
    high_value_top_percent: int = 20

    def __post_init__(self) -> None:
        if not 0 <= self.active_days < self.at_risk_days:
            raise ValueError("need 0 <= active_days < at_risk_days")
        if not 1 <= self.high_value_top_percent <= 100:
            raise ValueError("high_value_top_percent must be from 1 to 100")


@dataclass(frozen=True, slots=True)
class MemberClass:
    buyer: Buyer
    activity: Activity
    high_value: bool
    days_since_last: int


def buyer_of(orders: int) -> Buyer:
    return Buyer.RETURNING if orders > 1 else Buyer.NEW


def activity_of(days_since_last: int, thresholds: Thresholds) -> Activity:
    if days_since_last <= thresholds.active_days:
        return Activity.ACTIVE
    if days_since_last <= thresholds.at_risk_days:
        return Activity.AT_RISK
    return Activity.LOST


def high_value_threshold(spends: Sequence[int], top_percent: int) -> int | None:
    """The spend that makes a member high value: that of the member at the top-percent cut.

    The cut is at position ceil(n × top_percent / 100) in spend order, highest first, so
    with 10 members and 20% the second-highest spend is the threshold. Spending nothing is
    never high value: the threshold is at least 1 fen, and ``None`` when nobody spent
    anything.
    """
    if not spends or max(spends) <= 0:
        return None
    position = -(-len(spends) * top_percent // 100)
    cut = sorted(spends, reverse=True)[position - 1]
    return max(cut, 1)


def classify(
    members: Sequence[MemberStats],
    *,
    today: date,
    thresholds: Thresholds | None = None,
) -> dict[int, MemberClass]:
    """The labels of every member; the value threshold is computed over ``members``."""
    limits = thresholds or Thresholds()
    cut = high_value_threshold([m.spend_fen for m in members], limits.high_value_top_percent)
    today_ordinal = today.toordinal()
    result: dict[int, MemberClass] = {}
    for member in members:
        days = max(0, today_ordinal - member.last_purchase.toordinal())
        high = cut is not None and member.spend_fen >= cut
        result[member.member_id] = MemberClass(
            buyer_of(member.orders), activity_of(days, limits), high, days
        )
    return result
