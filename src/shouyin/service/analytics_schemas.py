"""Output of the service reports. Scores and counts only: no customer's free text is in the
feedback or complaints reports; words derived from it are a report of their own, for
complaint handlers (docs/service.md, "Service reports")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

Group = Literal["day", "week", "month"]
GROUPS: tuple[Group, ...] = ("day", "week", "month")
WordSource = Literal["all", "comments", "tickets"]


class ReportPeriod(BaseModel):
    start: date  # business days, both included
    end: date
    group: Group
    timezone: str  # the store's, or the chain's for all stores
    store_id: int | None  # None: all stores (head office)


class FeedbackFigures(BaseModel):
    answers: int
    satisfaction_avg: float | None = Field(description="1 to 5; None without answers")
    nps_answers: int = Field(description="Answers that gave an NPS score (it is optional)")
    promoters: int  # 9-10
    passives: int  # 7-8
    detractors: int  # 0-6
    nps: float | None = Field(description="% promoters minus % detractors, -100 to 100")


class FeedbackPoint(FeedbackFigures):
    bucket: str  # day or week: its first day (YYYY-MM-DD); month: YYYY-MM
    start: date


class StoreFeedback(BaseModel):
    store_id: int
    store_code: str
    store_name: str
    figures: FeedbackFigures
    trend: list[FeedbackPoint]


class CashierFeedback(BaseModel):
    cashier_id: int | None  # None: answers to orders without a known cashier
    cashier_name: str
    store_id: int | None
    figures: FeedbackFigures
    trend: list[FeedbackPoint]


class TagCount(BaseModel):
    tag: str  # code, see service.survey_schemas.TAGS
    label: str  # English msgid; shown translated
    positive: bool
    count: int


class FeedbackReport(BaseModel):
    period: ReportPeriod
    summary: FeedbackFigures
    trend: list[FeedbackPoint]
    stores: list[StoreFeedback]
    cashiers: list[CashierFeedback]
    tags: list[TagCount]


class Durations(BaseModel):
    """Calendar hours from opening a ticket to its first response or its resolution."""

    count: int
    median_hours: float | None
    p90_hours: float | None


class ComplaintFigures(BaseModel):
    tickets: int
    response: Durations
    resolution: Durations
    response_due: int = Field(description="Tickets whose response deadline has passed")
    response_breached: int
    response_breach_rate: float | None = Field(description="Percent of response_due")
    resolution_due: int
    resolution_breached: int
    resolution_breach_rate: float | None
    resolved_once: int = Field(description="Tickets resolved at least once")
    reopened: int
    reopen_rate: float | None = Field(description="Percent of resolved_once")


class CategoryCount(BaseModel):
    category: str  # product, service, price, environment, other
    count: int


class ComplaintPoint(BaseModel):
    bucket: str
    start: date
    tickets: int
    categories: dict[str, int]
    response: Durations
    resolution: Durations


class StoreComplaints(BaseModel):
    store_id: int
    store_code: str
    store_name: str
    figures: ComplaintFigures
    categories: dict[str, int]


class RepeatComplainant(BaseModel):
    """A member with two or more tickets in the period. Name and id only for complaint
    handlers; others see a masked name."""

    member_id: int | None
    name: str
    mobile_masked: str | None
    tickets: int
    last_opened_at: datetime


class ComplaintReport(BaseModel):
    period: ReportPeriod
    summary: ComplaintFigures
    trend: list[ComplaintPoint]
    categories: list[CategoryCount]
    stores: list[StoreComplaints]
    repeat_count: int = Field(description="Members with two or more tickets in the period")
    repeat: list[RepeatComplainant] = Field(description="The most frequent, at most 50")
    names_shown: bool = Field(description="True for complaint handlers: names are not masked")


class WordCount(BaseModel):
    word: str
    count: int


class WordsReport(BaseModel):
    period: ReportPeriod
    source: WordSource
    texts: int = Field(description="Comments and ticket descriptions read")
    truncated: bool = Field(description="True when only the latest texts were read")
    words: list[WordCount]
