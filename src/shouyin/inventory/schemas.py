from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AdjustmentLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    quantity: int = Field(ge=-1_000_000, le=1_000_000, strict=True)


class AdjustmentIn(BaseModel):
    """A correction by hand (adjustment, either way) or a write-off (damage).

    Not a receipt: goods come in through goods receipts (入库), with their cost, so that the
    moving-average cost stays right."""

    model_config = ConfigDict(extra="forbid")
    store_id: int = Field(ge=1, le=2**31 - 1, strict=True)
    kind: Literal["adjustment", "damage"]
    reason: str = Field(min_length=1, max_length=200)
    lines: list[AdjustmentLine] = Field(min_length=1, max_length=1000)

    @field_validator("kind", mode="before")
    @classmethod
    def _no_receipts(cls, value: object) -> object:
        if value == "receipt":
            raise ValueError(
                "a receipt is not an adjustment: receive goods with their cost through "
                "POST /api/v1/goods-receipts; kind is 'adjustment' or 'damage'"
            )
        return value


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
