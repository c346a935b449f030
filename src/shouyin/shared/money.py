"""Money as integer fen, the project's one rounding rule, and exact allocation.

No float and no Decimal anywhere: every amount is an ``int`` of fen (1 yuan = 100 fen).
Everything that divides money goes through :func:`round_div` (one rule, one place), and
everything that splits an amount across lines goes through :func:`allocate`, so parts
always add up to the whole and a refund can reverse exactly what a sale recorded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shouyin.errors import ValidationFailed

YUAN_SIGN = "￥"  # full-width U+FFE5: exists in GBK, unlike "¥" U+00A5, so receipts print it

# Capped at 15 integer digits: far above any real amount, and it keeps int() away from
# Python's 4300-digit conversion limit, which would surface as a bare ValueError.
_YUAN_PATTERN = re.compile(r"(-)?([0-9]{1,15})(?:\.([0-9]{1,2}))?", re.ASCII)


@dataclass(frozen=True, slots=True, order=True)
class Money:
    """An amount of money in fen. Arithmetic stays in integers."""

    fen: int

    def __post_init__(self) -> None:
        # bool is an int subclass; Money(True) is always a bug upstream.
        if not isinstance(self.fen, int) or isinstance(self.fen, bool):
            raise TypeError(f"Money needs an int number of fen, got {type(self.fen).__name__}")

    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    @classmethod
    def from_yuan(cls, text: str) -> Money:
        """Parse "12", "12.3", "12.30" or "-1.5" exactly; more than two decimals is an error."""
        match = _YUAN_PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ValidationFailed(
                "The amount is not a valid number of yuan with at most two decimals.",
                code="money.invalid",
                details={"value": str(text)},
            )
        sign, whole, decimals = match.groups()
        fen = int(whole) * 100 + int((decimals or "0").ljust(2, "0"))
        return cls(-fen if sign else fen)

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen + other.fen)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.fen - other.fen)

    def __neg__(self) -> Money:
        return Money(-self.fen)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int) or isinstance(factor, bool):
            return NotImplemented
        return Money(self.fen * factor)

    __rmul__ = __mul__

    def yuan_str(self) -> str:
        """The plain number, e.g. "12.30" or "-1.50", for inputs and exports."""
        sign = "-" if self.fen < 0 else ""
        yuan, fen = divmod(abs(self.fen), 100)
        return f"{sign}{yuan}.{fen:02d}"

    def format(self) -> str:
        """The form shown to people, e.g. "￥12.30" or "-￥1.50"."""
        sign = "-" if self.fen < 0 else ""
        return f"{sign}{YUAN_SIGN}{Money(abs(self.fen)).yuan_str()}"

    def __str__(self) -> str:
        return self.format()


def round_div(numerator: int, denominator: int) -> int:
    """Divide and round half away from zero, in integers only.

    THE rounding rule of the project (weighed prices, percentage discounts, points value):
    2.5 fen -> 3 fen and -2.5 fen -> -3 fen, so a refund mirrors its sale exactly.
    """
    if denominator == 0:
        raise ZeroDivisionError("round_div by zero")
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    if 2 * remainder >= abs(denominator):
        quotient += 1
    negative = (numerator < 0) != (denominator < 0)
    return -quotient if negative else quotient


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` so the parts sum exactly to ``total``.

    Largest remainder: every part gets the floor of its exact share, then the fen left over
    go one each to the largest fractional remainders, lower index first on ties. Each part is
    therefore within one fen of its exact share. All-zero weights split evenly by count.
    A negative total is allocated as its absolute value and negated, so a refund is the
    mirror image of the sale.
    """
    if any(weight < 0 for weight in weights):
        raise ValueError("allocate needs non-negative weights")
    if not weights:
        if total != 0:
            raise ValueError("cannot allocate a non-zero total over no weights")
        return []
    if total < 0:
        return [-part for part in allocate(-total, weights)]
    if sum(weights) == 0:
        weights = [1] * len(weights)
    weight_sum = sum(weights)
    shares = [divmod(total * weight, weight_sum) for weight in weights]
    parts = [floor for floor, _ in shares]
    leftover = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-shares[i][1], i))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return parts


def percent_of(amount: int, basis_points: int) -> int:
    """``basis_points`` hundredths of a percent of ``amount`` (1000 = 10%), rounded once."""
    return round_div(amount * basis_points, 10000)


def format_fen(fen: int) -> str:
    return Money(fen).format()
