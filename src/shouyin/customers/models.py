"""Members. Personal fields hold ciphertext; the *_idx columns hold keyed blind indexes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.clock import utcnow
from shouyin.shared.types import Created, IntPk, UtcDateTime

IDX = 32  # hex characters of a blind index


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (Index("ix_members_store_created", "store_id", "created_at"),)
    id: Mapped[IntPk]
    card_enc: Mapped[str] = mapped_column(Text)
    card_idx: Mapped[str] = mapped_column(String(IDX), unique=True)
    name_enc: Mapped[str] = mapped_column(Text)
    name_idx: Mapped[str] = mapped_column(String(IDX), index=True)
    initials_idx: Mapped[str] = mapped_column(String(IDX), index=True)
    mobile_enc: Mapped[str | None] = mapped_column(Text)
    # Unique while set; erasure clears it so the number can join again later.
    mobile_idx: Mapped[str | None] = mapped_column(String(IDX), unique=True)
    last4_idx: Mapped[str | None] = mapped_column(String(IDX), index=True)
    birthday_enc: Mapped[str | None] = mapped_column(Text)
    address_enc: Mapped[str | None] = mapped_column(Text)
    email_enc: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str] = mapped_column(String(1), default="u")
    source: Mapped[str] = mapped_column(String(16), default="store")
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    marketing_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[Created]
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Set when this record was merged into another (status "merged"): history lives there now.
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class MemberTag(Base):
    __tablename__ = "member_tags"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(30), primary_key=True, index=True)


class Consent(Base):
    """What a member agreed to (or withdrew), under which notice, where and with whom."""

    __tablename__ = "member_consents"
    id: Mapped[IntPk]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))  # membership, marketing
    granted: Mapped[bool] = mapped_column(Boolean)
    notice_version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16), default="store")
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
