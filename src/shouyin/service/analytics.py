"""Service analytics: feedback scores and NPS, complaint volumes, times and breaches, and the
top words of customers' free text. Formulas and the privacy rule: docs/service.md, "Service
reports".

Scope: a store-bound user sees only their store (another store is refused); head office sees
all stores or picks one. Scores and counts need feedback.read; free text and the words made
from it, and repeat complainants' names, need complaints.handle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.customers.crypto import FieldCipher
from shouyin.service import analytics_sql as sql
from shouyin.service import top_words
from shouyin.service.analytics_complaints import assemble_complaints
from shouyin.service.analytics_feedback import assemble_feedback
from shouyin.service.analytics_period import CHAIN_TIMEZONE, Period, period_of
from shouyin.service.analytics_schemas import (
    ComplaintReport,
    FeedbackReport,
    Group,
    WordCount,
    WordSource,
    WordsReport,
)
from shouyin.shared.clock import business_date, utcnow
from shouyin.stores.service import get_store

# Texts read for the top words: the latest of each source. Segmenting runs at about a
# megabyte a second; this keeps a year's report of a busy chain to a few seconds.
TEXT_LIMIT = 10_000
WORDS_DEFAULT, WORDS_MAX = 30, 100


@dataclass(frozen=True)
class ReportQuery:
    store_id: int | None = None
    start: date | None = None
    end: date | None = None
    group: Group = "day"


def period_for(session: Session, *, query: ReportQuery, actor: Principal, now: datetime) -> Period:
    """The period in the store's business days (the chain's for all stores)."""
    store_id = actor.scope_store(query.store_id)
    timezone, cutoff = CHAIN_TIMEZONE, 0
    if store_id is not None:
        store = get_store(session, store_id=store_id)
        timezone, cutoff = store.timezone, store.day_cutoff_minutes
    today = business_date(now, timezone, cutoff)
    return period_of(query.start, query.end, group=query.group, today=today, timezone=timezone,
                     cutoff=cutoff, store_id=store_id)  # fmt: skip


def feedback(session: Session, *, query: ReportQuery, actor: Principal) -> FeedbackReport:
    """Answers, average satisfaction and NPS over time, by store and by cashier; tag counts."""
    actor.require("feedback.read")
    period = period_for(session, query=query, actor=actor, now=utcnow())
    groups = sql.feedback_groups(session, period)
    tags = sql.tag_groups(session, period)
    return assemble_feedback(session, period, groups, tags)


def complaints(
    session: Session, *, query: ReportQuery, actor: Principal, cipher: FieldCipher
) -> ComplaintReport:
    """Volumes by category and store, times to respond and resolve, breach and reopen rates,
    repeat complainants (named only for complaint handlers)."""
    actor.require("feedback.read")
    now = utcnow()
    period = period_for(session, query=query, actor=actor, now=now)
    groups = sql.complaint_groups(session, period, now)
    times = sql.durations(session, period)
    repeat_total, repeat = sql.repeat_complainants(session, period)
    return assemble_complaints(
        session, period, groups, times, (repeat_total, repeat), cipher=cipher,
        names=actor.can("complaints.handle"),
    )  # fmt: skip


def words(
    session: Session, *, query: ReportQuery, actor: Principal, source: WordSource = "all",
    limit: int = WORDS_DEFAULT,
) -> WordsReport:  # fmt: skip
    """The most frequent words of survey comments and ticket descriptions. Free text: only
    for complaint handlers."""
    actor.require("complaints.handle")
    period = period_for(session, query=query, actor=actor, now=utcnow())
    texts: list[str] = []
    truncated = False
    if source in ("all", "comments"):
        found = sql.comments(session, period, TEXT_LIMIT + 1)
        truncated |= len(found) > TEXT_LIMIT
        texts += found[:TEXT_LIMIT]
    if source in ("all", "tickets"):
        found = sql.descriptions(session, period, TEXT_LIMIT + 1)
        truncated |= len(found) > TEXT_LIMIT
        texts += found[:TEXT_LIMIT]
    counted = top_words.top_words(texts, min(max(limit, 1), WORDS_MAX))
    return WordsReport(
        period=period.public(), source=source, texts=len(texts), truncated=truncated,
        words=[WordCount(word=w, count=n) for w, n in counted],
    )  # fmt: skip
