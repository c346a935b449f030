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
from shouyin.sales.held_models import HeldCart
from shouyin.sales.models import Order, OrderCounter, OrderLine, Payment
from shouyin.sales.return_models import ReturnLine, ReturnOrder, ReturnPayment
from shouyin.stores.models import Chain, Register, Store

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Barcode",
    "Category",
    "Chain",
    "Consent",
    "Coupon",
    "CouponTemplate",
    "Gift",
    "HeldCart",
    "LedgerEntry",
    "LoyaltySettingsRow",
    "Member",
    "MemberAccount",
    "MemberTag",
    "Order",
    "OrderCounter",
    "OrderLine",
    "Payment",
    "PointsLot",
    "Product",
    "Promotion",
    "Recharge",
    "RechargeRule",
    "Register",
    "ReturnLine",
    "ReturnOrder",
    "ReturnPayment",
    "StockLevel",
    "StockMovement",
    "Store",
    "Tier",
    "TierChange",
    "User",
    "UserSession",
    "metadata",
]
