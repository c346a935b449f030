from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shouyin.errors import ValidationFailed
from shouyin.sales.pricing import (
    STEPS,
    Cart,
    CartLine,
    Discount,
    PricedCart,
    Rounding,
    Step,
    price_cart,
)


def line(price: int = 1000, quantity: int = 1, **kwargs: Any) -> CartLine:
    return CartLine(product_id=1, name="可乐", unit_price=price, quantity=quantity, **kwargs)


def assert_consistent(priced: PricedCart) -> None:
    assert sum(item.net for item in priced.lines) == priced.total
    assert priced.subtotal == sum(item.list_amount for item in priced.lines)
    assert priced.discount_total == priced.subtotal - priced.total
    assert priced.steps[0] == Step("subtotal", priced.subtotal)
    assert priced.steps[-1] == Step("total", priced.total)
    assert sum(s.amount for s in priced.steps[:-1]) == priced.total
    for item in priced.lines:
        reductions = item.override_amount + item.line_discount + item.order_discount
        assert item.net == item.list_amount - reductions - item.rounding
        assert item.net >= 0


# --- examples -----------------------------------------------------------------------------


def test_plain_cart() -> None:
    priced = price_cart(Cart(lines=(line(350, 2), line(1200, 1))))
    assert priced.total == priced.subtotal == 1900
    assert priced.steps == (Step("subtotal", 1900), Step("total", 1900))
    assert [item.index for item in priced.lines] == [0, 1]
    assert priced.lines[0].list_amount == 700
    assert priced.discount_total == 0


def test_weighed_line_rounds_half_away_from_zero() -> None:
    # 532 g at ￥12.80/kg = 680.96 fen -> 681; 250 g at ￥0.10/kg = 2.5 fen -> 3
    priced = price_cart(Cart(lines=(line(1280, 532, weighed=True), line(10, 250, weighed=True))))
    assert [item.list_amount for item in priced.lines] == [681, 3]


def test_price_override_down_and_up() -> None:
    cart = Cart(lines=(line(1000, 2, price_override=800), line(500, 1, price_override=600)))
    priced = price_cart(cart)
    first, second = priced.lines
    assert (first.list_price, first.unit_price, first.override_amount, first.net) == (
        1000,
        800,
        400,
        1600,
    )
    assert second.override_amount == -100
    assert second.net == 600
    assert Step("price_override", -300) in priced.steps
    assert priced.total == 2200
    assert_consistent(priced)


def test_weighed_override_uses_same_rounding() -> None:
    priced = price_cart(Cart(lines=(line(1280, 532, weighed=True, price_override=1000),)))
    assert priced.lines[0].net == 532
    assert priced.lines[0].override_amount == 681 - 532


def test_line_discounts_amount_and_percent() -> None:
    cart = Cart(
        lines=(
            line(1000, 2, discount=Discount("amount", 150)),
            line(999, 1, discount=Discount("percent", 1000)),  # 9折 of 9.99 = 99.9 -> 100 off
        )
    )
    priced = price_cart(cart)
    assert [item.line_discount for item in priced.lines] == [150, 100]
    assert Step("line_discount", -250) in priced.steps
    assert priced.total == 2999 - 250


def test_line_discount_applies_after_override() -> None:
    cart = Cart(lines=(line(1000, 1, price_override=500, discount=Discount("percent", 5000)),))
    assert price_cart(cart).lines[0].line_discount == 250


def test_order_discount_is_allocated_by_net() -> None:
    cart = Cart(
        lines=(line(100, 1), line(200, 1), line(0, 1)), order_discount=Discount("amount", 100)
    )
    priced = price_cart(cart)
    assert [item.order_discount for item in priced.lines] == [33, 67, 0]
    assert priced.total == 200
    assert Step("order_discount", -100) in priced.steps
    assert_consistent(priced)


def test_order_percent_discount_after_line_discounts() -> None:
    cart = Cart(
        lines=(line(1000, 1, discount=Discount("amount", 200)), line(1000, 1)),
        order_discount=Discount("percent", 2000),
    )
    priced = price_cart(cart)
    assert sum(item.order_discount for item in priced.lines) == 360  # 20% of 1800
    assert priced.total == 1440


@pytest.mark.parametrize(("rounding", "total"), [("none", 1999), ("jiao", 1990), ("yuan", 1900)])
def test_rounding(rounding: Rounding, total: int) -> None:
    priced = price_cart(Cart(lines=(line(1000, 1), line(999, 1)), rounding=rounding))
    assert priced.total == total
    assert sum(item.rounding for item in priced.lines) == 1999 - total
    assert (Step("rounding", total - 1999) in priced.steps) == (rounding != "none")
    assert_consistent(priced)


def test_steps_in_price_order() -> None:
    cart = Cart(
        lines=(line(1000, 3, price_override=900, discount=Discount("amount", 100)),),
        order_discount=Discount("amount", 55),
        rounding="jiao",
    )
    priced = price_cart(cart)
    assert priced.steps == (
        Step("subtotal", 3000),
        Step("price_override", -300),
        Step("line_discount", -100),
        Step("order_discount", -55),
        Step("rounding", -5),
        Step("total", 2540),
    )
    used = {s.kind for s in priced.steps}
    kinds = [kind for kind, _ in STEPS]
    assert [s.kind for s in priced.steps[1:-1]] == [k for k in kinds if k in used]


def test_everything_free_is_allowed() -> None:
    cart = Cart(lines=(line(500, 1, discount=Discount("percent", 10000)),), rounding="yuan")
    priced = price_cart(cart)
    assert priced.total == 0
    assert_consistent(priced)


# --- errors -------------------------------------------------------------------------------


def error_of(cart: Cart) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        price_cart(cart)
    assert caught.value.status == 422
    return caught.value


