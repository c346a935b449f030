"""Requests and answers of suppliers, purchase orders, goods receipts and the stock card."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

Id = Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]
# Units, or grams for weighed goods; a million covers a tonne of rice.
Quantity = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]
# Fen per unit (per kg for weighed goods); zero for free goods.
Cost = Annotated[int, Field(ge=0, le=100_000_000, strict=True)]
Note = Annotated[str | None, Field(default=None, max_length=200)]


class SupplierCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=100)
    contact: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=120)
    lead_time_days: int = Field(default=3, ge=0, le=365, strict=True)
    note: Note = None


class SupplierUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")
    code: str | None = Field(
        default=None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$"
    )
    name: str | None = Field(default=None, min_length=1, max_length=100)
    contact: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=120)
    lead_time_days: int | None = Field(default=None, ge=0, le=365, strict=True)
    active: bool | None = None
    note: Note = None


class SupplierPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    code: str
    name: str
    contact: str | None
    phone: str | None
    email: str | None
    lead_time_days: int
    active: bool
    note: str | None


class SupplierPage(BaseModel):
    items: list[SupplierPublic]
    total: int


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: Id
    quantity: Quantity
    unit_cost: Cost


class OrderLineAdd(BaseModel):
    """One product added to a draft; without a cost, the store's average cost (or zero)."""

    model_config = ConfigDict(extra="forbid")
    product_id: Id
    quantity: Quantity = 1
    unit_cost: Cost | None = None


class OrderLineUpdate(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid")
    quantity: Quantity | None = None
    unit_cost: Cost | None = None


class OrderLinesReplace(BaseModel):
    """All of a draft's lines; an empty list empties the draft."""

    model_config = ConfigDict(extra="forbid")
    lines: list[OrderLineIn] = Field(max_length=500)


class OrderCreate(BaseModel):
    """A draft may start empty and get its lines later; it is sent only with lines."""

    model_config = ConfigDict(extra="forbid")
    client_uuid: UUID
    store_id: Id
    supplier_id: Id
    expected_on: date | None = None
    note: Note = None
    lines: list[OrderLineIn] = Field(default=[], max_length=500)


class OrderUpdate(BaseModel):
    """A draft's changes; lines, when sent, replace all lines."""

    model_config = ConfigDict(extra="forbid")
    supplier_id: Id | None = None
    expected_on: date | None = None
    note: Note = None
    lines: list[OrderLineIn] | None = Field(default=None, min_length=1, max_length=500)


class OrderLinePublic(BaseModel):
    id: int
    product_id: int
    sku: str
    name: str
    unit: str
    weighed: bool
    quantity: int
    unit_cost: int
    received: int
    outstanding: int


class OrderPublic(BaseModel):
    id: int
    number: str
    client_uuid: str
    store_id: int
    supplier_id: int
    supplier_name: str
    status: str
    created_at: datetime
    created_by: int
    sent_at: datetime | None
    expected_on: date | None
    note: str | None
    total_cost: int
    lines: list[OrderLinePublic]


class OrderSummary(BaseModel):
    id: int
    number: str
    store_id: int
    supplier_id: int
    supplier_name: str
    status: str
    created_at: datetime
    expected_on: date | None


class OrderPage(BaseModel):
    items: list[OrderSummary]
    total: int


class ReceiptLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: Id
    quantity: Quantity
    unit_cost: Cost
    order_line_id: Id | None = None


class ReceiptCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_uuid: UUID
    store_id: Id
    order_id: Id | None = None
    supplier_id: Id | None = None
    note: Note = None
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=500)


class ReceiptLinePublic(BaseModel):
    id: int
    product_id: int
    sku: str
    name: str
    unit: str
    weighed: bool
    order_line_id: int | None
    quantity: int
    unit_cost: int


class OverReceipt(BaseModel):
    order_line_id: int
    product_id: int
    ordered: int
    received: int


class ReceiptPublic(BaseModel):
    id: int
    number: str
    client_uuid: str
    store_id: int
    supplier_id: int | None
    supplier_name: str | None
    order_id: int | None
    order_number: str | None
    user_id: int
    created_at: datetime
    note: str | None
    total_cost: int
    lines: list[ReceiptLinePublic]
    # Lines received beyond what the order asked for (setting over_receipt = "warn").
    warnings: list[OverReceipt] = []


class ReceiptSummary(BaseModel):
    id: int
    number: str
    store_id: int
    supplier_name: str | None
    order_number: str | None
    created_at: datetime


class ReceiptPage(BaseModel):
    items: list[ReceiptSummary]
    total: int


class CardLine(BaseModel):
    id: int
    at: datetime
    kind: str
    quantity: int
    balance: int  # on hand after this movement
    reference: str | None  # order, return or receipt number, or the adjustment's reason
    ref_type: str | None
    ref_id: int | None
    user: str | None


class StockCardPage(BaseModel):
    store_id: int
    product_id: int
    sku: str
    name: str
    unit: str
    weighed: bool
    on_hand: int
    unit_cost_milli: int | None  # moving-average cost, thousandths of a fen
    value_at_cost: int | None  # fen
    items: list[CardLine]
    total: int
    limit: int
    offset: int
