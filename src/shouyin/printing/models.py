"""Receipt printers, one per register (or a store default when register_id is empty)."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import IntPk


class Printer(Base):
    __tablename__ = "printers"
    __table_args__ = (UniqueConstraint("store_id", "register_id"),)
    id: Mapped[IntPk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    register_id: Mapped[int | None] = mapped_column(ForeignKey("registers.id"))
    # network: "host:port" (port 9100 if left out); usb: "vendor:product" in hex; file: a path
    kind: Mapped[str] = mapped_column(String(8))
    address: Mapped[str] = mapped_column(String(200))
    paper_mm: Mapped[int] = mapped_column(Integer, default=80)  # 58 or 80
    drawer: Mapped[bool] = mapped_column(Boolean, default=True)  # a cash drawer is attached
    active: Mapped[bool] = mapped_column(Boolean, default=True)
