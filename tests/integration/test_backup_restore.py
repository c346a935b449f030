"""Backups restore to identical, consistent databases; tampering is caught by name."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from typer.testing import CliRunner

from shouyin.audit.models import AuditEntry
from shouyin.cli import app
from shouyin.config import get_settings
from shouyin.customers.crypto import FieldCipher, KeyRing
from shouyin.db import Database
from shouyin.demo import loader
from shouyin.inventory.models import StockLevel
from shouyin.ops import backup as ops
from shouyin.ops.checks import run_all
from tests.conftest import DatabaseMaker

TABLES = ("stores", "users", "products", "orders", "order_lines", "payments",
          "stock_movements", "stock_levels", "order_counters", "audit_log")  # fmt: skip


def _url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _load_demo(db: Database) -> None:
    with db.write() as session:
        # Its own key ring: tests never touch the var/ key file of the checkout.
        loader.load_demo(
            session,
            days=1,
            seed=3,
            last_day=date(2026, 3, 14),
            cipher=FieldCipher(KeyRing.generate()),
        )


def _counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {t: session.scalar(text(f"SELECT count(*) FROM {t}")) or 0 for t in TABLES}


def _failed(db: Database) -> list[str]:
    with db.read() as session:
        return [r.name for r in run_all(session) if not r.ok]


@pytest.fixture
def demo_sqlite(db_maker: DatabaseMaker) -> Iterator[Database]:
    db = Database.from_url(db_maker.url("sqlite"))
    _load_demo(db)
    yield db
    db.dispose()


def test_sqlite_backup_restores_to_a_new_path(demo_sqlite: Database, work_dir: Path) -> None:
    backup_file = work_dir / "backups" / f"b{id(demo_sqlite)}.db"
    pages: list[tuple[int, int]] = []
    size = ops.backup(_url(demo_sqlite), backup_file, on_progress=lambda *p: pages.append(p))
    assert size == backup_file.stat().st_size and pages[-1][0] == pages[-1][1]
    assert not Path(f"{backup_file}-wal").exists()  # one self-contained file
    target = work_dir / f"restored{id(backup_file)}" / "shouyin.db"
    ops.restore(f"sqlite:///{target}", backup_file)
    restored = Database.from_url(f"sqlite:///{target}")
    try:
        assert _counts(restored) == _counts(demo_sqlite)
        assert _counts(restored)["orders"] > 200
        assert _failed(restored) == []
    finally:
        restored.dispose()


def test_sqlite_restore_over_data_needs_force(
    demo_sqlite: Database, db_maker: DatabaseMaker, work_dir: Path
) -> None:
    backup_file = work_dir / f"force{id(demo_sqlite)}.db"
    ops.backup(_url(demo_sqlite), backup_file)
    with pytest.raises(ops.RestoreRefused, match="--force"):
        ops.restore(_url(demo_sqlite), backup_file)
    empty = db_maker.url("sqlite")  # migrated, no data: no force needed
    ops.restore(empty, backup_file)
    ops.restore(_url(demo_sqlite), backup_file, force=True)
    assert _failed(demo_sqlite) == []


def test_restore_rejects_a_file_that_is_not_shouyin(
    db_maker: DatabaseMaker, work_dir: Path
) -> None:
    stranger = work_dir / "stranger.db"
    with sqlite3.connect(stranger) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS notes (body TEXT)")
    with pytest.raises(ops.OpsError, match="not a shouyin database"):
        ops.restore(db_maker.url("sqlite"), stranger)
    junk = work_dir / "junk.db"
    junk.write_text("hello")
    with pytest.raises(ops.OpsError, match="not a shouyin database"):
        ops.restore(db_maker.url("sqlite"), junk)


def _check_ledgers(url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("SHOUYIN_DATABASE_URL", url)
    monkeypatch.setenv("SHOUYIN_VAR_DIR", str(Path(tempfile.mkdtemp(prefix="shouyin-var-"))))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["check", "ledgers"])
    finally:
        get_settings.cache_clear()
    return result.exit_code, " ".join(result.output.split())  # rich wraps at 80 columns


def test_tampered_stock_level_is_reported(
    demo_sqlite: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _check_ledgers(_url(demo_sqlite), monkeypatch)[0] == 0
    with demo_sqlite.write() as session:
        first = session.execute(select(StockLevel).limit(1)).scalar_one()
        session.execute(
            update(StockLevel)
            .where(StockLevel.store_id == first.store_id, StockLevel.product_id == first.product_id)
            .values(on_hand=StockLevel.on_hand + 1)
        )
    code, output = _check_ledgers(_url(demo_sqlite), monkeypatch)
    assert code == 1
    assert "Failed checks: stock_levels" in output


def test_edited_audit_row_is_reported(
    demo_sqlite: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo_sqlite.write() as session:
        first = session.scalar(select(func.min(AuditEntry.id)))
        session.execute(update(AuditEntry).where(AuditEntry.id == first).values(actor="mallory"))
    code, output = _check_ledgers(_url(demo_sqlite), monkeypatch)
    assert code == 1
    assert "Failed checks: audit_chain" in output


@pytest.mark.parametrize("backend", ["postgresql"])
def test_postgresql_backup_restore_round_trip(
    database: Database, db_maker: DatabaseMaker, work_dir: Path
) -> None:
    _load_demo(database)
    dump = work_dir / f"pg{id(database)}.dump"
    ops.backup(_url(database), dump)
    assert dump.stat().st_size > 0
    target = Database.from_url(db_maker.url("postgresql"))
    try:
        ops.restore(_url(target), dump)
        assert _counts(target) == _counts(database)
        assert _failed(target) == []
        with pytest.raises(ops.RestoreRefused):
            ops.restore(_url(target), dump)
        ops.restore(_url(target), dump, force=True)
        assert _counts(target) == _counts(database)
    finally:
        target.dispose()
