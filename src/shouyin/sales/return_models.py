"""Returns (退货): a return of lines of one order, its lines and the tenders refunded.

A return is its own rows: the original order, its lines and payments are never changed, so
the order checks (lines and payments add up to the order total) keep holding.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import BigPk, UtcDateTime


class ReturnOrder(Base):
    __tablename__ = "sale_returns"
    id: Mapped[BigPk]
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    # sha256 of the request without the approval: a reused UUID with other lines is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(48), unique=True)
    # Empty for a return without a receipt (always approved by a manager, refunded in cash).
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    register_id: Mapped[int | None] = mapped_column(ForeignKey("registers.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    business_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    refund_to: Mapped[str] = mapped_column(String(12))  # original, cash
    refund: Mapped[int] = mapped_column(Integer)
    # 1 when this return completed the order: every line is back.
    whole_order: Mapped[int] = mapped_column(Integer, default=0)
    points_taken: Mapped[int] = mapped_column(Integer, default=0)
    # Earned points the member had already spent: not taken back, recorded here.
    points_unrecovered: Mapped[int] = mapped_column(Integer, default=0)
    points_given: Mapped[int] = mapped_column(Integer, default=0)
    growth: Mapped[int] = mapped_column(Integer, default=0)  # growth value taken off
    sv_principal: Mapped[int] = mapped_column(Integer, default=0)  # given back
    sv_bonus: Mapped[int] = mapped_column(Integer, default=0)  # given back
    coupon_codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # given back


class ReturnLine(Base):
    __tablename__ = "sale_return_lines"
    id: Mapped[BigPk]
    return_id: Mapped[int] = mapped_column(ForeignKey("sale_returns.id"), index=True)
    # Empty on a return without a receipt.
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    refund: Mapped[int] = mapped_column(Integer)
    points_given: Mapped[int] = mapped_column(Integer, default=0)


class ReturnPayment(Base):
    __tablename__ = "sale_return_payments"
    id: Mapped[BigPk]
    return_id: Mapped[int] = mapped_column(ForeignKey("sale_returns.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    # The gateway's refund id for WeChat and Alipay refunds.
    reference: Mapped[str | None] = mapped_column(String(64))
    # done; for WeChat and Alipay "pending" until the gateway took the refund (it is sent
    # after the return is committed, and again by the recovery until it is), or "failed".
    status: Mapped[str] = mapped_column(String(8), default="done", server_default="done")
