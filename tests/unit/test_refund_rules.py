"""Refund arithmetic: partial returns in any order add up exactly to the sale, never below 0."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shouyin.errors import ValidationFailed
from shouyin.sales import refund_rules as rr
from shouyin.sales.refund_rules import LineHistory, SoldLine


@st.composite
def sale_and_returns(draw: st.DrawFn) -> tuple[list[SoldLine], int, list[list[tuple[int, int]]]]:
    """Lines of a sale, the points it redeemed, and its full return cut into partial returns."""
    count = draw(st.integers(1, 5))
    quantities = [draw(st.integers(1, 6)) for _ in range(count)]
    nets = [draw(st.integers(0, 50_000)) for _ in range(count)]
    points_fen = [draw(st.integers(0, min(net, 5_000))) for net in nets]
    redeemed = sum(points_fen) // 10
    shares = rr.points_shares(redeemed, points_fen)
    lines = [
        SoldLine(i + 1, q, False, net, share)
        for i, (q, net, share) in enumerate(zip(quantities, nets, shares, strict=True))
    ]
    # Every unit of every line, cut into chunks, then dealt into returns in a random order.
    chunks: list[tuple[int, int]] = []
    for line in lines:
        left = line.quantity
        while left:
            take = draw(st.integers(1, left))
            chunks.append((line.id, take))
            left -= take
    chunks = draw(st.permutations(chunks))
    returns: list[list[tuple[int, int]]] = []
    for chunk in chunks:
        if returns and draw(st.booleans()) and chunk[0] not in {c[0] for c in returns[-1]}:
            returns[-1].append(chunk)
        else:
            returns.append([chunk])
    return lines, redeemed, returns


@given(sale_and_returns())
def test_partial_returns_in_any_order_refund_exactly_the_sale(
    case: tuple[list[SoldLine], int, list[list[tuple[int, int]]]],
) -> None:
    lines, redeemed, returns = case
    by_id = {line.id: line for line in lines}
    history = {line.id: LineHistory() for line in lines}
    total_refund = total_points = 0
    for picks in returns:
        for line_id, quantity in picks:
            got = rr.line_refund(by_id[line_id], history[line_id], quantity)
            assert got.refund >= 0 and got.points_given >= 0
            before = history[line_id]
            history[line_id] = LineHistory(
                before.quantity + quantity, before.refund + got.refund,
                before.points_given + got.points_given,
            )  # fmt: skip
            total_refund += got.refund
            total_points += got.points_given
    assert total_refund == sum(line.net for line in lines)
    assert total_points == redeemed
    for line in lines:
        assert history[line.id].refund == line.net


@given(
    st.integers(0, 20_000), st.integers(0, 20_000), st.integers(0, 20_000),
    st.lists(st.integers(1, 100), min_size=1, max_size=8),
)  # fmt: skip
def test_tenders_take_back_stored_value_then_card_then_cash(
    sv: int, card: int, cash: int, cuts: list[int]
) -> None:
    total = sv + card + cash
    amounts = rr_cuts(total, cuts)
    paid = {"stored_value": sv, "card": card, "cash": cash}
    refunded: dict[str, int] = {}
    for amount in amounts:
        parts = rr.split_tenders(amount, paid=paid, refunded=refunded, refund_to="original")
        assert sum(parts.values()) == amount and all(v > 0 for v in parts.values())
        for method, value in parts.items():
            refunded[method] = refunded.get(method, 0) + value
    assert {k: v for k, v in refunded.items() if v} == {k: v for k, v in paid.items() if v}


def rr_cuts(total: int, weights: list[int]) -> list[int]:
    from shouyin.shared.money import allocate

    return allocate(total, weights)


@given(
    st.integers(0, 10_000), st.integers(0, 10_000),
    st.lists(st.integers(1, 100), min_size=1, max_size=8),
)  # fmt: skip
def test_stored_value_goes_back_in_the_ratio_it_was_spent(
    principal: int, bonus: int, cuts: list[int]
) -> None:
    back_principal = back_bonus = 0
    for amount in rr_cuts(principal + bonus, cuts):
        p, b = rr.stored_value_back(
            amount, principal_spent=principal, bonus_spent=bonus,
            sv_back_before=back_principal + back_bonus, principal_back_before=back_principal,
        )  # fmt: skip
        assert p >= 0 and b >= 0 and p + b == amount
        back_principal, back_bonus = back_principal + p, back_bonus + b
    assert (back_principal, back_bonus) == (principal, bonus)


@given(
    st.integers(0, 5_000), st.integers(1, 100_000),
    st.lists(st.integers(1, 100), min_size=1, max_size=8),
)  # fmt: skip
def test_earned_points_come_back_in_proportion_and_all_at_the_end(
    earned: int, total: int, cuts: list[int]
) -> None:
    parts = rr_cuts(total, cuts)
    taken = refunded = 0
    for index, amount in enumerate(parts):
        refunded += amount
        take = rr.points_to_take(
            earned=earned, total=total, refunded_after=refunded, taken_before=taken,
            whole=index == len(parts) - 1,
        )  # fmt: skip
        assert take >= 0
        taken += take
        assert taken <= earned
    assert taken == earned


def test_points_never_go_below_zero_and_the_shortfall_is_recorded() -> None:
    assert rr.recoverable(held=3, given=0, take=7) == (3, 4)
    assert rr.recoverable(held=0, given=5, take=7) == (5, 2)
    assert rr.recoverable(held=10, given=0, take=7) == (7, 0)


def test_a_cash_refund_is_refused_when_stored_value_paid() -> None:
    with pytest.raises(ValidationFailed) as refused:
        rr.split_tenders(100, paid={"stored_value": 50, "cash": 50}, refunded={},
                         refund_to="cash")  # fmt: skip
    assert refused.value.code == "return.refund_invalid"
    assert rr.split_tenders(100, paid={"card": 100}, refunded={}, refund_to="cash") == {"cash": 100}


def test_weighed_lines_go_back_whole() -> None:
    rice = SoldLine(1, 1500, True, 900, 0)
    with pytest.raises(ValidationFailed):
        rr.line_refund(rice, LineHistory(), 700)
    assert rr.line_refund(rice, LineHistory(), 1500).refund == 900
