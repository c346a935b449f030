"""PURE receipt rendering: plain text (screen, e-mail, tests) and ESC/POS bytes.

Columns are counted the way a thermal printer counts them: a CJK (wide or full-width)
character takes two columns, everything else one. 58 mm paper holds 32 columns, 80 mm 48.

ESC/POS: the printer commands and the text encoding (GB18030 after ``FS &``) are in
``shouyin.printing.escpos``; this module lays the receipt out.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from shouyin.printing import escpos

# Re-exported: the receipt route and the recharge slip import them from here.
from shouyin.printing.escpos import PAPER_COLUMNS as PAPER_COLUMNS
from shouyin.printing.escpos import clean
from shouyin.printing.escpos import paper_width as paper_width
from shouyin.shared.money import format_fen

# A two-byte GBK character is drawn with the printer's double-width Hanzi font.
_WIDTH_ENCODING = "gbk"
MIN_WIDTH = 16


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
    reprint: str = "重印"


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
    # A copy printed again later (重印): marked, with when, so it cannot pass for the original.
    reprinted_at: datetime | None = None


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
    if kind == "A" and len(char.encode(_WIDTH_ENCODING, errors="replace")) == 2:
        return 2
    return 1


_clean = clean


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


def _reprint(data: ReceiptData, width: int) -> list[str]:
    """The reprint mark, for double width: half the columns."""
    if data.reprinted_at is None:
        return []
    return [f"** {data.labels.reprint} **", f"{data.reprinted_at:%Y-%m-%d %H:%M}"]


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
    rows += [row for text in _reprint(data, width) for row in center(text, width)]
    for section in (_header, _items, _steps, _total, _payments, _member, _footer):
        rows += section(data, width)
    if data.survey_url:
        rows += wrap(data.survey_url, width)
    return "\n".join(rows) + "\n"


# --- ESC/POS ------------------------------------------------------------------------------


def render_escpos(
    data: ReceiptData, paper_mm: Literal[58, 80] = 58, *, drawer: bool = False
) -> bytes:
    """The receipt as ESC/POS commands for a Chinese thermal printer (GB18030, FS &);
    ``drawer`` opens the cash drawer first, so it is open while the slip prints."""
    width = paper_width(paper_mm)
    return escpos_slip(
        store_name=data.store_name, paper_mm=paper_mm,
        body=_header(data, width) + _items(data, width) + _steps(data, width),
        emphasis=_total(data, width),
        tail=_payments(data, width) + _member(data, width) + _footer(data, width),
        number=data.order_number, qr=data.survey_url, banner=_reprint(data, width),
        drawer=drawer,
    )  # fmt: skip


def escpos_slip(
    *, store_name: str, paper_mm: Literal[58, 80], body: list[str], emphasis: list[str],
    tail: list[str], number: str, qr: str | None = None, banner: list[str] | None = None,
    drawer: bool = False,
) -> bytes:  # fmt: skip
    """A slip as every till prints one: the shop's name big, an optional banner (重印) big,
    the body, the key figure in double height, the rest, the number as a barcode, an
    optional QR code, a cut."""
    width = paper_width(paper_mm)
    printer = escpos.new_slip()
    if drawer:
        printer._raw(escpos.drawer_pulse())
    # Double width halves the columns per line.
    escpos.big_centred(printer, wrap(store_name, width // 2))
    if banner:
        escpos.big_centred(printer, banner)
    escpos.write(printer, body)
    escpos.tall(printer, emphasis)
    escpos.write(printer, tail)
    escpos.barcode(printer, number)
    if qr:
        escpos.qr(printer, qr, paper_mm)
    return escpos.finish(printer)
