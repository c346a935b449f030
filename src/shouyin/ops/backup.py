"""Backups and restores of the configured database, safe while the server runs.

SQLite: SQLite's online backup API copies a consistent snapshot page by page, so the
server keeps selling during a backup; the copy is switched to a single self-contained file
(no -wal beside it). PostgreSQL: pg_dump's custom format, restored with pg_restore in one
transaction, so a failed restore leaves the old data in place.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from sqlalchemy import URL, create_engine, inspect, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

# (pages done, pages in all); called while a SQLite copy runs.
PageProgress = Callable[[int, int], None]
PAGES_PER_STEP = 2048  # 8 MB at 4 KB pages: few restarts if the server writes meanwhile
PG_BIN_ROOT = Path("/usr/lib/postgresql")
# A database "has data" when any of these holds a row; a restore over it needs --force.
DATA_TABLES = ("stores", "products", "users", "orders")


class OpsError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


class RestoreRefused(OpsError):
    pass


def backup(url: str, target: Path, *, on_progress: PageProgress | None = None) -> int:
    """Write a backup of the database at ``url`` to ``target``; returns its size in bytes."""
    parsed = make_url(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_backup(_sqlite_path(parsed), target, on_progress)
    elif parsed.get_backend_name() == "postgresql":
        _pg_dump(parsed, target)
    else:
        raise OpsError(f"Backups of {parsed.get_backend_name()} databases are not supported.")
    return target.stat().st_size


def check_restore(url: str, source: Path, *, force: bool = False) -> None:
    """Raise OpsError unless ``source`` is a shouyin backup that may replace ``url``."""
    parsed = make_url(url)
    if not source.is_file():
        raise OpsError(f"No backup file at {source}.")
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_backup(source)
        exists = _sqlite_path(parsed).exists()
    elif parsed.get_backend_name() == "postgresql":
        _check_pg_backup(source)
        exists = True
    else:
        raise OpsError(f"Restores of {parsed.get_backend_name()} databases are not supported.")
    if not force and exists and has_data(url):
        shown = parsed.render_as_string(hide_password=True)
        raise RestoreRefused(
            f"The database {shown} has data. Restoring replaces all of it: add --force to do so."
        )


def restore(
    url: str,
    source: Path,
    *,
    force: bool = False,
    checked: bool = False,
    on_progress: PageProgress | None = None,
) -> None:
    """Replace the database at ``url`` with the backup ``source``.

    ``checked``: the caller already ran :func:`check_restore` with the same arguments.
    """
    if not checked:
        check_restore(url, source, force=force)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_copy(source, _sqlite_path(parsed), on_progress, journal_mode="WAL")
    else:
        _pg_restore(parsed, source)


def has_data(url: str) -> bool:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            present = [t for t in DATA_TABLES if inspect(conn).has_table(t)]
            return any(
                conn.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None
                for table in present
            )
    except SQLAlchemyError as exc:
        shown = engine.url.render_as_string(hide_password=True)
        raise OpsError(f"Cannot read the database {shown}: {exc}") from exc
    finally:
        engine.dispose()


# --- SQLite -------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise OpsError("An in-memory SQLite database cannot be backed up or restored.")
    return Path(url.database)


def _sqlite_backup(source: Path, target: Path, on_progress: PageProgress | None) -> None:
    if not source.is_file():
        raise OpsError(f"No database at {source}: nothing to back up.")
    _sqlite_copy(source, target, on_progress, journal_mode="DELETE", atomic=True)


def _sqlite_copy(
    source: Path,
    target: Path,
    on_progress: PageProgress | None,
    *,
    journal_mode: str,
    atomic: bool = False,
) -> None:
    """Page-by-page copy through the backup API; ``atomic`` writes beside and renames."""
    target.parent.mkdir(parents=True, exist_ok=True)
    destination = target.with_name(target.name + ".part") if atomic else target
    if atomic:
        destination.unlink(missing_ok=True)  # a leftover from an interrupted backup

    def progress(_status: int, remaining: int, total: int) -> None:
        if on_progress is not None:
            on_progress(total - remaining, total)

    # Read-only URI: a mistyped source path fails instead of creating an empty database.
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        closing(sqlite3.connect(destination, timeout=30)) as dst,
    ):
        src.backup(dst, pages=PAGES_PER_STEP, progress=progress)
        dst.execute(f"PRAGMA journal_mode={journal_mode}")
    if atomic:
        destination.replace(target)


def _check_sqlite_backup(source: Path) -> None:
    """A readable, intact SQLite file that carries shouyin's schema version."""
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as conn:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            if found is None or revision is None:
                raise OpsError(f"{source} is not a shouyin database (no schema version).")
            integrity = conn.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise OpsError(f"{source} is not a shouyin database: {exc}.") from exc
    if integrity is None or integrity[0] != "ok":
        raise OpsError(f"{source} is damaged: {integrity[0] if integrity else 'unreadable'}.")


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_binary(name: str) -> str:
    """The newest installed client: pg_dump can read servers up to its own version."""
    folders = sorted(
        (p for p in PG_BIN_ROOT.glob("*/bin") if p.parent.name.isdigit()),
        key=lambda p: int(p.parent.name),
        reverse=True,
    )
    for folder in folders:
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise OpsError(f"{name} not found: install the PostgreSQL client (postgresql-client).")
    return found


def _pg_connection_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = ["--no-password"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    args += ["--dbname", url.database or "postgres"]
    env = dict(os.environ)
    if url.password:
        # The environment, not the command line: other users can read argv in ps.
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        tool = Path(command[0]).name
        raise OpsError(f"{tool} failed: {result.stderr.strip() or result.returncode}")
    return result.stdout


def _pg_dump(url: URL, target: Path) -> None:
    args, env = _pg_connection_args(url)
    partial = target.with_name(target.name + ".part")
    _run([pg_binary("pg_dump"), "--format=custom", "--file", str(partial), *args], env)
    partial.replace(target)


def _check_pg_backup(source: Path) -> None:
    try:
        listing = _run([pg_binary("pg_restore"), "--list", str(source)])
    except OpsError as exc:
        raise OpsError(f"{source} is not a PostgreSQL backup: {exc}") from exc
    if " TABLE DATA public alembic_version " not in listing:
        raise OpsError(f"{source} is not a shouyin database (no schema version).")


def _pg_restore(url: URL, source: Path) -> None:
    args, env = _pg_connection_args(url)
    command = [
        pg_binary("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
        "--single-transaction", "--exit-on-error", *args, str(source),
    ]  # fmt: skip
    _run(command, env)
