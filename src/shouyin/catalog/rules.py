"""Field rules for products and categories. Pure: no database, no web.

Shared by the API, the pages and the importer, so a product is held to the same rules
however it arrives.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from shouyin.catalog.schemas import BARCODES_MAX, PRICE_MAX
from shouyin.errors import ValidationFailed

_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-/]{0,31}", re.ASCII)
_BARCODE = re.compile(r"[0-9]{6,20}", re.ASCII)


def clean_sku(sku: str) -> str:
    sku = sku.strip()
    if not sku:
        raise ValidationFailed("A product needs a SKU.", code="catalog.sku_required")
    if not _SKU.fullmatch(sku):
        raise ValidationFailed(
            "The SKU {sku} is not valid: use up to 32 letters, digits, dots, dashes, underscores or slashes.",
            code="catalog.sku_invalid",
            details={"sku": sku},
        )
    return sku


def _tidy(text: str) -> str:
    """Runs of any whitespace become one space; control characters go."""
    return "".join(ch for ch in " ".join(text.split()) if ch.isprintable())


def clean_name(name: str) -> str:
    name = _tidy(name)
    if not name:
        raise ValidationFailed("A product needs a name.", code="catalog.name_required")
    if len(name) > 120:
        raise ValidationFailed(
            "A product name can be at most {max} characters long.",
            code="catalog.name_too_long",
            details={"max": 120},
        )
    return name


def clean_unit(unit: str) -> str:
    unit = _tidy(unit)
    if not unit:
        raise ValidationFailed(
            "A product needs a unit (个, 瓶, kg, ...).", code="catalog.unit_required"
        )
    if len(unit) > 16:
        raise ValidationFailed(
            "A unit can be at most {max} characters long.",
            code="catalog.unit_too_long",
            details={"max": 16},
        )
    return unit


def check_price(price: int) -> int:
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= PRICE_MAX:
        raise ValidationFailed(
            "The price must be between 0 and 999999.99 yuan.",
            code="catalog.price_invalid",
            details={"price": str(price)},
        )
    return price


def ean_check_digit_ok(code: str) -> bool:
    """GS1 check digit of an EAN-13 or EAN-8 code: weights 3,1,3,... from the right."""
    digits = [int(c) for c in code]
    body = digits[:-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == digits[-1]


def clean_barcode(code: str) -> str:
    code = code.strip()
    if not _BARCODE.fullmatch(code):
        raise ValidationFailed(
            "The barcode {barcode} is not valid: a barcode is 6 to 20 digits.",
            code="catalog.barcode_invalid",
            details={"barcode": code},
        )
    if len(code) in (8, 13) and not ean_check_digit_ok(code):
        raise ValidationFailed(
            "The barcode {barcode} has a wrong check digit.",
            code="catalog.barcode_invalid",
            details={"barcode": code},
        )
    return code


def clean_barcodes(codes: Collection[str]) -> list[str]:
    """Valid, distinct barcodes in the order given (blank entries are ignored)."""
    cleaned = list(dict.fromkeys(clean_barcode(c) for c in codes if c.strip()))
    if len(cleaned) > BARCODES_MAX:
        raise ValidationFailed(
            "A product can have at most {max} barcodes.",
            code="catalog.barcodes_too_many",
            details={"max": BARCODES_MAX},
        )
    return cleaned


def clean_category_name(name: str) -> str:
    name = _tidy(name)
    if not name or len(name) > 60:
        raise ValidationFailed(
            "A category name must be 1 to 60 characters long.",
            code="catalog.category_name_invalid",
            details={"name": name},
        )
    return name
