from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shouyin.errors import ValidationFailed
from shouyin.shared.money import Money, allocate, format_fen, percent_of, round_div

fen_values = st.integers(min_value=-(10**12), max_value=10**12)
weights_lists = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30)


# --- Money -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("12", 1200),
        ("12.3", 1230),
        ("12.30", 1230),
        ("0.05", 5),
        ("-1.5", -150),
        ("-0", 0),
        (" 7.01 ", 701),
        ("000.10", 10),
    ],
)
def test_from_yuan_parses_exactly(text: str, fen: int) -> None:
    assert Money.from_yuan(text) == Money(fen)


@pytest.mark.parametrize(
    "text", ["", "abc", "1.234", "1.", ".5", "1,5", "1e3", "--1", "+1", "１２", "12.3.4", "¥12"]
)
def test_from_yuan_rejects_garbage(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Money.from_yuan(text)
    assert caught.value.code == "money.invalid"
    assert caught.value.status == 422


def test_from_yuan_rejects_absurdly_long_numbers() -> None:
    with pytest.raises(ValidationFailed):
        Money.from_yuan("9" * 5000)


@given(fen_values)
def test_yuan_str_round_trips(fen: int) -> None:
    assert Money.from_yuan(Money(fen).yuan_str()) == Money(fen)


def test_format() -> None:
    assert Money(1230).format() == "￥12.30"
    assert Money(-150).format() == "-￥1.50"
    assert Money(5).format() == "￥0.05"
    assert Money(0).format() == "￥0.00"
    assert str(Money(100)) == "￥1.00"
    assert Money(-150).yuan_str() == "-1.50"
    assert format_fen(123456) == "￥1234.56"


def test_arithmetic_and_comparison() -> None:
    a, b = Money(300), Money(120)
    assert a + b == Money(420)
    assert a - b == Money(180)
    assert -a == Money(-300)
    assert a * 3 == Money(900)
    assert 3 * a == Money(900)
    assert b < a
    assert a >= b
    assert Money.zero() == Money(0)
    assert sorted([a, b, Money.zero()]) == [Money(0), b, a]


def test_money_refuses_non_integers() -> None:
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True)
    with pytest.raises(TypeError):
        Money(100) * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money(100) + 5  # type: ignore[operator]


def test_money_is_immutable() -> None:
    money = Money(1)
    with pytest.raises(AttributeError):
        money.fen = 2  # type: ignore[misc]


# --- round_div ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (5, 2, 3),
        (-5, 2, -3),
        (5, -2, -3),
        (-5, -2, 3),
        (4, 3, 1),
        (5, 3, 2),
        (-4, 3, -1),
        (0, 7, 0),
        (1499, 1000, 1),
        (1500, 1000, 2),
        (10, 5, 2),
    ],
)
def test_round_div_half_away_from_zero(numerator: int, denominator: int, expected: int) -> None:
    assert round_div(numerator, denominator) == expected


def test_round_div_by_zero() -> None:
    with pytest.raises(ZeroDivisionError):
        round_div(1, 0)


@given(st.integers(-(10**15), 10**15), st.integers(-(10**6), 10**6).filter(bool))
def test_round_div_is_nearest_and_symmetric(numerator: int, denominator: int) -> None:
    result = round_div(numerator, denominator)
    exact = Fraction(numerator, denominator)
    assert abs(result - exact) <= Fraction(1, 2)
    assert round_div(-numerator, denominator) == -result
    if abs(result - exact) == Fraction(1, 2):
        assert abs(result) > abs(exact)


def test_percent_of() -> None:
    assert percent_of(1000, 1000) == 100
    assert percent_of(1005, 1000) == 101  # 100.5 rounds away from zero
    assert percent_of(999, 10000) == 999
    assert percent_of(-1005, 1000) == -101
    assert percent_of(1234, 0) == 0


# --- allocate -----------------------------------------------------------------------------


def test_allocate_examples() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(-100, [1, 1, 1]) == [-34, -33, -33]
    assert allocate(10, [0, 0]) == [5, 5]
    assert allocate(3, [0, 0]) == [2, 1]
    assert allocate(0, []) == []
    assert allocate(0, [5, 7]) == [0, 0]
    assert allocate(7, [0, 5, 0]) == [0, 7, 0]
    assert allocate(1, [1, 1]) == [1, 0]  # tie: lower index first
    assert allocate(2, [1, 2, 1]) == [1, 1, 0]  # shares 0.5, 1, 0.5: the tie goes to index 0


def test_allocate_errors() -> None:
    with pytest.raises(ValueError, match="no weights"):
        allocate(5, [])
    with pytest.raises(ValueError, match="non-negative"):
        allocate(5, [1, -1])


@given(st.integers(min_value=0, max_value=10**9), weights_lists)
def test_allocate_parts_sum_and_stay_near_share(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    effective = weights if sum(weights) else [1] * len(weights)
    for part, weight in zip(parts, effective, strict=True):
        assert part >= 0
        assert abs(part - Fraction(total * weight, sum(effective))) < 1


@given(st.integers(min_value=-(10**9), max_value=10**9), weights_lists)
def test_allocate_negative_mirrors_positive(total: int, weights: list[int]) -> None:
    assert allocate(-total, weights) == [-part for part in allocate(total, weights)]


@given(st.integers(min_value=0, max_value=10**9), weights_lists)
def test_allocate_zero_weight_gets_nothing(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    if sum(weights):
        assert all(part == 0 for part, weight in zip(parts, weights, strict=True) if weight == 0)
