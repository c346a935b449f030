"""`shouyin export members FILE`: a filtered member list, audited, with a progress bar."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import typer


def register(app: typer.Typer) -> None:
    from shouyin.cli import command_group

    command_group(app, "export", "Export data to CSV or Excel files.").command("members")(
        export_members
    )


def export_members(
    path: Path = typer.Argument(..., dir_okay=False, help="Where to write: .csv or .xlsx"),
    store_id: int = typer.Option(None, help="Only members registered in this store"),
    tag: str = typer.Option(None, help="Only members with this tag"),
    force: bool = typer.Option(False, help="Overwrite an existing file"),
) -> None:
    """Export members with their personal data; the export is written to the audit log."""
    from rich.progress import Progress

    from shouyin.cli import cli_principal, console, open_database, require_current_schema
    from shouyin.config import get_settings
    from shouyin.customers import privacy
    from shouyin.customers.keys import cipher_for

    if path.exists() and not force:
        console.print(f"[red]{path} exists.[/red] Use --force to overwrite it.")
        raise typer.Exit(1)
    fmt: Literal["csv", "xlsx"] = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    db = open_database()
    require_current_schema(db)
    with Progress(console=console) as progress, db.write() as session:
        task = progress.add_task("导出会员 Exporting members", total=None)
        body = privacy.export_members(
            session, actor=cli_principal(), cipher=cipher_for(get_settings()), fmt=fmt,
            store_id=store_id, tag=tag,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )  # fmt: skip
    # Personal data: created readable by the operator only, never briefly open to others.
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(body)
    console.print(f"Wrote {path}.")
