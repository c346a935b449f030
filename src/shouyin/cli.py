"""The `shouyin` command."""

from __future__ import annotations

import getpass
import sys

import typer
from rich.console import Console

from shouyin.auth.principal import Principal
from shouyin.config import get_settings
from shouyin.db import Database

app = typer.Typer(help="shouyin 收银: point of sale and membership CRM.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Users and API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
console = Console()


def open_database() -> Database:
    settings = get_settings()
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    return Database.from_url(settings.database_url)


def require_current_schema(db: Database) -> None:
    from shouyin.migrations import runner

    if not runner.is_current(db.engine):
        console.print(
            "[red]The database schema is out of date.[/red] Run: [bold]shouyin db upgrade[/bold]"
        )
        raise typer.Exit(2)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all schema migrations."""
    from shouyin.migrations import runner

    db = open_database()
    runner.upgrade(db.engine)
    console.print(f"Schema at revision {runner.current_revision(db.engine)}.")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database and the newest one known."""
    from shouyin.migrations import runner

    db = open_database()
    console.print(
        f"database: {runner.current_revision(db.engine)}  newest: {runner.head_revision()}"
    )


@app.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (default from settings)"),
    port: int = typer.Option(None, help="Port (default from settings)"),
) -> None:
    """Serve the app (till, back office and REST API)."""
    import uvicorn

    from shouyin.main import create_app

    settings = get_settings()
    db = open_database()
    require_current_schema(db)
    host, port = host or settings.host, port or settings.port
    # The address given here is also the one receipts' survey links point at (base_url).
    settings = settings.model_copy(update={"host": host, "port": port})
    console.print(f"shouyin is serving on [bold]http://{host}:{port}[/bold]")
    if settings.mode == "demo":
        console.print(
            "Demo logins (password demo1234): admin (HQ admin), marketer (HQ marketer), "
            "auditor, manager / manager2 / manager3 (store managers), "
            "cashier / cashier2 / cashier3 (cashiers)"
        )
    uvicorn.run(
        create_app(settings, db), host=host, port=port, log_level=settings.log_level,
        access_log=False, timeout_graceful_shutdown=5,
    )  # fmt: skip


@users_app.command("create-admin")
def create_admin(
    username: str = typer.Argument(..., help="Login name"),
    display_name: str = typer.Option("", help="Shown name (default: the username)"),
) -> None:
    """Create an HQ admin. The password is asked for (or read from standard input)."""
    from shouyin.auth import service
    from shouyin.auth.passwords import check_strength
    from shouyin.auth.permissions import Role
    from shouyin.auth.schemas import UserCreate
    from shouyin.errors import DomainError

    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline()
    try:
        check_strength(password.rstrip("\n"))
    except DomainError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    db = open_database()
    require_current_schema(db)
    try:
        with db.write() as session:
            data = UserCreate(
                username=username, display_name=display_name or username,
                password=password.rstrip("\n"), role=Role.HQ_ADMIN,
            )  # fmt: skip
            service.create_user(session, data=data, actor=None)
    except (DomainError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    console.print(f"Created HQ admin [bold]{username}[/bold].")


@users_app.command("token")
def create_token(
    username: str, name: str = typer.Option("cli", help="What the token is for")
) -> None:
    """Create an API token for a user and print it (shown once)."""
    from sqlalchemy import select

    from shouyin.auth import service
    from shouyin.auth.models import User
    from shouyin.auth.schemas import TokenCreate

    db = open_database()
    with db.write() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        if user_id is None:
            console.print(f"[red]No user {username}.[/red]")
            raise typer.Exit(1)
        _, secret = service.create_token(
            session, user_id=user_id, data=TokenCreate(name=name), actor=None
        )
    print(secret)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain: an edited or deleted row is reported."""
    from shouyin.audit import service

    db = open_database()
    with db.read() as session:
        result = service.verify(session)
    if result.ok:
        console.print(f"[green]Audit log intact[/green]: {result.checked} entries checked.")
        return
    console.print(f"[red]Audit log broken at entry {result.entry_id}[/red]: {result.problem}.")
    raise typer.Exit(1)


def command_group(parent: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """A group such as `import` or `export` that several domains add commands to."""
    for info in parent.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help=help_text, no_args_is_help=True)
    parent.add_typer(group, name=name)
    return group


def cli_principal() -> Principal:
    """Who a command line acts as: the operator at the shell, with every permission."""
    from shouyin.auth.permissions import PERMISSIONS

    return Principal(
        user_id=0, username=f"cli:{getpass.getuser()}"[:64], display_name="command line",
        role="hq_admin", store_id=None, permissions=frozenset(PERMISSIONS),
    )  # fmt: skip


def _register_more() -> None:
    """Commands that live beside their domain."""
    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(app)


COMMAND_MODULES: tuple[str, ...] = (
    "shouyin.customers.import_command",
    "shouyin.demo.command",
    "shouyin.ops.command",
    "shouyin.catalog.command",
    "shouyin.customers.export_command",
    "shouyin.bench.command",
    "shouyin.customers.command",
    "shouyin.loyalty.command",
    "shouyin.sales.payment_command",
    "shouyin.service.command",
)
_register_more()
