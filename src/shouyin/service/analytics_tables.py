"""The table behind each chart of the service reports, as text rows for CSV and Excel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from shouyin.service.analytics_schemas import (
    ComplaintFigures,
    ComplaintReport,
    Durations,
    FeedbackFigures,
    FeedbackReport,
    WordsReport,
)
from shouyin.shared.clock import to_local


def _(text: str) -> str:
    """Marks a label for translation; the export translates it in the reader's language."""
    return text


Translate = Callable[[str], str]
Table = tuple[list[str], list[list[str]]]
FeedbackTable = Literal["trend", "stores", "cashiers", "tags"]
ComplaintTable = Literal["trend", "stores", "categories", "repeat"]
FEEDBACK_TABLES: tuple[FeedbackTable, ...] = ("trend", "stores", "cashiers", "tags")
COMPLAINT_TABLES: tuple[ComplaintTable, ...] = ("trend", "stores", "categories", "repeat")
CATEGORY_LABELS = {
    "product": _("Product"),
    "service": _("Service"),
    "price": _("Pricing"),
    "environment": _("Store environment"),
    "other": _("Other"),
}
FEEDBACK_COLUMNS = [_("Answers"), _("Average satisfaction"), _("NPS answers"), _("Promoters"),
                    _("Passives"), _("Detractors"), _("NPS")]  # fmt: skip
TIME_COLUMNS = [
    _("Responses"), _("Median hours to respond"), _("P90 hours to respond"),
    _("Resolutions"), _("Median hours to resolve"), _("P90 hours to resolve"),
]  # fmt: skip
RATE_COLUMNS = [
    _("Response breach rate (percent)"),
    _("Resolution breach rate (percent)"),
    _("Reopen rate (percent)"),
]


def number(value: float | int | None) -> str:
    return "" if value is None else str(value)


def _feedback(f: FeedbackFigures) -> list[str]:
    return [str(f.answers), number(f.satisfaction_avg), str(f.nps_answers), str(f.promoters),
            str(f.passives), str(f.detractors), number(f.nps)]  # fmt: skip


def _times(response: Durations, resolution: Durations) -> list[str]:
    return [str(response.count), number(response.median_hours), number(response.p90_hours),
            str(resolution.count), number(resolution.median_hours),
            number(resolution.p90_hours)]  # fmt: skip


def _rates(f: ComplaintFigures) -> list[str]:
    return [number(f.response_breach_rate), number(f.resolution_breach_rate),
            number(f.reopen_rate)]  # fmt: skip


def feedback_table(found: FeedbackReport, table: FeedbackTable, tr: Translate) -> Table:
    period = tr("Period")
    if table == "tags":
        return [tr("Tag"), tr("Answers")], [[tr(t.label), str(t.count)] for t in found.tags]
    head = [tr(x) for x in FEEDBACK_COLUMNS]
    if table == "trend":
        return [period, *head], [[p.bucket, *_feedback(p)] for p in found.trend]
    if table == "stores":
        rows = [[p.bucket, s.store_code, s.store_name, *_feedback(p)]
                for s in found.stores for p in s.trend]  # fmt: skip
        return [period, tr("Store code"), tr("Store"), *head], rows
    rows = [[p.bucket, c.cashier_name or tr("Unknown cashier"), *_feedback(p)]
            for c in found.cashiers for p in c.trend]  # fmt: skip
    return [period, tr("Cashier"), *head], rows


def complaint_table(
    found: ComplaintReport, table: ComplaintTable, tr: Translate, timezone: str
) -> Table:
    categories = [tr(label) for label in CATEGORY_LABELS.values()]
    if table == "categories":
        rows = [[tr(CATEGORY_LABELS.get(c.category, c.category)), str(c.count)]
                for c in found.categories]  # fmt: skip
        return [tr("Category"), tr("Complaints")], rows
    if table == "repeat":
        rows = [[r.name, r.mobile_masked or "", str(r.tickets),
                 f"{to_local(r.last_opened_at, timezone):%Y-%m-%d %H:%M}"]
                for r in found.repeat]  # fmt: skip
        return [tr("Member"), tr("Mobile"), tr("Complaints"), tr("Last complaint")], rows
    times = [tr(x) for x in TIME_COLUMNS]
    if table == "trend":
        rows = [[p.bucket, str(p.tickets), *[str(p.categories[c]) for c in CATEGORY_LABELS],
                 *_times(p.response, p.resolution)] for p in found.trend]  # fmt: skip
        return [tr("Period"), tr("Complaints"), *categories, *times], rows
    rows = [[s.store_code, s.store_name, str(s.figures.tickets),
             *[str(s.categories[c]) for c in CATEGORY_LABELS],
             *_times(s.figures.response, s.figures.resolution), *_rates(s.figures)]
            for s in found.stores]  # fmt: skip
    head = [tr("Store code"), tr("Store"), tr("Complaints"), *categories, *times]
    return [*head, *[tr(x) for x in RATE_COLUMNS]], rows


def words_table(found: WordsReport, tr: Translate) -> Table:
    return [tr("Word"), tr("Occurrences")], [[w.word, str(w.count)] for w in found.words]
