"""Complaint tickets (投诉): what the API and the pages take and answer.

Free text written by or about the customer (the description, comments, the survey comment)
is ``None`` in every answer to a reader without ``complaints.handle``; ``text_visible`` says
which case it is, so a page can say "hidden" rather than "empty".
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

ID = Field(ge=1, le=2**31 - 1, strict=True)
MAX_POINTS = 100_000  # one compensation gives at most this many points

Category = Literal["product", "service", "price", "environment", "other"]
Priority = Literal["urgent", "high", "normal"]
Status = Literal["new", "assigned", "in_progress", "resolved", "closed"]
Source = Literal["till", "office", "survey", "api"]
CompensationKind = Literal["coupon", "points", "refund"]
CATEGORIES: tuple[str, ...] = ("product", "service", "price", "environment", "other")
PRIORITIES: tuple[str, ...] = ("urgent", "high", "normal")
STATUSES: tuple[str, ...] = ("new", "assigned", "in_progress", "resolved", "closed")
OPEN_STATUSES: tuple[str, ...] = ("new", "assigned", "in_progress")
SOURCES: tuple[str, ...] = ("till", "office", "survey", "api")


# --- input ----------------------------------------------------------------------------------


class TicketOpen(BaseModel):
    """A new complaint. ``client_uuid`` makes a retry return the first ticket."""

    model_config = ConfigDict(extra="forbid")
    store_id: int = ID
    category: Category
    priority: Priority = "normal"
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=4000)
    member_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    order_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    client_uuid: UUID | None = None


class TicketAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: int = ID
    comment: str | None = Field(default=None, max_length=2000)


class TicketStep(BaseModel):
    """Start or close: an optional comment goes on the timeline with the step."""

    model_config = ConfigDict(extra="forbid")
    comment: str | None = Field(default=None, max_length=2000)


class TicketReopen(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000)


class TicketComment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)


class CompensationIn(BaseModel):
    """One thing given to the customer: a coupon of a template, points, or the reference of a
    refund made at the till."""

    model_config = ConfigDict(extra="forbid")
    kind: CompensationKind
    coupon_template_id: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    points: int | None = Field(default=None, ge=1, le=MAX_POINTS, strict=True)
    refund_reference: str | None = Field(default=None, min_length=1, max_length=60)


class TicketResolve(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: str = Field(min_length=1, max_length=4000)
    compensations: list[CompensationIn] = Field(default_factory=list, max_length=5)


# --- output ---------------------------------------------------------------------------------


class TicketEventPublic(BaseModel):
    id: int
    at: datetime
    kind: str  # opened, assigned, status, comment, attachment, escalated, compensated, ...
    user_id: int | None
    user_name: str | None  # None: the system
    from_status: str | None
    to_status: str | None
    comment: str | None  # None for readers without complaints.handle
    data: dict[str, object] | None


class AttachmentPublic(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    uploaded_by: int | None
    uploaded_at: datetime
    url: str


class CompensationPublic(BaseModel):
    id: int
    reason: str
    kind: str
    coupon_id: int | None
    coupon_code: str | None
    points: int | None
    refund_reference: str | None
    user_id: int | None
    at: datetime


class SurveyBrief(BaseModel):
    """The survey answer a ticket came from."""

    id: int
    satisfaction: int
    nps: int | None
    tags: list[str]
    comment: str | None  # None for readers without complaints.handle
    submitted_at: datetime


class TicketSummary(BaseModel):
    id: int
    number: str
    store_id: int
    store_code: str
    category: str
    priority: str
    status: str
    source: str
    title: str
    member_id: int | None
    order_id: int | None
    assignee_id: int | None
    assignee_name: str | None
    opened_at: datetime
    respond_by: datetime
    resolve_by: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    reopened: int
    overdue: bool  # open and past a deadline it has not met


class TicketDetail(TicketSummary):
    description: str | None  # None for readers without complaints.handle
    text_visible: bool
    store_name: str
    order_number: str | None
    survey_answer_id: int | None
    opened_by: int | None
    opened_by_name: str | None
    response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    outcome: str | None
    follow_up_score: int | None
    follow_up_at: datetime | None
    # The member's link to the follow-up question, once resolved and not yet answered
    # (complaint handlers only).
    follow_up_url: str | None
    updated_at: datetime
    survey: SurveyBrief | None
    events: list[TicketEventPublic]
    attachments: list[AttachmentPublic]
    compensations: list[CompensationPublic]


class TicketPage(BaseModel):
    items: list[TicketSummary]
    total: int
    limit: int
    offset: int
