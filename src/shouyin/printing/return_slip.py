"""PURE return slip (退货单): what went back, the refund per tender, the loyalty undone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shouyin.printing import escpos
from shouyin.printing.escpos import paper_width
from shouyin.sales.receipt import rule, two_cols, wrap
from shouyin.shared.money import format_fen

METHOD_NAMES = {"cash": "现金", "card": "银行卡", "stored_value": "储值", "wechat": "微信支付",
                "alipay": "支付宝"}  # fmt: skip


@dataclass(frozen=True)
class ReturnSlipLine:
    name: str
    quantity: int  # units, or grams when weighed
    weighed: bool
    refund: int


@dataclass(frozen=True)
class ReturnSlipData:
    store_name: str
    number: str
    order_number: str | None  # empty for a return without a receipt
    local_time: datetime
    cashier: str
    register: str
    reason: str
    lines: tuple[ReturnSlipLine, ...]
    refund: int
    payments: tuple[tuple[str, int], ...]  # (method, fen)
    points_taken: int = 0
    points_given: int = 0
    stored_value: int = 0  # principal and bonus put back on the card
    reprinted_at: datetime | None = None


def _quantity(line: ReturnSlipLine) -> str:
    if line.weighed:
        kilos, grams = divmod(line.quantity, 1000)
        return f"{kilos}.{grams:03d}kg"
    return str(line.quantity)


def _head(data: ReturnSlipData, width: int) -> list[str]:
    rows = [rule(width), *wrap(f"退货单号: {data.number}", width)]
    rows += wrap(f"原单号: {data.order_number or '无小票'}", width)
    rows += wrap(f"时间: {data.local_time:%Y-%m-%d %H:%M:%S}", width)
    rows += two_cols(f"收银员: {data.cashier}", f"收银机: {data.register}", width)
    if data.reason:
        rows += wrap(f"原因: {data.reason}", width)
    rows += [rule(width)]
    for line in data.lines:
        rows += wrap(line.name, width)
        rows += two_cols(f"  {_quantity(line)}", format_fen(-line.refund), width)
    return [*rows, rule(width)]


def _tail(data: ReturnSlipData, width: int) -> list[str]:
    rows = [rule(width)]
    for method, amount in data.payments:
        rows += two_cols(f"退回{METHOD_NAMES.get(method, method)}", format_fen(amount), width)
    member = [("扣回积分", data.points_taken), ("退回积分", data.points_given)]
    rows += [row for label, n in member if n for row in two_cols(label, str(n), width)]
    if data.stored_value:
        rows += two_cols("退回储值", format_fen(data.stored_value), width)
    return [*rows, rule(width), *wrap("顾客签名:", width), "", rule(width)]


def render(data: ReturnSlipData, paper_mm: int, *, drawer: bool = False) -> bytes:
    """The slip for the customer's signature; ``drawer`` opens the drawer for a cash refund."""
    width = paper_width(paper_mm)
    printer = escpos.new_slip()
    if drawer:
        printer._raw(escpos.drawer_pulse())
    escpos.big_centred(printer, wrap(data.store_name, width // 2))
    banner = ["退货单"]
    if data.reprinted_at is not None:
        banner += ["** 重印 **", f"{data.reprinted_at:%Y-%m-%d %H:%M}"]
    escpos.big_centred(printer, banner)
    escpos.write(printer, _head(data, width))
    escpos.tall(printer, two_cols("退款合计", format_fen(data.refund), width))
    escpos.write(printer, _tail(data, width))
    escpos.barcode(printer, data.number)
    return escpos.finish(printer)
