"""The recharge slip: fits the paper, says what was paid and what is left, and prints as GBK
Chinese on a thermal printer."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime

import pytest

from shouyin.loyalty.recharge_receipt import RechargeReceiptData, render_escpos, render_text
from shouyin.sales.receipt import text_width

ESC, GS, FS = 0x1B, 0x1D, 0x1C
# Argument byte counts of the fixed-length commands the renderer may send.
FIXED = {
    (ESC, ord("@")): 0, (ESC, ord("a")): 1, (ESC, ord("E")): 1, (ESC, ord("!")): 1,
    (ESC, ord("d")): 1, (FS, ord("&")): 0, (GS, ord("!")): 1, (GS, ord("h")): 1,
    (GS, ord("w")): 1, (GS, ord("H")): 1, (GS, ord("V")): 1,
}  # fmt: skip


@pytest.fixture(autouse=True, scope="module")
def _escpos_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Importing escpos makes a temp folder: keep it inside pytest's own temp area."""
    folder = str(tmp_path_factory.mktemp("escpos"))
    patch = pytest.MonkeyPatch()
    patch.setenv("TMPDIR", folder)
    patch.setattr(tempfile, "tempdir", folder)
    yield
    patch.undo()


def slip(**changes: object) -> RechargeReceiptData:
    data = RechargeReceiptData(
        store_name="好邻居便利店", store_address="北京市海淀区中关村大街1号",
        title="储值充值", number="CZ-S001-20260301-000042", business_date=date(2026, 3, 1),
        local_time=datetime(2026, 3, 1, 10, 30, 5), member="138****5678", cashier="张三",
        amounts=(("充值金额", 50000), ("赠送金额", 5000)), method="现金",
        principal_after=80000, bonus_after=7000, footer="请妥善保管此凭条。",
    )  # fmt: skip
    return replace(data, **changes)  # type: ignore[arg-type]


def decode(data: bytes) -> tuple[list[bytes], str]:
    """ESC/POS output as its command prefixes and GBK text; unknown commands fail the test."""
    commands: list[bytes] = []
    text = bytearray()
    i = 0
    while i < len(data):
        if data[i] not in (ESC, GS, FS):
            text.append(data[i])
            i += 1
            continue
        key, start = (data[i], data[i + 1]), i + 2
        if key in FIXED:
            end = start + FIXED[key]
        elif key == (GS, ord("k")):  # barcode function B: m, n, then n bytes
            end = start + 2 + data[start + 1]
        else:
            raise AssertionError(f"unexpected command {data[i : i + 2]!r} at {i}")
        commands.append(data[i:start])
        i = end
    return commands, text.decode("gbk")


def test_text_slip_has_every_figure_and_fits_58mm() -> None:
    text = render_text(slip())
    for expected in (
        "好邻居便利店", "储值充值", "CZ-S001-20260301-000042", "2026-03-01 10:30:05",
        "138****5678", "张三", "￥500.00", "￥50.00", "现金", "￥870.00", "￥800.00", "￥70.00",
    ):  # fmt: skip
        assert expected in text, expected
    assert all(text_width(line) <= 32 for line in text.splitlines())
    assert "营业日" not in text  # same day: no separate business date


def test_before_the_cut_off_the_business_day_is_printed() -> None:
    text = render_text(slip(local_time=datetime(2026, 3, 2, 1, 30)), width=48)
    assert "营业日: 2026-03-01" in text
    assert all(text_width(line) <= 48 for line in text.splitlines())


def test_a_long_store_name_wraps_within_the_paper() -> None:
    text = render_text(slip(store_name="非常非常长的连锁便利店名称第一百二十三号分店"))
    assert all(text_width(line) <= 32 for line in text.splitlines())


def test_escpos_is_gbk_in_chinese_mode_with_a_barcode_and_cut() -> None:
    for paper in (58, 80):
        output = render_escpos(slip(), paper_mm=paper)  # type: ignore[arg-type]
        commands, text = decode(output)
        assert commands[:2] == [b"\x1b@", b"\x1c&"]  # init, then FS & before any text
        assert "储值充值" in text and "卡内余额" in text and "￥870.00" in text
        assert "138****5678" in text and "13812345678" not in text
        assert b"\x1dk" in commands and commands[-1] == b"\x1dV"
        assert "￥".encode("gbk") in output  # the full-width yuan sign exists in GBK


def test_unknown_paper_is_refused() -> None:
    with pytest.raises(ValueError, match="58 or 80"):
        render_escpos(slip(), paper_mm=57)  # type: ignore[arg-type]
