"""Bought-together and for-you scoring on eight hand-made baskets.

Baskets: {1,2} {1,2} {1,2,3} {1,3} {2} {3,4} {4} {5}; n = 8.
Counts: 1→4, 2→4, 3→3, 4→2, 5→1. Pairs: (1,2)→3, (1,3)→2, (2,3)→1, (3,4)→1.
"""

from __future__ import annotations

import math

import pytest

from shouyin.analytics.recs_score import (
    HitRate,
    bought_together,
    bought_together_all,
    count_baskets,
    evaluate,
    for_member,
    hit_rate,
    neighbours,
    pair_score,
)

BASKETS = [[1, 2], [1, 2], [1, 2, 3], [1, 3], [2, 2], [3, 4], [4], [5]]


def test_counts_dedupe_products_within_a_basket() -> None:
    co = count_baskets(BASKETS)
    assert co.n == 8
    assert dict(co.items) == {1: 4, 2: 4, 3: 3, 4: 2, 5: 1}
    assert co.pairs[1][2] == co.pairs[2][1] == 3
    assert co.pairs[1][3] == 2
    assert co.pairs[3][4] == 1
    assert 5 not in co.pairs


def test_support_confidence_lift() -> None:
    got = pair_score(count_baskets(BASKETS), 1, 2)
    assert (got.count, got.support, got.confidence) == (3, 3 / 8, 3 / 4)
    assert got.lift == pytest.approx(1.5)  # 3 × 8 / (4 × 4)
    reverse = pair_score(count_baskets(BASKETS), 3, 1)
    assert reverse.confidence == pytest.approx(2 / 3)
    assert reverse.lift == pytest.approx(2 * 8 / (3 * 4))


def test_bought_together_ranks_by_lift_with_minimum_count() -> None:
    co = count_baskets(BASKETS)
    assert [s.other_id for s in bought_together(co, 1, min_count=2)] == [2, 3]  # 1.5, 1.33
    assert [s.other_id for s in bought_together(co, 1, min_count=3)] == [2]
    assert [s.other_id for s in bought_together(co, 1, min_count=2, top_n=1)] == [2]


def test_bought_together_drops_lift_at_most_one_and_breaks_ties_by_count() -> None:
    # Partners of 3: 1 (lift 16/12, seen 2), 4 (lift 8/6 = 16/12, seen 1), 2 (lift 8/12 < 1).
    co = count_baskets(BASKETS)
    got = bought_together(co, 3, min_count=1)
    assert [s.other_id for s in got] == [1, 4]
    assert got[0].lift == pytest.approx(got[1].lift)
    assert bought_together(co, 5) == []
    assert bought_together(co, 99) == []


def test_bought_together_all_skips_products_without_partners() -> None:
    table = bought_together_all(count_baskets(BASKETS), min_count=2)
    assert {p: [s.other_id for s in row] for p, row in table.items()} == {
        1: [2, 3],
        2: [1],
        3: [1],
    }


def test_large_baskets_are_left_out_entirely() -> None:
    co = count_baskets([*BASKETS, list(range(100, 131))])  # 31 distinct > 30
    assert (co.n, co.skipped) == (8, 1)
    assert 100 not in co.items
    small = count_baskets(BASKETS, max_basket=2)  # {1,2,3} is out
    assert (small.n, small.skipped, small.pairs[1][2], small.items[3]) == (7, 1, 2, 2)


def test_cosine_neighbours() -> None:
    index = neighbours(count_baskets(BASKETS), min_count=1)
    assert index[1] == [(2, pytest.approx(3 / 4)), (3, pytest.approx(2 / math.sqrt(12)))]
    assert [p for p, _ in index[3]] == [1, 4, 2]  # 0.577, 0.408, 0.289
    assert [p for p, _ in neighbours(count_baskets(BASKETS), k=2, min_count=1)[3]] == [1, 4]
    assert 4 not in neighbours(count_baskets(BASKETS), min_count=2)


def test_for_member_sums_similarities_and_names_the_reason() -> None:
    index = neighbours(count_baskets(BASKETS), min_count=1)
    got = for_member(index, [1])
    assert [(r.product_id, r.because) for r in got] == [(2, 1), (3, 1)]
    # History {1, 4}: 3 scores 0.577 (via 1) + 0.408 (via 4) = 0.986 > 2's 0.75.
    got = for_member(index, [1, 4])
    assert [(r.product_id, r.because) for r in got] == [(3, 1), (2, 1)]
    assert got[0].score == pytest.approx(2 / math.sqrt(12) + 1 / math.sqrt(6))


def test_for_member_exclude_replaces_the_history_as_the_filter() -> None:
    index = neighbours(count_baskets(BASKETS), min_count=1)
    assert [r.product_id for r in for_member(index, [1, 4], exclude={3})] == [2]
    # Nothing excluded: 3 (0.577 + 0.289), then 1 and 2 at 0.75 each, lower id first.
    got = for_member(index, [1, 2], exclude=())
    assert [r.product_id for r in got] == [3, 1, 2]
    assert [r.product_id for r in for_member(index, [1, 2], exclude=(), top_n=1)] == [3]


def test_hit_rate_at_n() -> None:
    recommended = {1: [5, 6], 2: [7], 3: []}
    held_out = {1: {6}, 2: {8}, 3: {9}}
    assert hit_rate(recommended, held_out, n=2) == HitRate(hits=1, members=3)
    assert hit_rate(recommended, held_out, n=1).hits == 0
    assert hit_rate({}, {}).rate == 0.0


def test_offline_evaluation_against_popularity() -> None:
    train = {
        10: [[1, 2], [1, 2]],
        11: [[1, 2, 3]],
        12: [[1, 3]],
        13: [[2], [3, 4]],
        14: [[4], [5]],
    }
    # 10 bought 1 before: no new product to find, not counted.
    held_out = {10: {1}, 12: {2}, 13: {1}, 14: {1, 4}}
    got = evaluate(train, held_out, n=1, min_count=1)
    # Model top 1: 12 → 2 (hit), 13 → 1 (hit), 14 → 3 via 4 (miss).
    assert got.model == HitRate(hits=2, members=3)
    # Popular order 1, 2, 3, 4, 5: 12 → 2, 13 → 1, 14 → 1: all hits.
    assert got.popular == HitRate(hits=3, members=3)
    assert got.n == 1


def test_the_best_seller_is_not_bought_together_with_everything() -> None:
    # 9 is in 7 of 10 baskets: confidence(1 → 9) = 3/5 beats confidence(1 → 2) = 2/5,
    # but lift(1, 9) = 3 × 10 / (5 × 7) = 0.86 < 1 while lift(1, 2) = 2 × 10 / (5 × 3) = 1.33.
    baskets = [[1, 9], [1, 9], [1, 9], [1, 2], [1, 2], [9], [9], [9], [9], [2]]
    co = count_baskets(baskets)
    assert pair_score(co, 1, 9).confidence > pair_score(co, 1, 2).confidence
    assert [s.other_id for s in bought_together(co, 1, min_count=2)] == [2]
