from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

# Upper bounds keep every amount inside a 32-bit integer column on every database.
MAX_FEN = 100_000_000
MAX_QUANTITY = 1_000_000


class DiscountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["amount", "percent"]
    value: int = Field(ge=0, le=MAX_FEN, strict=True)


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    quantity: int = Field(le=MAX_QUANTITY, ge=-MAX_QUANTITY, strict=True)
    price_override: int | None = Field(default=None, ge=-MAX_FEN, le=MAX_FEN, strict=True)
    discount: DiscountIn | None = None


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    store_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    lines: list[LineIn] = Field(max_length=500)
    order_discount: DiscountIn | None = None
    member_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    # Coupon codes scanned or picked; the server checks each one and computes its value.
    coupon_codes: list[Annotated[str, Field(min_length=1, max_length=20)]] = Field(
        default_factory=list, max_length=5
    )
    # Points the member redeems; their value and the cap are the server's business.
    points: int = Field(default=0, ge=0, le=MAX_FEN, strict=True)


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["cash", "card", "stored_value", "wechat", "alipay"]
    amount: int = Field(ge=-MAX_FEN, le=MAX_FEN, strict=True)
    reference: str | None = Field(default=None, max_length=64)


class OrderCreate(QuoteRequest):
    client_uuid: UUID
    register_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    payments: list[PaymentIn] = Field(max_length=10)


class PricedLinePublic(BaseModel):
    index: int
    product_id: int
    name: str
    quantity: int
    weighed: bool
    list_price: int
    unit_price: int
    list_amount: int
    override_amount: int
    line_discount: int
    order_discount: int
    rounding: int
    net: int
    item_promotion: int = 0
    tier_discount: int = 0
    order_promotion: int = 0
    coupon: int = 0
    points: int = 0


class StepPublic(BaseModel):
    kind: str
    amount: int
    label: str = ""
    ref: str | None = None


class QuotePublic(BaseModel):
    lines: list[PricedLinePublic]
    steps: list[StepPublic]
    subtotal: int
    discount_total: int
    total: int


class OrderLoyaltyPublic(BaseModel):
    """What the sale did for the member: for the receipt and the till's last-sale panel."""

    points_earned: int
    points_redeemed: int
    points_balance: int
    sv_principal_paid: int
    sv_bonus_paid: int
    sv_balance: int
    growth: int
    tier_name: str | None
    upgraded_to: str | None


class OrderLinePublic(PricedLinePublic):
    id: int


class PaymentPublic(BaseModel):
    method: str
    amount: int
    tendered: int
    change: int
    reference: str | None


class StockWarningPublic(BaseModel):
    """A product this sale took below zero in the store (setting negative_stock = "warn")."""

    product_id: int
    name: str
    on_hand: int


class OrderPublic(BaseModel):
    id: int
    client_uuid: str
    number: str
    store_id: int
    register_id: int | None
    cashier_id: int
    cashier_name: str
    member_id: int | None = None
    business_date: date
    created_at: datetime
    status: str
    subtotal: int
    discount_total: int
    total: int
    paid: int
    change: int
    item_count: int
    steps: list[StepPublic]
    lines: list[OrderLinePublic]
    payments: list[PaymentPublic]
    coupon_codes: list[str] = []
    loyalty: OrderLoyaltyPublic | None = None
    stock_warnings: list[StockWarningPublic] = []


class VoidLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    name: str = Field(max_length=120)
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True)
    amount: int = Field(ge=0, le=MAX_FEN, strict=True)


class VoidIn(BaseModel):
    """Lines taken off a cart before payment (作废), reported by the till for the audit log."""

    model_config = ConfigDict(extra="forbid")
    store_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    register_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    whole_cart: bool = False
    lines: list[VoidLineIn] = Field(min_length=1, max_length=500)
