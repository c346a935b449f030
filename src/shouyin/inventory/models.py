from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import BigId, BigPk, UtcDateTime


class StockMovement(Base):
    """Append-only ledger; quantity in units, or grams for weighed goods."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        Index("ix_stock_movements_store_product", "store_id", "product_id", "id"),
        # Sales velocity (the replenishment list, the alert scan) and the stock reports read a
        # store's recent days: covering, so that range never touches the table's rows.
        Index("ix_stock_movements_store_at", "store_id", "at", "kind", "product_id", "quantity"),
    )
    id: Mapped[BigPk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    ref_type: Mapped[str | None] = mapped_column(String(16))
    ref_id: Mapped[int | None] = mapped_column(BigId)
    reason: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class StockLevel(Base):
    """Cached sum of the ledger per store and product; `shouyin check ledgers` re-adds it."""

    __tablename__ = "stock_levels"
    # Clustered on (store, product) on SQLite: every sale updates, and every list reads, by key.
    __table_args__ = ({"sqlite_with_rowid": False},)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
