"""Catalog service (placeholder until the full catalog lands): what checkout needs."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.catalog.models import Product


@dataclass(frozen=True)
class SaleProduct:
    id: int
    name: str
    price: int
    weighed: bool
    member_discount: bool
    active: bool
    unit: str


def products_for_sale(session: Session, *, product_ids: Collection[int]) -> dict[int, SaleProduct]:
    """Everything pricing needs about the cart's products, in one query."""
    if not product_ids:
        return {}
    rows = session.execute(
        select(
            Product.id, Product.name, Product.price, Product.weighed, Product.member_discount,
            Product.active, Product.unit,
        ).where(Product.id.in_(list(product_ids)))
    )  # fmt: skip
    return {row[0]: SaleProduct(*row) for row in rows}
