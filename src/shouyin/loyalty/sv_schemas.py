"""REST shapes for stored value (储值): recharge rules, recharges, refunds, statements and the
liability report. Amounts are integer fen."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

# Upper bounds keep every amount inside a 32-bit integer column on every database.
MAX_FEN = 100_000_000
ID_MAX = 2**31 - 1
Method = Literal["cash", "card"]


class RechargeRuleIn(BaseModel):
    """充500送50: a recharge of at least ``min_principal`` earns ``bonus`` (create or replace)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=60)
    min_principal: int = Field(ge=1, le=MAX_FEN, strict=True)
    bonus: int = Field(ge=0, le=MAX_FEN, strict=True)
    active: bool = True
    valid_from: datetime | None = None
    valid_to: datetime | None = None


class RechargeRulePublic(BaseModel):
    id: int
    name: str
    min_principal: int
    bonus: int
    active: bool
    valid_from: datetime | None
    valid_to: datetime | None


class RechargeCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_uuid: UUID
    member_id: int = Field(ge=1, le=ID_MAX, strict=True)
    store_id: int = Field(ge=1, le=ID_MAX, strict=True)
    register_id: int | None = Field(default=None, ge=1, le=ID_MAX, strict=True)
    principal: int = Field(ge=1, le=MAX_FEN, strict=True)
    method: Method
    reference: str | None = Field(default=None, max_length=64)


class RefundCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_uuid: UUID
    member_id: int = Field(ge=1, le=ID_MAX, strict=True)
    store_id: int = Field(ge=1, le=ID_MAX, strict=True)
    register_id: int | None = Field(default=None, ge=1, le=ID_MAX, strict=True)
    # None refunds all the unused principal (退卡).
    amount: int | None = Field(default=None, ge=1, le=MAX_FEN, strict=True)
    method: Method
    reference: str | None = Field(default=None, max_length=64)
    reason: str = Field(min_length=1, max_length=200)


class RechargePublic(BaseModel):
    """A recharge, or a refund (kind "refund": ``principal`` is what was paid back and
    ``bonus`` the bonus written off with it), with the member's balances right after."""

    id: int
    client_uuid: str
    number: str
    kind: str
    member_id: int
    store_id: int
    register_id: int | None
    user_id: int
    cashier_name: str
    principal: int
    bonus: int
    rule_id: int | None
    method: str
    reference: str | None
    reason: str | None
    business_date: date
    at: datetime
    sv_principal_after: int
    sv_bonus_after: int
    balance_after: int


class StatementEntry(BaseModel):
    id: int
    at: datetime
    kind: str
    sv_principal: int
    sv_bonus: int
    sv_principal_after: int
    sv_bonus_after: int
    order_id: int | None
    ref_type: str | None
    ref_id: int | None
    store_id: int | None
    reason: str | None


class StatementPage(BaseModel):
    member_id: int
    sv_principal: int
    sv_bonus: int
    balance: int
    items: list[StatementEntry]
    total: int
    limit: int
    offset: int


class LiabilityRow(BaseModel):
    """Outstanding stored value at the end of ``month`` from entries made at one store."""

    store_id: int | None
    store_name: str
    month: str  # YYYY-MM
    principal: int
    bonus: int
    total: int


class LiabilityMonth(BaseModel):
    month: str
    principal: int
    bonus: int
    total: int


class LiabilityReport(BaseModel):
    first_month: str
    last_month: str
    store_id: int | None
    rows: list[LiabilityRow]
    months: list[LiabilityMonth]  # totals over the stores shown


LiabilityFormat = Literal["csv", "xlsx"]
