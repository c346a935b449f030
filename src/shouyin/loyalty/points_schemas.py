"""Pydantic schemas of a member's loyalty account, points adjustments and gifts."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

ID_MAX = 2**31 - 1
MAX_ADJUST = 1_000_000  # points one manual adjustment may add or take away


class TierPublic(BaseModel):
    id: int
    code: str
    name: str
    rank: int
    threshold: int
    discount_bp: int
    points_multiplier: int


class ExpiringPoints(BaseModel):
    on: date
    points: int


class StoredValuePublic(BaseModel):
    principal: int
    bonus: int
    total: int


class AccountPublic(BaseModel):
    member_id: int
    tier: TierPublic | None
    tier_since: datetime | None
    next_tier: TierPublic | None
    growth_needed: int | None  # growth value (fen) still missing for the next tier
    growth_window: int  # growth value earned in the last growth_window_days
    growth_window_days: int
    growth_lifetime: int
    points: int
    expiring: ExpiringPoints | None  # the soonest-expiring points
    stored_value: StoredValuePublic


class LedgerEntryPublic(BaseModel):
    id: int
    at: datetime
    kind: str
    points: int
    growth: int
    sv_principal: int
    sv_bonus: int
    points_after: int
    sv_principal_after: int
    sv_bonus_after: int
    order_id: int | None
    order_number: str | None
    ref_type: str | None
    ref_id: int | None
    store_id: int | None
    store_name: str | None
    timezone: str  # the store's, for showing the time
    reason: str | None


class LedgerPage(BaseModel):
    items: list[LedgerEntryPublic]
    total: int
    limit: int
    offset: int


class TierChangePublic(BaseModel):
    id: int
    at: datetime
    from_tier: str | None
    to_tier: str | None
    reason: str
    growth: int
    order_id: int | None


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    points: int = Field(ge=-MAX_ADJUST, le=MAX_ADJUST, strict=True)
    # Checked by the service (2 to 200 characters) so a blank reason gets its own message.
    reason: str = Field(default="", max_length=1000)


class AdjustmentPublic(BaseModel):
    entry: LedgerEntryPublic
    points: int  # the balance after the adjustment


class GiftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    points: int = Field(ge=1, le=MAX_ADJUST, strict=True)
    product_id: int | None = Field(default=None, ge=1, le=ID_MAX, strict=True)
    active: bool = True


class GiftUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=60)
    points: int | None = Field(default=None, ge=1, le=MAX_ADJUST, strict=True)
    product_id: int | None = Field(default=None, ge=1, le=ID_MAX, strict=True)
    active: bool | None = None


class GiftPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    points: int
    product_id: int | None
    active: bool


class GiftRedemptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Made by the client for each redemption: a retry with it returns the first result.
    client_uuid: UUID
    gift_id: int = Field(ge=1, le=ID_MAX, strict=True)
    store_id: int = Field(ge=1, le=ID_MAX, strict=True)


class GiftRedemptionPublic(BaseModel):
    gift: GiftPublic
    entry: LedgerEntryPublic
    points: int  # the balance after the redemption
    replayed: bool = False  # True: a retry, answered with the first redemption's result
