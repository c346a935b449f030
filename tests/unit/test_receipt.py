from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shouyin.sales.receipt import ReceiptData, ReceiptLine, render_escpos, render_text, text_width
from tests.escpos import Command, find, parse


def receipt(**changes: object) -> ReceiptData:
    data = ReceiptData(
        store_name="好邻居便利店",
        store_address="北京市海淀区中关村大街1号",
        order_number="S001-20240102-0001",
        business_date=date(2024, 1, 2),
        local_time=datetime(2024, 1, 2, 10, 30, 5),
        cashier="张三",
        register="01",
        lines=(
            ReceiptLine("可口可乐 500ml", 2, False, 350, 650, 50),
            ReceiptLine("散装苹果（红富士）特级大果", 532, True, 1280, 681, 0),
        ),
        steps=(("小计", 1381), ("整单优惠", -50), ("抹零", -1)),
        total=1330,
        payments=(("银行卡", 330, 330, 0), ("现金", 1000, 1670, 670)),
        change=670,
        footer="谢谢惠顾，欢迎再次光临！",
        survey_url="https://s.example.cn/q?o=S001-20240102-0001",
    )
    return replace(data, **changes)  # type: ignore[arg-type]


# Argument byte counts of the fixed-length commands the renderer may send.
def test_escpos_text_is_gbk_and_complete() -> None:
    _, text = parse(render_escpos(receipt()))
    assert "好邻居便利店" in text
    assert "可口可乐 500ml" in text
    assert "散装苹果（红富士）特级大果" in text.replace("\n", "")
    assert "0.532kg" in text
    assert "￥13.30" in text
    assert "找零" in text
    assert "￥6.70" in text
    assert "S001-20240102-0001" in text  # the number is printed as text too


def test_escpos_starts_with_init_and_chinese_mode() -> None:
    commands, _ = parse(render_escpos(receipt()))
    assert commands[0].prefix == b"\x1b@"
    assert commands[1].prefix == b"\x1c&"
    assert commands[1].text_before == 0


def test_escpos_store_name_is_big_bold_and_centred() -> None:
    output = render_escpos(receipt())
    commands, text = parse(output)
    before_name = [c for c in commands if c.text_before == 0]
    assert Command(b"\x1d!", b"\x11", 0) in before_name
    assert Command(b"\x1bE", b"\x01", 0) in before_name
    assert Command(b"\x1ba", b"\x01", 0) in before_name
    assert text.startswith("好邻居便利店\n")


def test_escpos_barcode_carries_the_order_number() -> None:
    commands, _ = parse(render_escpos(receipt()))
    (barcode,) = find(commands, b"\x1dk")
    assert barcode.args[0] == 73  # CODE128, function B
    assert barcode.args[1] == len(barcode.args) - 2
    assert barcode.args[2:] == b"{BS001-20240102-0001"


def test_escpos_barcode_escapes_brace_and_skips_unprintable_numbers() -> None:
    commands, _ = parse(render_escpos(receipt(order_number="A{1")))
    assert find(commands, b"\x1dk")[0].args[2:] == b"{BA{{1"
    commands, text = parse(render_escpos(receipt(order_number="单号1")))
    assert find(commands, b"\x1dk") == []
    assert "单号1" in text


def test_escpos_qr_code_of_survey_url() -> None:
    url = b"https://s.example.cn/q?o=S001-20240102-0001"
    commands, _ = parse(render_escpos(receipt()))
    stores = [c.args for c in find(commands, b"\x1d(") if c.args[3:5] == b"1P"]
    assert stores == [b"k" + bytes([len(url) + 3, 0]) + b"1P0" + url]
    assert any(c.args[3:5] == b"1Q" for c in find(commands, b"\x1d("))  # print it
    commands, _ = parse(render_escpos(receipt(survey_url=None)))
    assert find(commands, b"\x1d(") == []


def test_escpos_ends_with_feed_and_cut() -> None:
    output = render_escpos(receipt())
    commands, text = parse(output)
    assert commands[-1] == Command(b"\x1dV", b"\x00", len(text.encode("gbk")))
    assert commands[-2].prefix == b"\x1bd"
    assert output.endswith(b"\x1dV\x00")


def test_escpos_control_characters_in_names_cannot_inject_commands() -> None:
    evil = ReceiptLine("坏\x1bd\x05\x1dV\x00名", 1, False, 100, 100, 0)
    commands, text = parse(render_escpos(receipt(lines=(evil,))))
    assert len(find(commands, b"\x1dV")) == 1
    assert "坏 d  V 名" in text  # each control character became a space


