"""Shifts (交接班): a cashier's turn at a register, its cash movements and the day's Z reports.

A register has at most one open shift (a partial unique index). Orders and returns made at a
register carry the shift they were made in, so a shift's figures are one indexed GROUP BY.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import BigPk, UtcDateTime


class Shift(Base):
    __tablename__ = "shifts"
    __table_args__ = (
        # One open shift per register, enforced by the database.
        Index(
            "ux_shifts_register_open", "register_id", unique=True,
            sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'"),
        ),
        Index("ix_shifts_store_day", "store_id", "business_date"),
    )  # fmt: skip
    id: Mapped[BigPk]
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id"))
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The business day the shift was opened in; its Z report is that day's.
    business_date: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    opening_float: Mapped[int] = mapped_column(Integer)  # fen in the drawer at the start
    status: Mapped[str] = mapped_column(String(8), default="open")  # open, closed
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Per tender, fen: {"cash": 123400, "card": ..., "wechat": ..., "alipay": ...}
    expected: Mapped[dict[str, int] | None] = mapped_column(JSON)
    counted: Mapped[dict[str, int] | None] = mapped_column(JSON)
    variance: Mapped[dict[str, int] | None] = mapped_column(JSON)  # counted - expected
    note: Mapped[str | None] = mapped_column(String(200))
    # The shift report as it was at closing, so a reprint shows the same figures.
    report: Mapped[dict[str, object] | None] = mapped_column(JSON)


class CashMove(Base):
    """Cash put in or taken out of the drawer, and drawer openings without a sale."""

    __tablename__ = "shift_cash_moves"
    id: Mapped[BigPk]
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # in, out, no_sale
    amount: Mapped[int] = mapped_column(Integer, default=0)  # fen, 0 for no_sale
    reason: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ZReport(Base):
    """The end of a register's business day: numbered, frozen, printed."""

    __tablename__ = "z_reports"
    __table_args__ = (
        UniqueConstraint("register_id", "business_date"),
        UniqueConstraint("register_id", "number"),
    )
    id: Mapped[BigPk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id"))
    business_date: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 ... per register
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    data: Mapped[dict[str, object]] = mapped_column(JSON)
