"""Held carts (挂单): a till's cart parked while the customer steps away."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import BigPk, Created


class HeldCart(Base):
    __tablename__ = "held_carts"
    __table_args__ = (Index("ix_held_carts_register", "register_id", "created_at"),)
    id: Mapped[BigPk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    register_id: Mapped[int] = mapped_column(ForeignKey("registers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    label: Mapped[str | None] = mapped_column(String(60))
    # The till's cart as a quote request (lines, discounts, member, coupons, points): a
    # recalled cart is priced again, so prices are never frozen here.
    cart: Mapped[dict[str, object]] = mapped_column(JSON)
    item_count: Mapped[int] = mapped_column(Integer)
    # The total when parked, for the list only; the recalled cart is quoted afresh.
    total_hint: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[Created]
