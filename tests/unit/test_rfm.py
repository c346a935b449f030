"""RFM quintile scores and named segments on small populations with hand-computed answers."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shouyin.analytics.rfm import (
    SEGMENTS,
    MemberStats,
    quintile_scores,
    score,
    segment_for,
    segment_sizes,
)

TODAY = date(2026, 11, 23)


def ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def test_ten_distinct_values_make_exact_quintiles() -> None:
    got = quintile_scores([100, 90, 80, 70, 60, 50, 40, 30, 20, 10])
    assert got == {10: 1, 20: 1, 30: 2, 40: 2, 50: 3, 60: 3, 70: 4, 80: 4, 90: 5, 100: 5}


def test_seven_values_score_by_share_of_smaller_values() -> None:
    # 1 + 5*i//7 for i = 0..6 smaller values: 1, 1, 2, 3, 3, 4, 5.
    got = quintile_scores([7, 6, 5, 4, 3, 2, 1])
    assert [got[v] for v in range(1, 8)] == [1, 1, 2, 3, 3, 4, 5]


def test_ties_share_the_lowest_rank_score() -> None:
    # Six once-buyers beat nobody: 1. Value 2 beats 6 of 10: 1 + 30//10 = 4.
    # Value 3 beats 8: 5; value 5 beats 9: 1 + 45//10 = 5.
    got = quintile_scores([1, 1, 1, 1, 1, 1, 2, 2, 3, 5])
    assert got == {1: 1, 2: 4, 3: 5, 5: 5}


def test_everyone_equal_scores_one() -> None:
    assert quintile_scores([7, 7, 7]) == {7: 1}


def five_members() -> list[MemberStats]:
    return [
        MemberStats(1, ago(3), 9, 90_000),
        MemberStats(2, ago(10), 1, 50_000),
        MemberStats(3, ago(40), 5, 1_000),
        MemberStats(4, ago(100), 3, 30_000),
        MemberStats(5, ago(400), 2, 2_000),
    ]


def test_scores_and_segments_of_five_members() -> None:
    got = score(five_members(), today=TODAY)
    assert {m: (s.r, s.f, s.m) for m, s in got.items()} == {
        1: (5, 5, 5),
        2: (4, 1, 4),
        3: (3, 4, 1),
        4: (2, 3, 3),
        5: (1, 2, 2),
    }
    assert {m: s.segment.code for m, s in got.items()} == {
        1: "important_value",
        2: "important_develop",
        3: "general_value",
        4: "important_keep",
        5: "general_retain",
    }
    assert got[1].code == "555"
    assert got[1].segment.name_zh == "重要价值客户"
    assert [got[m].recency_days for m in range(1, 6)] == [3, 10, 40, 100, 400]


def test_high_from_moves_the_segment_boundary() -> None:
    got = score(five_members(), today=TODAY, high_from=4)
    assert got[4].segment.code == "general_retain"  # (2, 3, 3): nothing reaches 4
    assert got[3].segment.code == "general_keep"  # (3, 4, 1): only F reaches 4
    assert got[2].segment.code == "important_develop"  # (4, 1, 4)


def test_equal_spend_gets_equal_monetary_score() -> None:
    members = [MemberStats(i, ago(i), 1, 500 if i < 3 else 100 * i) for i in range(1, 6)]
    got = score(members, today=TODAY)
    # Spends 500, 500, 300, 400, 500: 300 beats 0 → 1, 400 beats 1 → 2, 500 beats 2 → 3.
    assert [got[i].m for i in range(1, 6)] == [3, 3, 1, 2, 3]


def test_purchase_dated_after_today_counts_as_today() -> None:
    members = [MemberStats(1, TODAY + timedelta(days=1), 1, 1), MemberStats(2, ago(5), 1, 1)]
    got = score(members, today=TODAY)
    assert got[1].recency_days == 0
    assert (got[1].r, got[2].r) == (3, 1)  # 1 + 5*1//2 = 3


@pytest.mark.parametrize(
    ("r", "f", "m", "code"),
    [
        (5, 5, 5, "important_value"),
        (3, 2, 3, "important_develop"),
        (2, 3, 3, "important_keep"),
        (1, 1, 5, "important_retain"),
        (3, 3, 2, "general_value"),
        (4, 1, 1, "general_develop"),
        (2, 4, 2, "general_keep"),
        (2, 2, 2, "general_retain"),
    ],
)
def test_each_segment_from_high_and_low(r: int, f: int, m: int, code: str) -> None:
    assert segment_for(r, f, m).code == code


def test_segment_codes_and_names_are_unique() -> None:
    assert len({s.code for s in SEGMENTS}) == 8
    assert len({s.name_zh for s in SEGMENTS}) == 8


def test_segment_sizes_lists_every_segment() -> None:
    sizes = segment_sizes(score(five_members(), today=TODAY).values())
    assert sizes["important_value"] == 1
    assert sizes["important_retain"] == 0
    assert sum(sizes.values()) == 5
    assert list(sizes) == [s.code for s in SEGMENTS]


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="more than once"):
        score([MemberStats(1, TODAY, 1, 1), MemberStats(1, TODAY, 2, 2)], today=TODAY)
    with pytest.raises(ValueError, match="high_from"):
        score(five_members(), today=TODAY, high_from=0)


def test_empty_population() -> None:
    assert score([], today=TODAY) == {}


@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=200))
def test_scores_are_monotone_and_bounded(values: list[int]) -> None:
    got = quintile_scores(values)
    ordered = sorted(got)
    assert all(1 <= got[v] <= 5 for v in ordered)
    assert all(got[a] <= got[b] for a, b in pairwise(ordered))
    assert got[ordered[0]] == 1


@given(st.sets(st.integers(), min_size=1, max_size=200))
def test_distinct_values_fill_quintiles_evenly(values: set[int]) -> None:
    got = quintile_scores(values)
    n = len(values)
    for quintile in range(1, 6):
        size = sum(1 for s in got.values() if s == quintile)
        assert n // 5 <= size <= -(-n // 5)
