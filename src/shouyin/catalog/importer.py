"""Product import from CSV or Excel (.xlsx), and export in the same column layout.

Each row stands alone: a bad row is reported with its reason and skipped, good rows are
imported. Rows are checked completely (fields, duplicates in the file, barcodes held by other
products) before anything of theirs is written, so nothing is ever half-imported.
Rows are handled in chunks so big files need few statements and report progress as they go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Literal

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.catalog import repository as repo
from shouyin.catalog import service
from shouyin.catalog.models import Barcode, Product
from shouyin.catalog.pinyin import pinyin_of
from shouyin.catalog.table import (
    COLUMNS,
    ProductRow,
    is_blank,
    map_header,
    parse_row,
    read_table,
    text_cell,
)
from shouyin.errors import Conflict, DomainError, ValidationFailed
from shouyin.shared import i18n
from shouyin.shared.clock import utcnow
from shouyin.shared.money import Money
from shouyin.shared.tabular import write_table
from shouyin.shared.types import table_of

__all__ = ["ImportReport", "RowError", "export_products", "import_products"]

ProgressCallback = Callable[[int, int], None]
CHUNK_ROWS = 200
MAX_FILE_BYTES = 20 * 1024 * 1024
# A placeholder owner for barcodes claimed by rows that create products in this chunk.
_NEW = -1


@dataclass(frozen=True)
class RowError:
    row: int
    sku: str | None
    reason: str
    code: str
    template: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: int, sku: str | None, error: DomainError) -> RowError:
        return cls(row, sku, error.message, error.code, error.template, dict(error.details))

    def translated(self, lang: str) -> str:
        if not self.template:
            return self.reason
        return i18n.translate_error(lang, self.template, dict(self.details))


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    # Known SKUs whose row matched what the catalog already held.
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Run:
    """What earlier rows of the file claimed, so later rows cannot claim it again."""

    session: Session
    actor: Principal | None
    report: ImportReport
    sku_rows: dict[str, int] = field(default_factory=dict)
    barcode_rows: dict[str, int] = field(default_factory=dict)


def read_limited(stream: BinaryIO) -> bytes:
    """An uploaded file's bytes, refusing files too big to be a product list."""
    data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed(
            "The file is larger than {max_mb} MB: split it into smaller files.",
            code="catalog.import_too_big",
            details={"max_mb": MAX_FILE_BYTES // (1024 * 1024)},
        )
    return data


def import_products(
    session: Session,
    *,
    data: bytes,
    filename: str = "",
    actor: Principal | None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import a whole file; raises ValidationFailed only when the file itself is unusable."""
    header, body = read_table(data, filename)
    columns = map_header(header)
    report = ImportReport(rows=len(body))
    run = _Run(session=session, actor=actor, report=report)
    done = 0
    if on_progress is not None:
        on_progress(0, len(body))
    for start in range(0, len(body), CHUNK_ROWS):
        chunk = body[start : start + CHUNK_ROWS]
        _import_chunk(run, [_parse(run, number, cells, columns) for number, cells in chunk])
        done += len(chunk)
        if on_progress is not None:
            on_progress(done, len(body))
    return report


def _parse(
    run: _Run, number: int, cells: Sequence[object], columns: Mapping[str, int]
) -> ProductRow | None:
    if is_blank(cells):
        return None
    try:
        return parse_row(number, cells, columns)
    except DomainError as error:
        sku_at = columns.get("sku")
        sku = text_cell(cells[sku_at]) if sku_at is not None and sku_at < len(cells) else ""
        run.report.errors.append(RowError.of(number, sku or None, error))
        return None


def _import_chunk(run: _Run, parsed: Iterable[ProductRow | None]) -> None:
    rows = [row for row in parsed if row is not None]
    if not rows:
        return
    existing = repo.products_by_sku(run.session, {row.sku for row in rows})
    owners: dict[str, int] = repo.barcode_owners(
        run.session, {code for row in rows for code in row.barcodes or ()}
    )
    held = repo.barcodes_of(run.session, [p.id for p in existing.values()])
    accepted = [row for row in rows if _accept(run, row, existing, owners, held)]
    _write(run, accepted, existing, held)


def _accept(
    run: _Run,
    row: ProductRow,
    existing: Mapping[str, Product],
    owners: dict[str, int],
    held: Mapping[int, list[str]],
) -> bool:
    try:
        _check_claims(run, row, existing, owners)
    except DomainError as error:
        run.report.errors.append(RowError.of(row.row, row.sku, error))
        return False
    run.sku_rows[row.sku] = row.row
    if row.barcodes is not None:
        product = existing.get(row.sku)
        owner = product.id if product is not None else _NEW
        if product is not None:
            # Codes this row drops become free for the rows after it.
            for code in held.get(product.id, []):
                if code not in row.barcodes:
                    owners.pop(code, None)
        for code in row.barcodes:
            owners[code] = owner
            run.barcode_rows[code] = row.row
    return True


def _check_claims(
    run: _Run, row: ProductRow, existing: Mapping[str, Product], owners: Mapping[str, int]
) -> None:
    if row.sku in run.sku_rows:
        raise ValidationFailed(
            "The SKU {sku} already appears in row {row} of this file.",
            code="catalog.import_duplicate_sku",
            details={"sku": row.sku, "row": run.sku_rows[row.sku]},
        )
    product = existing.get(row.sku)
    for code in row.barcodes or ():
        if code in run.barcode_rows:
            raise ValidationFailed(
                "The barcode {barcode} already appears in row {row} of this file.",
                code="catalog.import_duplicate_barcode",
                details={"barcode": code, "row": run.barcode_rows[code]},
            )
        owner = owners.get(code)
        if owner is not None and (product is None or owner != product.id):
            raise Conflict(
                "The barcode {barcode} is already used by another product.",
                code="catalog.barcode_exists",
                details={"barcode": code},
            )


def _write(
    run: _Run,
    rows: list[ProductRow],
    existing: Mapping[str, Product],
    held: Mapping[int, list[str]],
) -> None:
    if not rows:
        return
    names = {row.category for row in rows if row.category}
    categories = service.ensure_categories(run.session, names=names) if names else {}
    created = [row for row in rows if row.sku not in existing]
    updated = [row for row in rows if row.sku in existing]
    ids = {row.sku: existing[row.sku].id for row in updated}
    ids.update(_insert_products(run.session, created, categories))
    changed = _update_products(run, updated, existing, categories)
    changed |= {
        ids[row.sku] for row in updated
        if row.barcodes is not None and set(row.barcodes) != set(held.get(ids[row.sku], []))
    }  # fmt: skip
    _write_barcodes(run.session, rows, ids, held)
    run.report.created += len(created)
    run.report.updated += len(changed)
    run.report.unchanged += len(updated) - len(changed)


def _insert_products(
    session: Session, rows: list[ProductRow], categories: Mapping[str, int]
) -> dict[str, int]:
    if not rows:
        return {}
    now = utcnow()
    values = []
    for row in rows:
        full, initials = pinyin_of(row.name)
        values.append({
            "sku": row.sku, "name": row.name, "pinyin": full, "initials": initials,
            "category_id": categories.get(row.category) if row.category else None,
            "unit": row.unit or "个", "weighed": bool(row.weighed), "price": row.price,
            "member_discount": True if row.member_discount is None else row.member_discount,
            "active": True if row.active is None else row.active,
            "created_at": now, "updated_at": now,
        })  # fmt: skip
    table = table_of(Product)
    result = session.execute(insert(table).returning(table.c.sku, table.c.id), values)
    return dict(result.all())


def _new_values(
    row: ProductRow, product: Product, categories: Mapping[str, int]
) -> dict[str, object]:
    """The product's columns after this row: blank cells keep what the product has."""
    full, initials = pinyin_of(row.name)
    keep = product.category_id
    return {
        "name": row.name, "pinyin": full, "initials": initials,
        "category_id": categories.get(row.category, keep) if row.category else keep,
        "unit": row.unit or product.unit,
        "weighed": product.weighed if row.weighed is None else row.weighed,
        "price": row.price,
        "member_discount": (
            product.member_discount if row.member_discount is None else row.member_discount
        ),
        "active": product.active if row.active is None else row.active,
    }  # fmt: skip


def _update_products(
    run: _Run,
    rows: list[ProductRow],
    existing: Mapping[str, Product],
    categories: Mapping[str, int],
) -> set[int]:
    """Writes the rows that change something; returns the ids of those products."""
    now, values, changed = utcnow(), [], []
    for row in rows:
        product = existing[row.sku]
        new = _new_values(row, product, categories)
        # Re-importing an unchanged export should cost reads only.
        if all(getattr(product, column) == value for column, value in new.items()):
            continue
        values.append({"id": product.id, **new, "updated_at": now})
        changed.append(product)
        if row.price != product.price:
            service.record_price_change(
                run.session, actor=run.actor, product_id=product.id, sku=product.sku,
                before=product.price, after=row.price,
            )  # fmt: skip
    if not values:
        return set()
    # ORM bulk UPDATE by primary key: one executemany statement for the whole chunk.
    run.session.execute(update(Product), values)
    changed_ids = {product.id for product in changed}
    for product in changed:
        # Loaded copies would otherwise keep showing the values from before the import.
        run.session.expire(product)
    return changed_ids


def _write_barcodes(
    session: Session, rows: list[ProductRow], ids: Mapping[str, int], held: Mapping[int, list[str]]
) -> None:
    dropped: list[str] = []
    added: list[dict[str, object]] = []
    for row in rows:
        if row.barcodes is None:
            continue
        product_id = ids[row.sku]
        mine = held.get(product_id, [])
        dropped += [code for code in mine if code not in row.barcodes]
        added += [{"code": c, "product_id": product_id} for c in row.barcodes if c not in mine]
    # Drops first: a code may move from one product of the file to another.
    for start in range(0, len(dropped), repo.CHUNK):
        session.execute(
            delete(Barcode).where(Barcode.code.in_(dropped[start : start + repo.CHUNK]))
        )
    if added:
        session.execute(insert(Barcode), added)


# --- export -------------------------------------------------------------------------------

# Spreadsheet programs run cells starting with these as formulas; a leading ' disarms them.


def _export_rows(session: Session) -> list[list[str]]:
    codes = repo.all_barcodes(session)
    rows = []
    for product, category_name in repo.all_products(session):
        rows.append([
            product.sku, product.name, category_name or "", product.unit,
            Money(product.price).yuan_str(), "|".join(codes.get(product.id, [])),
            "1" if product.weighed else "0", "1" if product.member_discount else "0",
            "1" if product.active else "0",
        ])  # fmt: skip
    return rows


def export_products(session: Session, *, fmt: Literal["csv", "xlsx"] = "csv") -> bytes:
    """Every product, in the import's column layout, so an export can be edited and re-imported."""
    return write_table(COLUMNS, _export_rows(session), fmt=fmt, sheet="products")
