"""Pydantic schemas of the loyalty set-up: tiers, promotions and the loyalty settings.

The schemas check types and sizes (so nothing overflows a column); the business rules
(tier order, promotion parameters, time windows) live in the services, which give each
broken rule its own error code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shouyin.loyalty.settings import LoyaltySettings

ID_MAX = 2**31 - 1
MAX_FEN = 100_000_000
# Far above any sensible list of scope, store or tier ids; keeps a request small.
MAX_IDS = 1000

Scope = Literal["all", "categories", "products"]
PromotionKind = Literal["special_price", "nth_discount", "buy_x_get_y", "order_threshold"]
PromotionStatus = Literal["active", "upcoming", "ended", "inactive"]
Id = Annotated[int, Field(ge=1, le=ID_MAX, strict=True)]
# Loose bounds: the promotion service says which values make sense, with its own codes.
SmallInt = Annotated[int, Field(ge=-ID_MAX, le=ID_MAX, strict=True)]
Code = Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_\-]+$")]


class TierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    name: str = Field(min_length=1, max_length=40)
    rank: int = Field(ge=0, le=1000, strict=True, description="0 is the entry tier")
    threshold: int = Field(
        default=0, ge=0, le=MAX_FEN, strict=True, description="Growth value (fen) to reach it"
    )
    discount_bp: int = Field(
        default=0, ge=0, le=9000, strict=True, description="Basis points off: 1000 = 9折"
    )
    points_multiplier: int = Field(default=100, ge=0, le=1000, strict=True, description="%")
    scope: Scope = "all"
    scope_ids: list[Id] = Field(default_factory=list, max_length=MAX_IDS)
    active: bool = Field(default=True, strict=True)


class TierUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code | None = None
    name: str | None = Field(default=None, min_length=1, max_length=40)
    rank: int | None = Field(default=None, ge=0, le=1000, strict=True)
    threshold: int | None = Field(default=None, ge=0, le=MAX_FEN, strict=True)
    discount_bp: int | None = Field(default=None, ge=0, le=9000, strict=True)
    points_multiplier: int | None = Field(default=None, ge=0, le=1000, strict=True)
    scope: Scope | None = None
    scope_ids: list[Id] | None = Field(default=None, max_length=MAX_IDS)
    active: bool | None = Field(default=None, strict=True)


class TierPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    rank: int
    threshold: int
    discount_bp: int
    points_multiplier: int
    scope: str
    scope_ids: list[int]
    active: bool


class PromotionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    kind: PromotionKind
    params: dict[str, Any] = Field(
        description='special_price {"price"}, nth_discount {"n", "percent_off"}, '
        'buy_x_get_y {"buy", "get"}, order_threshold {"tiers": [[min_fen, off_fen], ...]}'
    )
    scope: Scope = "all"
    scope_ids: list[Id] = Field(default_factory=list, max_length=MAX_IDS)
    member_only: bool = Field(default=False, strict=True)
    tier_ids: list[Id] = Field(default_factory=list, max_length=MAX_IDS)
    store_ids: list[Id] = Field(default_factory=list, max_length=MAX_IDS)
    weekdays: list[SmallInt] = Field(default_factory=list, max_length=7, description="1=Mon")
    start_minute: SmallInt | None = Field(default=None, description="Local time, minutes")
    end_minute: SmallInt | None = None
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None
    priority: SmallInt = 0
    active: bool = Field(default=True, strict=True)


class PromotionUpdate(BaseModel):
    """Fields left out keep their value; a window field sent as null is cleared."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=60)
    kind: PromotionKind | None = None
    params: dict[str, Any] | None = None
    scope: Scope | None = None
    scope_ids: list[Id] | None = Field(default=None, max_length=MAX_IDS)
    member_only: bool | None = Field(default=None, strict=True)
    tier_ids: list[Id] | None = Field(default=None, max_length=MAX_IDS)
    store_ids: list[Id] | None = Field(default=None, max_length=MAX_IDS)
    weekdays: list[SmallInt] | None = Field(default=None, max_length=7)
    start_minute: SmallInt | None = None
    end_minute: SmallInt | None = None
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None
    priority: SmallInt | None = None
    active: bool | None = Field(default=None, strict=True)


class PromotionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    params: dict[str, Any]
    scope: str
    scope_ids: list[int]
    member_only: bool
    tier_ids: list[int]
    store_ids: list[int]
    weekdays: list[int]
    start_minute: int | None
    end_minute: int | None
    valid_from: datetime | None
    valid_to: datetime | None
    priority: int
    active: bool
    status: PromotionStatus
    created_at: datetime


class PromotionPage(BaseModel):
    items: list[PromotionPublic]
    total: int
    limit: int
    offset: int


class LoyaltySettingsIn(LoyaltySettings):
    """A change to the settings: fields left out keep their current value."""

    model_config = ConfigDict(extra="forbid", strict=True)
