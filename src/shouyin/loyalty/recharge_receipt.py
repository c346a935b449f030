"""PURE recharge and refund receipts: plain text and ESC/POS bytes. No database, no web.

The column arithmetic and the printer commands are the sale receipt's (sales.receipt), so a
recharge slip lines up, encodes (GBK after ``FS &``) and cuts exactly like a sale receipt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from shouyin.sales.receipt import (
    center,
    check_width,
    escpos_slip,
    paper_width,
    rule,
    two_cols,
    wrap,
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
    rows = center(data.store_address, width) if data.store_address else []
    rows += [rule(width), *center(data.title, width), rule(width)]
    rows += wrap(f"{labels.number}: {data.number}", width)
    rows += wrap(f"{labels.time}: {data.local_time:%Y-%m-%d %H:%M:%S}", width)
    if data.business_date != data.local_time.date():
        # Before the day cut-off the money belongs to the previous day's takings.
        rows += wrap(f"{labels.business_date}: {data.business_date:%Y-%m-%d}", width)
    rows += wrap(f"{labels.member}: {data.member}", width)
    rows += wrap(f"{labels.cashier}: {data.cashier}", width)
    return rows


def _amounts(data: RechargeReceiptData, width: int) -> list[str]:
    rows = [rule(width)]
    for label, amount in data.amounts:
        rows += two_cols(label, format_fen(amount), width)
    rows += two_cols(data.labels.method, data.method, width)
    return [*rows, rule(width)]


def _balance(data: RechargeReceiptData, width: int) -> list[str]:
    total = data.principal_after + data.bonus_after
    return two_cols(data.labels.balance, format_fen(total), width)


def _balance_parts(data: RechargeReceiptData, width: int) -> list[str]:
    labels = data.labels
    rows = two_cols(f"  {labels.of_principal}", format_fen(data.principal_after), width)
    rows += two_cols(f"  {labels.of_bonus}", format_fen(data.bonus_after), width)
    return rows


def _footer(data: RechargeReceiptData, width: int) -> list[str]:
    return [rule(width), *center(data.footer, width)] if data.footer else []


def render_text(data: RechargeReceiptData, width: int = 32) -> str:
    """The slip as plain text, no line wider than ``width`` printer columns."""
    check_width(width)
    rows = center(data.store_name, width)
    for section in (_header, _amounts, _balance, _balance_parts, _footer):
        rows += section(data, width)
    return "\n".join(rows) + "\n"


def render_escpos(data: RechargeReceiptData, paper_mm: Literal[58, 80] = 58) -> bytes:
    """The slip as ESC/POS commands for a Chinese thermal printer (GBK, FS &)."""
    width = paper_width(paper_mm)
    return escpos_slip(
        store_name=data.store_name, paper_mm=paper_mm,
        body=_header(data, width) + _amounts(data, width), emphasis=_balance(data, width),
        tail=_balance_parts(data, width) + _footer(data, width), number=data.number,
    )  # fmt: skip
