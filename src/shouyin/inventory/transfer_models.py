"""Transfers (调拨) between stores: sent (stock leaves, in transit), then received at the
destination (stock arrives); what arrives short is recorded, not lost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import BigPk, UtcDateTime


class Transfer(Base):
    __tablename__ = "stock_transfers"
    id: Mapped[BigPk]
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    from_store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    to_store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    # draft, in_transit, received, cancelled
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    sent_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(200))


class TransferLine(Base):
    __tablename__ = "stock_transfer_lines"
    id: Mapped[BigPk]
    transfer_id: Mapped[int] = mapped_column(ForeignKey("stock_transfers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)  # sent
    received: Mapped[int | None] = mapped_column(Integer)  # counted at the destination
    # The sender's moving-average cost when it was sent (thousandths of a fen): what the goods
    # bring into the destination's average. None: the sender had no cost for it.
    unit_cost_milli: Mapped[int | None] = mapped_column(BigInteger)
