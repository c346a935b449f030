"""Printer set-up and print requests as the REST API reads and writes them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

Id = Annotated[int, Field(ge=1, le=2**31 - 1, strict=True)]


class PrinterSave(BaseModel):
    """A register's printer, or the store's default one when ``register_id`` is empty."""

    model_config = ConfigDict(extra="forbid")
    store_id: Id
    register_id: Id | None = None
    kind: Literal["network", "usb", "file"]
    # network: host or host:port (9100 if left out); usb: vendor:product in hex; file: a path
    address: Annotated[str, Field(min_length=1, max_length=200)]
    paper_mm: Literal[58, 80] = 80
    drawer: StrictBool = True
    active: StrictBool = True


class PrinterPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    store_id: int
    register_id: int | None
    kind: str
    address: str
    paper_mm: int
    drawer: bool
    active: bool


class PrintReceipt(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_id: Id
    reprint: StrictBool = False


class PrintReturn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    return_id: Id
    reprint: StrictBool = False


class PrintResult(BaseModel):
    printed: bool
    printer_id: int
    drawer_opened: bool = False
