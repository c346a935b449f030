"""Every table, imported in one place for Alembic and for tests that build a schema."""

from shouyin.audit.models import AuditEntry, AuditHead
from shouyin.auth.models import ApiToken, User, UserSession
from shouyin.catalog.models import Barcode, Category, Product
from shouyin.customers.models import Consent, Member, MemberTag
from shouyin.db import Base
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.loyalty.models import (
    Coupon,
    CouponTemplate,
    Gift,
    LedgerEntry,
    LoyaltySettingsRow,
    MemberAccount,
    PointsLot,
    Promotion,
    Recharge,
    RechargeRule,
    Tier,
    TierChange,
)
from shouyin.sales.models import Order, OrderCounter, OrderLine, Payment
from shouyin.stores.models import Chain, Register, Store

metadata = Base.metadata

__all__ = [
    "TierChange",
    "Tier",
    "RechargeRule",
    "Recharge",
    "Promotion",
    "PointsLot",
    "MemberAccount",
    "LoyaltySettingsRow",
    "LedgerEntry",
    "Gift",
    "CouponTemplate",
    "Coupon",
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Barcode",
    "Category",
    "Chain",
    "Consent",
    "Member",
    "MemberTag",
    "Order",
    "OrderCounter",
    "OrderLine",
    "Payment",
    "Product",
    "Register",
    "StockLevel",
    "StockMovement",
    "Store",
    "User",
    "UserSession",
    "metadata",
]
