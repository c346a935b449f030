"""`shouyin bench replenishment` at a small size: JSON lines with the metrics, the data cached
under var/bench/ and reused, and the list the bench measures is the real one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from shouyin.bench import replenishment as bench
from shouyin.cli import app
from shouyin.config import get_settings
from shouyin.db import Database, make_engine
from shouyin.inventory import reorder, replenishment
from shouyin.inventory.count_models import ReorderRule
from shouyin.inventory.models import StockLevel, StockMovement


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SHOUYIN_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("SHOUYIN_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_bench_prints_metrics_and_reuses_its_data(var_dir: Path) -> None:
    args = ["bench", "replenishment", "--products", "200", "--stores", "3", "--lookups", "50"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    lines = [json.loads(x) for x in first.stdout.splitlines() if x.startswith("{")]
    metrics = {x["metric"]: x["value"] for x in lines}
    assert all(x["bench"] == "replenishment" for x in lines)
    assert metrics["rules"] == 600
    assert metrics["replenishment_ms"] > 0 and metrics["onhand_p50_ms"] > 0
    assert 0 < metrics["replenishment_items"] < 600
    cache = bench.cache_of(var_dir, products=200, stores=3)
    built = cache.built_at()
    assert built is not None

    again = bench.run(var_dir, products=200, stores=3, lookups=20, seed=1,
                      console=Console(stderr=True))  # fmt: skip
    assert cache.built_at() == built  # reused, not rebuilt
    assert {m.name: m.value for m in again}["replenishment_items"] == metrics["replenishment_items"]


def test_sql_list_matches_the_pure_rules(var_dir: Path) -> None:
    """The one-query list of a store equals the pure functions applied row by row."""
    cache = bench.cache_of(var_dir, products=300, stores=2)
    built = bench.build(cache, Console(stderr=True), seed=3)
    db = Database(make_engine(cache.url, count_statements=False))
    try:
        with db.read() as session:
            sold = dict(
                session.execute(
                    select(StockMovement.product_id, -func.sum(StockMovement.quantity))
                    .where(StockMovement.store_id == 2,
                           StockMovement.at >= built - timedelta(days=28))
                    .group_by(StockMovement.product_id)
                ).all()
            )  # fmt: skip
            levels = dict(
                session.execute(
                    select(StockLevel.product_id, StockLevel.on_hand).where(
                        StockLevel.store_id == 2
                    )
                ).all()
            )
            expected = set()
            for rule in session.scalars(select(ReorderRule).where(ReorderRule.store_id == 2)):
                got = reorder.levels(
                    reorder.Rule(rule.mode, rule.min_qty, rule.max_qty, rule.lead_days,
                                 rule.safety_days, rule.review_days),
                    sold.get(rule.product_id, 0),
                )  # fmt: skip
                on_hand = levels.get(rule.product_id, 0)
                if reorder.needs_reorder(got, on_hand):
                    expected.add((rule.product_id, on_hand, got.reorder_point, got.order_up_to))
            listed = replenishment.low_products(session, store_id=2, now=built)
        assert expected
        assert {(x.product_id, x.on_hand, x.reorder_point, x.order_up_to) for x in listed} == (
            expected
        )
    finally:
        db.dispose()
