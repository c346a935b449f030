"""`shouyin bench service` at a small size: JSON lines with the metrics, the tickets cached
under var/bench/ and reused untouched, and the scan it times is the real SLA scan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select
from typer.testing import CliRunner

from shouyin.bench import service as bench
from shouyin.cli import app
from shouyin.config import get_settings
from shouyin.db import Database, make_engine
from shouyin.service import sla
from shouyin.service.models import SurveyAnswer, Ticket


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SHOUYIN_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("SHOUYIN_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _counts(url: str) -> tuple[int, int]:
    db = Database(make_engine(url, count_statements=False))
    try:
        with db.read() as session:
            tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
            answers = session.scalar(select(func.count()).select_from(SurveyAnswer)) or 0
            return int(tickets), int(answers)
    finally:
        db.dispose()


def test_bench_prints_metrics_and_leaves_its_data_as_built(var_dir: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "service", "--tickets", "400", "--surveys", "30"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert all(x["bench"] == "service" for x in lines)
    metrics = {x["metric"]: x["value"] for x in lines}
    assert {"sla_scan_ms", "survey_submit_p50_ms", "survey_submit_p99_ms"} <= set(metrics)
    assert metrics["sla_scan_ms"] > 0 and metrics["tickets"] == 400
    assert 0 < metrics["survey_submit_p50_ms"] <= metrics["survey_submit_p99_ms"]
    assert metrics["survey_answers"] == 30 and metrics["survey_failed"] == 0
    assert 0 <= metrics["survey_complaints"] <= 30
    cache = bench.cache_of(var_dir, tickets=400)
    built = cache.built_at()
    assert built is not None
    # The run worked on a copy: the cache holds its tickets and no answers.
    assert _counts(cache.url) == (400, 0)
    db = Database(make_engine(cache.url, count_statements=False))
    try:
        with db.read() as session:
            due = sla.due(session, now=built, warn_minutes=bench.WARN_MINUTES)
    finally:
        db.dispose()
    assert metrics["sla_due_tickets"] == len(due)


def test_a_second_run_reuses_the_cache(var_dir: Path) -> None:
    console = Console(stderr=True)
    cache = bench.cache_of(var_dir, tickets=300)
    built = bench.build(cache, console, seed=2)
    scan_ms, due = bench.time_scan(cache.url, built)
    assert scan_ms > 0 and due > 0
    bench.run(var_dir, tickets=300, surveys=5, seed=2, console=console)
    assert cache.built_at() == built  # reused, not rebuilt
    assert _counts(cache.url) == (300, 0)


def test_the_data_set_has_open_and_closed_tickets_with_deadlines_both_sides(
    var_dir: Path,
) -> None:
    cache = bench.cache_of(var_dir, tickets=3000)
    built = bench.build(cache, Console(stderr=True), seed=1)
    db = Database(make_engine(cache.url, count_statements=False))
    try:
        with db.read() as session:
            rows = session.execute(select(Ticket.status, func.count()).group_by(Ticket.status))
            by_status = {row[0]: row[1] for row in rows}
            open_ids = select(Ticket.id).where(Ticket.status.in_(sla.OPEN))
            ahead = session.scalar(
                select(func.count()).where(Ticket.id.in_(open_ids), Ticket.resolve_by > built)
            )
            due = sla.due(session, now=built, warn_minutes=bench.WARN_MINUTES)
    finally:
        db.dispose()
    assert {"new", "assigned", "in_progress", "resolved", "closed"} <= set(by_status)
    assert by_status["closed"] > sum(by_status[s] for s in sla.OPEN)
    assert ahead and any(x.breached for x in due)
