"""The operator's commands end to end: upgrade, demo, check, backup, restore."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shouyin.cli import app
from shouyin.config import get_settings


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A shop whose settings point at a SQLite file of its own."""
    monkeypatch.setenv("SHOUYIN_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'shouyin.db'}")
    monkeypatch.setenv("SHOUYIN_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())  # rich wraps at 80 columns


def test_operator_commands(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = _run("db", "upgrade")
    assert code == 0, output
    code, output = _run("demo", "--days", "1")
    assert code == 0, output
    assert "cashier" in output and "demo1234" in output
    code, output = _run("demo", "--if-empty")
    assert code == 0 and "skipped" in output
    code, output = _run("demo", "--days", "1")
    assert code == 1 and "empty database" in output
    code, output = _run("check", "ledgers")
    assert code == 0 and "All checks passed" in output, output

    backup_file = shop / "backups" / "shouyin-1.db"
    code, output = _run("backup", str(backup_file))
    assert code == 0 and backup_file.is_file(), output
    code, output = _run("backup", str(backup_file))
    assert code == 1 and "--force" in output

    code, output = _run("restore", str(backup_file))
    assert code == 1 and "--force" in output
    code, output = _run("restore", str(backup_file), "--force")
    assert code == 0 and "All checks passed" in output, output

    monkeypatch.setenv("SHOUYIN_DATABASE_URL", f"sqlite:///{shop / 'elsewhere' / 'shop.db'}")
    get_settings.cache_clear()
    code, output = _run("restore", str(backup_file))
    assert code == 0 and "All checks passed" in output, output


def test_demo_refuses_an_unmigrated_database(shop: Path) -> None:
    code, output = _run("demo", "--days", "1")
    assert code == 2 and "shouyin db upgrade" in output


def test_restore_of_a_missing_file_fails_cleanly(shop: Path) -> None:
    code, output = _run("restore", str(shop / "nope.db"))
    assert code == 1 and "No backup file" in output
