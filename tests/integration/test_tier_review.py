"""The monthly tier review on SQLite and PostgreSQL: members move down to what their growth in
the window earns, on the review day only, once, with one grouped read of the ledger."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.config import Settings
from shouyin.db import Database
from shouyin.loyalty import jobs, ledger, tier_review
from shouyin.loyalty import settings as loyalty_settings
from shouyin.loyalty.models import MemberAccount, Tier, TierChange
from tests.integration.test_points_ops import earn, register

REVIEW_DAY = date(2026, 12, 1)
RECENT = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)
LONG_AGO = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)  # outside the 365-day window


def tier_id(session: Session, code: str) -> int:
    return session.scalars(select(Tier.id).where(Tier.code == code)).one()


def holding(session: Session, code: str, growth: list[tuple[int, datetime]]) -> int:
    """A member in tier ``code`` with the given growth (fen) earned at the given times."""
    member_id = register(session)
    ledger.ensure_account(session.connection(), member_id=member_id, at=LONG_AGO)
    for amount, at in growth:
        earn(session, member_id, growth=amount, at=at)
    session.execute(
        update(MemberAccount)
        .where(MemberAccount.member_id == member_id)
        .values(tier_id=tier_id(session, code), tier_since=LONG_AGO)
    )
    return member_id


def tier_of(session: Session, member_id: int) -> str:
    account = session.get(MemberAccount, member_id, populate_existing=True)
    assert account is not None
    tier = session.get(Tier, account.tier_id)
    assert tier is not None
    return tier.code


def test_members_move_down_to_what_their_window_growth_earns(session: Session) -> None:
    # Gold needs 500,000 fen, silver 200,000 (the migration's tiers).
    slipped = holding(session, "gold", [(300_000, RECENT), (900_000, LONG_AGO)])
    lapsed = holding(session, "silver", [(250_000, LONG_AGO)])
    kept = holding(session, "gold", [(400_000, RECENT), (150_000, RECENT - timedelta(days=300))])
    entry = holding(session, "regular", [])
    result = tier_review.review_tiers(session, today=REVIEW_DAY)
    assert result.ran and result.moved_down == 2 and result.reviewed == 3
    assert tier_of(session, slipped) == "silver"
    assert tier_of(session, lapsed) == "regular"
    assert tier_of(session, kept) == "gold" and tier_of(session, entry) == "regular"
    change = session.scalars(select(TierChange).where(TierChange.member_id == slipped)).one()
    assert change.reason == "review" and change.growth == 300_000
    assert (change.from_tier_id, change.to_tier_id) == (
        tier_id(session, "gold"),
        tier_id(session, "silver"),
    )
    account = session.get(MemberAccount, slipped)
    assert account is not None and account.tier_since is not None
    assert account.tier_since > LONG_AGO
    again = tier_review.review_tiers(session, today=REVIEW_DAY)
    assert again.moved_down == 0
    assert len(session.scalars(select(TierChange)).all()) == 2


def test_the_review_runs_only_on_the_review_day_unless_forced(session: Session) -> None:
    rules = loyalty_settings.load(session)
    loyalty_settings.save(session, rules.model_copy(update={"tier_review_day": 15}))
    member_id = holding(session, "gold", [])
    skipped = tier_review.review_tiers(session, today=REVIEW_DAY)
    assert not skipped.ran and tier_of(session, member_id) == "gold"
    forced = tier_review.review_tiers(session, today=REVIEW_DAY, force=True)
    assert forced.ran and tier_of(session, member_id) == "regular"
    assert tier_review.review_tiers(session, today=date(2026, 12, 15)).ran


def test_the_window_sums_come_from_one_grouped_query(session: Session) -> None:
    for n in range(6):
        holding(session, "gold", [(100_000 * n, RECENT)])
    reads: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "loyalty_ledger" in statement:
            reads.append(statement)

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = tier_review.review_tiers(session, today=REVIEW_DAY)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert result.moved_down == 5 and len(reads) == 1


def test_the_nightly_jobs_run_at_ten_past_three_in_china_and_not_in_tests(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not jobs.wanted(Settings(mode="test", secret_key="x"))
    assert jobs.wanted(Settings(mode="production", secret_key="x"))
    scheduler = jobs.start(database)
    try:
        job = scheduler.get_job("loyalty-daily")
        local = job.next_run_time.astimezone(ZoneInfo("Asia/Shanghai"))
        assert (local.hour, local.minute) == (3, 10)
    finally:
        jobs.stop(scheduler)
    with database.write() as session:
        member_id = holding(session, "gold", [])
        earn(session, member_id, points=9, expires_on=date(2026, 11, 30))
    monkeypatch.setattr(jobs, "local_today", lambda: REVIEW_DAY)
    jobs.run_daily(database)
    with database.read() as session:
        assert tier_of(session, member_id) == "regular"
        account = session.get(MemberAccount, member_id)
        assert account is not None and account.points == 0
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["points.expire", "tiers.review"]
