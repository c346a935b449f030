"""`shouyin loyalty`: the daily loyalty jobs by hand (points expiry, tier review)."""

from __future__ import annotations

from datetime import date, datetime

import typer

loyalty_app = typer.Typer(help="Loyalty: points expiry and the tier review.", no_args_is_help=True)

TODAY_HELP = "The day to run for, YYYY-MM-DD (default: today in China)"


def register(app: typer.Typer) -> None:
    app.add_typer(loyalty_app, name="loyalty")


def _day(text: str | None) -> date:
    from shouyin.loyalty.jobs import local_today

    if not text:
        return local_today()
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise typer.BadParameter("write the day as YYYY-MM-DD", param_hint="--today") from None


@loyalty_app.command("expire-points")
def expire_points(today: str = typer.Option(None, "--today", help=TODAY_HELP)) -> None:
    """Write off the points of every lot that expired before the day."""
    from shouyin.cli import console, open_database, require_current_schema
    from shouyin.loyalty.jobs import run_expiry

    day = _day(today)
    db = open_database()
    try:
        require_current_schema(db)
        done = run_expiry(db, today=day, actor_name="cli")
    finally:
        db.dispose()
    console.print(
        f"Expired {done.points:,} points of {done.members:,} members (lots that ended before {day})."
    )


@loyalty_app.command("review-tiers")
def review_tiers(
    today: str = typer.Option(None, "--today", help=TODAY_HELP),
    force: bool = typer.Option(False, "--force", help="Review even if it is not the review day"),
) -> None:
    """Move members down to the tier their growth in the window earns (on the review day)."""
    from shouyin.cli import console, open_database, require_current_schema
    from shouyin.loyalty.jobs import run_review

    day = _day(today)
    db = open_database()
    try:
        require_current_schema(db)
        done = run_review(db, today=day, force=force, actor_name="cli")
    finally:
        db.dispose()
    if not done.ran:
        console.print(f"{day} is not the tier review day: nothing done. Add --force to review now.")
        return
    console.print(
        f"Reviewed {done.reviewed:,} members above the entry tier; {done.moved_down:,} moved down."
    )
