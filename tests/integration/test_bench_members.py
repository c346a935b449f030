"""`shouyin bench member-lookup` end to end on a small cache: every metric line, real lookups.

No timing assertions: speed targets are the bench's business, not the tests'.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shouyin.bench import members as bench
from shouyin.cli import app
from shouyin.config import get_settings
from shouyin.customers import service
from shouyin.customers.crypto import FieldCipher, load_or_create
from shouyin.db import Database

METRICS = {
    "mobile_p50_ms": "ms",
    "mobile_p99_ms": "ms",
    "last4_p50_ms": "ms",
    "card_p50_ms": "ms",
    "name_p50_ms": "ms",
    "initials_p50_ms": "ms",
    "http_mobile_p50_ms": "ms",
    "import_rows_per_s": "rows/s",
}


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SHOUYIN_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _run() -> tuple[dict[str, float], str]:
    result = CliRunner().invoke(
        app, ["bench", "member-lookup", "--members", "2000", "--queries", "40"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [line["metric"] for line in lines] == list(METRICS)
    for line in lines:
        assert set(line) == {"bench", "metric", "value", "unit"}
        assert line["bench"] == "member-lookup"
        assert line["unit"] == METRICS[line["metric"]]
        assert isinstance(line["value"], int | float) and line["value"] > 0
    return {line["metric"]: line["value"] for line in lines}, " ".join(result.output.split())


def test_bench_member_lookup_builds_once_and_measures(var_dir: Path) -> None:
    first, output = _run()
    assert first["mobile_p99_ms"] >= first["mobile_p50_ms"]
    assert "Built 2,000 members" in output
    cache = bench.Cache(var_dir / "bench" / "members-2000", 2000)
    assert cache.is_complete()

    _, output = _run()

    assert "Reusing the cached 2,000 members" in output
    assert not (var_dir / "bench" / "import-sample").exists()
    cipher = FieldCipher(load_or_create(cache.key_file))
    db = Database.from_url(cache.url)
    try:
        with db.read() as session:
            for query in bench.queries(2000, 20, seed=3).values():
                for text in query:
                    assert service.lookup(session, query=text, cipher=cipher)
            found = service.lookup(session, query=bench.mobile_of(7), cipher=cipher)
            assert [cipher.decrypt("mobile", m.mobile_enc or "") for m in found] == [
                bench.mobile_of(7)
            ]
    finally:
        db.dispose()


def test_cache_identities_are_unique() -> None:
    count = 50_000
    assert len({bench.mobile_of(i) for i in range(count)}) == count
    assert len({bench.card_of(i) for i in range(count)}) == count
