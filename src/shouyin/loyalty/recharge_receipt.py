"""PURE recharge and refund receipts: plain text and ESC/POS bytes. No database, no web.

The column arithmetic and the printer commands are the sale receipt's (sales.receipt), so a
recharge slip lines up, encodes (GBK after ``FS &``) and cuts exactly like a sale receipt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from shouyin.sales.receipt import (
    _FS_CHINESE_MODE,
    PAPER_COLUMNS,
    _barcode,
    _center,
    _check_width,
    _rule,
    _store_name,
    _two_cols,
    _wrap,
    _write,
)
from shouyin.shared.money import format_fen


@dataclass(frozen=True)
class RechargeReceiptLabels:
    """The fixed words of the slip; zh_CN by default, the caller may pass translations."""

    number: str = "单号"
    time: str = "时间"
    business_date: str = "营业日"
    member: str = "会员"
    cashier: str = "收银员"
    method: str = "支付方式"
    balance: str = "卡内余额"
    of_principal: str = "其中本金"
    of_bonus: str = "其中赠送"


@dataclass(frozen=True)
class RechargeReceiptData:
    store_name: str
    store_address: str | None
    title: str  # 储值充值, or 储值退款 for a refund
    number: str
    business_date: date
    local_time: datetime
    member: str  # masked mobile or card number, never the full mobile
    cashier: str
    amounts: tuple[tuple[str, int], ...]  # (label, fen): principal, bonus
    method: str  # translated label of cash or card
    principal_after: int
    bonus_after: int
    footer: str | None = None
    labels: RechargeReceiptLabels = field(default_factory=RechargeReceiptLabels)


def _header(data: RechargeReceiptData, width: int) -> list[str]:
    labels = data.labels
    rows = _center(data.store_address, width) if data.store_address else []
    rows += [_rule(width), *_center(data.title, width), _rule(width)]
    rows += _wrap(f"{labels.number}: {data.number}", width)
    rows += _wrap(f"{labels.time}: {data.local_time:%Y-%m-%d %H:%M:%S}", width)
    if data.business_date != data.local_time.date():
        # Before the day cut-off the money belongs to the previous day's takings.
        rows += _wrap(f"{labels.business_date}: {data.business_date:%Y-%m-%d}", width)
    rows += _wrap(f"{labels.member}: {data.member}", width)
    rows += _wrap(f"{labels.cashier}: {data.cashier}", width)
    return rows


def _amounts(data: RechargeReceiptData, width: int) -> list[str]:
    rows = [_rule(width)]
    for label, amount in data.amounts:
        rows += _two_cols(label, format_fen(amount), width)
    rows += _two_cols(data.labels.method, data.method, width)
    return [*rows, _rule(width)]


def _balance(data: RechargeReceiptData, width: int) -> list[str]:
    total = data.principal_after + data.bonus_after
    return _two_cols(data.labels.balance, format_fen(total), width)


def _balance_parts(data: RechargeReceiptData, width: int) -> list[str]:
    labels = data.labels
    rows = _two_cols(f"  {labels.of_principal}", format_fen(data.principal_after), width)
    rows += _two_cols(f"  {labels.of_bonus}", format_fen(data.bonus_after), width)
    return rows


def _footer(data: RechargeReceiptData, width: int) -> list[str]:
    return [_rule(width), *_center(data.footer, width)] if data.footer else []


def render_text(data: RechargeReceiptData, width: int = 32) -> str:
    """The slip as plain text, no line wider than ``width`` printer columns."""
    _check_width(width)
    rows = _center(data.store_name, width)
    for section in (_header, _amounts, _balance, _balance_parts, _footer):
        rows += section(data, width)
    return "\n".join(rows) + "\n"


def render_escpos(data: RechargeReceiptData, paper_mm: Literal[58, 80] = 58) -> bytes:
    """The slip as ESC/POS commands for a Chinese thermal printer (GBK, FS &)."""
    if paper_mm not in PAPER_COLUMNS:
        raise ValueError(f"paper must be 58 or 80 mm, got {paper_mm}")
    width = PAPER_COLUMNS[paper_mm]
    # Imported here: importing escpos creates a temp folder and configures logging.
    from escpos.printer import Dummy

    printer = Dummy()
    printer.hw("INIT")
    printer._raw(_FS_CHINESE_MODE)
    _store_name(printer, data.store_name, width)
    _write(printer, _header(data, width) + _amounts(data, width))
    printer.set(bold=True, custom_size=True, width=1, height=2)
    _write(printer, _balance(data, width))
    printer.set(bold=False, custom_size=True, width=1, height=1)
    _write(printer, _balance_parts(data, width) + _footer(data, width))
    _barcode(printer, data.number)
    printer.cut()
    output: bytes = printer.output
    return output