def test_empty_cart() -> None:
    assert error_of(Cart(lines=())).code == "cart.empty"


@pytest.mark.parametrize("quantity", [0, -1])
def test_quantity_invalid(quantity: int) -> None:
    error = error_of(Cart(lines=(line(), line(quantity=quantity))))
    assert error.code == "cart.quantity_invalid"
    assert error.details["index"] == 1


@pytest.mark.parametrize("bad", [line(-1), line(100, price_override=-5)])
def test_price_invalid(bad: CartLine) -> None:
    error = error_of(Cart(lines=(bad,)))
    assert error.code == "cart.price_invalid"
    assert error.details["index"] == 0


@pytest.mark.parametrize(
    "discount",
    [
        Discount("amount", 1001),
        Discount("amount", -1),
        Discount("percent", 10001),
        Discount("percent", -1),
        Discount("bogus", 1),  # type: ignore[arg-type]
    ],
)
def test_line_discount_invalid(discount: Discount) -> None:
    error = error_of(Cart(lines=(line(), line(1000, 1, discount=discount))))
    assert error.code == "cart.discount_invalid"
    assert error.details["index"] == 1
    assert error.message.endswith(".")


def test_line_discount_bigger_than_overridden_amount() -> None:
    bad = line(1000, 1, price_override=100, discount=Discount("amount", 200))
    assert error_of(Cart(lines=(bad,))).code == "cart.discount_invalid"


@pytest.mark.parametrize(
    "discount", [Discount("amount", 1801), Discount("percent", 10001), Discount("amount", -1)]
)
def test_order_discount_invalid(discount: Discount) -> None:
    cart = Cart(lines=(line(1000, 2, discount=Discount("amount", 200)),), order_discount=discount)
    assert error_of(cart).code == "cart.discount_invalid"


def test_order_discount_equal_to_total_is_fine() -> None:
    cart = Cart(lines=(line(1000, 2),), order_discount=Discount("amount", 2000))
    assert price_cart(cart).total == 0


def test_rounding_invalid() -> None:
    cart = Cart(lines=(line(),), rounding="fen")  # type: ignore[arg-type]
    assert error_of(cart).code == "cart.rounding_invalid"


# --- properties ---------------------------------------------------------------------------


ROUNDINGS: list[Rounding] = ["none", "jiao", "yuan"]


@st.composite
def discounts(draw: st.DrawFn, max_amount: int) -> Discount | None:
    kind = draw(st.sampled_from(["none", "amount", "percent"]))
    if kind == "amount":
        return Discount("amount", draw(st.integers(0, max_amount)))
    if kind == "percent":
        return Discount("percent", draw(st.integers(0, 10000)))
    return None


@st.composite
def cart_lines(draw: st.DrawFn, allow_raise: bool = True) -> CartLine:
    weighed = draw(st.booleans())
    price = draw(st.integers(0, 100_000))
    quantity = draw(st.integers(1, 5000 if weighed else 50))
    top = 200_000 if allow_raise else price
    override = draw(st.none() | st.integers(0, top))
    effective = price if override is None else override
    amount = round_div_ref(effective * quantity, 1000) if weighed else effective * quantity
    return CartLine(
        product_id=draw(st.integers(1, 100)),
        name="商品",
        unit_price=price,
        quantity=quantity,
        weighed=weighed,
        price_override=override,
        discount=draw(discounts(amount)),
    )


def round_div_ref(numerator: int, denominator: int) -> int:
    return (numerator + denominator // 2) // denominator  # non-negative half-up


@st.composite
def carts(draw: st.DrawFn, allow_raise: bool = True) -> Cart:
    lines = tuple(draw(st.lists(cart_lines(allow_raise), min_size=1, max_size=8)))
    order = draw(
        st.none()
        | st.just(Discount("amount", 0))
        | st.integers(0, 10000).map(lambda bp: Discount("percent", bp))
    )
    rounding = draw(st.sampled_from(ROUNDINGS))
    return Cart(lines=lines, order_discount=order, rounding=rounding)


@given(carts())
def test_nets_always_sum_to_total_and_never_go_negative(cart: Cart) -> None:
    priced = price_cart(cart)
    assert_consistent(priced)
    assert priced.total >= 0
    assert all(item.line_discount >= 0 and item.order_discount >= 0 for item in priced.lines)
    assert all(item.rounding >= 0 for item in priced.lines)


@given(carts(allow_raise=False))
def test_total_never_above_subtotal_without_raised_prices(cart: Cart) -> None:
    priced = price_cart(cart)
    assert priced.total <= priced.subtotal
    assert priced.discount_total >= 0


@given(carts(), st.sampled_from([("jiao", 10), ("yuan", 100)]))
def test_rounding_removes_less_than_one_unit(cart: Cart, setting: tuple[Rounding, int]) -> None:
    rounding, unit = setting
    unrounded = price_cart(Cart(cart.lines, cart.order_discount, "none"))
    priced = price_cart(Cart(cart.lines, cart.order_discount, rounding))
    assert priced.total % unit == 0
    assert 0 <= unrounded.total - priced.total <= unit - 1
    assert sum(item.rounding for item in priced.lines) == unrounded.total - priced.total


@given(carts(), st.data())
def test_any_order_amount_discount_up_to_the_total_fits(cart: Cart, data: st.DataObject) -> None:
    before = price_cart(Cart(cart.lines)).total
    cut = data.draw(st.integers(0, before))
    priced = price_cart(Cart(cart.lines, Discount("amount", cut)))
    assert priced.total == before - cut
    assert_consistent(priced)


@given(carts())
def test_pricing_is_deterministic(cart: Cart) -> None:
    assert price_cart(cart) == price_cart(cart)
