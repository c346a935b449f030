"""Scale labels: layouts, check digits, and the weight behind a price label."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shouyin.catalog.rules import ean_check_digit_ok
from shouyin.catalog.scale import (
    MAX_GRAMS,
    LayoutError,
    ScaleLayout,
    ScaleReading,
    check_digit,
    grams_for_price,
    layout_of,
    line_price,
    quantity_grams,
)
from shouyin.config import Settings
from shouyin.errors import ValidationFailed

DEFAULT = ScaleLayout.parse("FF PPPPP VVVVV C", "weight", "20-29")
PRICED = ScaleLayout.parse("FF PPPPP VVVVV C", "price", "20-29")
# 2 + flag, a 4-digit PLU, a price check digit we ignore, a 5-digit price.
ODD = ScaleLayout.parse("FFPPPPXVVVVVC", "price", "21,22")

LAYOUTS = st.sampled_from([DEFAULT, PRICED, ODD])


@st.composite
def labels(draw: st.DrawFn) -> tuple[ScaleLayout, str, str, int]:
    layout = draw(LAYOUTS)
    prefix = draw(st.sampled_from(sorted(layout.prefixes)))
    width = layout.plu.stop - layout.plu.start
    plu = draw(st.text("0123456789", min_size=width, max_size=width))
    value = draw(st.integers(1, 10 ** (layout.value.stop - layout.value.start) - 1))
    return layout, prefix, plu, value


def test_a_known_label_reads() -> None:
    # 大华/顶尖 style: 2, flag 2, PLU 00123, 00532 g, check digit 8.
    assert check_digit("220012300532") == 8
    assert ean_check_digit_ok("2200123005328")  # the catalog's own EAN check agrees
    reading = DEFAULT.read("2200123005328")
    assert reading == ScaleReading("2200123005328", "00123", "weight", 532)
    assert reading.plu_candidates() == ["00123", "123"]


def test_an_ordinary_barcode_is_not_a_scale_label() -> None:
    assert not DEFAULT.matches("6901234567892")  # 690: made in China
    assert not DEFAULT.matches("220012300532")  # 12 digits
    assert not DEFAULT.matches("22001230053２0")  # full-width digit
    assert not ODD.matches("2300123005320")  # prefix 23 is not configured


@given(labels())
def test_valid_labels_round_trip(label: tuple[ScaleLayout, str, str, int]) -> None:
    layout, prefix, plu, value = label
    code = layout.compose(prefix, plu, value)
    assert layout.matches(code)
    reading = layout.read(code)
    assert (reading.plu, reading.value, reading.kind) == (plu, value, layout.kind)


@given(labels(), st.integers(0, 12), st.integers(1, 9))
def test_any_single_wrong_digit_fails_the_check(
    label: tuple[ScaleLayout, str, str, int], position: int, shift: int
) -> None:
    layout, prefix, plu, value = label
    code = layout.compose(prefix, plu, value)
    wrong = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
    if not layout.matches(wrong):
        return  # the prefix changed: not a scale label at all
    with pytest.raises(ValidationFailed) as caught:
        layout.read(wrong)
    assert caught.value.code == "scale.check_digit_invalid"


def test_a_label_without_a_value_is_refused() -> None:
    code = DEFAULT.compose("20", "00123", 0)
    with pytest.raises(ValidationFailed) as caught:
        DEFAULT.read(code)
    assert caught.value.code == "scale.value_zero"


@given(st.integers(1, 99_999), st.integers(1, 100_000))
def test_the_grams_for_a_price_come_as_close_as_whole_grams_can(price: int, unit: int) -> None:
    assume(price * 2000 >= unit)  # a label for less than half a gram is no real label
    grams = grams_for_price(price, unit)
    charged = line_price(unit, grams)
    # Exact unless a gram costs more than a fen, and then within half a gram's worth.
    assert abs(charged - price) <= (unit + 1000) // 2000
    if unit <= 1000:
        assert charged == price
    for other in (grams - 1, grams + 1):
        if other >= 1:
            assert abs(line_price(unit, other) - price) >= abs(charged - price)


@given(st.integers(1, 99_999), st.integers(1, 200_000))
def test_a_price_the_scale_worked_out_is_charged_exactly(grams: int, unit: int) -> None:
    # The scale priced a whole number of grams at the catalog's price per kg.
    printed = line_price(unit, grams)
    if printed == 0:
        return
    assert line_price(unit, grams_for_price(printed, unit)) == printed


def test_quantity_of_weight_and_price_labels() -> None:
    weight = ScaleReading("x", "00123", "weight", 532)
    assert quantity_grams(weight, unit_price=0, name="香蕉") == 532
    price = ScaleReading("x", "00123", "price", 1596)  # 15.96 yuan at 30.00/kg
    assert quantity_grams(price, unit_price=3000, name="牛肉") == 532
    with pytest.raises(ValidationFailed) as no_price:
        quantity_grams(price, unit_price=0, name="牛肉")
    assert no_price.value.code == "scale.unit_price_missing"
    with pytest.raises(ValidationFailed) as too_much:
        quantity_grams(ScaleReading("x", "1", "price", 99_999), unit_price=1, name="x")
    assert too_much.value.code == "scale.quantity_too_large"
    assert too_much.value.details["max"] == MAX_GRAMS


@pytest.mark.parametrize(
    ("layout", "kind", "prefixes"),
    [
        ("FF PPPPP VVVVV", "weight", "20-29"),  # no check digit
        ("FF PPPPP VVVVVV C", "weight", "20-29"),  # 14 long
        ("FF PPVPP VVVVV C", "weight", "20-29"),  # PLU split in two
        ("PF FPPPP VVVVV C", "weight", "20-29"),  # prefix not first
        ("FF PPPPPPPPPP C", "weight", "20-29"),  # no value
        ("FF PPPPP VVVVV C", "count", "20-29"),
        ("FF PPPPP VVVVV C", "weight", "69"),  # not in-store
        ("FF PPPPP VVVVV C", "weight", "2"),  # one digit for two F
        ("FF PPPPP VVVVV C", "weight", "29-20"),
    ],
)
def test_unreadable_layouts_are_refused(layout: str, kind: str, prefixes: str) -> None:
    with pytest.raises(LayoutError):
        ScaleLayout.parse(layout, kind, prefixes)


def test_settings_check_the_layout_at_start() -> None:
    assert Settings(scale_layout="F PPPPPP VVVVV C", scale_prefixes="2").scale_prefixes == "2"
    with pytest.raises(ValueError, match="scale layout"):
        Settings(scale_layout="FF PPPPP VVVV C")
    assert layout_of("off", "weight", "20-29") is None
    assert layout_of("F PPPPPP VVVVV C", "weight", "2") is not None
