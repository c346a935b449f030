"""`shouyin payments recover`, and the same safety net run by the server in the background.

Payment-code attempts left pending, waiting or reversing (a crash, a closed browser, a
gateway that stopped answering) are settled: a decline is recorded, anything else reversed.
Refunds of returns still pending (the gateway did not answer) are sent again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer

from shouyin.config import Settings
from shouyin.db import Database

if TYPE_CHECKING:
    from shouyin.sales.gateway import Gateway

log = logging.getLogger(__name__)
payments_app = typer.Typer(help="Payment codes (付款码): the safety net.", no_args_is_help=True)
# Attempts younger than the password wait plus this may still have a till waiting on them.
GRACE = timedelta(seconds=60)
EVERY_SECONDS = 60.0
# A paid code no sale used for this long: the till was closed with a paid part (reversed).
UNCLAIMED_AFTER = timedelta(hours=2)


def register(app: typer.Typer) -> None:
    app.add_typer(payments_app, name="payments")


def older_than(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.payment_wait_seconds) + GRACE


@payments_app.command("recover")
def recover(
    minutes: float = typer.Option(
        None, "--older-than", help="Minutes an attempt must have been left (default: the wait + 1)"
    ),
) -> None:
    """Query or reverse payment-code attempts that were never settled."""
    from shouyin.cli import console, open_database, require_current_schema
    from shouyin.config import get_settings
    from shouyin.sales.gateway import process_gateway
    from shouyin.sales.payment_recovery import recover_pending

    settings = get_settings()
    age = older_than(settings) if minutes is None else timedelta(minutes=minutes)
    db = open_database()
    try:
        require_current_schema(db)
        done = recover_pending(
            db, process_gateway(settings.payment_gateway), older_than=age,
            unclaimed_after=UNCLAIMED_AFTER,
        )  # fmt: skip
    finally:
        db.dispose()
    console.print(
        f"Checked {done.checked} unsettled payment(s): {done.failed} declined, "
        f"{done.reversed} reversed, {done.left} left (no answer yet: run again later). "
        f"Refunds of returns: {done.refunds_done} sent, {done.refunds_failed} refused, "
        f"{done.refunds_left} left."
    )


def schedule(
    scheduler: Any, db: Database, settings: Settings, gateway: Gateway | None = None
) -> None:
    """Run the recovery in the server's scheduler (loyalty/jobs.py): soon after start, then
    every minute. ``gateway``: the app's (``payment_router.app_gateway``); by default the
    process's gateway of the setting, which is the same one unless a test replaced it."""
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler.add_job(
        run_recovery, IntervalTrigger(seconds=EVERY_SECONDS), args=(db, settings, gateway),
        id="payment-recovery", next_run_time=datetime.now(UTC) + timedelta(seconds=5),
        coalesce=True, max_instances=1, replace_existing=True,
    )  # fmt: skip


def run_recovery(db: Database, settings: Settings, gateway: Gateway | None = None) -> None:
    """Settle unsettled attempts and send the refunds of returns still pending."""
    from shouyin.sales.gateway import process_gateway
    from shouyin.sales.payment_recovery import recover_pending

    try:
        done = recover_pending(
            db, gateway or process_gateway(settings.payment_gateway),
            older_than=older_than(settings),
            unclaimed_after=UNCLAIMED_AFTER,
        )  # fmt: skip
        if done.checked or done.refunds_done or done.refunds_failed or done.refunds_left:
            log.info("payment recovery: %s", done)
    except Exception:
        log.exception("payment recovery failed")
