"""The migrations build exactly the schema the models describe; the CLI guards the schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import Result
from sqlalchemy import text
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


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """Runs `shouyin ...` against a new SQLite file in tmp_path (tmp_path / 'shop.db')."""
    from shouyin.cli import app

    monkeypatch.setenv("SHOUYIN_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.setenv("SHOUYIN_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()

    def run(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(app, list(args), input=input)

    yield run
    get_settings.cache_clear()


def test_serve_refuses_an_out_of_date_schema(cli: Callable[..., Result], tmp_path: Path) -> None:
    refused = cli("serve", "--port", "1")
    assert refused.exit_code == 2
    assert "shouyin db upgrade" in refused.output
    assert cli("db", "upgrade").exit_code == 0
    assert runner.is_current(make_engine(f"sqlite:///{tmp_path / 'shop.db'}"))


def test_create_admin_needs_no_default_password(cli: Callable[..., Result]) -> None:
    assert cli("db", "upgrade").exit_code == 0
    weak = cli("users", "create-admin", "boss", input="short\n")
    assert weak.exit_code == 1 and "8 characters" in weak.output
    made = cli("users", "create-admin", "boss", input="a-long-secret\n")
    assert made.exit_code == 0, made.output
    again = cli("users", "create-admin", "boss", input="a-long-secret\n")
    assert again.exit_code == 1 and "taken" in again.output


def test_audit_verify_command_reports_an_edited_row(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    assert cli("db", "upgrade").exit_code == 0
    assert cli("users", "create-admin", "boss", input="a-long-secret\n").exit_code == 0
    intact = cli("audit", "verify")
    assert intact.exit_code == 0 and "intact" in intact.output
    with make_engine(f"sqlite:///{tmp_path / 'shop.db'}").begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone-else'"))
    broken = cli("audit", "verify")
    assert broken.exit_code == 1 and "broken" in broken.output


def test_export_members_command_writes_an_owner_only_file(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    assert cli("db", "upgrade").exit_code == 0
    target = tmp_path / "members.csv"
    result = cli("export", "members", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes().decode("utf-8-sig").startswith("card_no,name,mobile")
    assert target.stat().st_mode & 0o077 == 0
    assert cli("export", "members", str(target)).exit_code == 1  # no silent overwrite
    with make_engine(f"sqlite:///{tmp_path / 'shop.db'}").connect() as conn:
        actors = conn.execute(
            text("SELECT actor FROM audit_log WHERE action = 'member.export'")
        ).all()
    assert len(actors) == 1 and actors[0][0].startswith("cli:")
