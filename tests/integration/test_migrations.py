"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from typer.testing import CliRunner

from shouyin.config import get_settings
from shouyin.db import Database, make_engine
from shouyin.migrations import runner
from shouyin.models import metadata


def test_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []
    assert runner.is_current(database.engine)


def test_serve_refuses_an_out_of_date_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shouyin.cli import app

    monkeypatch.setenv("SHOUYIN_DATABASE_URL", f"sqlite:///{tmp_path / 'old.db'}")
    monkeypatch.setenv("SHOUYIN_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--port", "1"])
        assert result.exit_code == 2
        assert "shouyin db upgrade" in result.output
        upgraded = CliRunner().invoke(app, ["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        assert runner.is_current(make_engine(f"sqlite:///{tmp_path / 'old.db'}"))
    finally:
        get_settings.cache_clear()


def test_create_admin_needs_no_default_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shouyin.cli import app

    monkeypatch.setenv("SHOUYIN_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    monkeypatch.setenv("SHOUYIN_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
        weak = CliRunner().invoke(app, ["users", "create-admin", "boss"], input="short\n")
        assert weak.exit_code == 1 and "8 characters" in weak.output
        made = CliRunner().invoke(app, ["users", "create-admin", "boss"], input="a-long-secret\n")
        assert made.exit_code == 0, made.output
        again = CliRunner().invoke(app, ["users", "create-admin", "boss"], input="a-long-secret\n")
        assert again.exit_code == 1 and "taken" in again.output
    finally:
        get_settings.cache_clear()
