"""Catalog request and response bodies.

Shapes and sizes are checked here; business rules (check digits, uniqueness) are checked by
the service, which gives them stable error codes whatever the caller (API, pages, import).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Prices are fen in a 32-bit column; nothing in a shop costs a million yuan.
PRICE_MAX = 99_999_999
ID_MAX = 2**31 - 1
BARCODES_MAX = 20


class CategoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str = Field(min_length=1, max_length=60)
    sort: int = Field(default=0, ge=0, le=1_000_000, strict=True)


class CategoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: str | None = Field(default=None, min_length=1, max_length=60)
    sort: int | None = Field(default=None, ge=0, le=1_000_000, strict=True)


class CategoryPublic(BaseModel):
    id: int
    name: str
    sort: int
    product_count: int


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    sku: str = Field(min_length=1, max_length=32)
    name: str = Field(min_length=1, max_length=120)
    category_id: int | None = Field(default=None, ge=1, le=ID_MAX, strict=True)
    unit: str = Field(default="个", min_length=1, max_length=16)
    weighed: bool = Field(default=False, strict=True)
    price: int = Field(ge=0, le=PRICE_MAX, strict=True, description="Fen; per kg when weighed")
    member_discount: bool = Field(default=True, strict=True)
    active: bool = Field(default=True, strict=True)
    barcodes: list[str] = Field(
        default_factory=list,
        max_length=BARCODES_MAX,
        description="Digits, 6 to 20 long; EAN-13 and EAN-8 check digits are verified",
    )


class ProductUpdate(BaseModel):
    """Only the fields sent are changed; `barcodes`, when sent, replaces the whole list, and
    `category_id: null` sent explicitly takes the product out of its category."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    sku: str | None = Field(default=None, min_length=1, max_length=32)
    name: str | None = Field(default=None, min_length=1, max_length=120)
    category_id: int | None = Field(default=None, ge=1, le=ID_MAX, strict=True)
    unit: str | None = Field(default=None, min_length=1, max_length=16)
    weighed: bool | None = Field(default=None, strict=True)
    price: int | None = Field(default=None, ge=0, le=PRICE_MAX, strict=True)
    member_discount: bool | None = Field(default=None, strict=True)
    active: bool | None = Field(default=None, strict=True)
    barcodes: list[str] | None = Field(default=None, max_length=BARCODES_MAX)


class ProductPublic(BaseModel):
    id: int
    sku: str
    name: str
    pinyin: str
    initials: str
    category_id: int | None
    category_name: str | None
    unit: str
    weighed: bool
    price: int = Field(description="Fen; per kg when weighed")
    member_discount: bool
    active: bool
    barcodes: list[str]


class ProductPage(BaseModel):
    items: list[ProductPublic]
    total: int
    limit: int
    offset: int


class RowErrorPublic(BaseModel):
    row: int = Field(description="Row number in the file; the header is row 1")
    sku: str | None
    code: str
    reason: str


class ImportReportPublic(BaseModel):
    created: int
    updated: int
    unchanged: int = Field(description="Known SKUs whose row changed nothing")
    errors: list[RowErrorPublic]
