"""The nightly loyalty jobs catch up after a start on SQLite and PostgreSQL: a shop PC that
was off at 03:10 still expires points and runs a missed tier review, once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from shouyin.audit.models import AuditEntry
from shouyin.db import Database
from shouyin.loyalty import jobs
from shouyin.loyalty.models import MemberAccount, TierChange
from tests.integration.test_points_ops import earn
from tests.integration.test_tier_review import holding, tier_id, tier_of

REVIEW_DAY = date(2026, 12, 1)  # the default review day is the 1st


def reviews(database: Database) -> list[object]:
    with database.read() as session:
        query = select(AuditEntry.after).where(AuditEntry.action == "tiers.review")
        return [after["today"] for after in session.scalars(query.order_by(AuditEntry.id))]  # type: ignore[index]


def set_gold(database: Database, member_id: int) -> None:
    with database.write() as session:
        session.execute(
            update(MemberAccount)
            .where(MemberAccount.member_id == member_id)
            .values(tier_id=tier_id(session, "gold"))
        )


def test_the_latest_review_day_is_this_month_or_last() -> None:
    assert jobs.latest_review_day(date(2026, 12, 5), 1) == date(2026, 12, 1)
    assert jobs.latest_review_day(date(2026, 12, 1), 1) == date(2026, 12, 1)
    assert jobs.latest_review_day(date(2026, 12, 14), 15) == date(2026, 11, 15)
    assert jobs.latest_review_day(date(2027, 1, 3), 28) == date(2026, 12, 28)
    assert jobs.latest_review_day(date(2026, 3, 1), 28) == date(2026, 2, 28)


def test_a_start_runs_expiry_and_the_missed_review_once(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.write() as session:
        slipped = holding(session, "gold", [])
        earn(session, slipped, points=9, expires_on=date(2026, 11, 30))
    monkeypatch.setattr(jobs, "local_today", lambda: REVIEW_DAY + timedelta(days=4))
    jobs.catch_up(database)
    with database.read() as session:
        assert tier_of(session, slipped) == "regular"
        account = session.get(MemberAccount, slipped)
        assert account is not None and account.points == 0
    assert reviews(database) == ["2026-12-01"]
    # Set up again by hand after the review: the next start does not review again.
    set_gold(database, slipped)
    jobs.catch_up(database)
    with database.read() as session:
        assert tier_of(session, slipped) == "gold"
        moves = select(func.count()).select_from(TierChange).where(TierChange.reason == "review")
        assert session.scalar(moves) == 1
    assert reviews(database) == ["2026-12-01"]


def test_a_review_that_ran_on_its_day_is_not_repeated_at_the_next_start(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "local_today", lambda: REVIEW_DAY)
    jobs.run_daily(database)  # nobody to move down: the run is still recorded
    assert reviews(database) == ["2026-12-01"]
    with database.write() as session:
        kept = holding(session, "gold", [])
    monkeypatch.setattr(jobs, "local_today", lambda: REVIEW_DAY + timedelta(days=10))
    jobs.catch_up(database)
    with database.read() as session:
        assert tier_of(session, kept) == "gold"
    assert reviews(database) == ["2026-12-01"]
    # The next month's review day passes with the PC off: the start after it runs it.
    monkeypatch.setattr(jobs, "local_today", lambda: date(2027, 1, 2))
    jobs.catch_up(database)
    with database.read() as session:
        assert tier_of(session, kept) == "regular"
    assert reviews(database) == ["2026-12-01", "2027-01-01"]


def test_reviews_from_before_the_audit_entry_count_by_their_tier_moves(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database.write() as session:
        kept = holding(session, "gold", [])
        session.add(
            TierChange(member_id=kept, from_tier_id=tier_id(session, "diamond"),
                       to_tier_id=tier_id(session, "gold"), reason="review",
                       at=datetime(2026, 11, 30, 19, 30, tzinfo=UTC))  # 12-01 03:30 in China
        )  # fmt: skip
    monkeypatch.setattr(jobs, "local_today", lambda: REVIEW_DAY + timedelta(days=3))
    assert jobs.missed_review(database, today=REVIEW_DAY + timedelta(days=3)) is None
    jobs.catch_up(database)
    with database.read() as session:
        assert tier_of(session, kept) == "gold"


def test_the_catch_up_is_scheduled_after_the_start_not_run_during_it(database: Database) -> None:
    before = datetime.now(UTC)
    scheduler = jobs.start(database)
    try:
        job = scheduler.get_job("loyalty-catch-up")
        assert job is not None and job.next_run_time >= before + timedelta(seconds=15)
    finally:
        jobs.stop(scheduler)
    quiet = jobs.start(database, catch_up_after=None)
    try:
        assert quiet.get_job("loyalty-catch-up") is None
    finally:
        jobs.stop(quiet)
    assert reviews(database) == []
