"""Properties of the pure loyalty rules: stored value split, lots, earning, tiers, bonuses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shouyin.errors import ValidationFailed
from shouyin.loyalty import rules
from shouyin.loyalty.rules import BonusRule, Lot, TierLevel

FEN = st.integers(0, 10_000_000)
ORDERS: list[rules.SpendOrder] = ["principal_first", "bonus_first", "proportional"]

# --- stored value -------------------------------------------------------------------------


@st.composite
def card_and_amount(draw: st.DrawFn) -> tuple[int, int, int]:
    principal, bonus = draw(FEN), draw(FEN)
    return principal, bonus, draw(st.integers(0, principal + bonus))


@given(card_and_amount(), st.sampled_from(ORDERS))
def test_split_always_sums_to_the_amount_and_fits_each_part(
    card: tuple[int, int, int], order: rules.SpendOrder
) -> None:
    principal, bonus, amount = card
    from_principal, from_bonus = rules.split_stored_value(
        amount, principal=principal, bonus=bonus, order=order
    )
    assert from_principal + from_bonus == amount
    assert 0 <= from_principal <= principal
    assert 0 <= from_bonus <= bonus


@given(card_and_amount())
def test_principal_first_spends_bonus_only_when_principal_is_gone(
    card: tuple[int, int, int],
) -> None:
    principal, bonus, amount = card
    p, b = rules.split_stored_value(
        amount, principal=principal, bonus=bonus, order="principal_first"
    )
    assert p == min(amount, principal)
    assert b == 0 or p == principal


@given(card_and_amount())
def test_bonus_first_spends_principal_only_when_bonus_is_gone(card: tuple[int, int, int]) -> None:
    principal, bonus, amount = card
    p, b = rules.split_stored_value(amount, principal=principal, bonus=bonus, order="bonus_first")
    assert b == min(amount, bonus)
    assert p == 0 or b == bonus


@given(card_and_amount())
def test_proportional_is_within_a_fen_of_the_exact_share(card: tuple[int, int, int]) -> None:
    principal, bonus, amount = card
    assume(principal + bonus > 0)
    p, _ = rules.split_stored_value(amount, principal=principal, bonus=bonus, order="proportional")
    exact_times_total = amount * principal  # p ~= amount * principal / (principal + bonus)
    assert abs(p * (principal + bonus) - exact_times_total) < principal + bonus


@given(FEN, FEN, st.integers(1, 1000), st.sampled_from(ORDERS))
def test_split_refuses_more_than_the_card_holds(
    principal: int, bonus: int, extra: int, order: rules.SpendOrder
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        rules.split_stored_value(principal + bonus + extra, principal=principal, bonus=bonus,
                                 order=order)  # fmt: skip
    assert caught.value.code == "stored_value.insufficient"


@pytest.mark.parametrize("order", ORDERS)
def test_split_refuses_a_negative_amount(order: rules.SpendOrder) -> None:
    with pytest.raises(ValueError, match="negative"):
        rules.split_stored_value(-1, principal=100, bonus=100, order=order)


def test_split_examples() -> None:
    assert rules.split_stored_value(5000, principal=3000, bonus=3000, order="principal_first") == (
        3000,
        2000,
    )
    assert rules.split_stored_value(5000, principal=3000, bonus=3000, order="bonus_first") == (
        2000,
        3000,
    )
    assert rules.split_stored_value(5500, principal=10000, bonus=1000, order="proportional") == (
        5000,
        500,
    )


# --- points lots --------------------------------------------------------------------------

LOTS = st.lists(st.integers(0, 5000), max_size=8).map(
    lambda remaining: [Lot(id=i + 1, remaining=r) for i, r in enumerate(remaining)]
)


@st.composite
def lots_and_points(draw: st.DrawFn) -> tuple[list[Lot], int]:
    lots = draw(LOTS)
    return lots, draw(st.integers(0, sum(lot.remaining for lot in lots)))


@given(lots_and_points())
def test_spend_lots_takes_exactly_the_points_oldest_first(case: tuple[list[Lot], int]) -> None:
    lots, points = case
    taken = rules.spend_lots(lots, points)
    assert sum(take for _, take in taken) == points
    held = {lot.id: lot.remaining for lot in lots}
    assert all(0 < take <= held[lot_id] for lot_id, take in taken)
    ids = [lot_id for lot_id, _ in taken]
    assert len(set(ids)) == len(ids)
    # Oldest first: every lot before the last one touched is emptied (or was empty).
    if taken:
        last = ids[-1]
        order = [lot.id for lot in lots]
        assert ids == sorted(ids, key=order.index)
        for lot in lots[: order.index(last)]:
            assert dict(taken).get(lot.id, 0) == lot.remaining


@given(LOTS, st.integers(1, 1000))
def test_spend_lots_refuses_more_than_the_lots_hold(lots: list[Lot], extra: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        rules.spend_lots(lots, sum(lot.remaining for lot in lots) + extra)
    assert caught.value.code == "points.insufficient"


def test_spend_lots_refuses_negative_and_takes_nothing_for_zero() -> None:
    with pytest.raises(ValueError, match="negative"):
        rules.spend_lots([Lot(1, 10)], -1)
    assert rules.spend_lots([Lot(1, 10)], 0) == []


def test_spend_lots_example() -> None:
    lots = [Lot(7, 30), Lot(8, 0), Lot(9, 50), Lot(10, 100)]
    assert rules.spend_lots(lots, 60) == [(7, 30), (9, 30)]


# --- earning ------------------------------------------------------------------------------

EARN = st.integers(1, 100_000)
MULTIPLIER = st.integers(0, 500)


@given(st.integers(-10_000, 10_000_000), st.integers(0, 10_000_000), EARN, MULTIPLIER)
def test_points_earned_is_monotone_and_never_negative(
    paid: int, more: int, per_point: int, multiplier: int
) -> None:
    low = rules.points_earned(paid=paid, earn_fen_per_point=per_point, multiplier=multiplier)
    high = rules.points_earned(paid=paid + more, earn_fen_per_point=per_point,
                               multiplier=multiplier)  # fmt: skip
    assert 0 <= low <= high
    # Never a point the shop did not promise.
    assert low * per_point * 100 <= max(paid, 0) * multiplier


@given(st.integers(0, 10_000_000), EARN, MULTIPLIER, st.integers(0, 500))
def test_points_earned_grows_with_the_multiplier(
    paid: int, per_point: int, multiplier: int, more: int
) -> None:
    base = rules.points_earned(paid=paid, earn_fen_per_point=per_point, multiplier=multiplier)
    bigger = rules.points_earned(paid=paid, earn_fen_per_point=per_point,
                                 multiplier=multiplier + more)  # fmt: skip
    assert bigger >= base


def test_points_earned_examples() -> None:
    assert rules.points_earned(paid=5500, earn_fen_per_point=1000, multiplier=150) == 7
    assert rules.points_earned(paid=999, earn_fen_per_point=1000, multiplier=100) == 0
    assert rules.points_earned(paid=-5000, earn_fen_per_point=1000, multiplier=100) == 0


# --- tiers --------------------------------------------------------------------------------


@st.composite
def tier_ladders(draw: st.DrawFn) -> list[TierLevel]:
    """Tiers as the back office makes them: higher rank, higher threshold; rank 0 from zero."""
    steps = draw(st.lists(st.integers(1, 500_000), max_size=4))
    thresholds = [0]
    for step in steps:
        thresholds.append(thresholds[-1] + step)
    ladder = [TierLevel(id=10 + rank, rank=rank, threshold=t) for rank, t in enumerate(thresholds)]
    return draw(st.permutations(ladder))


GROWTH = st.integers(0, 3_000_000)


@given(tier_ladders(), GROWTH, GROWTH)
def test_tier_for_is_the_highest_reached_and_monotone(
    tiers: list[TierLevel], growth: int, more: int
) -> None:
    tier = rules.tier_for(growth, tiers)
    assert tier is not None and tier.threshold <= growth
    assert all(t.threshold > growth for t in tiers if t.rank > tier.rank)
    higher = rules.tier_for(growth + more, tiers)
    assert higher is not None and higher.rank >= tier.rank


@given(tier_ladders(), st.data(), GROWTH)
def test_upgrade_never_lowers_and_review_never_raises(
    tiers: list[TierLevel], data: st.DataObject, growth: int
) -> None:
    current = data.draw(st.none() | st.sampled_from(tiers))
    earned = rules.tier_for(growth, tiers)
    up = rules.upgrade_to(current, growth, tiers)
    if up is not None:
        assert current is None or up.rank > current.rank
        assert up == earned
    elif current is not None and earned is not None:
        assert earned.rank <= current.rank
    down = rules.review_to(current, growth, tiers)
    if down is not None:
        assert current is not None and down.rank < current.rank
        assert down == earned
    elif current is not None and earned is not None:
        assert earned.rank >= current.rank
    # A member never both moves up and down on the same growth.
    assert up is None or down is None


@given(tier_ladders(), GROWTH)
def test_upgrade_then_review_on_the_same_growth_keeps_the_tier(
    tiers: list[TierLevel], growth: int
) -> None:
    entry = min(tiers, key=lambda t: t.rank)
    up = rules.upgrade_to(entry, growth, tiers) or entry
    assert rules.review_to(up, growth, tiers) is None
    assert rules.upgrade_to(up, growth, tiers) is None


def test_no_tiers_defined() -> None:
    assert rules.tier_for(10**6, []) is None
    assert rules.upgrade_to(None, 10**6, []) is None
    assert rules.review_to(None, 10**6, []) is None


def test_expiry_policies() -> None:
    assert rules.expiry_date(date(2026, 3, 5), "end_of_next_year", 0) == date(2027, 12, 31)
    assert rules.expiry_date(date(2026, 12, 31), "end_of_next_year", 0) == date(2027, 12, 31)
    assert rules.expiry_date(date(2026, 3, 5), "days", 30) == date(2026, 3, 5) + timedelta(30)
    assert rules.expiry_date(date(2026, 3, 5), "never", 30) is None


# --- recharge bonus and redemption cap -----------------------------------------------------

BONUS_RULES = st.lists(
    st.builds(BonusRule, id=st.integers(1, 10_000), min_principal=st.integers(1, 1_000_000),
              bonus=st.integers(0, 200_000)),
    max_size=6,
)  # fmt: skip


@given(st.integers(0, 2_000_000), BONUS_RULES)
def test_recharge_bonus_picks_the_best_rule_reached(
    principal: int, offers: list[BonusRule]
) -> None:
    chosen = rules.recharge_bonus(principal, offers)
    reached = [rule for rule in offers if rule.min_principal <= principal]
    if not reached:
        assert chosen is None
        return
    assert chosen is not None and chosen in reached
    assert chosen.bonus == max(rule.bonus for rule in reached)


@given(st.integers(0, 2_000_000), st.integers(0, 2_000_000), BONUS_RULES)
def test_recharging_more_never_earns_a_smaller_bonus(
    principal: int, more: int, offers: list[BonusRule]
) -> None:
    low = rules.recharge_bonus(principal, offers)
    high = rules.recharge_bonus(principal + more, offers)
    assert (high.bonus if high else 0) >= (low.bonus if low else 0)


def test_recharge_bonus_example() -> None:
    offers = [BonusRule(1, 50_000, 5_000), BonusRule(2, 100_000, 15_000)]
    assert rules.recharge_bonus(49_999, offers) is None
    assert rules.recharge_bonus(99_999, offers) == offers[0]
    assert rules.recharge_bonus(100_000, offers) == offers[1]


@given(FEN, st.integers(0, 1_000_000), st.integers(1, 10_000), st.integers(0, 100))
def test_max_redeemable_respects_the_cap_and_the_balance(
    due: int, held: int, per_point: int, cap: int
) -> None:
    most = rules.max_redeemable(due=due, held=held, fen_per_point=per_point, cap_percent=cap)
    assert 0 <= most <= held
    assert most * per_point * 100 <= due * cap
    # ...and it is the most: one more point breaks one of the two.
    assert most == held or (most + 1) * per_point > due * cap // 100


def test_max_redeemable_example() -> None:
    assert rules.max_redeemable(due=9000, held=1000, fen_per_point=10, cap_percent=50) == 450
    assert rules.max_redeemable(due=9000, held=100, fen_per_point=10, cap_percent=50) == 100
    assert rules.max_redeemable(due=9000, held=-5, fen_per_point=10, cap_percent=50) == 0
