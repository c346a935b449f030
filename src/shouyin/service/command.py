"""`shouyin service check-sla`: the complaint deadline check by hand (the server runs it every
minute). ``--at`` moves the clock, for tests and demos."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

service_app = typer.Typer(help="Customer service: complaint deadlines.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(service_app, name="service")


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            "write the time as ISO 8601, e.g. 2026-11-23T18:00:00+08:00", param_hint="--at"
        ) from None
    # A time without a zone is taken as UTC, like every stored time.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@service_app.command("check-sla")
def check_sla(
    at: str = typer.Option(None, "--at", help="Check as if it were this time (ISO 8601)"),
) -> None:
    """Escalate missed complaint deadlines and warn of those close ahead."""
    from shouyin.cli import console, open_database, require_current_schema
    from shouyin.config import get_settings
    from shouyin.service import sla

    moment = _moment(at)
    settings = get_settings()
    db = open_database()
    try:
        require_current_schema(db)
        done = sla.run(db, settings, now=moment)
    finally:
        db.dispose()
    console.print(
        f"{done.due} deadline(s) due or passed; {len(done.escalated)} newly escalated "
        f"({done.compensated} compensated, {done.emailed} emailed); {done.warned} warning(s)."
    )
    for x in done.escalated:
        console.print(f"  {x.number}  {x.store}  {x.deadline}  due {x.due}")
