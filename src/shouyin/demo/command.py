"""`shouyin demo`: load the demo chain (what `make run` calls on every start)."""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    days: int = typer.Option(90, min=1, max=3660, help="Days of sales history per store"),
    seed: int = typer.Option(42, help="Random seed: the same seed loads the same data"),
    if_empty: bool = typer.Option(
        False, "--if-empty", help="Do nothing when the database already has stores"
    ),
) -> None:
    """Load the demo chain 鲜丰便利: 3 stores, staff, ~500 products, stock and sales history."""
    from shouyin.cli import console, open_database, require_current_schema
    from shouyin.demo import loader

    db = open_database()
    require_current_schema(db)
    with db.read() as session:
        empty = loader.is_empty(session)
    if not empty:
        if if_empty:
            console.print("The database already has data: demo skipped.")
            return
        console.print("[red]The database already has stores or products.[/red] "
                      "The demo loads only into an empty database.")  # fmt: skip
        raise typer.Exit(1)
    started = time.perf_counter()
    with _progress(console) as progress, db.write() as session:
        task = progress.add_task("门店与员工", total=days)

        def report(what: str, done: int, total: int) -> None:
            progress.update(task, description=what, completed=done, total=total)

        summary = loader.load_demo(session, days=days, seed=seed, on_progress=report)
    elapsed = time.perf_counter() - started
    console.print(
        f"Loaded {summary.stores} stores, {summary.products} products and {summary.orders:,} "
        f"orders ({summary.first_day} to {summary.last_day}) in {elapsed:.1f} s."
    )
    _print_logins(console, summary.users_kept)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("days"), TimeElapsedColumn(), console=console,
    )  # fmt: skip


def _print_logins(console: Console, kept: tuple[str, ...]) -> None:
    from shouyin.demo.loader import PASSWORD, USERS

    table = Table(title=f"Demo logins (password {PASSWORD})")
    for column in ("login", "name", "role", "store"):
        table.add_column(column)
    for user in USERS:
        note = " (existed: password unchanged)" if user.username in kept else ""
        table.add_row(
            user.username + note, user.display_name, user.role.value, user.store_code or "HQ"
        )
    console.print(table)
