from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shouyin.errors import ValidationFailed
from shouyin.sales.tender import AppliedTender, Settlement, Tender, settle


def cash(amount: int, reference: str | None = None) -> Tender:
    return Tender("cash", amount, reference)


def card(amount: int, reference: str | None = "T123") -> Tender:
    return Tender("card", amount, reference)


# --- examples -----------------------------------------------------------------------------


def test_exact_cash() -> None:
    assert settle(1330, [cash(1330)]) == Settlement(
        tenders=(AppliedTender("cash", 1330, 1330, 0),), paid=1330, change=0
    )


def test_cash_with_change() -> None:
    result = settle(1330, [cash(2000)])
    assert result.tenders == (AppliedTender("cash", 1330, 2000, 670),)
    assert (result.paid, result.change) == (2000, 670)


def test_card_then_cash_regardless_of_input_order() -> None:
    result = settle(5000, [cash(2000), card(3500)])
    assert [t.method for t in result.tenders] == ["card", "cash"]
    assert result.tenders[0] == AppliedTender("card", 3500, 3500, 0, "T123")
    assert result.tenders[1] == AppliedTender("cash", 1500, 2000, 500)
    assert result.change == 500


def test_card_exactly_covers_total() -> None:
    result = settle(800, [card(500), card(300, "T222")])
    assert [t.amount for t in result.tenders] == [500, 300]
    assert result.change == 0


def test_cash_tenders_are_merged() -> None:
    result = settle(1500, [cash(1000), cash(1000, "drawer-1")])
    assert result.tenders == (AppliedTender("cash", 1500, 2000, 500, "drawer-1"),)


def test_cash_beyond_what_card_already_covered_is_all_change() -> None:
    result = settle(1000, [card(1000), cash(500)])
    assert result.tenders[1] == AppliedTender("cash", 0, 500, 500)
    assert result.change == 500


def test_zero_total_needs_no_tender() -> None:
    assert settle(0, []) == Settlement(tenders=(), paid=0, change=0)


def test_zero_total_with_cash_gives_it_all_back() -> None:
    result = settle(0, [cash(100)])
    assert result.tenders == (AppliedTender("cash", 0, 100, 100),)
    assert result.change == 100


def test_negative_total_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        settle(-1, [])


# --- errors -------------------------------------------------------------------------------


def error_of(total: int, tenders: list[Tender]) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        settle(total, tenders)
    assert caught.value.status == 422
    return caught.value


@pytest.mark.parametrize("amount", [0, -100])
def test_amount_invalid(amount: int) -> None:
    error = error_of(1000, [card(500), cash(amount)])
    assert error.code == "payment.amount_invalid"
    assert error.details["index"] == 1


def test_method_invalid() -> None:
    error = error_of(1000, [Tender("bitcoin", 1000)])  # type: ignore[arg-type]
    assert error.code == "payment.method_invalid"


def test_card_cannot_overpay() -> None:
    error = error_of(1000, [card(600), card(500)])
    assert error.code == "payment.overpaid_noncash"
    assert error.details == {"total": 1000, "non_cash": 1100}


def test_card_on_zero_total_is_overpaid() -> None:
    assert error_of(0, [card(1)]).code == "payment.overpaid_noncash"


def test_insufficient() -> None:
    error = error_of(1000, [card(300), cash(600)])
    assert error.code == "payment.insufficient"
    assert error.details == {"total": 1000, "paid": 900}


def test_nothing_tendered_for_a_positive_total() -> None:
    error = error_of(1, [])
    assert error.code == "payment.insufficient"
    assert error.details == {"total": 1, "paid": 0}


# --- properties ---------------------------------------------------------------------------

tenders_lists = st.lists(
    st.builds(Tender, st.sampled_from(["cash", "card"]), st.integers(1, 100_000), st.just("T123")),
    max_size=6,
)


@given(tenders_lists, st.data())
def test_settlement_invariants(tenders: list[Tender], data: st.DataObject) -> None:
    non_cash = sum(t.amount for t in tenders if t.method != "cash")
    handed = sum(t.amount for t in tenders)
    total = data.draw(st.integers(non_cash, handed), label="total")
    result = settle(total, tenders)
    assert sum(t.amount for t in result.tenders) == total
    assert result.paid == handed
    assert result.change == handed - total >= 0
    assert sum(t.change for t in result.tenders) == result.change
    for applied in result.tenders:
        assert applied.change >= 0
        assert applied.amount >= 0
        assert applied.tendered - applied.change == applied.amount
        if applied.method != "cash":
            assert applied.change == 0
    assert sum(t.method == "cash" for t in result.tenders) <= 1


@given(st.integers(0, 300_000), tenders_lists)
def test_settle_either_succeeds_or_says_why(total: int, tenders: list[Tender]) -> None:
    non_cash = sum(t.amount for t in tenders if t.method != "cash")
    handed = sum(t.amount for t in tenders)
    if non_cash > total or handed < total:
        expected = "payment.overpaid_noncash" if non_cash > total else "payment.insufficient"
        with pytest.raises(ValidationFailed) as caught:
            settle(total, tenders)
        assert caught.value.code == expected
    else:
        assert sum(t.amount for t in settle(total, tenders).tenders) == total
