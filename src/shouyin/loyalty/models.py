"""Loyalty tables: tiers, member balances and their one ledger, points lots, stored value,
coupons, promotions and gifts.

Every balance on :class:`MemberAccount` is a cached sum of :class:`LedgerEntry` rows (one
row per event, carrying the change of each balance it touches), so `shouyin check ledgers`
can recompute and compare them. Points are also kept as lots (:class:`PointsLot`) because
they expire by lot and are spent oldest first; the remaining points of the lots always add
up to the points balance.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shouyin.db import Base
from shouyin.shared.types import BigPk, Created, IntPk, UtcDateTime


class LoyaltySettingsRow(Base):
    """The shop's loyalty rules (one row, id 1); see :class:`loyalty.settings.LoyaltySettings`."""

    __tablename__ = "loyalty_settings"
    id: Mapped[IntPk]
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[Created]


class Tier(Base):
    __tablename__ = "tiers"
    id: Mapped[IntPk]
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    rank: Mapped[int] = mapped_column(Integer, unique=True)  # 0 = the entry tier
    threshold: Mapped[int] = mapped_column(Integer, default=0)  # growth value in fen
    discount_bp: Mapped[int] = mapped_column(Integer, default=0)  # 1000 = 10% off (9折)
    points_multiplier: Mapped[int] = mapped_column(Integer, default=100)  # percent: 150 = 1.5x
    scope: Mapped[str] = mapped_column(String(12), default="all")  # all, categories, products
    scope_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MemberAccount(Base):
    """A member's balances, kept equal to the sums of their ledger rows."""

    __tablename__ = "member_accounts"
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"), index=True)
    points: Mapped[int] = mapped_column(Integer, default=0)
    # Lifetime, in fen: a big spender passes int4 over the years. Tiers use a window.
    growth: Mapped[int] = mapped_column(BigInteger, default=0)
    sv_principal: Mapped[int] = mapped_column(Integer, default=0)
    sv_bonus: Mapped[int] = mapped_column(Integer, default=0)
    tier_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[Created]


class LedgerEntry(Base):
    """One loyalty event and what it did to each balance (append-only)."""

    __tablename__ = "loyalty_ledger"
    __table_args__ = (Index("ix_loyalty_ledger_member_at", "member_id", "at"),)
    id: Mapped[BigPk]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    # sale, recharge, sv_refund, adjust, expire, gift, merge, return, compensation, opening
    # (a balance brought over from history or another system)
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer, default=0)
    growth: Mapped[int] = mapped_column(Integer, default=0)
    sv_principal: Mapped[int] = mapped_column(Integer, default=0)
    sv_bonus: Mapped[int] = mapped_column(Integer, default=0)
    # Balances right after this entry, for receipts and statements.
    points_after: Mapped[int] = mapped_column(Integer, default=0)
    sv_principal_after: Mapped[int] = mapped_column(Integer, default=0)
    sv_bonus_after: Mapped[int] = mapped_column(Integer, default=0)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    ref_type: Mapped[str | None] = mapped_column(String(16))  # recharge, gift, coupon, ...
    ref_id: Mapped[int | None] = mapped_column(Integer)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    # The client's idempotency key of a gift redemption (kind "gift"); None on other rows.
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)


class PointsLot(Base):
    """Points earned together, expiring together; spent oldest first."""

    __tablename__ = "points_lots"
    __table_args__ = (Index("ix_points_lots_member_expiry", "member_id", "expires_on"),)
    id: Mapped[BigPk]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    earned: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)  # None: never
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    created_at: Mapped[Created]


class TierChange(Base):
    __tablename__ = "tier_changes"
    id: Mapped[IntPk]
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    from_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    to_tier_id: Mapped[int | None] = mapped_column(ForeignKey("tiers.id"))
    reason: Mapped[str] = mapped_column(String(16))  # upgrade, review, manual, merge, return
    growth: Mapped[int] = mapped_column(Integer, default=0)  # growth in the window at the time
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[Created]


class RechargeRule(Base):
    """充500送50: a recharge of at least ``min_principal`` earns ``bonus``."""

    __tablename__ = "recharge_rules"
    id: Mapped[IntPk]
    name: Mapped[str] = mapped_column(String(60))
    min_principal: Mapped[int] = mapped_column(Integer)
    bonus: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Recharge(Base):
    """A stored-value recharge (kind "recharge") or a refund of unused principal ("refund")."""

    __tablename__ = "recharges"
    id: Mapped[IntPk]
    client_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(8), default="recharge")
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"), index=True)
    register_id: Mapped[int | None] = mapped_column(ForeignKey("registers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    principal: Mapped[int] = mapped_column(Integer)  # paid in (or refunded, positive)
    bonus: Mapped[int] = mapped_column(Integer, default=0)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("recharge_rules.id"))
    method: Mapped[str] = mapped_column(String(16))  # cash, card
    reference: Mapped[str | None] = mapped_column(String(64))
    business_date: Mapped[date] = mapped_column(Date)
    at: Mapped[Created]


class CouponTemplate(Base):
    __tablename__ = "coupon_templates"
    id: Mapped[IntPk]
    name: Mapped[str] = mapped_column(String(60))
    # threshold (满减), percent (折扣), voucher (代金), gift (兑换)
    kind: Mapped[str] = mapped_column(String(12))
    value: Mapped[int] = mapped_column(Integer, default=0)  # fen off, or basis points off
    min_spend: Mapped[int] = mapped_column(Integer, default=0)
    scope: Mapped[str] = mapped_column(String(12), default="all")  # all, categories, products
    scope_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    gift_product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    valid_days: Mapped[int | None] = mapped_column(Integer)  # from issue; else the window
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime())
    per_member_limit: Mapped[int | None] = mapped_column(Integer)
    stackable: Mapped[bool] = mapped_column(Boolean, default=False)
    # Issued by a rule: "registration" (welcome coupon) or "tier_upgrade"; None: by hand only.
    auto_issue: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Created]


class Coupon(Base):
    __tablename__ = "coupons"
    __table_args__ = (Index("ix_coupons_member_status", "member_id", "status"),)
    id: Mapped[BigPk]
    template_id: Mapped[int] = mapped_column(ForeignKey("coupon_templates.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="issued")  # issued, redeemed, void
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime] = mapped_column(UtcDateTime())
    source: Mapped[str] = mapped_column(String(16), default="manual")
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[Created]
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    redeemed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Promotion(Base):
    __tablename__ = "promotions"
    id: Mapped[IntPk]
    name: Mapped[str] = mapped_column(String(60))
    # special_price (特价), nth_discount (第二件半价), buy_x_get_y (买X送Y), order_threshold (满减)
    kind: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scope: Mapped[str] = mapped_column(String(12), default="all")
    scope_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    member_only: Mapped[bool] = mapped_column(Boolean, default=False)
    tier_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: any member/none
    store_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # empty: every store
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)  # 1=Mon..7; empty: all
    start_minute: Mapped[int | None] = mapped_column(Integer)  # local time of day window
    end_minute: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime())
    priority: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Created]


class Gift(Base):
    """The points gift catalogue (积分兑礼)."""

    __tablename__ = "gifts"
    id: Mapped[IntPk]
    name: Mapped[str] = mapped_column(String(60))
    points: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
