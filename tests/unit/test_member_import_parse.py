"""Reading member files: header aliases, column mapping, dates, gender words and encodings."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from shouyin.customers.import_rows import (
    map_columns,
    parse_birthday,
    parse_gender,
    parse_row,
    read_rows,
)
from shouyin.errors import DomainError


def test_english_and_chinese_headers_are_recognised() -> None:
    header = ["\ufeff手机号", "姓名", "性别", "生日", "邮箱", "地址", "会员卡号", "标签", "备注"]
    columns = map_columns([*header, "营销同意", "门店", "不认识"])
    assert columns["mobile"] == 0 and columns["name"] == 1 and columns["card_no"] == 6
    assert columns["store"] == 10 and len(columns) == 11
    english = map_columns(["Mobile", "Name", "card_no", "tags"])
    assert english == {"mobile": 0, "name": 1, "card_no": 2, "tags": 3}


def test_a_mapping_names_columns_the_aliases_do_not_know() -> None:
    columns = map_columns(["客户名", "联系电话", "姓名"], {"客户名": "name", "联系电话": "mobile"})
    assert columns == {"name": 0, "mobile": 1}


def test_missing_columns_and_unknown_mapping_targets_are_refused() -> None:
    with pytest.raises(DomainError) as missing:
        map_columns(["姓名", "地址"])
    assert missing.value.code == "member.import_columns"
    with pytest.raises(DomainError) as unknown:
        map_columns(["手机", "姓名"], {"手机": "phone_number"})
    assert unknown.value.code == "member.import_mapping"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1988-08-08", date(1988, 8, 8)),
        ("1988/8/8", date(1988, 8, 8)),
        ("19880808", date(1988, 8, 8)),
        (datetime(1988, 8, 8), date(1988, 8, 8)),
        ("", None),
    ],
)
def test_birthday_formats(text: object, expected: date | None) -> None:
    assert parse_birthday(text) == expected


@pytest.mark.parametrize("text", ["1990-02-30", "08/08/1988", "去年", "1988-13-01"])
def test_impossible_or_unreadable_birthdays_are_refused(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_birthday(text)
    assert caught.value.code == "member.birthday_invalid"


@pytest.mark.parametrize(
    ("word", "gender"),
    [("男", "m"), ("女", "f"), ("M", "m"), ("f", "f"), ("Female", "f"), ("", "u"), ("未知", "u")],
)
def test_gender_words(word: str, gender: str) -> None:
    assert parse_gender(word) == gender


def test_an_unknown_gender_word_is_an_error() -> None:
    with pytest.raises(DomainError) as caught:
        parse_gender("外星")
    assert caught.value.code == "member.import_gender"


def test_a_row_reads_tags_cards_and_flags() -> None:
    columns = map_columns(["手机", "姓名", "卡号", "标签", "营销同意", "门店"])
    row = parse_row(
        2, ["13812345678", "张三", "80001234", "老顾客|宝妈；VIP，常客", "同意", ""], columns
    )
    assert row.tags == ("老顾客", "宝妈", "VIP", "常客")
    assert row.card_no == "80001234" and row.marketing_opt_in is True and row.store is None
    # A card number of the wrong shape is dropped: the member gets a new card instead.
    odd = parse_row(3, ["13812345679", "李四", "AB-12", "", "否", "S01"], columns)
    assert odd.card_no is None and odd.marketing_opt_in is False and odd.store == "S01"


def test_a_gbk_csv_with_chinese_names_is_read() -> None:
    data = "手机号,姓名,地址\n13812345678,张三,北京市朝阳区\n".encode("gbk")
    header, body = read_rows(data, "members.csv")
    assert header == ["手机号", "姓名", "地址"]
    assert body == [(2, ["13812345678", "张三", "北京市朝阳区"])]


def test_utf8_with_a_bom_is_read() -> None:
    data = "手机号,姓名\n13812345678,王芳\n".encode("utf-8-sig")
    header, body = read_rows(data, "members.csv")
    assert map_columns(header) == {"mobile": 0, "name": 1}
    assert body[0][1][1] == "王芳"


def test_a_latin1_file_is_refused_with_a_clear_error() -> None:
    data = "mobile,name\n13812345678,Zoë\n13812345679,José,\n".encode("latin-1")
    with pytest.raises(DomainError) as caught:
        read_rows(data, "members.csv")
    assert caught.value.code == "member.import_encoding"
