"""Scale labels (电子秤条码): EAN-13 barcodes printed by the shop's scales. Pure: no database.

GS1 keeps the prefixes 20-29 for in-store use, and Chinese scales (大华, 顶尖, 寺冈, ...) print
labels such as ``2 F PPPPP VVVVV C``: a 2, a flag digit, the product's number in the scale
(PLU, 货号), the weight in grams or the price in fen, and the EAN-13 check digit. Where each
part sits is a setting (``SHOUYIN_SCALE_LAYOUT``), read here as a pattern of letters:

    F  flag: the leading digits, which must be one of the configured prefixes (20-29)
    P  the PLU
    V  the value: grams (``SHOUYIN_SCALE_VALUE=weight``) or fen (``price``)
    X  a digit to ignore (some layouts put a check digit over the price here)
    C  the EAN-13 check digit, last

Spaces in the pattern are for reading only: "FF PPPPP VVVVV C" is the default.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from shouyin.errors import ValidationFailed
from shouyin.shared.money import round_div

ValueKind = Literal["weight", "price"]
DEFAULT_LAYOUT = "FF PPPPP VVVVV C"
DEFAULT_PREFIXES = "20-29"
OFF = "off"
CODE_LENGTH = 13
# The till and the cart take at most this many grams on one line.
MAX_GRAMS = 999_999
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_LAYOUT = re.compile(r"(F+)([PVX]+)C")


class LayoutError(ValueError):
    """The configured layout cannot be read: a setting to fix, not a cashier's mistake."""


def check_digit(body: str) -> int:
    """The GS1 check digit for ``body`` (every digit but the last): weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


@dataclass(frozen=True)
class ScaleReading:
    """What one label says."""

    code: str
    plu: str  # as printed, leading zeros kept
    kind: ValueKind
    value: int  # grams for weight labels, fen for price labels

    def plu_candidates(self) -> list[str]:
        """The PLU as printed ("00123"), then as the scale's number ("123")."""
        return list(dict.fromkeys(c for c in (self.plu, self.plu.lstrip("0")) if c))


@dataclass(frozen=True)
class ScaleLayout:
    flag: slice
    plu: slice
    value: slice
    kind: ValueKind
    prefixes: frozenset[str]

    @classmethod
    def parse(cls, layout: str, kind: str, prefixes: str) -> ScaleLayout:
        pattern = "".join(layout.split()).upper()
        if len(pattern) != CODE_LENGTH or not _LAYOUT.fullmatch(pattern):
            raise LayoutError(
                f"scale layout {layout!r}: 13 letters, F first, C last, P, V and X between"
            )
        if kind not in ("weight", "price"):
            raise LayoutError(f"scale value {kind!r}: use weight or price")
        value_kind: ValueKind = "weight" if kind == "weight" else "price"
        flag, plu, value = (_span(pattern, letter) for letter in "FPV")
        return cls(flag, plu, value, value_kind, _prefixes(prefixes, _width(flag)))

    def matches(self, code: str) -> bool:
        """Whether ``code`` has the shape of this layout's labels (the check digit aside)."""
        return (
            len(code) == CODE_LENGTH
            and _DIGITS.fullmatch(code) is not None
            and code[self.flag] in self.prefixes
        )

    def read(self, code: str) -> ScaleReading:
        """The PLU and value of a label that ``matches``; a misread label is refused."""
        if check_digit(code[:-1]) != int(code[-1]):
            raise ValidationFailed(
                "The scale label {code} did not scan correctly (wrong check digit): scan it again.",
                code="scale.check_digit_invalid",
                details={"code": code},
            )
        value = int(code[self.value])
        if value == 0:
            raise ValidationFailed(
                "The scale label {code} shows no weight or price.",
                code="scale.value_zero",
                details={"code": code},
            )
        return ScaleReading(code=code, plu=code[self.plu], kind=self.kind, value=value)

    def compose(self, prefix: str, plu: str, value: int) -> str:
        """The label a scale would print (for tests and for printing labels ourselves)."""
        digits = ["0"] * (CODE_LENGTH - 1)
        shown = f"{value:0{_width(self.value)}d}"
        for part, text in ((self.flag, prefix), (self.plu, plu), (self.value, shown)):
            if len(text) != _width(part) or not _DIGITS.fullmatch(text):
                raise ValueError(f"{text!r} does not fit {_width(part)} digits")
            digits[part] = list(text)
        body = "".join(digits)
        return body + str(check_digit(body))


def _width(part: slice) -> int:
    return int(part.stop) - int(part.start)


def _span(pattern: str, letter: str) -> slice:
    start, stop = pattern.find(letter), pattern.rfind(letter) + 1
    if start < 0 or pattern[start:stop] != letter * (stop - start):
        raise LayoutError(f"scale layout {pattern!r}: needs one unbroken run of {letter}")
    return slice(start, stop)


def _prefixes(text: str, width: int) -> frozenset[str]:
    """ "20-29" or "21,22": every prefix as long as the F run, and in GS1's 2x range."""
    found: set[str] = set()
    for item in "".join(text.split()).split(","):
        low, _, high = item.partition("-")
        high = high or low
        if not (len(low) == len(high) == width and _DIGITS.fullmatch(low + high)):
            raise LayoutError(f"scale prefix {item!r}: {width} digits, or a range of them")
        found.update(f"{n:0{width}d}" for n in range(int(low), int(high) + 1))
    if not found or any(not prefix.startswith("2") for prefix in found):
        raise LayoutError(f"scale prefixes {text!r}: in-store codes start with 2")
    return frozenset(found)


@lru_cache(maxsize=8)
def layout_of(layout: str, kind: str, prefixes: str) -> ScaleLayout | None:
    """The layout the settings describe, or None when scale labels are turned off."""
    if layout.strip().lower() == OFF:
        return None
    return ScaleLayout.parse(layout, kind, prefixes)


def line_price(unit_price: int, grams: int) -> int:
    """What ``grams`` cost at ``unit_price`` fen per kg: checkout's rule, rounded once."""
    return round_div(unit_price * grams, 1000)


def grams_for_price(price: int, unit_price: int) -> int:
    """The weight whose line price is closest to the printed ``price`` (the lighter on a tie).

    When the scale and the catalog agree on the price per kg, the scale itself worked the
    printed price out from a whole number of grams, so some weight gives it exactly.
    """
    middle = round_div(price * 1000, unit_price)
    candidates = [g for g in (middle - 1, middle, middle + 1) if g >= 1]
    return min(candidates, key=lambda g: (abs(line_price(unit_price, g) - price), g))


def quantity_grams(reading: ScaleReading, *, unit_price: int, name: str) -> int:
    """The grams to sell for a label: as printed, or worked out from its price."""
    if reading.kind == "weight":
        grams = reading.value
    elif unit_price <= 0:
        raise ValidationFailed(
            "{name} has no price per kg, so the weight behind a price label cannot be worked out.",
            code="scale.unit_price_missing",
            details={"name": name, "code": reading.code},
        )
    else:
        grams = grams_for_price(reading.value, unit_price)
    if grams > MAX_GRAMS:
        raise ValidationFailed(
            "The scale label {code} comes to more than {max} g.",
            code="scale.quantity_too_large",
            details={"code": reading.code, "max": MAX_GRAMS},
        )
    return grams
