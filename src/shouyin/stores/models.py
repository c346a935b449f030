from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import Created, IntPk, Name


class Chain(Base):
    __tablename__ = "chains"
    id: Mapped[IntPk]
    name: Mapped[Name]
    created_at: Mapped[Created]


class Store(Base):
    __tablename__ = "stores"
    id: Mapped[IntPk]
    chain_id: Mapped[int] = mapped_column(ForeignKey("chains.id"))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[Name]
    address: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Minutes after local midnight at which the business day (营业日) turns over.
    day_cutoff_minutes: Mapped[int] = mapped_column(Integer, default=0)
    rounding: Mapped[str] = mapped_column(String(8), default="none")
    # Opening hours in minutes after local midnight: complaint deadlines counted in business
    # hours run only while the store is open.
    opens_minutes: Mapped[int] = mapped_column(Integer, default=540, server_default="540")
    closes_minutes: Mapped[int] = mapped_column(Integer, default=1260, server_default="1260")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Created]


class Register(Base):
    __tablename__ = "registers"
    __table_args__ = (UniqueConstraint("store_id", "code"),)
    id: Mapped[IntPk]
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[Name]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
