"""Pinyin and initials of product names: what the search box matches against."""

from __future__ import annotations

import pytest

from shouyin.catalog.pinyin import INITIALS_MAX, PINYIN_MAX, pinyin_of


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("农夫山泉饮用天然水", "nongfushanquanyinyongtianranshui", "nfsqyytrs"),
        ("张三", "zhangsan", "zs"),
        # ü is typed as v on Chinese keyboards.
        ("绿茶", "lvcha", "lc"),
        # Heteronyms follow the phrase: 重庆 is chong, not zhong.
        ("重庆小面", "chongqingxiaomian", "cqxm"),
    ],
)
def test_chinese_names_give_toneless_pinyin_and_initials(
    name: str, full: str, initials: str
) -> None:
    assert pinyin_of(name) == (full, initials)


def test_letters_and_digits_are_kept_lower_case_and_punctuation_dropped() -> None:
    assert pinyin_of("可口可乐500ML") == ("kekoukele500ml", "kkkl500ml")
    assert pinyin_of("乐事薯片(原味)") == ("leshishupianyuanwei", "lsspyw")
    assert pinyin_of("Coca-Cola 可乐") == ("cocacolakele", "cocacolakl")


def test_full_width_letters_and_digits_become_ascii() -> None:
    assert pinyin_of("ＡＤ钙奶２２０ｍｌ") == ("adgainai220ml", "adgn220ml")


def test_names_without_letters_give_empty_strings() -> None:
    assert pinyin_of("") == ("", "")
    assert pinyin_of("（）—— !") == ("", "")


def test_results_fit_their_columns() -> None:
    full, initials = pinyin_of("装" * 120 + "a" * 200)
    assert len(full) == PINYIN_MAX and full.startswith("zhuang")
    assert len(initials) == INITIALS_MAX and initials.startswith("z" * 120)
