"""PURE receipt rendering: plain text (screen, e-mail, tests) and ESC/POS bytes.

Columns are counted the way a thermal printer counts them: a CJK (wide or full-width)
character takes two columns, everything else one. 58 mm paper holds 32 columns, 80 mm 48.

ESC/POS: python-escpos builds the command bytes, but its automatic text encoding picks
single-byte code pages for strings without ideographs and never sends ``FS &`` (Chinese
mode) -- see TOOLCHAIN.md. So all text goes out through ``_raw`` as GBK bytes after
``FS &``, which is what Chinese thermal printers expect.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from shouyin.shared.money import format_fen

ENCODING = "gbk"  # 2-byte GB18030 subset: what GBK printers parse; others print as "?"
PAPER_COLUMNS: dict[int, int] = {58: 32, 80: 48}
MIN_WIDTH = 16

_FS_CHINESE_MODE = b"\x1c\x26"  # FS &
_GS = b"\x1d"


@dataclass(frozen=True)
class ReceiptLabels:
    """The fixed words of a receipt; zh_CN by default, a later layer may translate."""

    order_number: str = "单号"
    time: str = "时间"
    business_date: str = "营业日"
    cashier: str = "收银员"
    register: str = "收银机"
    item: str = "品名 数量×单价"
    amount: str = "金额"
    discount: str = "优惠"
    surcharge: str = "加价"
    total: str = "合计"
    change: str = "找零"


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    quantity: int  # units, or grams when weighed
    weighed: bool
    unit_price: int  # fen per unit, or per kg when weighed
    amount: int  # net: what the customer pays for this line
    discount: int  # every reduction on the line, already inside ``amount``


@dataclass(frozen=True)
class ReceiptData:
    store_name: str
    store_address: str | None
    order_number: str
    business_date: date
    local_time: datetime
    cashier: str
    register: str
    lines: tuple[ReceiptLine, ...]
    steps: tuple[tuple[str, int], ...]  # (translated label, signed fen), printed above total
    total: int
    payments: tuple[tuple[str, int, int, int], ...]  # (label, applied, tendered, change)
    change: int
    footer: str | None = None
    survey_url: str | None = None
    # Member summary rows (label, value): points earned, balances after the sale.
    member: tuple[tuple[str, str], ...] = ()
    labels: ReceiptLabels = field(default_factory=ReceiptLabels)


# --- column arithmetic -------------------------------------------------------------------


def text_width(text: str) -> int:
    """Printer columns taken by ``text``: wide and full-width characters take two."""
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    kind = unicodedata.east_asian_width(char)
    if kind in ("W", "F"):
        return 2
    # "Ambiguous" characters such as × or · are two GBK bytes, and a Chinese printer
    # draws every two-byte character with its double-width Hanzi font.
    if kind == "A" and len(char.encode(ENCODING, errors="replace")) == 2:
        return 2
    return 1


def _clean(text: str) -> str:
    """Control characters would shift columns, and on a printer they are commands."""
    return "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)


def wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current, used = "", 0
        for char in _clean(paragraph):
            size = _char_width(char)
            if used + size > width:
                lines.append(current)
                current, used = "", 0
            current, used = current + char, used + size
        lines.append(current)
    return lines


def center(text: str, width: int) -> list[str]:
    return [" " * ((width - text_width(part)) // 2) + part for part in wrap(text, width)]


def _right(text: str, width: int) -> str:
    return " " * max(width - text_width(text), 0) + text


def two_cols(left: str, right: str, width: int) -> list[str]:
    """``left`` and ``right`` on one line, or right-aligned on the next when they don't fit."""
    left = _clean(left)
    gap = width - text_width(left) - text_width(right)
    if gap >= 1:
        return [left + " " * gap + right]
    return [*wrap(left, width), _right(right, width)]


def rule(width: int) -> str:
    return "-" * width


# --- sections (shared by text and ESC/POS) ------------------------------------------------


def _quantity(line: ReceiptLine) -> str:
    if line.weighed:
        kilos, grams = divmod(line.quantity, 1000)
        return f"{kilos}.{grams:03d}kg"
    return str(line.quantity)


def _item_lines(line: ReceiptLine, labels: ReceiptLabels, width: int) -> list[str]:
    price = format_fen(line.unit_price) + ("/kg" if line.weighed else "")
    rows = wrap(line.name, width)
    rows += two_cols(f"  {_quantity(line)} × {price}", format_fen(line.amount), width)
    if line.discount:
        # A price override above list makes the "discount" negative: call it what it is.
        label = labels.discount if line.discount > 0 else labels.surcharge
        rows += two_cols(f"  {label}", format_fen(-line.discount), width)
    return rows


def _header(data: ReceiptData, width: int) -> list[str]:
    labels = data.labels
    rows = center(data.store_address, width) if data.store_address else []
    rows.append(rule(width))
    rows += wrap(f"{labels.order_number}: {data.order_number}", width)
    rows += wrap(f"{labels.time}: {data.local_time:%Y-%m-%d %H:%M:%S}", width)
    if data.business_date != data.local_time.date():
        # After midnight but before the day cut-off the sale belongs to yesterday's takings.
        rows += wrap(f"{labels.business_date}: {data.business_date:%Y-%m-%d}", width)
    rows += two_cols(
        f"{labels.cashier}: {data.cashier}", f"{labels.register}: {_clean(data.register)}", width
    )
    return rows


