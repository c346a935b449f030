"""Robust z and the Poisson tail on small histories with hand-computed answers."""

from __future__ import annotations

import math

import pytest

from shouyin.analytics.anomaly_stats import (
    PoissonRule,
    PoissonVerdict,
    RobustRule,
    RobustVerdict,
    baseline,
    check_rare,
    evaluate,
    evaluate_count,
    mad,
    median,
    poisson_tail,
)

RULE = RobustRule(name="refund_amount")
# Sorted: 9 10 10 11 11 12 12 13 → median 11; |x − 11| sorted 0 0 1 1 1 1 2 2 → MAD 1.
HISTORY = [10, 12, 11, 13, 9, 10, 12, 11]


def test_median_odd_and_even() -> None:
    assert median([3, 1, 2]) == 2.0
    assert median([4, 1, 3, 2]) == 2.5
    with pytest.raises(ValueError, match="no values"):
        median([])


def test_mad_ignores_one_wild_value() -> None:
    assert mad([1, 2, 3, 4, 100]) == 1.0  # deviations from 3: 2 1 0 1 97
    wild = [10, 12, 11, 13, 9, 10, 12, 1000]
    assert (median(wild), mad(wild)) == (11.5, 1.5)


def test_out_of_line_with_its_evidence() -> None:
    got = evaluate(HISTORY, 17, RULE)
    assert got.alert
    assert got.reason == "out_of_line"
    assert (got.median, got.mad, got.observation, got.threshold_z, got.n_history) == (
        11.0,
        1.0,
        17,
        3.5,
        8,
    )
    assert got.scale == pytest.approx(1.4826)
    assert got.z == pytest.approx(6 / 1.4826)  # 4.047


def test_just_inside_the_threshold() -> None:
    got = evaluate(HISTORY, 16, RULE)
    assert got.z == pytest.approx(5 / 1.4826)  # 3.372 < 3.5
    assert not got.alert
    assert got.reason == "within"


def test_far_below_alerts_only_when_two_sided() -> None:
    assert not evaluate(HISTORY, 3, RULE).alert
    got = evaluate(HISTORY, 3, RobustRule(name="store_hour_sales", two_sided=True))
    assert got.alert
    assert got.z == pytest.approx(-8 / 1.4826)


def test_zero_mad_falls_back_to_mean_absolute_deviation() -> None:
    # Median 5, MAD 0; mean |x − 5| = (2 + 4 + 6) / 8 = 1.5 → scale 1.2533 × 1.5 = 1.87995.
    base = baseline([5, 5, 5, 5, 5, 7, 9, 11], RULE)
    assert (base.median, base.mad) == (5.0, 0.0)
    assert base.scale == pytest.approx(1.87995)
    got = evaluate([5, 5, 5, 5, 5, 7, 9, 11], 12, RULE)
    assert got.z == pytest.approx(7 / 1.87995)  # 3.72
    assert got.alert


def test_constant_history_uses_the_floor_of_one_unit() -> None:
    # max(min_scale 1, 5% × 10 = 0.5) = 1: 13 is z = 3, 14 is z = 4.
    assert evaluate([10] * 8, 13, RULE).z == 3.0
    assert not evaluate([10] * 8, 13, RULE).alert
    assert evaluate([10] * 8, 14, RULE).alert


def test_constant_large_amounts_use_the_relative_floor() -> None:
    # 5% of 100,000 fen = 5,000: 120,000 is z = 4.
    got = evaluate([100_000] * 8, 120_000, RULE)
    assert got.scale == 5000.0
    assert got.z == 4.0
    assert got.alert


def test_tiny_numbers_never_alert() -> None:
    # Median 0.5, MAD 0.5 → 0.74, floored to 1: 4 is z = 3.5 but below the minimum of 5.
    rule = RobustRule(name="voids", min_value=5)
    history = [0, 1, 0, 1, 0, 1, 0, 1]
    small = evaluate(history, 4, rule)
    assert small.z == 3.5
    assert (small.alert, small.reason) == (False, "below_minimum")
    assert evaluate(history, 6, rule).alert


def test_short_history_never_alerts() -> None:
    got = evaluate([10] * 7, 1000, RULE)
    assert (got.alert, got.reason) == (False, "short_history")
    assert not evaluate([], 1000, RULE).alert


