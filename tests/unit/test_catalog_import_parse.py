"""Reading product files: header names, exact yuan, yes/no cells, barcodes, encodings."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from shouyin.catalog.rules import clean_barcode, clean_sku, ean_check_digit_ok
from shouyin.catalog.table import (
    map_header,
    parse_barcodes,
    parse_flag,
    parse_row,
    parse_yuan,
    read_table,
)
from shouyin.errors import ValidationFailed


def _code(exc: pytest.ExceptionInfo[ValidationFailed]) -> str:
    return exc.value.code


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("12", 1200), ("12.3", 1230), ("12.30", 1230), ("0.01", 1), ("0", 0),
        (" ￥8.50 ", 850), ("¥8.5", 850), ("9.9元", 990),
        # Excel hands over numbers: 0.1 + 0.2 style noise must not change the fen.
        (12.3, 1230), (0.07, 7), (19.99, 1999), (5, 500), (1e2, 10000),
    ],
)  # fmt: skip
def test_yuan_is_parsed_exactly(value: object, fen: int) -> None:
    assert parse_yuan(value) == fen


@pytest.mark.parametrize("value", ["12.345", "abc", "-1", "1,50", "", "1e3", 12.345, -3.0])
def test_bad_prices_are_refused(value: object) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_yuan(value)
    assert _code(exc) == "catalog.price_invalid"


def test_price_above_the_limit_is_refused() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_yuan("1000000.00")
    assert _code(exc) == "catalog.price_invalid"


@pytest.mark.parametrize(
    ("value", "flag"),
    [("1", True), ("yes", True), ("是", True), ("TRUE", True), (True, True), (1, True),
     ("0", False), ("no", False), ("否", False), (False, False), (0, False),
     ("", None), (None, None)],
)  # fmt: skip
def test_yes_no_cells(value: object, flag: bool | None) -> None:
    assert parse_flag(value, "weighed") is flag


def test_unclear_yes_no_cell_names_the_column() -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_flag("maybe", "weighed")
    assert _code(exc) == "catalog.flag_invalid" and exc.value.details["column"] == "weighed"


def test_several_barcodes_in_one_cell() -> None:
    assert parse_barcodes("6901234567892|96385074") == ("6901234567892", "96385074")
    assert parse_barcodes("6901234567892; 123456") == ("6901234567892", "123456")
    assert parse_barcodes(6901234567892) == ("6901234567892",)
    assert parse_barcodes("") is None


@pytest.mark.parametrize("code", ["6901234567892", "96385074", "123456", "12345678901234567890"])
def test_valid_barcodes(code: str) -> None:
    assert clean_barcode(code) == code


@pytest.mark.parametrize(
    "code", ["6901234567891", "96385075", "12345", "123456789012345678901", "69012345678a", ""]
)
def test_invalid_barcodes(code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        clean_barcode(code)
    assert _code(exc) == "catalog.barcode_invalid"


def test_ean_check_digit() -> None:
    assert ean_check_digit_ok("4006381333931")
    assert not ean_check_digit_ok("4006381333932")
    assert ean_check_digit_ok("73513537")


def test_sku_rules() -> None:
    assert clean_sku("  P-001/a ") == "P-001/a"
    for bad, code in [("", "catalog.sku_required"), ("A B", "catalog.sku_invalid"),
                      ("编码1", "catalog.sku_invalid"), ("X" * 33, "catalog.sku_invalid")]:  # fmt: skip
        with pytest.raises(ValidationFailed) as exc:
            clean_sku(bad)
        assert _code(exc) == code


def test_chinese_and_english_headers_map_to_the_same_columns() -> None:
    english = map_header(["sku", "name", "category", "unit", "price_yuan", "barcode", "weighed"])
    chinese = map_header(["编码", "名称", "分类", "单位", "售价", "条码", "称重"])
    assert english == chinese == {
        "sku": 0, "name": 1, "category": 2, "unit": 3, "price_yuan": 4, "barcode": 5, "weighed": 6,
    }  # fmt: skip
    mixed = map_header(["\ufeffSKU", " Name ", "备注", "会员折扣", "售价", "active"])
    assert mixed == {"sku": 0, "name": 1, "member_discount": 3, "price_yuan": 4, "active": 5}


def test_missing_required_columns_are_named() -> None:
    with pytest.raises(ValidationFailed) as exc:
        map_header(["名称", "分类"])
    assert _code(exc) == "catalog.import_columns"
    assert exc.value.details["columns"] == "sku, price_yuan"


def test_a_full_row() -> None:
    columns = map_header(
        ["编码", "名称", "分类", "单位", "售价", "条码", "称重", "会员折扣", "active"]
    )
    cells = [
        "P001",
        " 农夫山泉  550ml ",
        "饮料",
        "瓶",
        "2.00",
        "6921168509256|96385074",
        "否",
        "1",
        "",
    ]
    row = parse_row(7, cells, columns)
    assert (row.row, row.sku, row.name, row.category, row.unit, row.price) == (
        7, "P001", "农夫山泉 550ml", "饮料", "瓶", 200,
    )  # fmt: skip
    assert row.barcodes == ("6921168509256", "96385074")
    assert (row.weighed, row.member_discount, row.active) == (False, True, None)


def test_short_row_leaves_the_optional_fields_unset() -> None:
    columns = map_header(["sku", "name", "price_yuan", "unit", "barcode"])
    row = parse_row(2, ["P2", "香蕉", "6.98"], columns)
    assert row.unit is None and row.barcodes is None and row.category is None


@pytest.mark.parametrize(
    ("cells", "code"),
    [
        (["", "苹果", "1"], "catalog.sku_required"),
        (["P1", "  ", "1"], "catalog.name_required"),
        (["P1", "苹果", ""], "catalog.price_required"),
        (["P1", "苹果", "1.999"], "catalog.price_invalid"),
        (["P1", "苹果", "1", "6901234567891"], "catalog.barcode_invalid"),
        (["P1", "苹果", "1", "", "x"], "catalog.flag_invalid"),
    ],
)
def test_bad_rows_say_why(cells: list[object], code: str) -> None:
    columns = map_header(["sku", "name", "price_yuan", "barcode", "weighed"])
    with pytest.raises(ValidationFailed) as exc:
        parse_row(2, cells, columns)
    assert _code(exc) == code


def test_csv_with_bom_numbers_rows_from_the_header_and_skips_blank_lines() -> None:
    text = 'sku,name,price_yuan\r\nP1,苹果,1.50\r\n,,\r\nP2,"梨,大",2\r\n'
    header, body = read_table(text.encode("utf-8-sig"))
    assert header == ["sku", "name", "price_yuan"]
    assert body == [(2, ["P1", "苹果", "1.50"]), (4, ["P2", "梨,大", "2"])]


def test_gb18030_csv_from_chinese_excel_is_read() -> None:
    header, body = read_table("编码,名称,售价\nP1,红富士苹果,12.80\n".encode("gb18030"))
    assert header == ["编码", "名称", "售价"] and body == [(2, ["P1", "红富士苹果", "12.80"])]


def test_tab_separated_text_is_read() -> None:
    header, body = read_table("sku\tname\tprice_yuan\nP1\t苹果\t1\n".encode())
    assert header == ["sku", "name", "price_yuan"] and body == [(2, ["P1", "苹果", "1"])]


def test_xlsx_cells_keep_their_row_numbers() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["sku", "name", "price_yuan", "barcode"])
    sheet.append(["P1", "可乐", 3.5, 6901234567892])
    sheet.append([])
    sheet.append([1001, "水", 2, None])
    buffer = io.BytesIO()
    book.save(buffer)
    header, body = read_table(buffer.getvalue(), "x.xlsx")
    assert header == ["sku", "name", "price_yuan", "barcode"]
    assert [number for number, _ in body] == [2, 4]
    columns = map_header(header)
    first, second = (parse_row(n, cells, columns) for n, cells in body)
    assert (first.price, first.barcodes) == (350, ("6901234567892",))
    assert (second.sku, second.price) == ("1001", 200)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "catalog.import_empty"),
        (b"\r\n\r\n", "catalog.import_empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old-excel", "catalog.import_format"),
        (b"PK\x03\x04not-really-a-zip", "catalog.import_format"),
    ],
)
def test_unreadable_files_are_refused_as_a_whole(data: bytes, code: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        read_table(data, "products.csv")
    assert _code(exc) == code
