"""Reorder arithmetic with known numbers: manual min/max, velocity from 28 days of sales."""

from __future__ import annotations

from shouyin.inventory.reorder import Levels, Rule, levels, needs_reorder, suggested


def test_manual_rule_is_min_and_max() -> None:
    rule = Rule(mode="manual", min_qty=10, max_qty=40)
    assert levels(rule, sold=999) == Levels(reorder_point=10, order_up_to=40)
    assert needs_reorder(levels(rule, 0), on_hand=10)
    assert not needs_reorder(levels(rule, 0), on_hand=11)
    assert suggested(levels(rule, 0), on_hand=7) == 33


def test_manual_max_below_min_orders_up_to_min() -> None:
    assert levels(Rule(mode="manual", min_qty=10, max_qty=4), sold=0) == Levels(10, 10)


def test_velocity_known_numbers() -> None:
    # 56 sold in 28 days: 2 a day. Lead 3 + safety 2 days: point 10; +7 review days: 24.
    rule = Rule(mode="velocity", lead_days=3, safety_days=2, review_days=7)
    got = levels(rule, sold=56)
    assert got == Levels(reorder_point=10, order_up_to=24)
    assert needs_reorder(got, on_hand=10)
    assert suggested(got, on_hand=9) == 15


def test_velocity_rounds_up() -> None:
    # 30 sold: 30/28 a day; × 5 = 5.36 → 6; × 12 = 12.86 → 13.
    rule = Rule(mode="velocity", lead_days=3, safety_days=2, review_days=7)
    assert levels(rule, sold=30) == Levels(6, 13)
    # One sale in four weeks still keeps one on the shelf.
    assert levels(rule, sold=1) == Levels(1, 1)


def test_velocity_without_sales_orders_nothing() -> None:
    rule = Rule(mode="velocity")
    assert levels(rule, sold=0) == Levels(0, 0)
    assert levels(rule, sold=-5) == Levels(0, 0)  # more returns than sales
    assert not needs_reorder(levels(rule, 0), on_hand=0)


def test_suggested_is_never_negative() -> None:
    assert suggested(Levels(5, 10), on_hand=12) == 0
