"""Roles and what they may do. Pure: no database, no web."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CASHIER = "cashier"
    STORE_MANAGER = "store_manager"
    HQ_MARKETER = "hq_marketer"
    HQ_ADMIN = "hq_admin"
    AUDITOR = "auditor"


# Roles that work inside one store and see only that store's data.
STORE_BOUND = frozenset({Role.CASHIER, Role.STORE_MANAGER})

PERMISSIONS: dict[str, str] = {
    "sales.sell": "Sell at the till",
    "sales.discount": "Give line and order discounts",
    "sales.price_override": "Change a price at the till",
    "sales.return_approve": "Approve returns above the limit or without a receipt",
    "shifts.manage": "Close any cashier's shift, make the Z report, see every shift of the store",
    "shifts.read": "See shifts, shift reports and Z reports",
    "printers.manage": "Set up receipt printers",
    "orders.read": "See orders and receipts",
    "catalog.read": "See products and categories",
    "catalog.write": "Create, change and import products and categories",
    "stock.read": "See stock on hand",
    "stock.adjust": "Adjust stock",
    "purchasing.manage": "Manage suppliers, purchase orders and receiving",
    "transfers.manage": "Send and receive stock transfers between stores",
    "stocktake.post": "Post stocktake variances to stock",
    "stores.read": "See stores and registers",
    "stores.write": "Create and change stores and registers",
    "users.read": "See users",
    "users.write": "Create and change users and their roles",
    "reports.read": "See reports and the day summary",
    "audit.read": "Read and verify the audit log",
    "tokens.manage": "Create and revoke API tokens",
    "members.read": "Find members and see their profile (mobile masked)",
    "members.write": "Register members and edit their profile",
    "members.personal": "See members' full mobile, birthday, address and email",
    "members.export": "Export member lists",
    "members.erase": "Erase a member's personal data on request",
    "members.merge": "Merge duplicate members",
    "loyalty.read": "See members' tiers, points, stored value and coupons",
    "loyalty.configure": "Set up tiers, promotions, coupon templates, recharge rules and gifts",
    "points.adjust": "Adjust a member's points by hand",
    "coupons.issue": "Issue and void coupons",
    "stored_value.recharge": "Recharge a member's stored value",
    "stored_value.refund": "Refund unused stored value",
    "complaints.open": "Open a complaint for a customer",
    "complaints.handle": "Work complaint tickets and read customers' comments",
    "feedback.read": "See survey scores and service reports (without customers' comments)",
}

_ALL = frozenset(PERMISSIONS)
_READ_ALL = frozenset(p for p in PERMISSIONS if p.endswith(".read"))

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.CASHIER: frozenset(
        {
            "sales.sell",
            "orders.read",
            "catalog.read",
            "stock.read",
            "stores.read",
            "members.read",
            "members.write",
            "loyalty.read",
            "stored_value.recharge",
            "complaints.open",
        }
    ),
    Role.STORE_MANAGER: frozenset(
        {
            "sales.sell",
            "sales.discount",
            "sales.price_override",
            "sales.return_approve",
            "shifts.manage",
            "shifts.read",
            "printers.manage",
            "orders.read",
            "catalog.read",
            "catalog.write",
            "stock.read",
            "stock.adjust",
            "purchasing.manage",
            "transfers.manage",
            "stocktake.post",
            "stores.read",
            "users.read",
            "reports.read",
            "tokens.manage",
            "members.read",
            "members.write",
            "members.personal",
            "members.merge",
            "loyalty.read",
            "points.adjust",
            "coupons.issue",
            "stored_value.recharge",
            "stored_value.refund",
            "complaints.open",
            "complaints.handle",
            "feedback.read",
        }
    ),
    Role.HQ_MARKETER: frozenset(
        {
            "feedback.read",
            "orders.read",
            "catalog.read",
            "stores.read",
            "reports.read",
            "members.read",
            "members.export",
            "loyalty.read",
            "loyalty.configure",
            "coupons.issue",
        }
    ),
    Role.HQ_ADMIN: _ALL,
    Role.AUDITOR: _READ_ALL,
}


def permissions_for(role: str) -> frozenset[str]:
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()


def is_store_bound(role: str) -> bool:
    return role in STORE_BOUND
