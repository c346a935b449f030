"""Feedback figures from the grouped survey rows: totals, trend, stores, cashiers, tags."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from shouyin.auth.service import get_user
from shouyin.errors import NotFound
from shouyin.service import analytics_stats as stats
from shouyin.service.analytics_period import Period
from shouyin.service.analytics_schemas import (
    CashierFeedback,
    FeedbackFigures,
    FeedbackPoint,
    FeedbackReport,
    StoreFeedback,
    TagCount,
)
from shouyin.service.survey_schemas import TAGS
from shouyin.stores.service import list_stores


@dataclass
class Tally:
    answers: int = 0
    satisfaction: int = 0
    nps_answers: int = 0
    promoters: int = 0
    detractors: int = 0

    def add(self, row: Any) -> None:
        self.answers += int(row.answers)
        self.satisfaction += int(row.satisfaction)
        self.nps_answers += int(row.nps_answers)
        self.promoters += int(row.promoters)
        self.detractors += int(row.detractors)

    def figures(self) -> FeedbackFigures:
        return FeedbackFigures(
            answers=self.answers,
            satisfaction_avg=stats.average(self.satisfaction, self.answers),
            nps_answers=self.nps_answers, promoters=self.promoters,
            passives=self.nps_answers - self.promoters - self.detractors,
            detractors=self.detractors,
            nps=stats.nps(self.promoters, self.detractors, self.nps_answers),
        )  # fmt: skip


def _trend(period: Period, rows: Sequence[Any]) -> list[FeedbackPoint]:
    """One point per bucket, empty ones included, so a chart's days line up."""
    tallies = [Tally() for _ in period.buckets]
    for row in rows:
        tallies[int(row.bucket)].add(row)
    return [
        FeedbackPoint(bucket=b.label, start=b.start, **t.figures().model_dump())
        for b, t in zip(period.buckets, tallies, strict=True)
    ]


def _total(rows: Sequence[Any]) -> FeedbackFigures:
    tally = Tally()
    for row in rows:
        tally.add(row)
    return tally.figures()


def _grouped(rows: Sequence[Any], key: str) -> dict[Any, list[Any]]:
    found: dict[Any, list[Any]] = {}
    for row in rows:
        found.setdefault(getattr(row, key), []).append(row)
    return found


def _cashier_name(session: Session, cashier_id: int | None) -> str:
    if cashier_id is None:
        return ""
    try:
        return get_user(session, user_id=cashier_id).display_name
    except NotFound:
        return f"#{cashier_id}"


def _tags(rows: Sequence[Any]) -> list[TagCount]:
    counts: Counter[str] = Counter()
    for row in rows:
        try:
            codes = json.loads(row.tags) if row.tags else []
        except ValueError:
            continue
        for code in set(codes if isinstance(codes, list) else []):
            counts[str(code)] += int(row.answers)
    found = []
    for code, count in counts.most_common():
        tag = TAGS.get(code)
        found.append(TagCount(tag=code, label=tag.label if tag else code,
                              positive=bool(tag and tag.positive), count=count))  # fmt: skip
    return found


def assemble_feedback(
    session: Session, period: Period, rows: Sequence[Any], tag_rows: Sequence[Any]
) -> FeedbackReport:
    stores = {s.id: s for s in list_stores(session)}
    by_store = []
    for store_id, mine in _grouped(rows, "store_id").items():
        store = stores.get(store_id)
        by_store.append(StoreFeedback(
            store_id=store_id, store_code=store.code if store else "",
            store_name=store.name if store else "", figures=_total(mine),
            trend=_trend(period, mine),
        ))  # fmt: skip
    by_store.sort(key=lambda s: s.store_code)
    by_cashier = []
    for cashier_id, mine in _grouped(rows, "cashier_id").items():
        by_cashier.append(CashierFeedback(
            cashier_id=cashier_id, cashier_name=_cashier_name(session, cashier_id),
            store_id=mine[0].store_id, figures=_total(mine), trend=_trend(period, mine),
        ))  # fmt: skip
    by_cashier.sort(key=lambda c: (-c.figures.answers, c.cashier_name))
    return FeedbackReport(
        period=period.public(), summary=_total(rows), trend=_trend(period, rows),
        stores=by_store, cashiers=by_cashier, tags=_tags(tag_rows),
    )  # fmt: skip
