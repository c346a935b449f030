"""Coupons over REST: templates, issuing, a member's coupons, the till's scan, voiding."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# Upper bounds keep every amount inside a 32-bit integer column on every database.
MAX_FEN = 100_000_000
ID_MAX = 2**31 - 1
BULK_IDS_MAX = 10_000
ISSUE_COUNT_MAX = 20

Id = Annotated[int, Field(ge=1, le=ID_MAX, strict=True)]
Kind = Literal["threshold", "percent", "voucher", "gift"]
Scope = Literal["all", "categories", "products"]
AutoIssue = Literal["registration", "tier_upgrade"]
Status = Literal["issued", "redeemed", "void"]


class CouponTemplateIn(BaseModel):
    """A template as created, or replaced whole by PUT.

    ``value`` is fen off for threshold (满减) and voucher (代金) coupons, basis points off for
    percent (折扣) coupons (1500 = 15% off, 85折) and 0 for gift (兑换) coupons.
    """

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    kind: Kind
    value: int = Field(default=0, ge=0, le=MAX_FEN, strict=True)
    min_spend: int = Field(default=0, ge=0, le=MAX_FEN, strict=True)
    scope: Scope = "all"
    scope_ids: list[Id] = Field(default_factory=list, max_length=500)
    gift_product_id: Id | None = None
    valid_days: int | None = Field(default=None, ge=1, le=3650, strict=True)
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None
    per_member_limit: int | None = Field(default=None, ge=1, le=10_000, strict=True)
    stackable: bool = False
    auto_issue: AutoIssue | None = None
    active: bool = True


class CouponTemplatePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    kind: str
    value: int
    min_spend: int
    scope: str
    scope_ids: list[int]
    gift_product_id: int | None
    valid_days: int | None
    valid_from: datetime | None
    valid_to: datetime | None
    per_member_limit: int | None
    stackable: bool
    auto_issue: str | None
    active: bool
    created_at: datetime


class MemberFilters(BaseModel):
    """The member list's filters (tag, registration store, search) plus the member's tier."""

    model_config = ConfigDict(extra="forbid")
    tag: str | None = Field(default=None, max_length=30)
    store_id: Id | None = None
    q: str | None = Field(default=None, max_length=40, description="Card, mobile, name, ...")
    tier_id: Id | None = None


class IssueIn(BaseModel):
    """Either ``member_ids`` or ``filters``; each member gets ``count`` coupons."""

    model_config = ConfigDict(extra="forbid")
    member_ids: list[Id] | None = Field(default=None, min_length=1, max_length=BULK_IDS_MAX)
    filters: MemberFilters | None = None
    count: int = Field(default=1, ge=1, le=ISSUE_COUNT_MAX, strict=True)


class IssueResult(BaseModel):
    issued: int = Field(description="Coupons issued")
    members: int = Field(description="Members who received coupons")
    skipped: int = Field(description="Members skipped because of the per-member limit")


class CouponPublic(BaseModel):
    """A coupon with the terms of its template: what the till needs to apply it."""

    code: str
    template_id: int
    name: str
    kind: str
    value: int
    min_spend: int
    scope: str
    scope_ids: list[int]
    gift_product_id: int | None
    stackable: bool
    member_id: int | None
    status: str
    valid_from: datetime
    valid_to: datetime
    issued_at: datetime
    source: str
    order_id: int | None
    redeemed_at: datetime | None
    usable: bool = Field(description="Issued, inside its validity window, template active")


class CouponPage(BaseModel):
    items: list[CouponPublic]
    total: int
    limit: int
    offset: int


class VoidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=200)
