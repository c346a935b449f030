"""`shouyin bench shift-close` end to end (small N): its own data, the shift closed, a Z report.

No timing assertions: speed targets are the bench's business, not the tests'.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select
from typer.testing import CliRunner

from shouyin.cli import app
from shouyin.db import Database
from shouyin.sales.models import Order
from shouyin.sales.return_models import ReturnOrder
from shouyin.sales.shift_models import Shift, ZReport
from shouyin.stores.models import Store

METRICS = {"close_ms": "ms", "return_p50_ms": "ms", "orders": "count", "returns": "count"}


def test_bench_shift_close_prints_every_metric(configured_url: str, backend: str) -> None:
    args = ["bench", "shift-close", "--orders", "30", "--returns", "5", "--products", "20"]
    result = CliRunner().invoke(app, args)

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [line["metric"] for line in lines] == list(METRICS)
    for line in lines:
        assert set(line) == {"bench", "metric", "value", "unit"}
        assert line["bench"] == "shift-close"
        assert line["unit"] == METRICS[line["metric"]]
    values = {line["metric"]: line["value"] for line in lines}
    assert values["orders"] == 30 and values["returns"] == 5
    assert values["close_ms"] > 0 and values["return_p50_ms"] > 0
    if backend == "postgresql":
        _check_postgres_run(configured_url)


def _check_postgres_run(url: str) -> None:
    """On PostgreSQL the bench works in its own store of the configured database."""
    db = Database.from_url(url)
    try:
        with db.read() as session:
            codes = list(session.scalars(select(Store.code)))
            orders = session.scalar(select(func.count()).select_from(Order))
            made = session.scalar(select(func.count()).select_from(ReturnOrder))
            shifts = session.execute(select(Shift.status, Shift.variance)).all()
            z = session.scalars(select(ZReport)).one()
    finally:
        db.dispose()
    assert [code[:5] for code in codes] == ["BENCH"]
    assert (orders, made) == (30, 5)
    # The bench counts exactly what is expected: no variance anywhere.
    assert [status for status, _ in shifts] == ["closed"]
    assert all(v == 0 for v in shifts[0][1].values())
    assert z.number == 1 and z.data["figures"]["orders"] == 30
