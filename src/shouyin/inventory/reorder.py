"""Reorder rules, pure: a product's reorder point and order-up-to level in a store.

Manual rules give both by hand (min/max). Velocity rules start from the units sold over the
last :data:`WINDOW_DAYS` days (sales minus returns, never below zero):

    average daily  = sold / WINDOW_DAYS
    reorder point  = average daily × (lead_days + safety_days)    (lead time + safety stock)
    order up to    = average daily × (lead_days + safety_days + review_days)

both rounded up to whole units, computed with integers so that Python and SQL agree exactly.
A product needs reordering when on hand ≤ reorder point and the rule orders something
(order-up-to above zero: a velocity product that sold nothing is not reordered).
The suggested quantity is order-up-to − on hand.

The same arithmetic as SQL expressions is here too, so a whole store is computed in one
query (:mod:`replenishment`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, literal

WINDOW_DAYS = 28


@dataclass(frozen=True)
class Rule:
    mode: str  # manual, velocity
    min_qty: int = 0
    max_qty: int = 0
    lead_days: int = 3
    safety_days: int = 2
    review_days: int = 7


@dataclass(frozen=True)
class Levels:
    reorder_point: int
    order_up_to: int


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def levels(rule: Rule, sold: int) -> Levels:
    """``sold``: net units sold (sales − returns) over the last WINDOW_DAYS days."""
    if rule.mode == "manual":
        return Levels(rule.min_qty, max(rule.max_qty, rule.min_qty))
    net = max(sold, 0)
    cover = rule.lead_days + rule.safety_days
    return Levels(
        _ceil_div(net * cover, WINDOW_DAYS),
        _ceil_div(net * (cover + rule.review_days), WINDOW_DAYS),
    )


def average_daily(sold: int) -> float:
    return max(sold, 0) / WINDOW_DAYS


def needs_reorder(levels_: Levels, on_hand: int) -> bool:
    return levels_.order_up_to > 0 and on_hand <= levels_.reorder_point


def suggested(levels_: Levels, on_hand: int) -> int:
    return max(levels_.order_up_to - on_hand, 0)


# --- the same as SQL --------------------------------------------------------------------------


def _ceil_sql(numerator: Any) -> Any:
    # Integer division truncates on SQLite and PostgreSQL; numerator is never negative here.
    return (numerator + (WINDOW_DAYS - 1)) // literal(WINDOW_DAYS)


def reorder_point_sql(rule: Any, sold: Any) -> Any:
    """``rule``: the reorder_rules columns; ``sold``: a non-negative net sold expression."""
    return case(
        (rule.mode == "manual", rule.min_qty),
        else_=_ceil_sql(sold * (rule.lead_days + rule.safety_days)),
    )


def order_up_to_sql(rule: Any, sold: Any) -> Any:
    return case(
        (rule.mode == "manual", case((rule.max_qty > rule.min_qty, rule.max_qty),
                                     else_=rule.min_qty)),
        else_=_ceil_sql(sold * (rule.lead_days + rule.safety_days + rule.review_days)),
    )  # fmt: skip
