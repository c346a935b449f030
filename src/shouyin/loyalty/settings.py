"""The shop's loyalty rules: defaults from DOMAIN.md, changed in the back office.

Kept as one JSON row so a new rule is a new field with a default, not a migration.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from shouyin.loyalty.models import LoyaltySettingsRow
from shouyin.shared.clock import utcnow

SETTINGS_ID = 1


class LoyaltySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Points earned: one point per this many fen paid (¥10 = 1 point), times the tier multiplier.
    earn_fen_per_point: int = Field(default=1000, ge=1, le=1_000_000)
    # Points redeemed: each point is worth this many fen (100 points = ¥10).
    redeem_fen_per_point: int = Field(default=10, ge=1, le=10_000)
    # Points may pay at most this share of what is left of an order.
    redeem_cap_percent: int = Field(default=50, ge=0, le=100)
    # end_of_next_year: a lot earned in 2026 expires at the end of 2027.
    points_expiry: Literal["end_of_next_year", "days", "never"] = "end_of_next_year"
    points_expiry_days: int = Field(default=365, ge=1, le=3650)
    # Growth value (成长值) counts spending over this many days for tiers.
    growth_window_days: int = Field(default=365, ge=1, le=3650)
    # Members are reviewed for moving down on this day of the month (1-28).
    tier_review_day: int = Field(default=1, ge=1, le=28)
    # Stored value: the balance cap of a card, and which part pays first.
    stored_value_cap: int = Field(default=500_000, ge=0, le=100_000_000)
    stored_value_spend: Literal["principal_first", "bonus_first", "proportional"] = (
        "principal_first"
    )
    # Offers on the same line or order: the best for the customer, or the highest priority.
    promotion_conflict: Literal["best", "priority"] = "best"
    # Whether the tier discount also applies to lines that already have an item promotion.
    tier_on_promoted_items: bool = False


def load(session: Session) -> LoyaltySettings:
    row = session.get(LoyaltySettingsRow, SETTINGS_ID)
    return LoyaltySettings() if row is None else LoyaltySettings.model_validate(row.rules)


def save(session: Session, settings: LoyaltySettings) -> None:
    row = session.get(LoyaltySettingsRow, SETTINGS_ID)
    if row is None:
        row = LoyaltySettingsRow(id=SETTINGS_ID, rules={})
        session.add(row)
    row.rules = settings.model_dump()
    row.updated_at = utcnow()
    session.flush()
