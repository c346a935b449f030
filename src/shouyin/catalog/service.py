"""Catalog use cases: categories, products, barcodes, search, and what checkout needs."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog import repository as repo
from shouyin.catalog.models import Barcode, Category, Product
from shouyin.catalog.pinyin import pinyin_of
from shouyin.catalog.repository import ProductFilter
from shouyin.catalog.rules import (
    check_price,
    clean_barcodes,
    clean_category_name,
    clean_name,
    clean_sku,
    clean_unit,
)
from shouyin.catalog.schemas import (
    CategoryCreate,
    CategoryPublic,
    CategoryUpdate,
    ProductCreate,
    ProductPage,
    ProductPublic,
    ProductUpdate,
)
from shouyin.errors import Conflict, NotFound


@dataclass(frozen=True)
class SaleProduct:
    id: int
    name: str
    price: int
    weighed: bool
    member_discount: bool
    active: bool
    unit: str
    category_id: int | None


# Built once: checkout calls this for every order, and building a statement costs more
# than running it.
_SALE_PRODUCTS = select(
    Product.id, Product.name, Product.price, Product.weighed, Product.member_discount,
    Product.active, Product.unit, Product.category_id,
).where(Product.id.in_(bindparam("ids", expanding=True)))  # fmt: skip


def products_for_sale(session: Session, *, product_ids: Collection[int]) -> dict[int, SaleProduct]:
    """Everything pricing needs about the cart's products, in one query."""
    if not product_ids:
        return {}
    rows = session.connection().execute(_SALE_PRODUCTS, {"ids": list(product_ids)})
    return {row[0]: SaleProduct(*row) for row in rows}


# --- shared helpers ----------------------------------------------------------------------


@contextmanager
def unique_guard() -> Iterator[None]:
    """A concurrent writer that won the race on a unique key gets a clear 409, not a 500."""
    try:
        yield
    except IntegrityError as exc:
        raise Conflict(
            "Someone else just saved the same SKU, barcode or name. Reload and try again.",
            code="catalog.conflict",
        ) from exc


def check_barcodes_free(
    session: Session, *, codes: Collection[str], product_id: int | None
) -> None:
    for code, owner in repo.barcode_owners(session, codes).items():
        if owner != product_id:
            raise Conflict(
                "The barcode {barcode} is already used by another product.",
                code="catalog.barcode_exists",
                details={"barcode": code, "product_id": owner},
            )


def record_price_change(
    session: Session, *, actor: Principal | None, product_id: int, sku: str, before: int, after: int
) -> None:
    audit.record(
        session, actor=actor, action="product.price_change", entity="product",
        entity_id=product_id, before={"sku": sku, "price": before},
        after={"sku": sku, "price": after},
    )  # fmt: skip


# --- categories ---------------------------------------------------------------------------


def category_subtrees(session: Session) -> dict[int, frozenset[int]]:
    """Each category with every category under it (itself included), in one query.

    Offers scoped to "饮料" must also cover products filed under "碳酸饮料" below it.
    """
    parents = dict(session.execute(select(Category.id, Category.parent_id)).all())
    below: dict[int, set[int]] = {cid: {cid} for cid in parents}
    for cid in parents:
        seen, parent = {cid}, parents[cid]
        while parent is not None and parent not in seen:  # a cycle would be a data error
            below.setdefault(parent, {parent}).add(cid)
            seen.add(parent)
            parent = parents.get(parent)
    return {cid: frozenset(ids) for cid, ids in below.items()}


def list_categories(session: Session) -> list[CategoryPublic]:
    return [
        CategoryPublic(id=c.id, name=c.name, sort=c.sort, product_count=n)
        for c, n in repo.categories_with_counts(session)
    ]


