"""Customer service: survey answers, complaint tickets (投诉) with their timeline, attachments,
compensation, in-app notices, and the days a store is closed (for business-hour deadlines)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import BigId, BigPk, UtcDateTime


class SurveyAnswer(Base):
    """One answer per order, from the receipt's signed link. Links to who and where, so a
    store's and a cashier's scores can be charted; the member is never shown on the survey."""

    __tablename__ = "survey_answers"
    __table_args__ = (Index("ix_survey_answers_store_at", "store_id", "submitted_at"),)
    id: Mapped[BigPk]
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders.id"), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    cashier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    satisfaction: Mapped[int] = mapped_column(Integer)  # 1..5
    nps: Mapped[int | None] = mapped_column(Integer)  # 0..10
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)  # codes, see service.surveys
    comment: Mapped[str | None] = mapped_column(Text)  # free text: complaint handlers only
    lang: Mapped[str] = mapped_column(String(8), default="zh_CN")
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Ticket(Base):
    """A complaint. Status: new -> assigned -> in_progress -> resolved -> closed; resolved or
    closed may be reopened. Deadlines are fixed when it opens (and on reopen), so the SLA
    scan is an index range query, not arithmetic over every open ticket."""

    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_respond_due", "status", "respond_by"),
        Index("ix_tickets_resolve_due", "status", "resolve_by"),
        Index("ix_tickets_store_opened", "store_id", "opened_at"),
    )
    id: Mapped[BigPk]
    number: Mapped[str] = mapped_column(String(40), unique=True)  # TK-S01-20261123-001
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    # product, service, price, environment, other
    category: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8))  # urgent, high, normal
    status: Mapped[str] = mapped_column(String(12), default="new")
    source: Mapped[str] = mapped_column(String(8))  # till, office, survey, api
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text)  # free text: complaint handlers only
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("orders.id"))
    survey_answer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("survey_answers.id"), unique=True
    )
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    respond_by: Mapped[datetime] = mapped_column(UtcDateTime())
    resolve_by: Mapped[datetime] = mapped_column(UtcDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set once by the SLA scan, so a breach is escalated (and compensated) only once.
    response_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(Text)
    # The member's answer to "were you satisfied with how we handled it?" (1..5).
    follow_up_score: Mapped[int | None] = mapped_column(Integer)
    follow_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TicketEvent(Base):
    """The ticket's timeline: every step timed, with who did it and an optional comment."""

    __tablename__ = "ticket_events"
    id: Mapped[BigPk]
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    # opened, assigned, status, comment, attachment, escalated, compensated, follow_up
    kind: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    comment: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class TicketAttachment(Base):
    """An image kept in the database: backups and store nodes carry it with the ticket."""

    __tablename__ = "ticket_attachments"
    id: Mapped[BigPk]
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), index=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))  # image/jpeg, image/png, image/webp
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())


class TicketCompensation(Base):
    """What the customer was given. ``reason`` "breach_response"/"breach_resolution" rows are
    unique per ticket, so a breach compensates once however often the scan runs."""

    __tablename__ = "ticket_compensations"
    __table_args__ = (UniqueConstraint("ticket_id", "reason"),)
    id: Mapped[BigPk]
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"))
    # resolution-1, resolution-2, ... by hand; breach_response, breach_resolution automatic
    reason: Mapped[str] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(8))  # coupon, points, refund
    coupon_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("coupons.id"))
    points: Mapped[int | None] = mapped_column(Integer)
    refund_reference: Mapped[str | None] = mapped_column(String(60))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Notice(Base):
    """An in-app notice for a store's managers (store_id set) or for HQ (store_id None)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_store_read", "store_id", "read_at"),)
    id: Mapped[BigPk]
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    kind: Mapped[str] = mapped_column(String(24))  # ticket.response_breached, ...
    ticket_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tickets.id"))
    # English msgid and its placeholders: shown in the reader's language.
    message: Mapped[str] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    read_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ClosedDay(Base):
    """A day a store (or, store_id None, every store) is closed: business-hour deadlines
    skip it. Holidays like 春节 go here."""

    __tablename__ = "closed_days"
    __table_args__ = (UniqueConstraint("store_id", "day"),)
    id: Mapped[BigPk]
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str] = mapped_column(String(60))
