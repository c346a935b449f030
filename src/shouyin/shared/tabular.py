"""Writing tables as CSV or Excel for exports: one place for the spreadsheet pitfalls."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from typing import Literal

FORMULA_START = ("=", "+", "-", "@")


NUMBER = re.compile(r"[-+]?\d+(\.\d+)?%?")


def csv_safe(value: str) -> str:
    """A leading quote stops a spreadsheet from running a cell as a formula; a plain number
    (a negative stock, an NPS of -20) is no formula and stays a number."""
    if value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([csv_safe(cell) for cell in row] for row in rows)
    # With a BOM, Excel opens the UTF-8 file with its Chinese intact.
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(header: Sequence[str], rows: Sequence[Sequence[str]], *, sheet: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    page = book.create_sheet(sheet)
    for values in [list(header), *rows]:
        cells = []
        for value in values:
            cell = WriteOnlyCell(page, value=value)
            # Text, always: codes keep leading zeros and "=..." stays text.
            cell.data_type = "s"
            cells.append(cell)
        page.append(cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, fmt: Literal["csv", "xlsx"], sheet: str
) -> bytes:
    return to_xlsx(header, rows, sheet=sheet) if fmt == "xlsx" else to_csv(header, rows)


def decode_text(data: bytes) -> str | None:
    """A CSV file's text: UTF-8 (with or without BOM), else GB18030, the superset of the GBK
    that Excel on a Chinese Windows writes when told "CSV". None when it is neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
