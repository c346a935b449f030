"""Schemas: reorder rules, the replenishment list, suggested purchase orders, stock alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]
Qty = Annotated[int, Field(ge=0, le=10_000_000, strict=True)]
Days = Annotated[int, Field(ge=0, le=365, strict=True)]


class RuleIn(BaseModel):
    """Set (or change) the rule of one product in one store."""

    model_config = ConfigDict(extra="forbid")
    store_id: Id
    product_id: Id
    mode: Literal["manual", "velocity"] = "manual"
    min_qty: Qty = 0
    max_qty: Qty = 0
    lead_days: Days = 3
    safety_days: Days = 2
    review_days: Days = 7
    supplier_id: Id | None = None

    @model_validator(mode="after")
    def _max_not_below_min(self) -> RuleIn:
        if self.mode == "manual" and self.max_qty < self.min_qty:
            raise ValueError("max_qty must not be below min_qty")
        return self


class RulePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    store_id: int
    product_id: int
    sku: str
    name: str
    mode: str
    min_qty: int
    max_qty: int
    lead_days: int
    safety_days: int
    review_days: int
    supplier_id: int | None
    updated_at: datetime


class RulePage(BaseModel):
    total: int
    items: list[RulePublic]


class ReplenishmentLine(BaseModel):
    product_id: int
    sku: str
    name: str
    mode: str
    on_hand: int
    # On open purchase orders (sent, partly received: ordered − received) and on transfers in
    # transit to the store; the suggested quantity is order_up_to − on_hand − on_order.
    on_order: int
    reorder_point: int
    order_up_to: int
    suggested: int
    supplier_id: int | None
    supplier_name: str | None


class ReplenishmentList(BaseModel):
    store_id: int
    items: list[ReplenishmentLine]


class SuggestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    store_id: Id
    product_ids: list[Id] | None = Field(default=None, max_length=5000)


class SuggestedOrder(BaseModel):
    id: int
    number: str
    supplier_id: int
    lines: int


class SuggestOut(BaseModel):
    orders: list[SuggestedOrder]
    # Products on the list without a supplier: set one in their rule first.
    need_supplier: list[int]


class AlertPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    store_id: int
    product_id: int
    sku: str
    name: str
    raised_at: datetime
    on_hand: int
    reorder_point: int
    status: str
    acknowledged_by: int | None
    resolved_at: datetime | None
    emailed_at: datetime | None


class ScanOut(BaseModel):
    opened: int
    resolved: int
    emailed: int
