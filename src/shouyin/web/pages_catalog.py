"""Back-office pages: products (list, search, edit), categories, and the product import."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.catalog import importer, service
from shouyin.catalog.repository import ProductFilter
from shouyin.catalog.schemas import (
    ID_MAX,
    CategoryCreate,
    CategoryUpdate,
    ProductCreate,
    ProductUpdate,
)
from shouyin.catalog.table import parse_yuan
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.shared import i18n
from shouyin.shared.money import Money
from shouyin.web.templating import render, request_language

router = APIRouter(include_in_schema=False)
CatalogReader = Annotated[Principal, Depends(require("catalog.read"))]
CatalogWriter = Annotated[Principal, Depends(require("catalog.write"))]
ItemId = Annotated[int, Path(ge=1, le=ID_MAX)]
PAGE_SIZE = 50
# Which form field an error belongs to, so the message shows next to it.
FIELD_OF = {
    "catalog.sku_required": "sku", "catalog.sku_invalid": "sku", "catalog.sku_exists": "sku",
    "catalog.name_required": "name", "catalog.name_too_long": "name",
    "catalog.unit_required": "unit", "catalog.unit_too_long": "unit",
    "catalog.price_invalid": "price", "catalog.price_required": "price",
    "catalog.barcode_invalid": "barcodes", "catalog.barcode_exists": "barcodes",
    "catalog.barcodes_too_many": "barcodes", "catalog.category_unknown": "category_id",
}  # fmt: skip


def _error(request: Request, exc: DomainError) -> dict[str, Any]:
    message = i18n.translate_error(request_language(request), exc.template, exc.details)
    return {"code": exc.code, "message": message, "field": FIELD_OF.get(exc.code)}


def _is_htmx(request: Request) -> bool:
    # A history restore after a cache miss needs the whole page, not the fragment.
    headers = request.headers
    return "hx-request" in headers and "hx-history-restore-request" not in headers


# --- product list -------------------------------------------------------------------------


@router.get("/office/products")
def products_page(
    request: Request,
    principal: CatalogReader,
    db: ReadDb,
    q: Annotated[str, Query(max_length=100)] = "",
    category_id: Annotated[str, Query(max_length=12)] = "",
    active: Annotated[str, Query(max_length=5)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    category = int(category_id) if category_id.isdecimal() and int(category_id) <= ID_MAX else None
    state = {"1": True, "0": False}.get(active)
    where = ProductFilter(q=q or None, category_id=category, active=state)
    result = service.list_products(db, where=where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    context = {
        "result": result, "q": q, "category_id": category, "active": active, "page": page,
        "pages": max(1, math.ceil(result.total / PAGE_SIZE)),
        "categories": service.list_categories(db), "can_write": principal.can("catalog.write"),
    }  # fmt: skip
    template = "catalog/_product_table.html" if _is_htmx(request) else "catalog/products.html"
    response = render(request, template, context)
    # The same URL answers with a fragment or a page: caches must keep them apart.
    response.headers["Vary"] = "HX-Request"
    return response


# --- product form -------------------------------------------------------------------------


class ProductForm:
    """The form's fields as typed, so a rejected form comes back as the user left it."""

    def __init__(
        self,
        sku: Annotated[str, Form(max_length=200)] = "",
        name: Annotated[str, Form(max_length=500)] = "",
        category_id: Annotated[str, Form(max_length=12)] = "",
        unit: Annotated[str, Form(max_length=100)] = "",
        price: Annotated[str, Form(max_length=40)] = "",
        barcodes: Annotated[str, Form(max_length=2000)] = "",
        weighed: Annotated[str, Form(max_length=5)] = "",
        member_discount: Annotated[str, Form(max_length=5)] = "",
        active: Annotated[str, Form(max_length=5)] = "",
    ) -> None:
        self.sku, self.name, self.unit, self.price = sku, name, unit, price
        self.category_id, self.barcodes = category_id, barcodes
        # Checkboxes: sent when ticked, absent otherwise.
        self.weighed = bool(weighed)
        self.member_discount = bool(member_discount)
        self.active = bool(active)

    def fields(self) -> dict[str, Any]:
        """Values for the service; it applies the field rules and their error codes."""
        if not self.price.strip():
            raise ValidationFailed("A product needs a price.", code="catalog.price_required")
        category = self.category_id.strip()
        return {
            "sku": self.sku, "name": self.name, "unit": self.unit, "price": parse_yuan(self.price),
            "category_id": int(category) if category.isdecimal() and int(category) <= ID_MAX else None,
            "barcodes": self.barcodes.replace(",", " ").replace("，", " ").split(),
            "weighed": self.weighed, "member_discount": self.member_discount, "active": self.active,
        }  # fmt: skip


def _form_of(product: Any) -> dict[str, Any]:
    return {
        "sku": product.sku, "name": product.name, "unit": product.unit,
        "category_id": str(product.category_id or ""), "price": Money(product.price).yuan_str(),
        "barcodes": " ".join(product.barcodes), "weighed": product.weighed,
        "member_discount": product.member_discount, "active": product.active,
    }  # fmt: skip


