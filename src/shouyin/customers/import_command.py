"""`shouyin import members FILE`: members from another system, with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from shouyin.customers.import_rows import MemberImportReport


def register(app: typer.Typer) -> None:
    from shouyin.cli import command_group

    command_group(app, "import", "Import data from CSV or Excel files.").command("members")(
        import_members
    )


def parse_mapping(text: str | None) -> dict[str, str]:
    """ "手机=mobile,客户名=name" -> {"手机": "mobile", "客户名": "name"}."""
    mapping: dict[str, str] = {}
    for pair in (text or "").replace("，", ",").split(","):
        if not pair.strip():
            continue
        header, sep, target = pair.partition("=")
        if not sep or not header.strip() or not target.strip():
            raise typer.BadParameter(f"{pair!r} is not HEADER=field", param_hint="--map")
        mapping[header.strip()] = target.strip()
    return mapping


def import_members(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A .csv or .xlsx file"),
    map_: str = typer.Option(None, "--map", help='Column mapping, e.g. "手机=mobile,客户名=name"'),
    notice_version: str = typer.Option(
        None, help="The privacy notice the members agreed to (default: the current one)"
    ),
) -> None:
    """Import members: good rows are created, duplicates skipped, bad rows listed."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from shouyin.cli import cli_principal, console, open_database, require_current_schema
    from shouyin.config import get_settings
    from shouyin.customers import importer
    from shouyin.customers.keys import cipher_for
    from shouyin.errors import DomainError
    from shouyin.shared import i18n

    mapping = parse_mapping(map_)
    settings = get_settings()
    lang = settings.default_language
    db = open_database()
    require_current_schema(db)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("导入会员 Importing members", total=None)

            def on_progress(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            with db.write() as session:
                report = importer.import_members(
                    session, data=path.read_bytes(), filename=path.name, actor=cli_principal(),
                    cipher=cipher_for(settings), mapping=mapping, on_progress=on_progress,
                    notice_version=notice_version or settings.privacy_notice_version,
                )  # fmt: skip
    except DomainError as exc:
        console.print(f"[red]{i18n.translate_error(lang, exc.template, exc.details)}[/red]")
        raise typer.Exit(1) from exc
    finally:
        db.dispose()
    print_report(console, report, lang)
    if report.errors:
        raise typer.Exit(1)


def print_report(console: Console, report: MemberImportReport, lang: str) -> None:
    from rich.table import Table

    for title, rows in (
        (f"{len(report.errors)} rows not imported", report.errors),
        (f"{len(report.skipped_duplicates)} duplicates skipped", report.skipped_duplicates),
    ):
        if not rows:
            continue
        table = Table(title=title)
        table.add_column("Row", justify="right")
        table.add_column("Reason")
        for error in rows:
            table.add_row(str(error.row), error.translated(lang))
        console.print(table)
    colour = "red" if report.errors else "green"
    console.print(
        f"[{colour}]Created {report.created}, skipped {len(report.skipped_duplicates)} "
        f"duplicates, {len(report.errors)} rows with errors.[/{colour}]"
    )
