from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AdjustmentLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    quantity: int = Field(ge=-1_000_000, le=1_000_000, strict=True)


class AdjustmentIn(BaseModel):
    """Goods received or counted by hand until purchasing and stocktakes arrive."""

    model_config = ConfigDict(extra="forbid")
    store_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    kind: Literal["receipt", "adjustment", "damage"]
    reason: str = Field(min_length=1, max_length=200)
    lines: list[AdjustmentLine] = Field(min_length=1, max_length=1000)


class MovementPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    quantity: int
    kind: str
    ref_type: str | None
    ref_id: int | None
    reason: str | None
    user_id: int | None
    at: datetime


class StockCard(BaseModel):
    store_id: int
    product_id: int
    on_hand: int
    movements: list[MovementPublic]
