"""Classification thresholds: buyer, activity and value labels at and around their boundaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from shouyin.analytics.classify import (
    Activity,
    Buyer,
    Thresholds,
    activity_of,
    buyer_of,
    classify,
    high_value_threshold,
)
from shouyin.analytics.rfm import MemberStats

TODAY = date(2026, 11, 23)


def test_one_order_is_new_more_is_returning() -> None:
    assert buyer_of(1) is Buyer.NEW
    assert buyer_of(2) is Buyer.RETURNING
    assert Buyer.RETURNING.name_zh == "回头客"


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, Activity.ACTIVE),
        (60, Activity.ACTIVE),
        (61, Activity.AT_RISK),
        (180, Activity.AT_RISK),
        (181, Activity.LOST),
    ],
)
def test_default_activity_boundaries(days: int, expected: Activity) -> None:
    assert activity_of(days, Thresholds()) is expected


def test_activity_thresholds_are_parameters() -> None:
    limits = Thresholds(active_days=30, at_risk_days=90)
    assert activity_of(31, limits) is Activity.AT_RISK
    assert activity_of(91, limits) is Activity.LOST
    assert Activity.AT_RISK.name_zh == "沉睡"


def test_top_twenty_percent_of_ten_is_the_second_highest_spend() -> None:
    spends = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]
    assert high_value_threshold(spends, 20) == 900


def test_cut_position_rounds_up() -> None:
    # 11 members × 20% = 2.2 → the 3rd highest spend.
    spends = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]
    assert high_value_threshold(spends, 20) == 90


def test_ties_at_the_cut_are_all_high() -> None:
    spends = [500, 500, 500, 100, 100, 100, 100, 100, 100, 100]
    assert high_value_threshold(spends, 20) == 500
    got = classify([MemberStats(i, TODAY, 1, s) for i, s in enumerate(spends)], today=TODAY)
    assert sum(c.high_value for c in got.values()) == 3


def test_spending_nothing_is_never_high_value() -> None:
    # Top 50% of 5 = 3rd highest = 0: the threshold becomes 1 fen, only the spender is high.
    assert high_value_threshold([0, 0, 0, 0, 50], 50) == 1
    assert high_value_threshold([0, 0, 0, 0, 50], 20) == 50
    assert high_value_threshold([0, 0, -5], 20) is None
    assert high_value_threshold([], 20) is None


def test_classify_labels_each_member() -> None:
    members = [
        MemberStats(1, TODAY - timedelta(days=5), 1, 10_000),
        MemberStats(2, TODAY - timedelta(days=61), 4, 80_000),
        MemberStats(3, TODAY - timedelta(days=200), 2, 2_000),
        MemberStats(4, TODAY - timedelta(days=181), 1, 3_000),
        MemberStats(5, TODAY - timedelta(days=60), 3, 5_000),
    ]
    got = classify(members, today=TODAY)
    # 5 × 20% = 1: only the highest spender (80,000) is high value.
    assert {m: (c.buyer, c.activity, c.high_value, c.days_since_last) for m, c in got.items()} == {
        1: (Buyer.NEW, Activity.ACTIVE, False, 5),
        2: (Buyer.RETURNING, Activity.AT_RISK, True, 61),
        3: (Buyer.RETURNING, Activity.LOST, False, 200),
        4: (Buyer.NEW, Activity.LOST, False, 181),
        5: (Buyer.RETURNING, Activity.ACTIVE, False, 60),
    }
    wider = classify(members, today=TODAY, thresholds=Thresholds(high_value_top_percent=40))
    assert [m for m, c in wider.items() if c.high_value] == [1, 2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"active_days": 60, "at_risk_days": 60}, "active_days < at_risk_days"),
        ({"active_days": -1}, "active_days < at_risk_days"),
        ({"high_value_top_percent": 0}, "high_value_top_percent"),
        ({"high_value_top_percent": 101}, "high_value_top_percent"),
    ],
)
def test_inconsistent_thresholds_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Thresholds(**kwargs)
