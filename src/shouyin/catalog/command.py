"""`shouyin import products FILE` and `shouyin export products FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from rich.console import Console

    from shouyin.catalog.importer import ImportReport


def register(app: typer.Typer) -> None:
    from shouyin.cli import command_group as _group

    _group(app, "import", "Import data from CSV or Excel files.").command("products")(
        import_products
    )
    _group(app, "export", "Export data to CSV or Excel files.").command("products")(export_products)


def import_products(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A .csv or .xlsx file"),
) -> None:
    """Import products: new SKUs are created, known SKUs updated, bad rows listed and skipped."""
    from shouyin.catalog import importer
    from shouyin.cli import console, open_database, require_current_schema
    from shouyin.config import get_settings
    from shouyin.errors import DomainError
    from shouyin.shared import i18n

    data = path.read_bytes()
    db = open_database()
    require_current_schema(db)
    lang = get_settings().default_language
    try:
        with _progress(console) as progress:
            task = progress.add_task("导入 Importing", total=None)

            def on_progress(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            with db.write() as session:
                report = importer.import_products(
                    session, data=data, filename=path.name, actor=None, on_progress=on_progress
                )
    except DomainError as exc:
        console.print(f"[red]{i18n.translate_error(lang, exc.template, exc.details)}[/red]")
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    _print_report(console, report, lang)
    if report.errors:
        raise typer.Exit(1)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console,
    )  # fmt: skip


def _print_report(console: Console, report: ImportReport, lang: str) -> None:
    if report.errors:
        table = Table(title=f"{len(report.errors)} rows not imported")
        table.add_column("Row", justify="right")
        table.add_column("SKU")
        table.add_column("Reason")
        for error in report.errors:
            table.add_row(str(error.row), error.sku or "", error.translated(lang))
        console.print(table)
    colour = "red" if report.errors else "green"
    console.print(
        f"[{colour}]Created {report.created}, updated {report.updated}, "
        f"unchanged {report.unchanged}, {len(report.errors)} rows with errors.[/{colour}]"
    )


def export_products(
    path: Path = typer.Argument(..., dir_okay=False, help="The file to write: .csv or .xlsx"),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file"),
) -> None:
    """Export every product in the import's column layout (format from the file name)."""
    from shouyin.catalog import importer
    from shouyin.cli import console, open_database, require_current_schema

    if path.exists() and not force:
        console.print(f"[red]{path} exists.[/red] Add --force to overwrite it.")
        raise typer.Exit(1)
    fmt: Literal["csv", "xlsx"] = "xlsx" if path.suffix.lower() == ".xlsx" else "csv"
    db = open_database()
    require_current_schema(db)
    try:
        with db.read() as session:
            content = importer.export_products(session, fmt=fmt)
    finally:
        db.dispose()
    path.write_bytes(content)
    console.print(f"Wrote [bold]{path}[/bold] ({len(content) / 1024:.0f} KB).")
