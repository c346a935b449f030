"""Catalog queries. Every one runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from shouyin.catalog.models import Barcode, Category, Product
from shouyin.catalog.schemas import ProductPublic

AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])
_PINYIN_QUERY = re.compile(r"[a-z0-9]+")
# Keeps IN lists well under SQLite's bound-parameter limit.
CHUNK = 500


@dataclass(frozen=True)
class ProductFilter:
    q: str | None = None
    category_id: int | None = None
    active: bool | None = None


def _chunks(values: Collection[object], size: int = CHUNK) -> Iterable[list[object]]:
    items = list(values)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def public_of(product: Product, category_name: str | None, codes: list[str]) -> ProductPublic:
    return ProductPublic(
        id=product.id, sku=product.sku, name=product.name, pinyin=product.pinyin,
        initials=product.initials, category_id=product.category_id, category_name=category_name,
        unit=product.unit, weighed=product.weighed, price=product.price,
        member_discount=product.member_discount, active=product.active, barcodes=codes,
    )  # fmt: skip


def barcodes_of(session: Session, product_ids: Collection[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(product_ids):
        rows = session.execute(
            select(Barcode.product_id, Barcode.code)
            .where(Barcode.product_id.in_(chunk))
            .order_by(Barcode.product_id, Barcode.code)
        )
        for product_id, code in rows:
            found[product_id].append(code)
    return found


def barcode_owners(session: Session, codes: Collection[str]) -> dict[str, int]:
    """Which product holds each of these barcodes (codes nobody holds are left out)."""
    owners: dict[str, int] = {}
    for chunk in _chunks(codes):
        rows = session.execute(
            select(Barcode.code, Barcode.product_id).where(Barcode.code.in_(chunk))
        )
        owners.update(dict(rows.all()))
    return owners


def products_by_sku(session: Session, skus: Collection[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    for chunk in _chunks(skus):
        found.update(
            (p.sku, p) for p in session.scalars(select(Product).where(Product.sku.in_(chunk)))
        )
    return found


def sku_owner(session: Session, sku: str) -> int | None:
    return session.scalar(select(Product.id).where(Product.sku == sku))


def _search_clause(q: str) -> ColumnElement[bool]:
    lowered = q.lower()
    clauses: list[ColumnElement[bool]] = [
        Product.id.in_(select(Barcode.product_id).where(Barcode.code == q)),
        func.lower(Product.sku).startswith(lowered, autoescape=True),
        Product.name.icontains(q, autoescape=True),
    ]
    if _PINYIN_QUERY.fullmatch(lowered):
        clauses.append(Product.initials.startswith(lowered, autoescape=True))
        clauses.append(Product.pinyin.startswith(lowered, autoescape=True))
    return or_(*clauses)


def _filtered(query: AnySelect, where: ProductFilter) -> AnySelect:
    if where.q:
        query = query.where(_search_clause(where.q))
    if where.category_id is not None:
        query = query.where(Product.category_id == where.category_id)
    if where.active is not None:
        query = query.where(Product.active.is_(where.active))
    return query


def count_products(session: Session, where: ProductFilter) -> int:
    query = _filtered(select(func.count()).select_from(Product), where)
    return session.scalar(query) or 0


def search_products(
    session: Session, where: ProductFilter, *, limit: int, offset: int
) -> list[tuple[Product, str | None]]:
    query = select(Product, Category.name).outerjoin(Category, Category.id == Product.category_id)
    order: list[ColumnElement[object]] = []
    if where.q:
        # An exact SKU or barcode hit is what a scanner or a typed code means: list it first.
        exact = or_(
            Product.sku == where.q,
            Product.id.in_(select(Barcode.product_id).where(Barcode.code == where.q)),
        )
        order.append(case((exact, 0), else_=1))
    query = _filtered(query, where).order_by(*order, Product.sku, Product.id)
    rows = session.execute(query.limit(limit).offset(offset))
    return [(product, category_name) for product, category_name in rows]


def lookup(session: Session, code: str) -> ProductPublic | None:
    """The active product whose barcode or SKU is `code`, in one round trip."""
    matches = (
        select(Barcode.product_id)
        .where(Barcode.code == code)
        .union_all(select(Product.id).where(Product.sku == code))
    )
    all_codes = aliased(Barcode)
    rows = session.execute(
        select(Product, Category.name, all_codes.code)
        .outerjoin(Category, Category.id == Product.category_id)
        .outerjoin(all_codes, all_codes.product_id == Product.id)
        .where(Product.active.is_(True), Product.id.in_(matches))
        .order_by(Product.id, all_codes.code)
    ).all()
    if not rows:
        return None
    found: dict[int, tuple[Product, str | None, list[str]]] = {}
    for product, category_name, barcode in rows:
        entry = found.setdefault(product.id, (product, category_name, []))
        if barcode is not None:
            entry[2].append(barcode)
    # A barcode match wins over a SKU that happens to look like someone else's barcode.
    best = next((e for e in found.values() if code in e[2]), next(iter(found.values())))
    return public_of(*best)


def category_names(session: Session, category_ids: Collection[int]) -> dict[int, str]:
    rows = session.execute(
        select(Category.id, Category.name).where(Category.id.in_(list(category_ids)))
    )
    return dict(rows.all())


def categories_by_name(session: Session, names: Collection[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(names):
        rows = session.execute(select(Category.name, Category.id).where(Category.name.in_(chunk)))
        found.update(dict(rows.all()))
    return found


def categories_with_counts(session: Session) -> list[tuple[Category, int]]:
    counts = (
        select(Product.category_id, func.count().label("n"))
        .group_by(Product.category_id)
        .subquery()
    )
    rows = session.execute(
        select(Category, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.category_id == Category.id)
        .order_by(Category.sort, Category.name, Category.id)
    )
    return [(category, int(n)) for category, n in rows]


def products_in_category(session: Session, category_id: int) -> int:
    query = select(func.count()).select_from(Product).where(Product.category_id == category_id)
    return session.scalar(query) or 0


def subcategories(session: Session, category_id: int) -> int:
    query = select(func.count()).select_from(Category).where(Category.parent_id == category_id)
    return session.scalar(query) or 0


def all_products(session: Session) -> list[tuple[Product, str | None]]:
    rows = session.execute(
        select(Product, Category.name)
        .outerjoin(Category, Category.id == Product.category_id)
        .order_by(Product.sku)
    )
    return [(product, category_name) for product, category_name in rows]


def all_barcodes(session: Session) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    for product_id, code in session.execute(
        select(Barcode.product_id, Barcode.code).order_by(Barcode.product_id, Barcode.code)
    ):
        found[product_id].append(code)
    return found
