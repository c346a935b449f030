"""REST: categories, products, the till's barcode lookup, import and export."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, Query, Request, UploadFile
from fastapi.responses import Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.catalog import importer, scanning, service
from shouyin.catalog.repository import ProductFilter
from shouyin.catalog.scale import layout_of
from shouyin.catalog.scanning import ScaleScanPublic
from shouyin.catalog.schemas import (
    ID_MAX,
    CategoryCreate,
    CategoryPublic,
    CategoryUpdate,
    ImportReportPublic,
    ProductCreate,
    ProductPage,
    ProductPublic,
    ProductUpdate,
    RowErrorPublic,
)
from shouyin.db import ReadDb, WriteDb
from shouyin.shared.clock import to_local, utcnow
from shouyin.web.templating import request_language

router = APIRouter(prefix="/api/v1", tags=["catalog"])
CatalogReader = Annotated[Principal, Depends(require("catalog.read"))]
CatalogWriter = Annotated[Principal, Depends(require("catalog.write"))]
ProductId = Annotated[int, Path(ge=1, le=ID_MAX)]
CategoryId = Annotated[int, Path(ge=1, le=ID_MAX)]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
READ_ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed"},
    404: {"description": "Unknown product or category (code catalog.product_unknown, ...)"},
}
WRITE_ERRORS: dict[int | str, dict[str, str]] = {
    **READ_ERRORS,
    409: {"description": "SKU, barcode or category name taken, or category in use"},
    422: {"description": "Invalid field (catalog.barcode_invalid, catalog.price_invalid, ...)"},
}


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


# --- categories ---------------------------------------------------------------------------


@router.get("/categories", response_model=list[CategoryPublic], responses=READ_ERRORS)
def list_categories(principal: CatalogReader, db: ReadDb) -> object:
    return service.list_categories(db)


@router.post("/categories", response_model=CategoryPublic, status_code=201, responses=WRITE_ERRORS)
def create_category(data: CategoryCreate, principal: CatalogWriter, db: WriteDb) -> object:
    return service.create_category(db, data=data, actor=principal)


@router.patch("/categories/{category_id}", response_model=CategoryPublic, responses=WRITE_ERRORS)
def update_category(
    category_id: CategoryId, data: CategoryUpdate, principal: CatalogWriter, db: WriteDb
) -> object:
    return service.update_category(db, category_id=category_id, data=data, actor=principal)


@router.delete(
    "/categories/{category_id}",
    status_code=204,
    response_class=Response,
    responses={**WRITE_ERRORS, 409: {"description": "The category still holds products"}},
)
def delete_category(category_id: CategoryId, principal: CatalogWriter, db: WriteDb) -> Response:
    service.delete_category(db, category_id=category_id, actor=principal)
    return Response(status_code=204)


# --- products -----------------------------------------------------------------------------


@router.get("/products", response_model=ProductPage, responses=READ_ERRORS)
def list_products(
    principal: CatalogReader,
    db: ReadDb,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Barcode (exact), SKU (prefix), name (contains) or pinyin initials "
            "(prefix: nfsq finds 农夫山泉)",
        ),
    ] = None,
    category_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> object:
    where = ProductFilter(q=q, category_id=category_id, active=active)
    return service.list_products(db, where=where, limit=limit, offset=offset)


@router.get(
    "/products/lookup",
    response_model=ProductPublic | ScaleScanPublic,
    responses={
        **READ_ERRORS,
        404: {"description": "No active product has it: catalog.code_unknown, scale.plu_unknown"},
        422: {
            "description": "A scale label that cannot be sold: scale.check_digit_invalid, "
            "scale.product_not_weighed, ..."
        },
    },
)
def lookup(
    principal: CatalogReader,
    db: ReadDb,
    request: Request,
    code: Annotated[
        str,
        Query(
            min_length=1,
            max_length=64,
            description="Barcode or SKU: the product; or a scale label (EAN-13, 20-29 by "
            "default): the product and the grams to sell, with from_scale true",
        ),
    ],
) -> object:
    settings = request.app.state.settings
    layout = layout_of(settings.scale_layout, settings.scale_value, settings.scale_prefixes)
    return scanning.scan(db, code=code, layout=layout)


@router.get(
    "/products/export",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}, XLSX_TYPE: {}}, "description": "Every product"},
        **READ_ERRORS,
    },
)
def export_products(
    principal: CatalogReader,
    db: ReadDb,
    fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.CSV,
) -> Response:
    content = importer.export_products(db, fmt=fmt.value)
    today = to_local(utcnow(), "Asia/Shanghai")
    filename = f"products-{today:%Y%m%d}.{fmt.value}"
    media_type = XLSX_TYPE if fmt is ExportFormat.XLSX else "text/csv; charset=utf-8"
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def report_public(report: importer.ImportReport, lang: str) -> ImportReportPublic:
    errors = [
        RowErrorPublic(row=e.row, sku=e.sku, code=e.code, reason=e.translated(lang))
        for e in report.errors
    ]
    return ImportReportPublic(
        created=report.created, updated=report.updated, unchanged=report.unchanged, errors=errors
    )


@router.post(
    "/products/import",
    response_model=ImportReportPublic,
    responses={
        403: {"description": "Not allowed"},
        422: {"description": "The file cannot be read (catalog.import_format, ...)"},
    },
)
def import_products(
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or .xlsx")],
    principal: CatalogWriter,
    db: WriteDb,
    request: Request,
) -> object:
    """Bad rows are reported with their reason and skipped; good rows are imported."""
    report = importer.import_products(
        db, data=importer.read_limited(file.file), filename=file.filename or "", actor=principal
    )
    return report_public(report, request_language(request))


@router.get("/products/{product_id}", response_model=ProductPublic, responses=READ_ERRORS)
def get_product(product_id: ProductId, principal: CatalogReader, db: ReadDb) -> object:
    return service.get_product(db, product_id=product_id)


@router.post("/products", response_model=ProductPublic, status_code=201, responses=WRITE_ERRORS)
def create_product(data: ProductCreate, principal: CatalogWriter, db: WriteDb) -> object:
    return service.create_product(db, data=data, actor=principal)


@router.patch("/products/{product_id}", response_model=ProductPublic, responses=WRITE_ERRORS)
def update_product(
    product_id: ProductId, data: ProductUpdate, principal: CatalogWriter, db: WriteDb
) -> object:
    return service.update_product(db, product_id=product_id, data=data, actor=principal)
