"""Reading product tables (CSV or .xlsx) into checked rows. Pure: no database.

Header names may be English or Chinese (sku/编码, name/名称, ...). Cells of an Excel sheet
arrive typed (numbers, booleans); everything is turned into text first and parsed exactly,
so prices never pass through a float.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from shouyin.catalog.rules import (
    check_price,
    clean_barcodes,
    clean_category_name,
    clean_name,
    clean_sku,
    clean_unit,
)
from shouyin.errors import DomainError, ValidationFailed
from shouyin.shared.money import Money
from shouyin.shared.tabular import decode_text

COLUMNS = (
    "sku", "name", "category", "unit", "price_yuan", "barcode", "weighed", "member_discount",
    "active",
)  # fmt: skip
REQUIRED = ("sku", "name", "price_yuan")
ALIASES: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "编码", "商品编码", "货号"),
    "name": ("name", "名称", "商品名称", "品名"),
    "category": ("category", "分类", "类别", "商品分类"),
    "unit": ("unit", "单位"),
    "price_yuan": ("price_yuan", "price", "售价", "价格", "零售价"),
    "barcode": ("barcode", "barcodes", "条码", "条形码"),
    "weighed": ("weighed", "称重"),
    "member_discount": ("member_discount", "会员折扣"),
    "active": ("active", "启用", "状态"),
}
_HEADER_NAMES = {alias: column for column, names in ALIASES.items() for alias in names}
_TRUE = frozenset({"1", "y", "yes", "true", "t", "是", "启用", "有效"})
_FALSE = frozenset({"0", "n", "no", "false", "f", "否", "停用", "禁用", "无效"})
_DISARMED = ("'=", "'+", "'@", "'-")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class ProductRow:
    """One good row. None means "not given": a new product gets the default, an existing
    one keeps what it has."""

    row: int
    sku: str
    name: str
    price: int
    category: str | None = None
    unit: str | None = None
    barcodes: tuple[str, ...] | None = None
    weighed: bool | None = None
    member_discount: bool | None = None
    active: bool | None = None


def text_cell(value: object) -> str:
    """A cell as trimmed text; whole numbers from Excel lose their ".0"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip()
    # Undo the quote our own CSV export puts before formula-like text.
    return text[1:] if text.startswith(_DISARMED) else text


def is_blank(cells: Sequence[object]) -> bool:
    return all(not text_cell(cell) for cell in cells)


def parse_yuan(value: object) -> int:
    """A price in yuan ("12.3", "￥12.30", 12.3 from Excel) as exact fen."""
    # Excel keeps 12.3 as the nearest double; 6 decimals remove the binary noise while
    # keeping a genuine third decimal visible (and rejected).
    text = f"{value:.6f}".rstrip("0").rstrip(".") if isinstance(value, float) else text_cell(value)
    text = text.removeprefix("￥").removeprefix("¥").removesuffix("元").strip()
    try:
        fen = Money.from_yuan(text).fen
    except DomainError:
        fen = -1
    if fen < 0:
        raise ValidationFailed(
            "The price {value} is not a number of yuan with at most two decimals.",
            code="catalog.price_invalid",
            details={"value": text_cell(value)},
        )
    return check_price(fen)


def parse_flag(value: object, column: str) -> bool | None:
    """Yes/no cells: 1/0, yes/no, true/false, 是/否; blank means "not given"."""
    text = text_cell(value).lower()
    if not text:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValidationFailed(
        "The value {value} in column {column} is not yes or no (use 1/0, yes/no or 是/否).",
        code="catalog.flag_invalid",
        details={"value": text, "column": column},
    )


def parse_barcodes(value: object) -> tuple[str, ...] | None:
    """Several barcodes in one cell, separated by | or ; (or spaces)."""
    text = text_cell(value)
    if not text:
        return None
    parts = text.replace(";", " ").replace("|", " ").replace("；", " ").split()
    return tuple(clean_barcodes(parts))


def map_header(header: Sequence[object]) -> dict[str, int]:
    """Column name -> index; the first of duplicate columns wins, unknown ones are ignored."""
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = text_cell(cell).lstrip("\ufeff").strip().lower().replace(" ", "_")
        column = _HEADER_NAMES.get(key)
        if column is not None and column not in columns:
            columns[column] = index
    missing = [column for column in REQUIRED if column not in columns]
    if missing:
        raise ValidationFailed(
            "The file needs the columns {columns} in its first row.",
            code="catalog.import_columns",
            details={"columns": ", ".join(missing)},
        )
    return columns


def _cell(cells: Sequence[object], columns: Mapping[str, int], column: str) -> object:
    index = columns.get(column)
    return cells[index] if index is not None and index < len(cells) else None


def parse_row(number: int, cells: Sequence[object], columns: Mapping[str, int]) -> ProductRow:
    """One row, every field checked; raises the first problem found."""

    def get(column: str) -> object:
        return _cell(cells, columns, column)

    sku = clean_sku(text_cell(get("sku")))
    name = clean_name(text_cell(get("name")))
    if not text_cell(get("price_yuan")):
        raise ValidationFailed("A product needs a price.", code="catalog.price_required")
    price = parse_yuan(get("price_yuan"))
    category = text_cell(get("category"))
    unit = text_cell(get("unit"))
    return ProductRow(
        row=number, sku=sku, name=name, price=price,
        category=clean_category_name(category) if category else None,
        unit=clean_unit(unit) if unit else None,
        barcodes=parse_barcodes(get("barcode")),
        weighed=parse_flag(get("weighed"), "weighed"),
        member_discount=parse_flag(get("member_discount"), "member_discount"),
        active=parse_flag(get("active"), "active"),
    )  # fmt: skip


# --- files --------------------------------------------------------------------------------

Table = tuple[list[object], list[tuple[int, list[object]]]]


def read_table(data: bytes, filename: str = "") -> Table:
    """(header cells, [(row number, cells)]) of a CSV or .xlsx file; rows count from 1."""
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx"):
        numbered = _xlsx_rows(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValidationFailed(
            "Old .xls workbooks cannot be read: save the file as .xlsx or CSV first.",
            code="catalog.import_format",
        )
    else:
        numbered = _csv_rows(data)
    rows = [(number, cells) for number, cells in numbered if not is_blank(cells)]
    if not rows:
        raise ValidationFailed("The file is empty.", code="catalog.import_empty")
    if len(rows) > MAX_ROWS + 1:
        raise ValidationFailed(
            "The file has more than {max} rows: split it into smaller files.",
            code="catalog.import_too_big",
            details={"max": MAX_ROWS},
        )
    (_, header), body = rows[0], rows[1:]
    return header, body


def _decode(data: bytes) -> str:
    text = decode_text(data)
    if text is None:
        raise ValidationFailed(
            "The file is neither UTF-8 nor GB18030 text, nor an .xlsx workbook.",
            code="catalog.import_format",
        )
    return text


def _csv_rows(data: bytes) -> list[tuple[int, list[object]]]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows: list[tuple[int, list[object]]] = []
        for number, cells in enumerate(reader, start=1):
            rows.append((number, [*cells]))
        return rows
    except csv.Error as exc:
        raise ValidationFailed(
            "The CSV file could not be read: {problem}",
            code="catalog.import_format",
            details={"problem": str(exc)},
        ) from exc


def _xlsx_rows(data: bytes) -> list[tuple[int, list[object]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ValidationFailed(
            "The file could not be read as an Excel workbook.", code="catalog.import_format"
        ) from exc
    try:
        sheet = book.worksheets[0]
        return [
            (number, list(values))
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
    finally:
        book.close()
