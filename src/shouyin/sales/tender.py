"""PURE settlement: how the payments handed over cover an order total.

Non-cash tenders (card, stored value, WeChat Pay and Alipay payment codes) are charged
exactly what they pay, so they can never give change and are applied first. Cash covers the rest and
is the only tender that gives change. The applied amounts always sum to the total, so the
books and a later refund to the original tender agree to the fen.

Decision: several cash tenders are merged into one (the cashier may key in the notes in
two goes); the merged tender keeps the first cash reference given, if any.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from shouyin.errors import ValidationFailed

TenderMethod = Literal["cash", "card", "stored_value", "wechat", "alipay"]
_METHODS: frozenset[str] = frozenset({"cash", "card", "stored_value", "wechat", "alipay"})
# Paid by a scanned payment code: the reference is the attempt's trade number (付款码).
CODE_METHODS: frozenset[str] = frozenset({"wechat", "alipay"})
# A card payment carries the terminal slip's reference number (参考号), to match the bank's
# statement and to refund the card later.
CARD_REFERENCE = re.compile(r"[A-Za-z0-9]{4,32}")


@dataclass(frozen=True)
class Tender:
    method: TenderMethod
    amount: int  # cash: the amount handed over; card: the amount charged
    reference: str | None = None


@dataclass(frozen=True)
class AppliedTender:
    method: TenderMethod
    amount: int  # applied to the order
    tendered: int  # handed over or charged
    change: int  # given back; only ever non-zero for cash
    reference: str | None = None


@dataclass(frozen=True)
class Settlement:
    tenders: tuple[AppliedTender, ...]
    paid: int  # everything handed over or charged (实收); paid - change == total
    change: int  # cash given back (找零)


def settle(total: int, tenders: Sequence[Tender]) -> Settlement:
    if total < 0:
        raise ValueError("an order total cannot be negative")
    _validate(tenders)
    non_cash = [_applied_non_cash(tender) for tender in tenders if tender.method != "cash"]
    non_cash_sum = sum(tender.amount for tender in non_cash)
    if non_cash_sum > total:
        raise ValidationFailed(
            "Card and stored-value payments are more than the amount due; only cash gives change.",
            code="payment.overpaid_noncash",
            details={"total": total, "non_cash": non_cash_sum},
        )
    cash = [tender for tender in tenders if tender.method == "cash"]
    paid = non_cash_sum + sum(tender.amount for tender in cash)
    if paid < total:
        raise ValidationFailed(
            "The payments do not cover the amount due.",
            code="payment.insufficient",
            status=422,
            details={"total": total, "paid": paid},
        )
    applied = tuple(non_cash)
    if cash:
        applied += (_applied_cash(cash, total - non_cash_sum),)
    change = paid - total
    return Settlement(tenders=applied, paid=paid, change=change)


def _applied_non_cash(tender: Tender) -> AppliedTender:
    return AppliedTender(
        method=tender.method,
        amount=tender.amount,
        tendered=tender.amount,
        change=0,
        reference=tender.reference,
    )


def _applied_cash(cash: Sequence[Tender], remaining: int) -> AppliedTender:
    """One cash tender for all the cash: it takes what is left, the surplus is change."""
    tendered = sum(tender.amount for tender in cash)
    references = [tender.reference for tender in cash if tender.reference is not None]
    return AppliedTender(
        method="cash",
        amount=remaining,
        tendered=tendered,
        change=tendered - remaining,
        reference=references[0] if references else None,
    )


def _validate(tenders: Sequence[Tender]) -> None:
    for index, tender in enumerate(tenders):
        if tender.method not in _METHODS:
            raise ValidationFailed(
                "The payment method is not supported.",
                code="payment.method_invalid",
                details={"index": index, "method": tender.method},
            )
        amount = tender.amount
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise ValidationFailed(
                "A payment amount must be a whole number of fen above zero.",
                code="payment.amount_invalid",
                details={"index": index, "amount": amount},
            )
        if tender.method == "card" and not CARD_REFERENCE.fullmatch(tender.reference or ""):
            raise ValidationFailed(
                "A card payment needs the reference number from the terminal's slip "
                "(4-32 letters or digits).",
                code="payment.card_reference_required",
                details={"index": index},
            )
