"""Transfers (调拨) between stores: what the API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

ID = Field(ge=1, le=2**31 - 1, strict=True)
MAX_QUANTITY = 1_000_000
TransferStatus = Literal["draft", "in_transit", "received", "cancelled"]


class TransferLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: int = ID
    quantity: int = Field(le=MAX_QUANTITY, strict=True)  # checked > 0 with a clear message


class TransferCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_uuid: UUID
    from_store_id: int = ID
    to_store_id: int = ID
    lines: list[TransferLineIn] = Field(min_length=1, max_length=500)
    note: str | None = Field(default=None, max_length=200)


class ReceivedLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: int = ID
    received: int = Field(le=MAX_QUANTITY, strict=True)


class TransferReceive(BaseModel):
    """Counted quantities; a product left out arrived as sent."""

    model_config = ConfigDict(extra="forbid")
    lines: list[ReceivedLineIn] = Field(default_factory=list, max_length=500)


class TransferLinePublic(BaseModel):
    product_id: int
    sku: str
    name: str
    quantity: int
    received: int | None
    shortfall: int  # sent but not received; 0 until received


class StockWarning(BaseModel):
    product_id: int
    name: str
    on_hand: int


class TransferPublic(BaseModel):
    id: int
    client_uuid: str
    number: str
    from_store_id: int
    from_store_name: str
    to_store_id: int
    to_store_name: str
    status: str
    note: str | None
    created_at: datetime
    created_by: int
    sent_at: datetime | None
    sent_by: int | None
    received_at: datetime | None
    received_by: int | None
    lines: list[TransferLinePublic]
    shortfall: int
    stock_warnings: list[StockWarning] = []


class TransferSummary(BaseModel):
    id: int
    number: str
    from_store_id: int
    from_store_name: str
    to_store_id: int
    to_store_name: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    received_at: datetime | None
    quantity: int


class TransferPage(BaseModel):
    items: list[TransferSummary]
    total: int
    limit: int
    offset: int