def _form_page(
    request: Request, db: Session, form: dict[str, Any], *, product: Any = None,
    error: dict[str, Any] | None = None, saved: bool = False, status: int = 200,
) -> Response:  # fmt: skip
    principal: Principal = request.state.principal
    context = {
        "form": form, "product": product, "error": error, "saved": saved,
        "categories": service.list_categories(db), "can_write": principal.can("catalog.write"),
    }  # fmt: skip
    return render(request, "catalog/product_form.html", context, status_code=status)


@router.get("/office/products/new")
def new_product_page(request: Request, principal: CatalogWriter, db: ReadDb) -> Response:
    blank = {"unit": "个", "member_discount": True, "active": True}
    return _form_page(request, db, blank)


@router.post("/office/products/new")
def create_product_submit(
    request: Request, principal: CatalogWriter, db: WriteDb, form: Annotated[ProductForm, Depends()]
) -> Response:
    try:
        data = ProductCreate.model_construct(**form.fields())
        created = service.create_product(db, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        return _form_page(request, db, vars(form), error=_error(request, exc), status=exc.status)
    return RedirectResponse(f"/office/products/{created.id}?saved=1", status_code=303)


# --- import (before /{product_id}, which would take "import" for an id) -------------------


@router.get("/office/products/import")
def import_page(request: Request, principal: CatalogWriter) -> Response:
    return render(request, "catalog/import.html", {"report": None, "error": None})


@router.post("/office/products/import")
def import_submit(
    request: Request,
    principal: CatalogWriter,
    db: WriteDb,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    report, error, status = None, None, 200
    try:
        if file is None or not file.filename:
            raise ValidationFailed("Choose a file to import.", code="catalog.import_no_file")
        report = importer.import_products(
            db, data=importer.read_limited(file.file), filename=file.filename, actor=principal
        )
    except DomainError as exc:
        db.rollback()
        error, status = _error(request, exc), exc.status
    lang = request_language(request)
    reasons = [e.translated(lang) for e in report.errors] if report else []
    context = {"report": report, "reasons": reasons, "error": error}
    template = "catalog/_import_report.html" if _is_htmx(request) else "catalog/import.html"
    return render(request, template, context, status_code=status)


@router.get("/office/products/{product_id}")
def edit_product_page(
    request: Request,
    principal: CatalogReader,
    db: ReadDb,
    product_id: ItemId,
    saved: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    product = service.get_product(db, product_id=product_id)
    return _form_page(request, db, _form_of(product), product=product, saved=bool(saved))


@router.post("/office/products/{product_id}")
def update_product_submit(
    request: Request,
    principal: CatalogWriter,
    db: WriteDb,
    product_id: ItemId,
    form: Annotated[ProductForm, Depends()],
) -> Response:
    product = service.get_product(db, product_id=product_id)
    try:
        data = ProductUpdate.model_construct(**form.fields())
        service.update_product(db, product_id=product_id, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        return _form_page(
            request, db, vars(form), product=product, error=_error(request, exc), status=exc.status
        )
    return RedirectResponse(f"/office/products/{product_id}?saved=1", status_code=303)


# --- categories ---------------------------------------------------------------------------


def _categories_page(
    request: Request, db: Session, *, error: dict[str, Any] | None = None, status: int = 200
) -> Response:
    principal: Principal = request.state.principal
    context = {
        "categories": service.list_categories(db), "error": error,
        "can_write": principal.can("catalog.write"),
    }  # fmt: skip
    return render(request, "catalog/categories.html", context, status_code=status)


@router.get("/office/categories")
def categories_page(request: Request, principal: CatalogReader, db: ReadDb) -> Response:
    return _categories_page(request, db)


@router.post("/office/categories")
def create_category_submit(
    request: Request,
    principal: CatalogWriter,
    db: WriteDb,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        data = CategoryCreate.model_construct(name=name, sort=0)
        service.create_category(db, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        return _categories_page(request, db, error=_error(request, exc), status=exc.status)
    return RedirectResponse("/office/categories", status_code=303)


@router.post("/office/categories/{category_id}")
def rename_category_submit(
    request: Request,
    principal: CatalogWriter,
    db: WriteDb,
    category_id: ItemId,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        data = CategoryUpdate.model_construct(name=name, sort=None)
        service.update_category(db, category_id=category_id, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        return _categories_page(request, db, error=_error(request, exc), status=exc.status)
    return RedirectResponse("/office/categories", status_code=303)


@router.post("/office/categories/{category_id}/delete")
def delete_category_submit(
    request: Request, principal: CatalogWriter, db: WriteDb, category_id: ItemId
) -> Response:
    try:
        service.delete_category(db, category_id=category_id, actor=principal)
    except DomainError as exc:
        db.rollback()
        return _categories_page(request, db, error=_error(request, exc), status=exc.status)
    return RedirectResponse("/office/categories", status_code=303)
