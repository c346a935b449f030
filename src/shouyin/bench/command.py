"""`shouyin bench`: workloads that measure the server. Results are JSON lines on stdout;
progress and notes go to stderr, so `shouyin bench checkout > result.jsonl` keeps only data."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console

bench_app = typer.Typer(help="Benchmarks: JSON lines on stdout.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")


@bench_app.command("checkout")
def checkout(
    orders: int = typer.Option(5000, min=1, help="Measured orders"),
    concurrency: int = typer.Option(8, min=1, max=512, help="Orders in flight at once"),
    products: int = typer.Option(2000, min=1, max=99_999, help="Products in the bench catalogue"),
    warmup: int = typer.Option(200, min=1, help="Orders sent first and not measured"),
    seed: int = typer.Option(1, help="Random seed for prices and baskets"),
    keep: bool = typer.Option(
        False, "--keep", help="Keep the SQLite bench database (and server log) and print its path"
    ),
) -> None:
    """Cash orders of 3-8 lines through the REST API of a real `shouyin serve`.

    On SQLite the bench makes a fresh database in a temporary folder; with
    SHOUYIN_DATABASE_URL pointing at PostgreSQL it adds a bench store to that database.
    """
    from shouyin.bench import checkout as bench
    from shouyin.bench import dataset

    with _bench_database(keep) as (console, folder, url):
        with console.status(f"Building the data set ({products:,} products) ..."):
            data = dataset.build(url, products=products, seed=seed)
        console.print(f"{_where(url)}: bench store {data.store_code}, {products:,} products.")
        run = bench.run_checkout(
            data, folder, orders=orders, concurrency=concurrency, warmup=warmup, seed=seed,
            console=console,
        )  # fmt: skip
    for metric in run.metrics():
        print(metric.as_json(), flush=True)
    if run.failed:
        console.print(f"[red]{run.failed} orders failed[/red] (errors or non-201 answers).")
        raise typer.Exit(1)


@bench_app.command("checkout-loyalty")
def checkout_loyalty(
    orders: int = typer.Option(5000, min=1, help="Measured orders"),
    concurrency: int = typer.Option(8, min=1, max=512, help="Orders in flight at once"),
    products: int = typer.Option(2000, min=1, max=99_999, help="Products in the bench catalogue"),
    members: int = typer.Option(500, min=1, max=100_000, help="金卡 members the orders go to"),
    warmup: int = typer.Option(200, min=1, help="Orders sent first and not measured"),
    seed: int = typer.Option(1, help="Random seed for prices and baskets"),
    keep: bool = typer.Option(
        False, "--keep", help="Keep the SQLite bench database (and server log) and print its path"
    ),
) -> None:
    """`bench checkout` with loyalty: every order to a 金卡 member under running promotions.

    Half the orders also redeem a coupon issued in advance and points. Same server, load
    generator and metrics as `bench checkout`; results are tagged "checkout-loyalty".
    """
    from shouyin.bench import dataset, loyalty

    with _bench_database(keep) as (console, folder, url):
        with console.status(f"Building the data set ({products:,} products, {members:,} members)"):
            data = loyalty.build(
                dataset.build(url, products=products, seed=seed), folder, members=members,
                orders=orders, warmup=warmup, seed=seed,
            )  # fmt: skip
        store = data.dataset.store_code
        console.print(f"{_where(url)}: bench store {store}, {members:,} 金卡 members.")
        run = loyalty.run(data, folder, concurrency=concurrency, console=console)
    for metric in loyalty.metrics(run):
        print(metric.as_json(), flush=True)
    if run.failed:
        console.print(f"[red]{run.failed} orders failed[/red] (errors or non-201 answers).")
        raise typer.Exit(1)


@bench_app.command("member-lookup")
def member_lookup(
    members: int = typer.Option(1_000_000, min=100, max=50_000_000, help="Members in the cache"),
    queries: int = typer.Option(500, min=10, max=100_000, help="Random queries of each kind"),
    seed: int = typer.Option(1, help="Random seed for the queries"),
) -> None:
    """Member lookups by mobile, last 4, card, name and initials among N members.

    The N members are built once into var/bench/members-N/ (SQLite, own key file) and reused;
    lookups are timed in-process through customers.service.lookup and over HTTP against a
    real `shouyin serve` on that database.
    """
    from shouyin.bench import members as bench
    from shouyin.bench.checkout import BenchError
    from shouyin.config import get_settings

    console = Console(stderr=True)
    try:
        results = bench.run(
            get_settings().var_dir, count=members, sample=queries, seed=seed, console=console
        )
    except BenchError as exc:
        console.print(f"[red]Bench failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    for metric in results:
        print(metric.as_json(), flush=True)


@bench_app.command("shift-close")
def shift_close(
    orders: int = typer.Option(2000, min=1, max=1_000_000, help="Orders in the shift"),
    returns: int = typer.Option(50, min=0, max=10_000, help="Returns made (and timed) first"),
    products: int = typer.Option(500, min=1, max=99_999, help="Products in the bench catalogue"),
    seed: int = typer.Option(1, help="Random seed for baskets"),
    keep: bool = typer.Option(
        False, "--keep", help="Keep the SQLite bench database and print its path"
    ),
) -> None:
    """Close a shift of N mixed-tender orders and make its Z report (close_ms).

    The orders (cash, card, card plus cash) and the returns (timed: return_p50_ms) are made
    in-process through the checkout and returns services; then the shift is closed with a
    count and the register's Z report is made, each in its own transaction.
    """
    from shouyin.bench import dataset
    from shouyin.bench import shift_close as bench

    with _bench_database(keep) as (console, _folder, url):
        with console.status(f"Building the data set ({products:,} products) ..."):
            data = dataset.build(url, products=products, seed=seed)
        console.print(f"{_where(url)}: bench store {data.store_code}, {orders:,} orders to sell.")
        results = bench.run(
            data, orders=orders, returns_count=min(returns, orders), seed=seed, console=console
        )
    for metric in results:
        print(metric.as_json(), flush=True)


@bench_app.command("replenishment")
def replenishment(
    products: int = typer.Option(100_000, min=1, max=1_000_000, help="Products per store"),
    stores: int = typer.Option(20, min=1, max=200, help="Stores"),
    lookups: int = typer.Option(1000, min=10, max=1_000_000, help="Timed on-hand lookups"),
    seed: int = typer.Option(1, help="Random seed for levels, sales and lookups"),
) -> None:
    """The replenishment list of every store (replenishment_ms) and on-hand lookups.

    The data (N products × S stores, a rule per product, 28 days of sales) is built once
    into var/bench/replenishment-N-S/ (SQLite) and reused.
    """
    from shouyin.bench import replenishment as bench
    from shouyin.config import get_settings

    console = Console(stderr=True)
    results = bench.run(
        get_settings().var_dir, products=products, stores=stores, lookups=lookups, seed=seed,
        console=console,
    )  # fmt: skip
    for metric in results:
        print(metric.as_json(), flush=True)


@bench_app.command("service")
def service(
    tickets: int = typer.Option(100_000, min=10, max=10_000_000, help="Tickets in the data set"),
    surveys: int = typer.Option(1000, min=1, max=100_000, help="Survey answers timed over HTTP"),
    seed: int = typer.Option(1, help="Random seed for tickets and answers"),
) -> None:
    """The SLA scan over N tickets (sla_scan_ms) and survey answers over HTTP
    (survey_submit_p50_ms). The tickets are built once into var/bench/service-N/ (SQLite)."""
    from shouyin.bench import service as bench
    from shouyin.bench.checkout import BenchError
    from shouyin.config import get_settings

    console = Console(stderr=True)
    try:
        results = bench.run(
            get_settings().var_dir, tickets=tickets, surveys=surveys, seed=seed, console=console
        )
    except BenchError as exc:
        console.print(f"[red]Bench failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    for metric in results:
        print(metric.as_json(), flush=True)


@contextmanager
def _bench_database(keep: bool) -> Iterator[tuple[Console, Path, str]]:
    """A temporary folder and the bench database URL (SQLite in it, or the configured
    PostgreSQL); a failed bench exits 1 with its reason; the folder is tidied up."""
    from shouyin.bench import dataset
    from shouyin.bench.checkout import BenchError
    from shouyin.config import get_settings

    console = Console(stderr=True)
    folder = Path(tempfile.mkdtemp(prefix="shouyin-bench-"))
    url = dataset.database_url(get_settings().database_url, folder)
    try:
        yield console, folder, url
    except BenchError as exc:
        console.print(f"[red]Bench failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        _tidy(console, folder, url, keep=keep)


def _where(url: str) -> str:
    return "SQLite" if url.startswith("sqlite") else "PostgreSQL"


def _tidy(console: Console, folder: Path, url: str, *, keep: bool) -> None:
    from shouyin.bench.dataset import SQLITE_FILE

    if not url.startswith("sqlite"):
        console.print("The bench store and its orders stay in the PostgreSQL database.")
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    elif url.startswith("sqlite"):
        path = folder / SQLITE_FILE
        console.print(f"Kept the bench database (server log beside it): {path}", soft_wrap=True)
    else:
        console.print(f"Kept the server log: {folder / 'server.log'}", soft_wrap=True)
