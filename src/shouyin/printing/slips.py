"""PURE slips other than the sale receipt: reports (X, Z, shift close) and the test page."""

from __future__ import annotations

from datetime import datetime

from shouyin.printing import escpos
from shouyin.printing.escpos import clean, paper_width
from shouyin.sales.receipt import rule, two_cols, wrap

TEST_SAMPLE = "中文打印正常：￥12.34（全角）"


def report(
    *, store_name: str, register: str, title: str, rows: list[tuple[str, str]],
    printed_at: datetime, paper_mm: int,
) -> bytes:  # fmt: skip
    """Label/value rows under a title, values flush right; the shop and till at the top."""
    width = paper_width(paper_mm)
    printer = escpos.new_slip()
    escpos.big_centred(printer, wrap(store_name, width // 2))
    escpos.big_centred(printer, wrap(title, width // 2))
    head = wrap(f"{clean(register)}  {printed_at:%Y-%m-%d %H:%M:%S}", width)
    body = [row for label, value in rows for row in two_cols(label, clean(value), width)]
    escpos.write(printer, [*head, rule(width), *body, rule(width)])
    return escpos.finish(printer)


def test_page(
    *, store_name: str, where: str, address: str, paper_mm: int, printed_at: datetime
) -> bytes:
    """What the set-up screen prints: Chinese text, the paper's full width, a barcode, a cut."""
    width = paper_width(paper_mm)
    printer = escpos.new_slip()
    escpos.big_centred(printer, wrap(store_name, width // 2))
    escpos.big_centred(printer, ["打印测试"])
    ruler = "".join(str(i % 10) for i in range(1, width + 1))
    rows = [
        *wrap(TEST_SAMPLE, width),
        *two_cols("位置", clean(where), width),
        *two_cols("地址", clean(address), width),
        *two_cols("纸宽", f"{paper_mm}mm / {width}列", width),
        *two_cols("时间", f"{printed_at:%Y-%m-%d %H:%M:%S}", width),
        ruler,
        rule(width),
    ]
    escpos.write(printer, rows)
    escpos.barcode(printer, "TEST-0123")
    return escpos.finish(printer)
