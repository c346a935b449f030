"""The recharge slip: fits the paper, says what was paid and what is left, and prints as GBK
Chinese on a thermal printer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from shouyin.loyalty.recharge_receipt import RechargeReceiptData, render_escpos, render_text
from shouyin.sales.receipt import text_width
from tests.escpos import parse


def slip(**changes: object) -> RechargeReceiptData:
    data = RechargeReceiptData(
        store_name="好邻居便利店", store_address="北京市海淀区中关村大街1号",
        title="储值充值", number="CZ-S001-20260301-000042", business_date=date(2026, 3, 1),
        local_time=datetime(2026, 3, 1, 10, 30, 5), member="138****5678", cashier="张三",
        amounts=(("充值金额", 50000), ("赠送金额", 5000)), method="现金",
        principal_after=80000, bonus_after=7000, footer="请妥善保管此凭条。",
    )  # fmt: skip
    return replace(data, **changes)  # type: ignore[arg-type]


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
        parsed, text = parse(output)
        commands = [command.prefix for command in parsed]
        assert commands[:2] == [b"\x1b@", b"\x1c&"]  # init, then FS & before any text
        assert "储值充值" in text and "卡内余额" in text and "￥870.00" in text
        assert "138****5678" in text and "13812345678" not in text
        assert b"\x1dk" in commands and commands[-1] == b"\x1dV"
        assert "￥".encode("gbk") in output  # the full-width yuan sign exists in GBK


def test_unknown_paper_is_refused() -> None:
    with pytest.raises(ValueError, match="58 or 80"):
        render_escpos(slip(), paper_mm=57)  # type: ignore[arg-type]
