"""The migrations build exactly the schema the models describe; the CLI guards the schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
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


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_loyalty_migration_counts_past_spending_toward_tiers(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from datetime import timedelta
    from types import SimpleNamespace

    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from shouyin.loyalty.models import MemberAccount, Tier
    from shouyin.shared.clock import utcnow
    from tests import factories

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        base = request.getfixturevalue("pg_base_url")
        name = f"old{factories.next_id()}"
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = f"{base}/{name}"
    engine = make_engine(
        url + ("?nopool" if backend == "postgresql" else ""), count_statements=False
    )
    runner.upgrade(engine, "0002")
    # The orders table as it was at 0002 (the model has columns added since).
    orders_0002 = sa.Table("orders", sa.MetaData(), autoload_with=engine)
    stores_0002 = sa.Table("stores", sa.MetaData(), autoload_with=engine)
    with Session(engine) as session:
        made = session.execute(stores_0002.insert().values(
            chain_id=factories.ensure_chain(session).id, code=f"T{factories.next_id()}",
            name="旧门店", timezone="Asia/Shanghai", day_cutoff_minutes=0, rounding="none",
            active=True, created_at=utcnow(),
        ))  # fmt: skip
        store = SimpleNamespace(id=made.inserted_primary_key[0])
        cashier = factories.make_user(session, store=store)  # type: ignore[arg-type]
        big, old, quiet = (factories.make_member(session) for _ in range(3))
        now = utcnow()
        for member, total, days_ago in (
            (big, 600_000, 10),
            (big, 10_000, 100),
            (old, 900_000, 400),
        ):
            session.execute(orders_0002.insert().values(
                client_uuid=f"u{factories.next_id()}", number=f"N{factories.next_id()}",
                store_id=store.id, cashier_id=cashier.id, member_id=member.id,
                business_date=(now - timedelta(days=days_ago)).date(), status="completed",
                created_at=now - timedelta(days=days_ago), subtotal=total, discount_total=0,
                total=total, paid=total, change=0, item_count=1, steps=[],
            ))  # fmt: skip
        session.commit()
        ids = (big.id, old.id, quiet.id)
    runner.upgrade(engine)
    with Session(engine) as session:
        tiers = dict(session.execute(select(Tier.id, Tier.code)).all())
        accounts = {a.member_id: a for a in session.scalars(select(MemberAccount))}
        found = [(accounts[i].growth, tiers[accounts[i].tier_id], accounts[i].points) for i in ids]
    engine.dispose()
    # Only the last 365 days count; no points are granted for sales made before loyalty.
    assert found == [(610_000, "gold", 0), (0, "regular", 0), (0, "regular", 0)]
