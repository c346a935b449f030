"""The printed receipt, decoded from the ESC/POS bytes a printer would get: Chinese text in
GB18030, amounts aligned, the order number as CODE128, the survey QR, the drawer, the cut;
58 and 80 mm paper; reports and the test page."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from shouyin.errors import ValidationFailed
from shouyin.printing import devices, escpos, slips
from shouyin.sales.receipt import ReceiptData, ReceiptLine, render_escpos, text_width
from shouyin.service.survey_links import read_survey_token, survey_token
from tests.escpos import find, parse

SECRET = "test-secret"
PULSE = b"\x1bp"


def receipt(**changes: object) -> ReceiptData:
    token = survey_token(42, secret=SECRET)
    data = ReceiptData(
        store_name="好邻居便利店", store_address="北京市海淀区中关村大街1号",
        order_number="T0001-20260105-0007", business_date=date(2026, 1, 5),
        local_time=datetime(2026, 1, 5, 10, 30, 5), cashier="张三", register="1号收银台",
        lines=(
            ReceiptLine("农夫山泉 550ml", 3, False, 200, 540, 60),
            ReceiptLine("散装苹果（红富士）", 532, True, 1280, 681, 0),
        ),
        steps=(("小计", 1281), ("会员折扣 金卡", -60), ("优惠券 满10减1", -100), ("抹零", -1)),
        total=1120, payments=(("储值卡", 500, 500, 0), ("现金", 620, 1000, 380)), change=380,
        footer="谢谢惠顾，欢迎再次光临！", survey_url=f"https://shop.example.cn/s/{token}",
        member=(("本次积分", "11"), ("积分余额", "1011"), ("储值余额", "￥25.00")),
    )  # fmt: skip
    return replace(data, **changes)  # type: ignore[arg-type]


def rows(text: str) -> list[str]:
    return [row for row in text.split("\n") if row]


@pytest.mark.parametrize(("paper", "width"), [(58, 32), (80, 48)])
def test_chinese_text_every_step_and_aligned_amounts(paper: int, width: int) -> None:
    _, text = parse(render_escpos(receipt(), paper))  # type: ignore[arg-type]
    for expected in ("好邻居便利店", "T0001-20260105-0007", "2026-01-05 10:30:05", "张三",
                     "农夫山泉 550ml", "0.532kg", "会员折扣 金卡", "优惠券 满10减1", "抹零",
                     "合计", "储值卡", "现金", "找零", "￥3.80", "本次积分", "积分余额",
                     "储值余额", "谢谢惠顾"):  # fmt: skip
        assert expected in text, expected
    money = [row for row in rows(text) if "￥" in row and row.count("￥") == 1]
    assert money and all(text_width(row) == width for row in money)  # flush right
    assert all(text_width(row) <= width for row in rows(text))
    assert f"合计{' ' * (width - 4 - 7)}￥11.20" in rows(text)


def test_text_is_gb18030_after_chinese_mode() -> None:
    output = render_escpos(receipt())
    assert output.startswith(b"\x1b@\x1c&")
    assert "好邻居便利店".encode("gb18030") in output
    assert "￥11.20".encode("gb18030") in output  # the full-width yuan sign, two bytes


@pytest.mark.parametrize("paper", [58, 80])
def test_barcode_carries_the_order_number(paper: int) -> None:
    commands, _ = parse(render_escpos(receipt(), paper))  # type: ignore[arg-type]
    (barcode,) = find(commands, b"\x1dk")
    assert barcode.args[0] == 73  # CODE128
    assert barcode.args[2:] == b"{BT0001-20260105-0007"


@pytest.mark.parametrize(("paper", "module"), [(58, 4), (80, 6)])
def test_qr_holds_a_valid_survey_link(paper: int, module: int) -> None:
    commands, _ = parse(render_escpos(receipt(), paper))  # type: ignore[arg-type]
    qr = find(commands, b"\x1d(")
    (stored,) = [c.args for c in qr if c.args[3:6] == b"1P0"]
    url = stored[6:].decode("ascii")
    assert url.startswith("https://shop.example.cn/s/")
    assert read_survey_token(url.rsplit("/", 1)[1], secret=SECRET) == 42
    assert [c.args[5] for c in qr if c.args[3:5] == b"1C"] == [module]  # module size
    assert any(c.args[3:5] == b"1Q" for c in qr)  # and it is printed


def test_cut_at_the_end_and_no_drawer_unless_asked() -> None:
    output = render_escpos(receipt())
    commands, _ = parse(output)
    assert output.endswith(b"\x1dV\x00")
    assert find(commands, PULSE) == []


def test_drawer_pulse_comes_first_so_the_drawer_opens_while_printing() -> None:
    commands, _ = parse(render_escpos(receipt(), 80, drawer=True))
    (pulse,) = find(commands, PULSE)
    assert pulse.args == b"\x00\x32\x32" and pulse.text_before == 0
    assert commands.index(pulse) < commands.index(find(commands, b"\x1dk")[0])
    assert escpos.drawer_pulse() == b"\x1bp\x00\x32\x32"


def test_a_reprint_is_marked_and_dated() -> None:
    _, text = parse(render_escpos(receipt(reprinted_at=datetime(2026, 1, 6, 9, 15))))
    assert "** 重印 **" in text and "2026-01-06 09:15" in text
    assert text.index("重印") < text.index("T0001-20260105-0007")  # at the top
    _, original = parse(render_escpos(receipt()))
    assert "重印" not in original


def test_a_receipt_without_member_or_survey_prints_neither() -> None:
    commands, text = parse(render_escpos(receipt(member=(), survey_url=None)))
    assert "积分" not in text and find(commands, b"\x1d(") == []


def test_characters_beyond_gbk_survive_as_gb18030() -> None:
    line = ReceiptLine("𠮷野家便当", 1, False, 2500, 2500, 0)
    _, text = parse(render_escpos(receipt(lines=(line,))))
    assert "𠮷野家便当" in text


@pytest.mark.parametrize(("paper", "width"), [(58, 32), (80, 48)])
def test_report_rows_under_a_title(paper: int, width: int) -> None:
    output = slips.report(
        store_name="好邻居便利店", register="1号收银台", title="X 报表",
        rows=[("现金销售", "￥120.00"), ("银行卡", "￥35.50"), ("订单数", "7")],
        printed_at=datetime(2026, 1, 5, 18, 0), paper_mm=paper,
    )  # fmt: skip
    commands, text = parse(output)
    assert "X 报表" in text and "1号收银台" in text and "2026-01-05 18:00:00" in text
    assert f"现金销售{' ' * (width - 8 - 8)}￥120.00" in rows(text)
    assert output.endswith(b"\x1dV\x00") and find(commands, PULSE) == []


def test_test_page_has_chinese_and_the_full_width() -> None:
    page = slips.test_page(
        store_name="好邻居便利店", where="1号收银台", address="10.0.0.9:9100",
        paper_mm=58, printed_at=datetime(2026, 1, 5, 9, 0),
    )  # fmt: skip
    commands, text = parse(page)
    assert slips.TEST_SAMPLE in text and "10.0.0.9:9100" in text
    assert "12345678901234567890123456789012" in rows(text)
    assert find(commands, b"\x1dV")


# --- where the bytes go: addresses ----------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [("192.168.1.50", ("192.168.1.50", 9100)), ("printer-1.shop.lan:9101", ("printer-1.shop.lan", 9101)),
     (" 10.0.0.9:1 ", ("10.0.0.9", 1))],
)  # fmt: skip
def test_network_addresses(address: str, expected: tuple[str, int]) -> None:
    assert devices.parse_network(address) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [("04b8:0202", (0x04B8, 0x0202)), ("0x0416:0x5011", (0x0416, 0x5011)), ("1FC9:2016", (0x1FC9, 0x2016))],
)  # fmt: skip
def test_usb_addresses(address: str, expected: tuple[int, int]) -> None:
    assert devices.parse_usb(address) == expected
    assert devices.check_address("usb", address) == f"{expected[0]:04x}:{expected[1]:04x}"


@pytest.mark.parametrize(
    ("kind", "address"),
    [("network", ""), ("network", "host:"), ("network", "host:0"), ("network", "a b"),
     ("network", "host:９１００"), ("network", "-host"), ("usb", "04b8"), ("usb", "04b8:"),
     ("usb", "12345:1"), ("usb", "g1:01"), ("file", "lp0"), ("file", "/"), ("file", "/dev/sda"),
     ("file", "/etc/shadow"), ("file", "/tmp/../etc/x"), ("serial", "COM1")],
)  # fmt: skip
def test_bad_addresses(kind: str, address: str) -> None:
    with pytest.raises(ValidationFailed):
        devices.check_address(kind, address)


def test_a_usb_printer_that_is_not_plugged_in_is_a_clear_printer_error() -> None:
    # No printer with this vendor:product id is attached here (nor libusb, on some machines):
    # either way the cashier gets a printer error naming the address, never a crash.
    with pytest.raises(devices.PrinterUnreachable) as caught:
        devices.send("usb", "04b8:0202", b"x", timeout=1)
    assert "04b8:0202" in caught.value.message and caught.value.status == 503
