"""PURE refund arithmetic for returns (退货): what a returned quantity gives back.

Every share is cumulative: the amount given back so far for a line (or an order) after this
return is ``round(whole * returned_so_far / sold)``, and this return gives the difference
from what earlier returns gave. Partial returns in any order therefore add up exactly to
the whole, and the return that completes a line (or the order) takes what is left.
No database, no web: plain numbers in, plain numbers out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from shouyin.errors import ValidationFailed
from shouyin.shared.money import allocate, round_div

RefundTo = Literal["original", "cash"]
# Stored value goes back first, then the payment codes and the card, each never more than it
# paid; cash can always take the rest.
TENDER_ORDER = ("stored_value", "wechat", "alipay", "card")


@dataclass(frozen=True)
class SoldLine:
    id: int
    quantity: int  # units, or grams when weighed
    weighed: bool
    net: int
    points_share: int  # points redeemed that this line carries (see points_shares)


@dataclass(frozen=True)
class LineHistory:
    """What earlier returns took off one order line."""

    quantity: int = 0
    refund: int = 0
    points_given: int = 0


@dataclass(frozen=True)
class LineRefund:
    line_id: int
    quantity: int
    refund: int
    points_given: int


def share(whole: int, part: int, of: int) -> int:
    """``whole * part / of`` with the project's one rounding rule; ``part == of`` gives all."""
    if of <= 0:
        return 0
    return round_div(whole * part, of)


def points_shares(points_redeemed: int, line_points_fen: Sequence[int]) -> list[int]:
    """The redeemed points each line carries, in proportion to the fen of points it got."""
    if points_redeemed <= 0 or not line_points_fen:
        return [0] * len(line_points_fen)
    weights = [max(0, fen) for fen in line_points_fen]
    if sum(weights) == 0:
        return [0] * len(line_points_fen)
    return allocate(points_redeemed, weights)


def check_quantity(line: SoldLine, before: LineHistory, quantity: int) -> None:
    if quantity <= 0:
        raise ValidationFailed(
            "A returned quantity must be above zero.",
            code="return.quantity_invalid",
            details={"order_line_id": line.id},
        )
    if before.quantity + quantity > line.quantity:
        raise ValidationFailed(
            "Line {order_line_id} sold {sold}; {returned} already returned, {asked} asked.",
            code="return.quantity_exceeded",
            details={"order_line_id": line.id, "sold": line.quantity,
                     "returned": before.quantity, "asked": quantity},
        )  # fmt: skip
    if line.weighed and (before.quantity or quantity != line.quantity):
        raise ValidationFailed(
            "Weighed goods are returned whole (all {sold} g) or not at all.",
            code="return.weighed_whole",
            details={"order_line_id": line.id, "sold": line.quantity},
        )


def line_refund(line: SoldLine, before: LineHistory, quantity: int) -> LineRefund:
    """The money and redeemed points returning ``quantity`` of ``line`` gives back."""
    check_quantity(line, before, quantity)
    after = before.quantity + quantity
    return LineRefund(
        line_id=line.id,
        quantity=quantity,
        refund=share(line.net, after, line.quantity) - before.refund,
        points_given=share(line.points_share, after, line.quantity) - before.points_given,
    )


def split_tenders(
    amount: int, *, paid: Mapping[str, int], refunded: Mapping[str, int], refund_to: RefundTo
) -> dict[str, int]:
    """How ``amount`` goes back: to the original tenders (stored value, WeChat, Alipay, card,
    then cash), or all in cash when the sale used no stored value."""
    if amount < 0:
        raise ValidationFailed(
            "These lines give back less than nothing; return them with the rest of the order.",
            code="return.refund_invalid",
        )
    if refund_to == "cash":
        if paid.get("stored_value", 0) > 0:
            raise ValidationFailed(
                "Stored value paid for this sale: the refund goes back to the card.",
                code="return.refund_invalid",
            )
        return {"cash": amount} if amount else {}
    parts: dict[str, int] = {}
    left = amount
    for method in TENDER_ORDER:
        room = max(0, paid.get(method, 0) - refunded.get(method, 0))
        take = min(room, left)
        if take:
            parts[method] = take
            left -= take
    if left:
        parts["cash"] = left
    return parts


def stored_value_back(
    sv_back: int, *, principal_spent: int, bonus_spent: int, sv_back_before: int,
    principal_back_before: int,
) -> tuple[int, int]:  # fmt: skip
    """(principal, bonus) of a stored-value refund, in the ratio the sale spent them."""
    spent = principal_spent + bonus_spent
    principal_after = share(principal_spent, sv_back_before + sv_back, spent)
    principal = min(sv_back, max(0, principal_after - principal_back_before))
    return principal, sv_back - principal


def points_to_take(
    *, earned: int, total: int, refunded_after: int, taken_before: int, whole: bool
) -> int:
    """Earned points taken back in proportion to the money refunded; all when whole."""
    wanted = earned if whole else min(earned, max(0, share(earned, refunded_after, total)))
    return max(0, wanted - taken_before)


def recoverable(*, held: int, given: int, take: int) -> tuple[int, int]:
    """(taken, unrecovered): points never go below zero; what is missing is recorded."""
    taken = min(take, max(0, held + given))
    return taken, take - taken
