"""Payment codes (付款码): one row per attempt to charge a customer's WeChat or Alipay code.

The row is written before the gateway is called, so no payment is ever in an unknown state:
a crash or a timeout leaves a ``pending`` row that is queried and, if it cannot be
confirmed, reversed. An order claims a succeeded attempt once (``order_id`` is set with
``WHERE order_id IS NULL``), so one charge can never pay two orders; an order may claim
several (two customers' phones, or a code plus cash).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import BigPk, UtcDateTime


class PaymentAttempt(Base):
    __tablename__ = "payment_attempts"
    id: Mapped[BigPk]
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)  # the till's retry key
    # Our trade number sent to the gateway (out_trade_no); queries and reversals use it.
    trade_no: Mapped[str] = mapped_column(String(32), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    register_id: Mapped[int | None] = mapped_column(ForeignKey("registers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    method: Mapped[str] = mapped_column(String(8))  # wechat, alipay
    code_tail: Mapped[str] = mapped_column(String(4))  # last 4 digits, for the receipt
    amount: Mapped[int] = mapped_column(Integer)  # fen
    # pending, waiting (customer is entering a password), succeeded, failed, reversed
    status: Mapped[str] = mapped_column(String(12), index=True)
    gateway_ref: Mapped[str | None] = mapped_column(String(64))  # the gateway's transaction id
    message: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Several codes may pay one order (a split); one code never pays two orders.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    refunded: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
