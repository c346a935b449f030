"""The nightly loyalty jobs (points expiry, tier review) and the scheduler that runs them.

The scheduler is a background thread inside the server process (see ``main.py``), so a shop
with one PC needs no cron. Each job is its own transaction through ``Database.write()``, which
also takes the SQLite writer lock: a job never fights a sale for the database. Both jobs are
idempotent, so a run repeated by hand (``shouyin loyalty ...``) changes nothing more.

A shop PC is often off at 03:10, so the scheduler also catches up shortly after the server
starts (in its own thread, never delaying the start): points expiry runs (it finds nothing
if nothing is due), and the tier review runs for the latest review day if no review has run
since. Every review that runs leaves a "tiers.review" audit entry naming its day, which is
how the next start knows.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.config import Settings
from shouyin.db import Database
from shouyin.loyalty import points, tier_review
from shouyin.loyalty import settings as loyalty_settings
from shouyin.loyalty.models import TierChange
from shouyin.shared.clock import to_local, utcnow

log = logging.getLogger(__name__)
TIMEZONE = "Asia/Shanghai"
RUN_AT = {"hour": 3, "minute": 10}  # local time: after the day's sales, before opening
# The catch-up after a start waits this long, so the server is up and serving first.
CATCH_UP_DELAY = timedelta(seconds=20)


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
        # Also when nobody moved: the entry is how a later start knows the review ran.
        if done.ran:
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


def latest_review_day(today: date, review_day: int) -> date:
    """The most recent review day on or before ``today``."""
    if today.day >= review_day:
        return today.replace(day=review_day)
    last_month = today.replace(day=1) - timedelta(days=1)
    return last_month.replace(day=review_day)


def last_review(session: Session) -> date | None:
    """The day of the latest review that ran: from its audit entry, or, for reviews from
    before those entries were always written, from the tier moves it made."""
    days: list[date] = []
    # A few: a review run by hand for an old day may be the newest entry.
    for entry in audit.list_entries(session, limit=20, offset=0, action="tiers.review"):
        day = (entry.after or {}).get("today")
        if isinstance(day, str):
            days.append(date.fromisoformat(day))
    moved: datetime | None = session.scalar(
        select(func.max(TierChange.at)).where(TierChange.reason == "review")
    )
    if moved is not None:
        days.append(to_local(moved, TIMEZONE).date())
    return max(days) if days else None


def missed_review(db: Database, *, today: date) -> date | None:
    """The review day whose review has not run yet, if there is one."""
    with db.read() as session:
        due = latest_review_day(today, loyalty_settings.load(session).tier_review_day)
        last = last_review(session)
    return due if last is None or last < due else None


def catch_up(db: Database) -> None:
    """After a start: expire what is due and run a missed tier review; each on its own."""
    today = local_today()
    try:
        log.info("loyalty points expiry at start: %s", run_expiry(db, today=today))
    except Exception:
        log.exception("loyalty points expiry at start failed")
    try:
        day = missed_review(db, today=today)
        if day is not None:
            # Counted as of the missed day: the window the review would have seen then.
            log.info("missed tier review of %s: %s", day, run_review(db, today=day, force=True))
    except Exception:
        log.exception("missed tier review failed")


def wanted(settings: Settings) -> bool:
    """Whether the server runs the jobs: always, except in tests unless a setting asks."""
    # `run_jobs` (SHOUYIN_RUN_JOBS) is read if Settings has it; tests never start threads
    # behind the test's back otherwise.
    explicit = getattr(settings, "run_jobs", None)
    if explicit is not None:
        return bool(explicit)
    return settings.mode != "test"


def start(db: Database, *, catch_up_after: timedelta | None = CATCH_UP_DELAY) -> Any:
    """A started background scheduler running :func:`run_daily` every night, and
    :func:`catch_up` once, ``catch_up_after`` the start (None: no catch-up)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.date import DateTrigger

    scheduler = BackgroundScheduler(timezone=TIMEZONE, daemon=True)
    scheduler.add_job(
        run_daily, CronTrigger(timezone=TIMEZONE, **RUN_AT), args=[db], id="loyalty-daily",
        # A run held up by a busy or sleeping machine still happens within a few hours. A server
        # that is off at 03:10 skips the night; catch_up runs the missed work at the next start.
        coalesce=True, max_instances=1, misfire_grace_time=6 * 3600, replace_existing=True,
    )  # fmt: skip
    if catch_up_after is not None:
        scheduler.add_job(
            catch_up, DateTrigger(run_date=utcnow() + catch_up_after), args=[db],
            id="loyalty-catch-up", max_instances=1, misfire_grace_time=3600,
            replace_existing=True,
        )  # fmt: skip
    scheduler.start()
    return scheduler


def stop(scheduler: Any) -> None:
    scheduler.shutdown(wait=False)
