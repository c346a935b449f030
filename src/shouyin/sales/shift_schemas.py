"""REST shapes of shifts (交接班), cash moves, shift reports and Z reports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shouyin.sales.schemas import MAX_FEN

_ID = Field(ge=1, le=2**31 - 1, strict=True)
# Tenders a cashier counts at closing; stored value is on the member's card, not in a drawer.
CountedTender = Literal["cash", "card", "wechat", "alipay"]


class ShiftOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_uuid: UUID
    store_id: int = _ID
    register_id: int = _ID
    opening_float: int = Field(ge=0, le=MAX_FEN, strict=True)  # fen


class CashMoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_uuid: UUID
    kind: Literal["in", "out", "no_sale"]
    amount: int = Field(default=0, ge=0, le=MAX_FEN, strict=True)  # fen; 0 for no_sale
    reason: str = Field(min_length=1, max_length=200)


class ShiftCloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    counted: dict[CountedTender, Annotated[int, Field(ge=0, le=MAX_FEN, strict=True)]] = Field(
        max_length=4
    )
    note: str | None = Field(default=None, max_length=200)


class PrintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    which: Literal["x", "close"] = "x"


class ZReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    store_id: int = _ID
    register_id: int = _ID
    business_date: date | None = None  # the store's current business day when left out


# --- figures ------------------------------------------------------------------------------


class TenderFigures(BaseModel):
    method: str
    sales: int = 0
    refunds: int = 0
    net: int = 0  # sales - refunds
    expected: int | None = None  # in the drawer (cash) or on the terminal; None: not counted
    counted: int | None = None
    variance: int | None = None  # counted - expected


class Figures(BaseModel):
    """A shift's (or a day's) takings; amounts in fen."""

    opening_float: int = 0
    orders: int = 0
    gross: int = 0  # before discounts
    discounts: int = 0
    net: int = 0  # what the orders came to
    tenders: list[TenderFigures] = Field(default_factory=list)
    returns: int = 0
    returns_amount: int = 0
    cash_in: int = 0
    cash_out: int = 0
    no_sales: int = 0
    voids: int = 0
    voids_amount: int = 0
    expected_cash: int = 0


class ShiftPublic(BaseModel):
    id: int
    client_uuid: str
    store_id: int
    register_id: int
    register_name: str
    cashier_id: int
    cashier_name: str
    business_date: date
    opened_at: datetime
    opening_float: int
    status: str
    closed_at: datetime | None
    closed_by: int | None
    closed_by_name: str | None
    expected: dict[str, int] | None
    counted: dict[str, int] | None
    variance: dict[str, int] | None
    note: str | None


class ShiftPage(BaseModel):
    items: list[ShiftPublic]
    total: int


class CashMovePublic(BaseModel):
    id: int
    client_uuid: str
    shift_id: int
    kind: str
    amount: int
    reason: str
    user_id: int
    created_at: datetime
    drawer_opened: bool = False  # whether a drawer kick reached a printer


class ShiftReport(BaseModel):
    """An X report (live) or the frozen report of a closed shift, with its printable text."""

    shift: ShiftPublic
    kind: Literal["x", "close"]
    figures: Figures
    rows: list[tuple[str, str]]  # label/value rows, as printed
    text: str  # the rows in 32 printer columns


class PrintResult(BaseModel):
    printed: bool


class CashierLine(BaseModel):
    cashier_id: int
    cashier_name: str
    shifts: int
    orders: int
    net: int
    cash_variance: int


class ShiftLine(BaseModel):
    shift_id: int
    cashier_name: str
    opened_at: datetime
    closed_at: datetime | None
    orders: int
    net: int
    expected: dict[str, int]
    counted: dict[str, int]
    variance: dict[str, int]


class ZData(BaseModel):
    """What a Z report froze: the day's figures, per cashier and per shift."""

    store_name: str
    register_name: str
    figures: Figures
    variance: dict[str, int]
    cashiers: list[CashierLine]
    shifts: list[ShiftLine]


class ZReportPublic(BaseModel):
    id: int
    store_id: int
    register_id: int
    business_date: date
    number: int
    created_at: datetime
    user_id: int
    data: ZData
    rows: list[tuple[str, str]]  # label/value rows, as printed
    text: str  # the rows in 32 printer columns


class ZReportPage(BaseModel):
    items: list[ZReportPublic]
    total: int