def get_category(session: Session, *, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound(
            "Category {category_id} is unknown.",
            code="catalog.category_unknown",
            details={"category_id": category_id},
        )
    return category


def _check_category_name_free(session: Session, name: str, category_id: int | None) -> None:
    owner = session.scalar(select(Category.id).where(Category.name == name))
    if owner is not None and owner != category_id:
        raise Conflict(
            "A category called {name} already exists.",
            code="catalog.category_exists",
            details={"name": name},
        )


def _category_public(session: Session, category: Category) -> CategoryPublic:
    count = repo.products_in_category(session, category.id)
    return CategoryPublic(
        id=category.id, name=category.name, sort=category.sort, product_count=count
    )


def create_category(
    session: Session, *, data: CategoryCreate, actor: Principal | None
) -> CategoryPublic:
    name = clean_category_name(data.name)
    _check_category_name_free(session, name, None)
    category = Category(name=name, sort=data.sort)
    session.add(category)
    with unique_guard():
        session.flush()
    return CategoryPublic(id=category.id, name=category.name, sort=category.sort, product_count=0)


def update_category(
    session: Session, *, category_id: int, data: CategoryUpdate, actor: Principal | None
) -> CategoryPublic:
    category = get_category(session, category_id=category_id)
    if data.name is not None:
        name = clean_category_name(data.name)
        _check_category_name_free(session, name, category.id)
        category.name = name
    if data.sort is not None:
        category.sort = data.sort
    with unique_guard():
        session.flush()
    return _category_public(session, category)


def delete_category(session: Session, *, category_id: int, actor: Principal | None) -> None:
    category = get_category(session, category_id=category_id)
    used = repo.products_in_category(session, category.id) + repo.subcategories(
        session, category.id
    )
    if used:
        raise Conflict(
            "The category {name} still holds {count} products or categories: move them first.",
            code="catalog.category_in_use",
            details={"name": category.name, "count": used},
        )
    session.delete(category)
    session.flush()


def ensure_categories(session: Session, *, names: Collection[str]) -> dict[str, int]:
    """Ids of the named categories, creating the missing ones (used by the importer)."""
    found = repo.categories_by_name(session, names)
    missing = [name for name in dict.fromkeys(names) if name not in found]
    if missing:
        session.execute(insert(Category), [{"name": name, "sort": 0} for name in missing])
        found.update(repo.categories_by_name(session, missing))
    return found


# --- products -----------------------------------------------------------------------------


def _product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(
            "Product {product_id} is unknown.",
            code="catalog.product_unknown",
            details={"product_id": product_id},
        )
    return product


def _public(session: Session, product: Product) -> ProductPublic:
    name = None
    if product.category_id is not None:
        name = repo.category_names(session, [product.category_id]).get(product.category_id)
    return repo.public_of(
        product, name, repo.barcodes_of(session, [product.id]).get(product.id, [])
    )


def get_product(session: Session, *, product_id: int) -> ProductPublic:
    return _public(session, _product(session, product_id))


def list_products(
    session: Session, *, where: ProductFilter, limit: int = 50, offset: int = 0
) -> ProductPage:
    if where.q is not None:
        # Control characters match nothing, and PostgreSQL refuses NUL in a query outright.
        q = "".join(ch for ch in where.q if ch.isprintable()).strip()
        where = ProductFilter(q=q or None, category_id=where.category_id, active=where.active)
    rows = repo.search_products(session, where, limit=limit, offset=offset)
    codes = repo.barcodes_of(session, [product.id for product, _ in rows])
    items = [repo.public_of(p, category, codes.get(p.id, [])) for p, category in rows]
    total = repo.count_products(session, where)
    return ProductPage(items=items, total=total, limit=limit, offset=offset)


def lookup(session: Session, *, code: str) -> ProductPublic:
    """The till's scan: the active product with this barcode or SKU."""
    code = code.strip()
    # Codes are printable; PostgreSQL would refuse a NUL rather than find nothing.
    found = repo.lookup(session, code) if code.isprintable() else None
    if found is None:
        raise NotFound(
            "No product has the code {code}.", code="catalog.code_unknown", details={"code": code}
        )
    return found


def _check_sku_free(session: Session, sku: str, product_id: int | None) -> None:
    owner = repo.sku_owner(session, sku)
    if owner is not None and owner != product_id:
        raise Conflict(
            "The SKU {sku} is already used by another product.",
            code="catalog.sku_exists",
            details={"sku": sku, "product_id": owner},
        )


def _replace_barcodes(session: Session, product_id: int, codes: list[str]) -> None:
    session.execute(
        delete(Barcode).where(Barcode.product_id == product_id, Barcode.code.not_in(codes))
    )
    held = set(repo.barcodes_of(session, [product_id]).get(product_id, []))
    new = [{"code": code, "product_id": product_id} for code in codes if code not in held]
    if new:
        session.execute(insert(Barcode), new)


def create_product(
    session: Session, *, data: ProductCreate, actor: Principal | None
) -> ProductPublic:
    sku, name = clean_sku(data.sku), clean_name(data.name)
    unit, price = clean_unit(data.unit), check_price(data.price)
    codes = clean_barcodes(data.barcodes)
    if data.category_id is not None:
        get_category(session, category_id=data.category_id)
    _check_sku_free(session, sku, None)
    check_barcodes_free(session, codes=codes, product_id=None)
    full, initials = pinyin_of(name)
    product = Product(
        sku=sku, name=name, pinyin=full, initials=initials, category_id=data.category_id,
        unit=unit, weighed=data.weighed, price=price, member_discount=data.member_discount,
        active=data.active,
    )  # fmt: skip
    session.add(product)
    with unique_guard():
        session.flush()
        _replace_barcodes(session, product.id, codes)
    return _public(session, product)


def _changes(session: Session, product: Product, data: ProductUpdate) -> dict[str, Any]:
    """The validated new values of the fields the caller sent."""
    sent = data.model_dump(exclude_unset=True)
    # null means "leave as is", except for the category, which may be cleared.
    changes = {k: v for k, v in sent.items() if v is not None or k == "category_id"}
    rules: dict[str, Callable[[Any], Any]] = {
        "sku": clean_sku,
        "name": clean_name,
        "unit": clean_unit,
        "price": check_price,
    }
    for field, rule in rules.items():
        if field in changes:
            changes[field] = rule(changes[field])
    if "sku" in changes:
        _check_sku_free(session, changes["sku"], product.id)
    if changes.get("category_id") is not None:
        get_category(session, category_id=changes["category_id"])
    if "barcodes" in changes:
        changes["barcodes"] = clean_barcodes(changes["barcodes"])
        check_barcodes_free(session, codes=changes["barcodes"], product_id=product.id)
    return changes


def update_product(
    session: Session, *, product_id: int, data: ProductUpdate, actor: Principal | None
) -> ProductPublic:
    product = _product(session, product_id)
    changes = _changes(session, product, data)
    codes = changes.pop("barcodes", None)
    old_price = product.price
    for field, value in changes.items():
        setattr(product, field, value)
    if "name" in changes:
        product.pinyin, product.initials = pinyin_of(product.name)
    with unique_guard():
        session.flush()
        if codes is not None:
            _replace_barcodes(session, product.id, codes)
    if product.price != old_price:
        record_price_change(
            session, actor=actor, product_id=product.id, sku=product.sku, before=old_price,
            after=product.price,
        )  # fmt: skip
    return _public(session, product)


def deactivate_product(
    session: Session, *, product_id: int, actor: Principal | None
) -> ProductPublic:
    """Take a product off sale; it stays in the books for past orders."""
    return update_product(
        session, product_id=product_id, data=ProductUpdate(active=False), actor=actor
    )
