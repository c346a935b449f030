"""The till's scan: a product's own barcode or SKU, else a scale label (see scale.py).

Weight labels sell the printed grams. Price labels sell the grams that come to the printed
price at the product's price per kg; checkout then prices that line as it prices every
weighed line (price per kg x grams, rounded once), so nothing the till sends is trusted.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from shouyin.catalog import repository as repo
from shouyin.catalog.scale import ScaleLayout, ScaleReading, quantity_grams
from shouyin.catalog.schemas import ProductPublic
from shouyin.catalog.service import lookup
from shouyin.errors import NotFound, ValidationFailed


class ScaleScanPublic(BaseModel):
    """A scale label: add a line of ``quantity_grams`` of ``product``."""

    product: ProductPublic
    quantity_grams: int = Field(description="Printed, or worked out from the printed price")
    from_scale: Literal[True] = True
    plu: str = Field(description="As printed on the label")
    value_kind: Literal["weight", "price"]
    printed_price: int | None = Field(
        description="Fen, for price labels; checkout charges price per kg x grams, which "
        "equals it when the scale and the catalog agree on the price per kg"
    )


def scan(
    session: Session, *, code: str, layout: ScaleLayout | None
) -> ProductPublic | ScaleScanPublic:
    """A barcode registered on a product wins, so in-store codes in 20-29 that a shop gave
    its own goods keep working whatever the scale layout."""
    code = code.strip()
    if layout is None or not layout.matches(code):
        return lookup(session, code=code)
    found = repo.lookup(session, code)
    if found is not None:
        return found
    reading = layout.read(code)
    product = _scale_product(session, reading)
    if not product.weighed:
        raise ValidationFailed(
            "{name} is not sold by weight, so it cannot come from a scale label.",
            code="scale.product_not_weighed",
            details={"name": product.name, "code": code, "product_id": product.id},
        )
    grams = quantity_grams(reading, unit_price=product.price, name=product.name)
    return ScaleScanPublic(
        product=product,
        quantity_grams=grams,
        plu=reading.plu,
        value_kind=reading.kind,
        printed_price=reading.value if reading.kind == "price" else None,
    )


def _scale_product(session: Session, reading: ScaleReading) -> ProductPublic:
    """The PLU is a SKU (or barcode): as printed ("00123"), else without its zeros ("123")."""
    for candidate in reading.plu_candidates():
        found = repo.lookup(session, candidate)
        if found is not None:
            return found
    raise NotFound(
        "No product has the scale number (PLU) {plu}.",
        code="scale.plu_unknown",
        details={"plu": reading.plu, "code": reading.code},
    )
