"""The nightly loyalty jobs (points expiry, tier review) and the scheduler that runs them.

The scheduler is a background thread inside the server process (see ``main.py``), so a shop
with one PC needs no cron. Each job is its own transaction through ``Database.write()``, which
also takes the SQLite writer lock: a job never fights a sale for the database. Both jobs are
idempotent, so a run repeated by hand (``shouyin loyalty ...``) changes nothing more.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from shouyin.audit import service as audit
from shouyin.config import Settings
from shouyin.db import Database
from shouyin.loyalty import points, tier_review
from shouyin.shared.clock import to_local, utcnow

log = logging.getLogger(__name__)
TIMEZONE = "Asia/Shanghai"
RUN_AT = {"hour": 3, "minute": 10}  # local time: after the day's sales, before opening


def local_today() -> date:
    return to_local(utcnow(), TIMEZONE).date()


def run_expiry(db: Database, *, today: date, actor_name: str = "scheduler") -> points.Expired:
    with db.write() as session:
        done = points.expire_points(session, today=today)
        if done.points:
            audit.record(
                session, actor=None, actor_name=actor_name, action="points.expire",
                after={"today": today.isoformat(), "members": done.members, "points": done.points},
            )  # fmt: skip
    return done


def run_review(
    db: Database, *, today: date, force: bool = False, actor_name: str = "scheduler"
) -> tier_review.Review:
    with db.write() as session:
        done = tier_review.review_tiers(session, today=today, force=force)
        if done.moved_down:
            audit.record(
                session, actor=None, actor_name=actor_name, action="tiers.review",
                after={"today": today.isoformat(), "reviewed": done.reviewed,
                       "moved_down": done.moved_down},
            )  # fmt: skip
    return done


def run_daily(db: Database) -> None:
    """Both jobs for today; one failing does not stop the other."""
    today = local_today()
    for name, job in (("points expiry", run_expiry), ("tier review", run_review)):
        try:
            log.info("loyalty %s for %s: %s", name, today, job(db, today=today))
        except Exception:
            log.exception("loyalty %s for %s failed", name, today)


def wanted(settings: Settings) -> bool:
    """Whether the server runs the jobs: always, except in tests unless a setting asks."""
    # `run_jobs` (SHOUYIN_RUN_JOBS) is read if Settings has it; tests never start threads
    # behind the test's back otherwise.
    explicit = getattr(settings, "run_jobs", None)
    if explicit is not None:
        return bool(explicit)
    return settings.mode != "test"


def start(db: Database) -> Any:
    """A started background scheduler running :func:`run_daily` every night."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = BackgroundScheduler(timezone=TIMEZONE, daemon=True)
    scheduler.add_job(
        run_daily, CronTrigger(timezone=TIMEZONE, **RUN_AT), args=[db], id="loyalty-daily",
        # A run held up by a busy or sleeping machine still happens within a few hours. A server
        # that is off at 03:10 skips the night: expiry catches up the next night by itself.
        coalesce=True, max_instances=1, misfire_grace_time=6 * 3600, replace_existing=True,
    )  # fmt: skip
    scheduler.start()
    return scheduler


def stop(scheduler: Any) -> None:
    scheduler.shutdown(wait=False)
