"""Every table, imported in one place for Alembic and for tests that build a schema."""

from shouyin.audit.models import AuditEntry, AuditHead
from shouyin.auth.models import ApiToken, User, UserSession
from shouyin.catalog.models import Barcode, Category, Product
from shouyin.customers.models import Consent, Member, MemberTag
from shouyin.db import Base
from shouyin.inventory.count_models import ReorderRule, StockAlert, Stocktake, StocktakeLine
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.purchasing_models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    StockCost,
    Supplier,
)
from shouyin.inventory.transfer_models import Transfer, TransferLine
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
from shouyin.printing.models import Printer
from shouyin.sales.held_models import HeldCart
from shouyin.sales.models import Order, OrderCounter, OrderLine, Payment
from shouyin.sales.payment_models import PaymentAttempt
from shouyin.sales.return_models import ReturnLine, ReturnOrder, ReturnPayment
from shouyin.sales.shift_models import CashMove, Shift, ZReport
from shouyin.service.models import (
    ClosedDay,
    Notice,
    SurveyAnswer,
    Ticket,
    TicketAttachment,
    TicketCompensation,
    TicketEvent,
)
from shouyin.stores.models import Chain, Register, Store

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Barcode",
    "CashMove",
    "Category",
    "Chain",
    "ClosedDay",
    "Consent",
    "Coupon",
    "CouponTemplate",
    "Gift",
    "GoodsReceipt",
    "GoodsReceiptLine",
    "HeldCart",
    "LedgerEntry",
    "LoyaltySettingsRow",
    "Member",
    "MemberAccount",
    "MemberTag",
    "Notice",
    "Order",
    "OrderCounter",
    "OrderLine",
    "Payment",
    "PaymentAttempt",
    "PointsLot",
    "Printer",
    "Product",
    "Promotion",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "Recharge",
    "RechargeRule",
    "Register",
    "ReorderRule",
    "ReturnLine",
    "ReturnOrder",
    "ReturnPayment",
    "Shift",
    "StockAlert",
    "StockCost",
    "StockLevel",
    "StockMovement",
    "Stocktake",
    "StocktakeLine",
    "Store",
    "Supplier",
    "SurveyAnswer",
    "Ticket",
    "TicketAttachment",
    "TicketCompensation",
    "TicketEvent",
    "Tier",
    "TierChange",
    "Transfer",
    "TransferLine",
    "User",
    "UserSession",
    "ZReport",
    "metadata",
]
