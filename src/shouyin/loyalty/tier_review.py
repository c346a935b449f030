"""The monthly tier review: members whose growth in the window fell below their tier move down.

Sales only ever move members up (at the till); this is the only place they move down. The
window is counted from the start of the review day in China, so two runs on the same day see
the same sums and the second moves nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from shouyin.loyalty import rules
from shouyin.loyalty import settings as loyalty_settings
from shouyin.loyalty.models import LedgerEntry, MemberAccount, Tier, TierChange
from shouyin.shared.clock import utcnow
from shouyin.shared.types import table_of

REVIEW_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class Review:
    ran: bool  # False: not the review day
    reviewed: int  # members above the entry tier
    moved_down: int


def window_start(today: date, days: int) -> datetime:
    """Midnight in China ``days`` days before ``today``, in UTC."""
    local = datetime.combine(today - timedelta(days=days), time(), tzinfo=ZoneInfo(REVIEW_TIMEZONE))
    return local.astimezone(UTC)


def review_tiers(session: Session, *, today: date, force: bool = False) -> Review:
    """Move members down to the tier their growth in the window earns (reason "review")."""
    settings = loyalty_settings.load(session)
    if not force and today.day != settings.tier_review_day:
        return Review(ran=False, reviewed=0, moved_down=0)
    all_tiers = {t.id: t for t in session.scalars(select(Tier))}
    levels = {t.id: rules.TierLevel(t.id, t.rank, t.threshold, t.points_multiplier)
              for t in all_tiers.values()}  # fmt: skip
    targets = [levels[t.id] for t in all_tiers.values() if t.active]
    members = _growth_of_ranked_members(session, window_start(today, settings.growth_window_days))
    at = utcnow()
    moves = []
    for member_id, tier_id, growth in members:
        to = rules.review_to(levels[tier_id], growth, targets)
        if to is not None:
            moves.append({"member_id": member_id, "from_tier_id": tier_id, "to_tier_id": to.id,
                          "growth": growth})  # fmt: skip
    moved = _apply(session, moves, at)
    return Review(ran=True, reviewed=len(members), moved_down=moved)


def _growth_of_ranked_members(session: Session, since: datetime) -> list[tuple[int, int, int]]:
    """(member, tier, growth in the window) of every member above the entry tier: one query."""
    sums = (
        select(LedgerEntry.member_id, func.sum(LedgerEntry.growth).label("growth"))
        .where(LedgerEntry.at >= since)
        .group_by(LedgerEntry.member_id)
        .subquery()
    )
    query = (
        select(MemberAccount.member_id, MemberAccount.tier_id, func.coalesce(sums.c.growth, 0))
        .join(Tier, Tier.id == MemberAccount.tier_id)
        .outerjoin(sums, sums.c.member_id == MemberAccount.member_id)
        .where(Tier.rank > 0)
        .order_by(MemberAccount.member_id)
    )
    return [(int(m), int(t), int(g)) for m, t, g in session.execute(query)]


def _apply(session: Session, moves: list[dict[str, int]], at: datetime) -> int:
    accounts = table_of(MemberAccount)
    conn = session.connection()
    applied = []
    for move in moves:
        # Only if the tier is still the one reviewed: a sale may have moved the member up.
        result = conn.execute(
            update(accounts)
            .where(accounts.c.member_id == move["member_id"],
                   accounts.c.tier_id == move["from_tier_id"])
            .values(tier_id=move["to_tier_id"], tier_since=at)
        )  # fmt: skip
        if result.rowcount == 1:
            applied.append(
                {**move, "reason": "review", "at": at, "order_id": None, "user_id": None}
            )
    if applied:
        conn.execute(insert(table_of(TierChange)), applied)
    return len(applied)
