"""`shouyin backup`, `shouyin restore` and `shouyin check ledgers`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from shouyin.db import Database

if TYPE_CHECKING:
    from shouyin.ops.checks import CheckResult

check_app = typer.Typer(help="Consistency checks.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
    check_app.command("ledgers")(check_ledgers)
    app.add_typer(check_app, name="check")


def backup(
    path: Path = typer.Argument(..., help="The backup file to write"),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file at PATH"),
) -> None:
    """Back up the database (safe while the server runs)."""
    from shouyin.cli import console
    from shouyin.config import get_settings
    from shouyin.ops import backup as ops

    if path.exists() and not force:
        console.print(f"[red]{path} exists.[/red] Add --force to overwrite it.")
        raise typer.Exit(1)
    url = get_settings().database_url
    started = time.perf_counter()
    try:
        with _copy_progress(console, "备份 Backing up", url) as on_progress:
            size = ops.backup(url, path, on_progress=on_progress)
    except ops.OpsError as exc:
        console.print(f"[red]Backup failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    elapsed = time.perf_counter() - started
    console.print(f"Backed up to [bold]{path}[/bold] ({size / 1e6:.1f} MB) in {elapsed:.1f} s.")
    settings = get_settings()
    if not settings.member_keys:
        # The backup holds member data only as ciphertext: it is useless without the key ring.
        console.print(
            f"Members' personal data is encrypted with [bold]{settings.key_file()}[/bold]: "
            "keep a copy of that file, apart from the backups, or their member data is lost."
        )


def restore(
    path: Path = typer.Argument(..., help="The backup file to restore"),
    force: bool = typer.Option(
        False, "--force", help="Replace a database that has data (everything in it is lost)"
    ),
) -> None:
    """Replace the database with a backup, then check every ledger."""
    from shouyin.cli import console, open_database
    from shouyin.config import get_settings
    from shouyin.ops import backup as ops

    url = get_settings().database_url
    try:
        ops.check_restore(url, path, force=force)
        with _copy_progress(console, "恢复 Restoring", url) as on_progress:
            ops.restore(url, path, force=force, checked=True, on_progress=on_progress)
    except ops.OpsError as exc:
        console.print(f"[red]Restore failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    console.print(f"Restored [bold]{path}[/bold]. Checking the ledgers ...")
    db = open_database()
    try:
        _report_checks(console, db_results(db))
    finally:
        db.dispose()


def check_ledgers() -> None:
    """Re-add every ledger and order and verify the audit chain; exit 1 on any failure."""
    from shouyin.cli import console, open_database

    db = open_database()
    try:
        _report_checks(console, db_results(db))
    finally:
        db.dispose()


def db_results(db: Database) -> list[CheckResult]:
    # Imported here: every `shouyin` command loads this module, few run the checks.
    from shouyin.ops.checks import run_all

    with db.read() as session:
        return run_all(session)


def _report_checks(console: Console, results: Sequence[CheckResult]) -> None:
    table = Table(title="Consistency checks")
    for column in ("check", "result", "detail"):
        table.add_column(column)
    for result in results:
        mark = "[green]ok[/green]" if result.ok else "[red]FAILED[/red]"
        table.add_row(result.name, mark, result.detail)
    console.print(table)
    failed = [result.name for result in results if not result.ok]
    if failed:
        console.print(f"[red]Failed checks:[/red] {', '.join(failed)}")
        raise typer.Exit(1)
    console.print("[green]All checks passed.[/green]")


@contextmanager
def _copy_progress(
    console: Console, label: str, url: str
) -> Iterator[Callable[[int, int], None] | None]:
    """A page bar for SQLite's page-by-page copy; pg_dump reports no progress: a spinner."""
    if not url.startswith("sqlite"):
        with console.status(f"{label} (PostgreSQL) ..."):
            yield None
        return
    columns = (TextColumn(f"[bold]{label}"), BarColumn(), TaskProgressColumn(),
               TextColumn("{task.completed}/{task.total} pages"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(label, total=None)

        def on_progress(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield on_progress