def test_escpos_80mm_uses_48_columns() -> None:
    _, text = parse(render_escpos(receipt(), paper_mm=80))
    assert max(text_width(row) for row in text.split("\n")) == 48
    with pytest.raises(ValueError, match="58 or 80"):
        render_escpos(receipt(), paper_mm=76)  # type: ignore[arg-type]


# --- text ---------------------------------------------------------------------------------


def test_text_width_counts_cjk_double() -> None:
    assert text_width("abc") == 3
    assert text_width("可乐") == 4
    assert text_width("￥1.00") == 6
    assert text_width("（）") == 4
    assert text_width("×") == 2  # ambiguous, but a two-byte GBK glyph on the printer


@pytest.mark.parametrize("width", [32, 48])
def test_text_columns_are_aligned(width: int) -> None:
    rows = render_text(receipt(), width).rstrip("\n").split("\n")
    assert all(text_width(row) <= width for row in rows)
    money_rows = [row for row in rows if "￥" in row]
    assert len(money_rows) == 10
    assert all(text_width(row) == width for row in money_rows)  # amounts flush right
    assert f"合计{' ' * (width - 4 - 7)}￥13.30" in rows


def test_text_content() -> None:
    text = render_text(receipt())
    assert text.startswith(" " * 10 + "好邻居便利店\n")
    assert "  2 × ￥3.50" in text
    assert "0.532kg × ￥12.80/kg" in text
    assert "-￥0.50" in text
    assert "营业日" not in text  # same as the calendar date
    assert "找零" in text
    # Wrapped like every other row: no row may run past the paper.
    assert text.replace("\n", "").endswith("https://s.example.cn/q?o=S001-20240102-0001")


def test_text_shows_business_date_after_midnight() -> None:
    text = render_text(receipt(local_time=datetime(2024, 1, 3, 1, 30)))
    assert "营业日: 2024-01-02" in text


def test_text_marks_a_raised_price_as_surcharge() -> None:
    raised = ReceiptLine("可乐", 1, False, 400, 400, -50)
    text = render_text(receipt(lines=(raised,)))
    assert "加价" in text
    assert "￥0.50" in text


def test_text_without_optional_parts() -> None:
    text = render_text(receipt(store_address=None, footer=None, survey_url=None))
    assert "谢谢" not in text
    assert "https" not in text


def test_text_rejects_a_too_narrow_width() -> None:
    with pytest.raises(ValueError, match="columns"):
        render_text(receipt(), width=10)


names = st.text(
    alphabet=st.sampled_from("abcXYZ 0123456789-（）可口乐苹果散装特级大红富士×·"),
    min_size=1,
    max_size=60,
)


@st.composite
def receipt_lines(draw: st.DrawFn) -> ReceiptLine:
    return ReceiptLine(
        name=draw(names),
        quantity=draw(st.integers(1, 99_999)),
        weighed=draw(st.booleans()),
        unit_price=draw(st.integers(0, 10**9)),
        amount=draw(st.integers(0, 10**11)),
        discount=draw(st.integers(-(10**6), 10**6)),
    )


@settings(max_examples=50)
@given(
    st.lists(receipt_lines(), min_size=1, max_size=5),
    names,
    st.sampled_from([32, 48]),
    st.integers(0, 10**12),
)
def test_no_row_is_ever_wider_than_the_paper(
    lines: list[ReceiptLine], store: str, width: int, total: int
) -> None:
    data = receipt(lines=tuple(lines), store_name=store, total=total, cashier=store)
    rows = render_text(data, width).split("\n")
    assert all(text_width(row) <= width for row in rows)
    _, text = parse(render_escpos(data, paper_mm=58 if width == 32 else 80))
    assert all(text_width(row) <= width for row in text.split("\n"))
    for line in lines:
        assert line.name.replace(" ", "") in text.replace("\n", "").replace(" ", "")


def test_member_summary_is_printed_on_text_and_escpos() -> None:
    member = (("会员等级", "金卡"), ("本次积分", "7"), ("积分余额", "807"), ("储值余额", "￥10.00"))
    data = receipt(member=member)
    text = render_text(data, width=32)
    for label, value in member:
        line = next(row for row in text.splitlines() if row.startswith(label))
        assert line.endswith(value) and text_width(line) == 32
    _commands, printed = parse(render_escpos(data))
    assert "积分余额" in printed and "807" in printed and "￥10.00" in printed
