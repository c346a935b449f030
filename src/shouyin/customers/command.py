"""`shouyin keys`: the member-data key ring (status, rotation)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

keys_app = typer.Typer(help="The member-data encryption keys.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")


def pending_path(key_file: Path) -> Path:
    """The rotated ring, written before any member is re-encrypted under it."""
    return key_file.with_name(key_file.name + ".rotating")


def _key_file(console: Console) -> Path:
    from shouyin.config import get_settings

    settings = get_settings()
    if settings.member_keys:
        console.print(
            "[red]The member keys come from SHOUYIN_MEMBER_KEYS, not from a key file.[/red] "
            "shouyin cannot rewrite an environment variable. Move the ring into a key file "
            "(SHOUYIN_MEMBER_KEY_FILE), unset SHOUYIN_MEMBER_KEYS and run this again."
        )
        raise typer.Exit(2)
    path = settings.key_file()
    if not path.exists():
        console.print(f"[red]There is no key file at {path}.[/red] Nothing is encrypted yet.")
        raise typer.Exit(1)
    return path


@keys_app.command("status")
def status() -> None:
    """The active key and how many stored values each key seals."""
    from shouyin.cli import console, open_database, require_current_schema
    from shouyin.customers import rotation
    from shouyin.customers.crypto import FieldCipher, KeyRing

    path = _key_file(console)
    ring = KeyRing.from_json(path.read_text())
    db = open_database()
    require_current_schema(db)
    with db.read() as session:
        usage = rotation.key_usage(session)
        stale = rotation.count_stale(session, cipher=FieldCipher(ring))
    console.print(f"Key file: {path}", soft_wrap=True)
    table = Table(title="Key ring")
    for column in ("key id", "state", "values"):
        table.add_column(column)
    for kid in sorted(set(ring.keys) | set(usage)):
        state = "active" if kid == ring.active else "retired" if kid in ring.keys else "MISSING"
        table.add_row(kid, state, f"{usage.get(kid, 0):,}")
    console.print(table)
    console.print(f"Members with values under an older key: {stale:,}")
    if pending_path(path).exists():
        console.print("[yellow]A rotation was interrupted:[/yellow] run `shouyin keys rotate`.")


@keys_app.command("rotate")
def rotate(
    batch: int = typer.Option(1000, min=1, max=50_000, help="Members per transaction"),
) -> None:
    """Make a new active key and re-encrypt every member's personal data with it.

    Safe to run again after an interruption: it resumes with the same new key.
    """
    from shouyin.audit import service as audit
    from shouyin.cli import console, open_database, require_current_schema
    from shouyin.customers import keys, rotation
    from shouyin.customers.crypto import FieldCipher, KeyRing, save

    path = _key_file(console)
    pending = pending_path(path)
    if pending.exists():
        ring = KeyRing.from_json(path.read_text())
        console.print(f"Resuming the interrupted rotation to key {ring.active}.")
    else:
        ring = KeyRing.from_json(path.read_text()).rotated()
        # The new ring goes into the key file before any row uses the new key: a crash, a
        # backup of the key file or a running server (which re-reads the file when it meets
        # an unknown key) can always read every row. The marker says a rotation is under way.
        save(path, ring)
        pending.write_text(ring.active)
        console.print(f"New active key {ring.active}; the old keys stay in the ring.")
    cipher = FieldCipher(ring)
    db = open_database()
    require_current_schema(db)
    with db.read() as session:
        stale = rotation.count_stale(session, cipher=cipher)
    with _progress(console) as progress:
        task = progress.add_task("重新加密 re-encrypting", total=stale)
        changed = rotation.rotate_all(
            db, cipher=cipher, size=batch, on_batch=lambda n: progress.advance(task, n)
        )
    with db.write() as session:
        audit.record(
            session, actor=None, action="keys.rotate", actor_name="cli",
            after={"active": ring.active, "members": changed},
        )  # fmt: skip
    pending.unlink()
    keys.forget()
    console.print(f"Re-encrypted {changed:,} members under key {ring.active}.")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console,
    )  # fmt: skip
