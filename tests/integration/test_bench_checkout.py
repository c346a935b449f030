"""`shouyin bench checkout` end to end: its own data, a real server, JSON lines out.

No timing assertions: speed targets are the bench's business, not the tests'.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from shouyin.bench import dataset
from shouyin.cli import app
from shouyin.db import Database
from shouyin.inventory.models import StockLevel
from shouyin.sales.models import Order
from shouyin.stores.models import Store

METRICS = {
    "orders_per_s": "orders/s",
    "p50_ms": "ms",
    "p99_ms": "ms",
    "statements_per_order": "statements",
    "errors": "count",
    "non_2xx": "count",
    "client_cpu_s": "s",
    "server_cpu_s": "s",
}


def test_bench_checkout_prints_every_metric(configured_url: str, backend: str) -> None:
    args = ["bench", "checkout", "--orders", "60", "--concurrency", "4", "--products", "50"]
    result = CliRunner().invoke(app, [*args, "--warmup", "20"])

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [line["metric"] for line in lines] == list(METRICS)
    for line in lines:
        assert set(line) == {"bench", "metric", "value", "unit"}
        assert line["bench"] == "checkout"
        assert line["unit"] == METRICS[line["metric"]]
    values = {line["metric"]: line["value"] for line in lines}
    assert values["errors"] == 0 and values["non_2xx"] == 0
    assert values["statements_per_order"] > 0
    assert values["orders_per_s"] > 0 and values["p99_ms"] >= values["p50_ms"] > 0
    if backend == "postgresql":
        _check_postgres_run(configured_url)
    else:
        _check_sqlite_left_alone(configured_url)


def _check_sqlite_left_alone(url: str) -> None:
    """On SQLite the bench works in a database of its own, never the shop's."""
    db = Database.from_url(url)
    try:
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(Store)) == 0
    finally:
        db.dispose()


def _check_postgres_run(url: str) -> None:
    """The bench adds its own store to the configured database and sells only there."""
    db = Database.from_url(url)
    try:
        with db.read() as session:
            stores = session.execute(select(Store.id, Store.code)).all()
            orders = session.scalar(select(func.count()).select_from(Order))
            sold = session.scalar(select(func.sum(dataset.OPENING_STOCK - StockLevel.on_hand)))
    finally:
        db.dispose()
    assert [code[:5] for _, code in stores] == ["BENCH"]
    assert orders == 60 + 20
    assert sold is not None and sold >= orders * 3


@pytest.mark.usefixtures("default_settings")
def test_a_refused_first_order_fails_the_bench_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shouyin.bench import checkout

    monkeypatch.setattr(checkout, "ORDERS_PATH", "/api/v1/no-such-endpoint")
    result = CliRunner().invoke(app, ["bench", "checkout", "--orders", "5", "--products", "10"])

    assert result.exit_code == 1
    assert "first order was answered 404" in " ".join(result.output.split())
    assert result.stdout == ""
