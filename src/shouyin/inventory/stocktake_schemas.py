"""Stocktakes (盘点): what the API takes and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

ID = Field(ge=1, le=2**31 - 1, strict=True)
MAX_QUANTITY = 1_000_000
StocktakeStatus = Literal["counting", "posted", "cancelled"]
LineFilter = Literal["all", "uncounted", "counted", "variance"]


class StocktakeStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_uuid: UUID
    store_id: int = ID
    category_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    note: str | None = Field(default=None, max_length=200)


class CountLineIn(BaseModel):
    """A product by id or by barcode/SKU; `counted` is the count ("set") or what to add."""

    model_config = ConfigDict(extra="forbid")
    product_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    barcode: str | None = Field(default=None, min_length=1, max_length=32)
    # Checked >= 0 (set) or a count staying >= 0 (add) with a clear message.
    counted: int = Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY, strict=True)


class CountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lines: list[CountLineIn] = Field(min_length=1, max_length=500)
    mode: Literal["set", "add"] = "set"


class PostIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Uncounted lines are left alone unless this is true: then they count as zero.
    uncounted_as_zero: bool = False


class CountedLine(BaseModel):
    product_id: int
    sku: str
    name: str
    counted: int


class CountResult(BaseModel):
    lines: list[CountedLine]


class StocktakeLinePublic(BaseModel):
    product_id: int
    sku: str
    name: str
    expected: int  # on hand when the count started
    moved: int  # movements between the start and the count (sales while counting)
    counted: int | None
    counted_at: datetime | None
    variance: int | None  # the posted variance, or a preview while counting
    unit_cost_milli: int | None
    variance_value_fen: int | None


class StocktakeTotals(BaseModel):
    lines: int
    counted: int
    with_variance: int
    variance_units: int
    variance_value_fen: int


class StocktakeSummary(BaseModel):
    id: int
    number: str
    store_id: int
    store_name: str
    category_id: int | None
    category_name: str | None
    status: StocktakeStatus
    started_at: datetime
    posted_at: datetime | None
    note: str | None


class StocktakePublic(StocktakeSummary):
    client_uuid: str
    started_by: int
    start_mark: int
    posted_by: int | None
    totals: StocktakeTotals
    line_filter: LineFilter
    line_total: int  # lines matching the filter
    limit: int
    offset: int
    lines: list[StocktakeLinePublic]


class StocktakePage(BaseModel):
    items: list[StocktakeSummary]
    total: int
    limit: int
    offset: int