def _items(data: ReceiptData, width: int) -> list[str]:
    rows = [rule(width), *two_cols(data.labels.item, data.labels.amount, width), rule(width)]
    for line in data.lines:
        rows += _item_lines(line, data.labels, width)
    return rows


def _steps(data: ReceiptData, width: int) -> list[str]:
    rows = [rule(width)]
    for label, amount in data.steps:
        rows += two_cols(label, format_fen(amount), width)
    return rows


def _total(data: ReceiptData, width: int) -> list[str]:
    return two_cols(data.labels.total, format_fen(data.total), width)


def _payments(data: ReceiptData, width: int) -> list[str]:
    rows = [rule(width)]
    for label, _applied, tendered, _change in data.payments:
        rows += two_cols(label, format_fen(tendered), width)
    rows += two_cols(data.labels.change, format_fen(data.change), width)
    return rows


def _member(data: ReceiptData, width: int) -> list[str]:
    rows = [rule(width)] if data.member else []
    for label, value in data.member:
        rows += two_cols(label, value, width)
    return rows


def _footer(data: ReceiptData, width: int) -> list[str]:
    return [rule(width), *center(data.footer, width)] if data.footer else []


def check_width(width: int) -> None:
    if width < MIN_WIDTH:
        raise ValueError(f"a receipt needs at least {MIN_WIDTH} columns, got {width}")


# --- text ---------------------------------------------------------------------------------


def render_text(data: ReceiptData, width: int = 32) -> str:
    """The receipt as plain text, no line wider than ``width`` printer columns."""
    check_width(width)
    rows = center(data.store_name, width)
    for section in (_header, _items, _steps, _total, _payments, _member, _footer):
        rows += section(data, width)
    if data.survey_url:
        rows += wrap(data.survey_url, width)
    return "\n".join(rows) + "\n"


# --- ESC/POS ------------------------------------------------------------------------------


def render_escpos(data: ReceiptData, paper_mm: Literal[58, 80] = 58) -> bytes:
    """The receipt as ESC/POS commands for a Chinese thermal printer (GBK, FS &)."""
    width = paper_width(paper_mm)
    return escpos_slip(
        store_name=data.store_name, paper_mm=paper_mm,
        body=_header(data, width) + _items(data, width) + _steps(data, width),
        emphasis=_total(data, width),
        tail=_payments(data, width) + _member(data, width) + _footer(data, width),
        number=data.order_number, qr=data.survey_url,
    )  # fmt: skip


def paper_width(paper_mm: int) -> int:
    if paper_mm not in PAPER_COLUMNS:
        raise ValueError(f"paper must be 58 or 80 mm, got {paper_mm}")
    return PAPER_COLUMNS[paper_mm]


def escpos_slip(
    *, store_name: str, paper_mm: Literal[58, 80], body: list[str], emphasis: list[str],
    tail: list[str], number: str, qr: str | None = None,
) -> bytes:  # fmt: skip
    """A slip as every till prints one: the shop's name big, the body, the key figure in
    double height, the rest, the number as a barcode, an optional QR code, a cut."""
    width = paper_width(paper_mm)
    # Imported here: importing escpos creates a temp folder and configures logging.
    from escpos.printer import Dummy

    printer = Dummy()
    printer.hw("INIT")
    printer._raw(_FS_CHINESE_MODE)
    _store_name(printer, store_name, width)
    _write(printer, body)
    printer.set(bold=True, custom_size=True, width=1, height=2)
    _write(printer, emphasis)
    printer.set(bold=False, custom_size=True, width=1, height=1)
    _write(printer, tail)
    _barcode(printer, number)
    if qr:
        printer.set(align="center")
        printer.qr(qr, native=True, size=6 if paper_mm == 80 else 4)
        printer.set(align="left")
    printer.cut()
    output: bytes = printer.output
    return output


def _write(printer: Any, rows: list[str]) -> None:
    printer._raw(("\n".join(rows) + "\n").encode(ENCODING, errors="replace"))


def _store_name(printer: Any, name: str, width: int) -> None:
    # Double width halves the columns per line; the printer centres, so no padding.
    printer.set(align="center", bold=True, custom_size=True, width=2, height=2)
    _write(printer, [row.strip() for row in wrap(name, width // 2)])
    printer.set(align="left", bold=False, custom_size=True, width=1, height=1)


def _barcode(printer: Any, order_number: str) -> None:
    """CODE128 of the order number with the printer's own command (GS k, function B).

    "{B" selects code set B; a literal "{" is written "{{". An order number the printer
    cannot encode is left to the text header rather than failing the whole receipt.
    """
    payload = b"{B" + order_number.replace("{", "{{").encode("ascii", errors="replace")
    printable = order_number.isascii() and order_number.isprintable()
    if not order_number or not printable or len(payload) > 255:
        return
    printer.set(align="center")
    printer._raw(_GS + b"h" + bytes([80]))  # height in dots
    printer._raw(_GS + b"w" + bytes([2]))  # module width
    printer._raw(_GS + b"H" + bytes([2]))  # human-readable text below
    printer._raw(_GS + b"k" + bytes([73, len(payload)]) + payload)
    printer._raw(b"\n")
    printer.set(align="left")
