"""Stocktakes (盘点) and reorder rules with their low-stock alerts.

A stocktake remembers the ledger's last movement id when it starts and when each line is
counted, so sales made while the shelves are being counted are not mistaken for shrinkage:
variance = counted − (on hand at start + movements between the start and the count).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import BigPk, UtcDateTime


class Stocktake(Base):
    __tablename__ = "stocktakes"
    id: Mapped[BigPk]
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))  # None: full
    # counting, posted, cancelled
    status: Mapped[str] = mapped_column(String(12), default="counting")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # The last stock_movements.id when the count started.
    start_mark: Mapped[int] = mapped_column(BigInteger)
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    posted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(200))


class StocktakeLine(Base):
    __tablename__ = "stocktake_lines"
    __table_args__ = (UniqueConstraint("stocktake_id", "product_id"),)
    id: Mapped[BigPk]
    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktakes.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    expected: Mapped[int] = mapped_column(Integer)  # on hand when the count started
    counted: Mapped[int | None] = mapped_column(Integer)
    # The last stock_movements.id when this line was counted (sales during the count).
    count_mark: Mapped[int | None] = mapped_column(BigInteger)
    counted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    counted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    variance: Mapped[int | None] = mapped_column(Integer)  # set when posted


class ReorderRule(Base):
    """When to reorder a product in a store: by hand (min/max), or from sales velocity
    (average daily sales × lead time + safety stock; order up to that plus review days)."""

    __tablename__ = "reorder_rules"
    # Clustered on (store, product) on SQLite: the replenishment list reads a store's rules
    # in key order and looks them up by key, with no second lookup through a rowid.
    __table_args__ = ({"sqlite_with_rowid": False},)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(8), default="manual")  # manual, velocity
    min_qty: Mapped[int] = mapped_column(Integer, default=0)  # reorder point (manual)
    max_qty: Mapped[int] = mapped_column(Integer, default=0)  # order up to (manual)
    lead_days: Mapped[int] = mapped_column(Integer, default=3)
    safety_days: Mapped[int] = mapped_column(Integer, default=2)
    review_days: Mapped[int] = mapped_column(Integer, default=7)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StockAlert(Base):
    """A product at or below its reorder point in a store; one open alert per product."""

    __tablename__ = "stock_alerts"
    __table_args__ = (Index("ix_stock_alerts_store_status", "store_id", "status"),)
    id: Mapped[BigPk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime())
    on_hand: Mapped[int] = mapped_column(Integer)
    reorder_point: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open, acknowledged, resolved
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    emailed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
