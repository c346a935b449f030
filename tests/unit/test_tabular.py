"""CSV cells: formulas are disarmed, plain numbers stay numbers."""

from __future__ import annotations

import pytest

from shouyin.shared.tabular import csv_safe, to_csv


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("-100.0", "-100.0"),  # a negative NPS or stock figure
        ("-3", "-3"),
        ("+12.5%", "+12.5%"),
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+86 138 0000 0000", "'+86 138 0000 0000"),
        ("龙井茶", "龙井茶"),
    ],
)
def test_csv_safe(cell: str, written: str) -> None:
    assert csv_safe(cell) == written


def test_csv_has_a_bom_and_crlf() -> None:
    data = to_csv(["名称", "数量"], [["茶", "-2"]])
    assert (
        data.startswith("\ufeff".encode()) and data.decode("utf-8-sig") == "名称,数量\r\n茶,-2\r\n"
    )
