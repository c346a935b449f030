"""PURE pricing: cart in, priced cart out.

Price order (DOMAIN.md, Checkout): list price -> price override -> line discount -> item
promotion -> member tier discount -> order promotion (满减) -> order discount -> coupons ->
points -> rounding (抹零). The cashier's own changes (override, line discount) come first
because they set the price the offers work on; the manual order discount sits with the
other order-level reductions. Each step is one entry in :data:`STEPS`.

A step is a function ``(cart, lines) -> [Applied]``: it sees every line's current net and
returns, per offer it applied, how many fen it takes off each line (negative when it raises
a price).
The pipeline records every reduction on its line under the step's kind, so each fen of the
total can be explained per line, and sum(line.net) == total always holds: partial refunds
later reverse exactly what each line paid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from shouyin.errors import ValidationFailed
from shouyin.sales import offers as offer_steps
from shouyin.sales.offers import NO_OFFERS, Applied, Offers
from shouyin.shared.money import allocate, percent_of, round_div

Rounding = Literal["none", "jiao", "yuan"]
_ROUNDING_UNITS: dict[str, int] = {"none": 1, "jiao": 10, "yuan": 100}
_FULL_PERCENT = 10000  # basis points


@dataclass(frozen=True)
class Discount:
    """``amount``: fen off. ``percent``: basis points off (1000 = 10% off, i.e. 9折)."""

    kind: Literal["amount", "percent"]
    value: int


@dataclass(frozen=True)
class CartLine:
    product_id: int
    name: str
    unit_price: int  # fen per unit, or per kg when weighed
    quantity: int  # units, or grams when weighed
    weighed: bool = False
    price_override: int | None = None  # replaces unit_price; same unit as unit_price
    discount: Discount | None = None
    category_id: int | None = None
    member_discount: bool = True  # whether tier discounts apply to this product


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...]
    order_discount: Discount | None = None
    rounding: Rounding = "none"
    offers: Offers = NO_OFFERS


@dataclass(frozen=True)
class PricedLine:
    index: int
    product_id: int
    name: str
    quantity: int
    weighed: bool
    list_price: int
    unit_price: int  # effective, after override
    list_amount: int
    override_amount: int  # negative when the override is above the list price
    line_discount: int
    order_discount: int
    rounding: int
    net: int
    item_promotion: int = 0
    tier_discount: int = 0
    order_promotion: int = 0
    coupon: int = 0
    points: int = 0


@dataclass(frozen=True)
class Step:
    """One row of the price explanation; ``kind`` is "subtotal", "total" or a step's kind.

    ``label`` names the offer (a promotion's or coupon's name) and ``ref`` identifies it
    ("promotion:3", "coupon:AB12", "points:500", "tier").
    """

    kind: str
    amount: int  # signed fen: reductions negative
    label: str = ""
    ref: str | None = None


@dataclass(frozen=True)
class PricedCart:
    lines: tuple[PricedLine, ...]
    steps: tuple[Step, ...]
    subtotal: int
    discount_total: int  # subtotal - total: every reduction including rounding
    total: int

    @property
    def points_used(self) -> int:
        return sum(int(_ref_value(s)) for s in self.steps if _ref_kind(s) == "points")

    @property
    def coupon_codes(self) -> tuple[str, ...]:
        return tuple(_ref_value(s) for s in self.steps if _ref_kind(s) == "coupon")


def _ref_kind(step: Step) -> str | None:
    return step.ref.split(":", 1)[0] if step.ref else None


def _ref_value(step: Step) -> str:
    return (step.ref or "").split(":", 1)[-1]


@dataclass(frozen=True)
class WorkLine:
    """A line on its way through the steps: list amount and the reductions so far."""

    index: int
    source: CartLine
    list_amount: int
    reductions: tuple[tuple[str, int], ...] = ()

    @property
    def net(self) -> int:
        return self.list_amount - sum(amount for _, amount in self.reductions)

    def reduction(self, kind: str) -> int:
        return sum(amount for step, amount in self.reductions if step == kind)


PricingStep = Callable[[Cart, tuple[WorkLine, ...]], list[Applied]]


def price_cart(cart: Cart) -> PricedCart:
    """Run the cart through :data:`STEPS`; raises ValidationFailed ("cart.*") on bad input."""
    _validate_cart(cart)
    lines = tuple(
        WorkLine(index=i, source=line, list_amount=_amount(line.unit_price, line))
        for i, line in enumerate(cart.lines)
    )
    subtotal = sum(line.list_amount for line in lines)
    steps = [Step("subtotal", subtotal)]
    for kind, step in STEPS:
        for applied in step(cart, lines):
            lines = tuple(
                replace(line, reductions=(*line.reductions, (kind, cut)))
                for line, cut in zip(lines, applied.cuts, strict=True)
            )
            if any(applied.cuts):  # an override up and one down may cancel; still worth a row
                steps.append(Step(kind, -sum(applied.cuts), applied.label, applied.ref))
    total = sum(line.net for line in lines)
    steps.append(Step("total", total))
    return PricedCart(
        lines=tuple(_priced_line(line) for line in lines),
        steps=tuple(steps),
        subtotal=subtotal,
        discount_total=subtotal - total,
        total=total,
    )


def _amount(price: int, line: CartLine) -> int:
    """What a line costs at ``price``: per unit, or per kg for grams (rounded once)."""
    if line.weighed:
        return round_div(price * line.quantity, 1000)
    return price * line.quantity


def _effective_price(line: CartLine) -> int:
    return line.unit_price if line.price_override is None else line.price_override


def _priced_line(line: WorkLine) -> PricedLine:
    source = line.source
    return PricedLine(
        index=line.index,
        product_id=source.product_id,
        name=source.name,
        quantity=source.quantity,
        weighed=source.weighed,
        list_price=source.unit_price,
        unit_price=_effective_price(source),
        list_amount=line.list_amount,
        override_amount=line.reduction("price_override"),
        line_discount=line.reduction("line_discount"),
        order_discount=line.reduction("order_discount"),
        rounding=line.reduction("rounding"),
        net=line.net,
        item_promotion=line.reduction("item_promotion"),
        tier_discount=line.reduction("tier_discount"),
        order_promotion=line.reduction("order_promotion"),
        coupon=line.reduction("coupon"),
        points=line.reduction("points"),
    )


# --- steps ------------------------------------------------------------------------------


def _one(cuts: list[int]) -> list[Applied]:
    return [Applied(cuts)]


def _apply_overrides(cart: Cart, lines: tuple[WorkLine, ...]) -> list[Applied]:
    return _one(
        [
            line.net - _amount(_effective_price(line.source), line.source)
            if line.source.price_override is not None
            else 0
            for line in lines
        ]
    )


def _apply_line_discounts(cart: Cart, lines: tuple[WorkLine, ...]) -> list[Applied]:
    cuts = []
    for line in lines:
        discount = line.source.discount
        cut = 0 if discount is None else _discount_amount(discount, line.net)
        if cut > line.net:
            raise _discount_error(
                "A line discount is larger than the line amount.",
                index=line.index,
                discount=cut,
                amount=line.net,
            )
        cuts.append(cut)
    return _one(cuts)


def _apply_order_discount(cart: Cart, lines: tuple[WorkLine, ...]) -> list[Applied]:
    remaining = sum(line.net for line in lines)
    if cart.order_discount is None:
        return []
    cut = _discount_amount(cart.order_discount, remaining)
    if cut > remaining:
        raise _discount_error(
            "The order discount is larger than the order total.",
            discount=cut,
            amount=remaining,
        )
    # Shares never exceed a line's net because cut <= remaining (largest remainder).
    return _one(allocate(cut, [line.net for line in lines]))


def _apply_rounding(cart: Cart, lines: tuple[WorkLine, ...]) -> list[Applied]:
    """抹零: the customer never pays the odd fen (or jiao); the shop gives them away."""
    remaining = sum(line.net for line in lines)
    cut = remaining % _ROUNDING_UNITS[cart.rounding]
    return _one(allocate(cut, [line.net for line in lines]))


STEPS: tuple[tuple[str, PricingStep], ...] = (
    ("price_override", _apply_overrides),
    ("line_discount", _apply_line_discounts),
    ("item_promotion", offer_steps.apply_item_promotions),
    ("tier_discount", offer_steps.apply_tier_discount),
    ("order_promotion", offer_steps.apply_order_promotion),
    ("order_discount", _apply_order_discount),
    ("coupon", offer_steps.apply_coupons),
    ("points", offer_steps.apply_points),
    ("rounding", _apply_rounding),
)
"""The pricing pipeline, in price order. Add a step by adding an entry here."""


def _discount_amount(discount: Discount, base: int) -> int:
    if discount.kind == "percent":
        return percent_of(base, discount.value)
    return discount.value


# --- validation -------------------------------------------------------------------------


def _validate_cart(cart: Cart) -> None:
    if not cart.lines:
        raise ValidationFailed("The cart has no lines.", code="cart.empty")
    if cart.rounding not in _ROUNDING_UNITS:
        raise ValidationFailed(
            "The rounding setting is not one of none, jiao or yuan.",
            code="cart.rounding_invalid",
            details={"rounding": cart.rounding},
        )
    for index, line in enumerate(cart.lines):
        _validate_line(index, line)
    if cart.order_discount is not None:
        _validate_discount(cart.order_discount, "The order discount is not valid.")


def _validate_line(index: int, line: CartLine) -> None:
    if not _is_int(line.quantity) or line.quantity <= 0:
        raise ValidationFailed(
            "The quantity of a line must be a whole number above zero.",
            code="cart.quantity_invalid",
            details={"index": index, "quantity": line.quantity},
        )
    for price in (line.unit_price, line.price_override):
        if price is not None and (not _is_int(price) or price < 0):
            raise ValidationFailed(
                "A price must be a whole number of fen, zero or more.",
                code="cart.price_invalid",
                details={"index": index, "price": price},
            )
    if line.discount is not None:
        _validate_discount(line.discount, "A line discount is not valid.", index=index)


def _validate_discount(discount: Discount, message: str, **details: Any) -> None:
    valid = (
        discount.kind in ("amount", "percent")
        and _is_int(discount.value)
        and discount.value >= 0
        and (discount.kind == "amount" or discount.value <= _FULL_PERCENT)
    )
    if not valid:
        raise _discount_error(message, **details, kind=discount.kind, value=discount.value)


def _discount_error(message: str, **details: Any) -> ValidationFailed:
    return ValidationFailed(message, code="cart.discount_invalid", details=details)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