def test_poisson_tail_known_values() -> None:
    # P(X ≥ 3 | λ = 1) = 1 − e⁻¹ (1 + 1 + 1/2)
    assert poisson_tail(3, 1.0) == pytest.approx(1 - 2.5 / math.e, rel=1e-12)
    # P(X ≥ 1 | λ = 2) = 1 − e⁻²
    assert poisson_tail(1, 2.0) == pytest.approx(1 - math.exp(-2), rel=1e-12)
    assert poisson_tail(0, 0.3) == 1.0
    assert poisson_tail(2, 0.0) == 0.0


def test_poisson_tail_stays_accurate_when_tiny() -> None:
    # P(X ≥ 20 | λ = 0.01) ≈ e^−0.01 × 0.01^20 / 20! × (1 + 0.01/21 + …): 1 − CDF would give 0.
    first = math.exp(-0.01) * 0.01**20 / math.factorial(20)
    assert poisson_tail(20, 0.01) == pytest.approx(first * (1 + 0.01 / 21), rel=1e-6)


def test_first_refunds_ever_alert_at_min_count() -> None:
    rule = PoissonRule(name="refund_count")
    got = check_rare([0] * 20, 3, rule)
    assert got.rate == 0.025  # floored at 0.5 / 20
    lam = 0.025
    assert got.tail_p == pytest.approx(1 - math.exp(-lam) * (1 + lam + lam**2 / 2), rel=1e-6)
    assert (got.alert, got.reason) == (True, "out_of_line")
    below = check_rare([0] * 20, 2, rule)
    assert (below.alert, below.reason) == (False, "below_minimum")


def test_rare_event_judged_against_its_usual_rate() -> None:
    rule = PoissonRule(name="void_count")
    history = [0, 1] * 10  # mean 0.5 per window
    # P(X ≥ 3 | 0.5) = 1 − e^−0.5 (1 + 0.5 + 0.125) = 0.0144 > 0.001: usual enough.
    three = check_rare(history, 3, rule)
    assert three.tail_p == pytest.approx(1 - math.exp(-0.5) * 1.625, rel=1e-9)
    assert not three.alert
    # P(X ≥ 5 | 0.5) = 0.000172 < 0.001.
    five = check_rare(history, 5, rule)
    expected = 1 - math.exp(-0.5) * (1 + 0.5 + 0.125 + 0.5**3 / 6 + 0.5**4 / 24)
    assert five.tail_p == pytest.approx(expected, rel=1e-6)
    assert five.alert
    assert check_rare([0] * 3, 9, rule).reason == "short_history"


def test_counts_choose_poisson_when_the_median_is_zero() -> None:
    robust, rare = RobustRule(name="voids"), PoissonRule(name="voids")
    assert isinstance(evaluate_count([0, 0, 0, 1, 0, 0, 0, 2], 4, robust, rare), PoissonVerdict)
    assert isinstance(evaluate_count(HISTORY, 17, robust, rare), RobustVerdict)


def test_counts_floor_the_scale_at_the_root_of_the_median() -> None:
    # Constant 20 an hour: floor √20 = 4.472. 35 is z = 3.35, 36 is z = 3.58.
    robust, rare = RobustRule(name="scans"), PoissonRule(name="scans")
    inside = evaluate_count([20] * 8, 35, robust, rare)
    assert isinstance(inside, RobustVerdict)
    assert inside.scale == pytest.approx(math.sqrt(20))
    assert not inside.alert
    assert evaluate_count([20] * 8, 36, robust, rare).alert
    assert evaluate([20] * 8, 36, robust).scale == 1.0  # amounts keep the plain floor


def test_log_scale_judges_skewed_amounts_by_ratio() -> None:
    # log(1 + x) of the history: 4 5 5 6 6 6 7 7 → median 6, MAD 1, scale 1.4826.
    rule = RobustRule(name="order_size", log_scale=True)
    history = [math.expm1(v) for v in (4, 5, 5, 6, 6, 6, 7, 7)]
    inside = evaluate(history, math.expm1(11), rule)
    assert inside.z == pytest.approx(5 / 1.4826)
    assert not inside.alert
    got = evaluate(history, math.expm1(12), rule)
    assert got.z == pytest.approx(6 / 1.4826)
    assert got.alert
    assert got.log_scale
    assert got.median == pytest.approx(math.expm1(6))  # the usual order, in fen
    assert (got.mad, got.scale) == (pytest.approx(1.0), pytest.approx(1.4826))
