"""Every router of the app, REST and pages, in one list."""

from __future__ import annotations

import importlib

from fastapi import APIRouter, FastAPI

# Modules that define `router`; REST routers live under /api/v1, pages in web/.
ROUTER_MODULES = (
    "shouyin.customers.import_router",
    "shouyin.web.system",
    "shouyin.auth.router",
    "shouyin.web.pages_auth",
    "shouyin.sales.router",
    "shouyin.sales.returns_router",
    "shouyin.sales.held_router",
    "shouyin.sales.shift_router",
    "shouyin.sales.payment_router",
    "shouyin.printing.router",
    "shouyin.web.pages_shifts",
    "shouyin.web.pages_printers",
    "shouyin.web.pages_display",
    # Before inventory.router: /api/v1/stock/{product_id}/card must win over its
    # /api/v1/stock/{store_id}/{product_id}.
    "shouyin.inventory.purchasing_router",
    "shouyin.inventory.router",
    "shouyin.inventory.reorder_router",
    "shouyin.web.pages_replenishment",
    "shouyin.inventory.stocktake_router",
    "shouyin.web.pages_stocktake",
    "shouyin.inventory.transfer_router",
    "shouyin.web.pages_transfers",
    "shouyin.inventory.stock_reports_router",
    "shouyin.web.pages_stock_reports",
    "shouyin.customers.router",
    "shouyin.web.pages_till",
    "shouyin.catalog.router",
    "shouyin.web.pages_catalog",
    "shouyin.web.pages_office",
    "shouyin.web.pages_purchasing",
    "shouyin.web.pages_stock_card",
    # Before pages_members: their fixed paths must win over /office/members/{member_id}.
    "shouyin.web.pages_members_import",
    "shouyin.web.pages_members_merge",
    "shouyin.web.pages_members",
    "shouyin.loyalty.router",
    "shouyin.loyalty.coupons_router",
    "shouyin.loyalty.stored_value_router",
    "shouyin.loyalty.admin_router",
    "shouyin.loyalty.points_router",
    "shouyin.web.pages_coupons",
    "shouyin.web.pages_coupons_issue",
    "shouyin.web.pages_stored_value",
    "shouyin.web.pages_loyalty_admin",
    "shouyin.web.pages_points",
    "shouyin.web.pages_promotions",
    "shouyin.service.survey_router",
    "shouyin.web.pages_survey",
    "shouyin.service.ticket_router",
    "shouyin.web.pages_tickets",
    "shouyin.service.sla_router",
    "shouyin.web.pages_notices",
    "shouyin.service.analytics_router",
    "shouyin.web.pages_service_reports",
)


def include_all(app: FastAPI) -> None:
    for name in ROUTER_MODULES:
        router: APIRouter = importlib.import_module(name).router
        app.include_router(router)
