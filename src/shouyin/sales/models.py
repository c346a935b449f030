from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import BigPk, UtcDateTime


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_store_day", "store_id", "business_date"),)
    id: Mapped[BigPk]
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    register_id: Mapped[int | None] = mapped_column(ForeignKey("registers.id"))
    cashier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    # The register's shift the sale was made in; empty for sales made without a register.
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"), index=True)
    # When the receipt was first printed: only that first print opens the cash drawer.
    printed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # sha256 of the submitted request: a reused UUID with a different cart is refused.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    business_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), default="completed")
    subtotal: Mapped[int] = mapped_column(Integer)
    discount_total: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    paid: Mapped[int] = mapped_column(Integer)
    change: Mapped[int] = mapped_column(Integer)
    item_count: Mapped[int] = mapped_column(Integer)
    # The pricing steps (subtotal, discounts, rounding, total) so a receipt explains every fen.
    steps: Mapped[list[dict[str, object]]] = mapped_column(JSON)


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[BigPk]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int] = mapped_column(Integer)
    weighed: Mapped[int] = mapped_column(Integer, default=0)
    list_price: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    list_amount: Mapped[int] = mapped_column(Integer)
    override_amount: Mapped[int] = mapped_column(Integer, default=0)
    line_discount: Mapped[int] = mapped_column(Integer, default=0)
    order_discount: Mapped[int] = mapped_column(Integer, default=0)
    # Loyalty reductions per line, so a partial return gives back exactly what the line used.
    item_promotion: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    tier_discount: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    order_promotion: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    coupon: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rounding: Mapped[int] = mapped_column(Integer, default=0)
    net: Mapped[int] = mapped_column(Integer)


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[BigPk]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    tendered: Mapped[int] = mapped_column(Integer)
    change: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str | None] = mapped_column(String(64))


class OrderCounter(Base):
    """Next order number per store and business day."""

    __tablename__ = "order_counters"
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
