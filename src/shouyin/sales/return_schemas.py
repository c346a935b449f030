"""REST shapes of returns (退货)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shouyin.sales.schemas import MAX_QUANTITY

_ID = Field(ge=1, le=2**31 - 1, strict=True)


class ReturnLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_line_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True)


class ApprovalIn(BaseModel):
    """A manager's credentials, typed on the till on the spot."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class ReturnCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_uuid: UUID
    store_id: int = _ID
    register_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    order_id: int = _ID
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=500)
    refund_to: Literal["original", "cash"] = "original"
    reason: str = Field(min_length=1, max_length=200)
    approval: ApprovalIn | None = None


class NoReceiptLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    # Units, or grams of weighed goods (as order lines store them).
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True)
    # Fen per unit (per kg when weighed); default and maximum: the product's current price.
    unit_refund: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)


class NoReceiptCreate(BaseModel):
    """A return without a receipt: a manager approves on the spot, the refund is cash."""

    model_config = ConfigDict(extra="forbid")
    client_uuid: UUID
    store_id: int = _ID
    # The cash comes out of a drawer: the register's open shift accounts for it.
    register_id: int = _ID
    lines: list[NoReceiptLineIn] = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=200)
    approval: ApprovalIn | None = None


class ReturnLinePublic(BaseModel):
    id: int
    order_line_id: int | None
    product_id: int
    name: str
    quantity: int
    weighed: bool
    refund: int
    points_given: int


class ReturnPaymentPublic(BaseModel):
    method: str
    amount: int
    # The gateway's refund id (WeChat, Alipay), once the refund is done.
    reference: str | None = None
    # done; WeChat and Alipay: "pending" until the gateway took the refund (sent again by a
    # retry of the return and by the recovery), or "failed" (refused: ``message`` says why,
    # and the customer is still owed the amount).
    status: str = "done"
    message: str | None = None


class ReturnLoyaltyPublic(BaseModel):
    """What the return did to the member's balances."""

    points_taken: int
    points_unrecovered: int
    points_given: int
    growth: int
    sv_principal: int
    sv_bonus: int
    coupon_codes: list[str]


class ReturnPublic(BaseModel):
    id: int
    client_uuid: str
    number: str
    # Both empty for a return without a receipt.
    order_id: int | None
    order_number: str | None
    store_id: int
    register_id: int | None
    user_id: int
    approver_id: int | None
    member_id: int | None
    business_date: date
    created_at: datetime
    reason: str
    refund_to: str
    refund: int
    whole_order: bool
    lines: list[ReturnLinePublic]
    payments: list[ReturnPaymentPublic]
    loyalty: ReturnLoyaltyPublic | None


class ReturnableLine(BaseModel):
    order_line_id: int
    line_no: int
    product_id: int
    name: str
    weighed: bool
    sold: int
    returned: int
    returnable: int
    # What returning every returnable unit of this line would give back.
    refund: int


class ReturnablePublic(BaseModel):
    order_id: int
    order_number: str
    store_id: int
    created_at: datetime
    member_id: int | None
    # How the sale was paid, per method: where the refund goes back to.
    paid: dict[str, int]
    # What earlier returns already gave back, per method.
    refunded_to: dict[str, int]
    total: int
    refunded: int
    lines: list[ReturnableLine]


class RecentOrder(BaseModel):
    """An order of the store, as the till's receipt search lists it."""

    id: int
    number: str
    created_at: datetime
    total: int
    item_count: int
    member_id: int | None
