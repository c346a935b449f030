"""The till page (收银台): one Alpine component that talks to the REST API.

Everything that costs money is decided by the server (`/api/v1/orders/quote` and
`/api/v1/orders`); the page only keeps the cart and shows what the server says.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb
from shouyin.shared import i18n
from shouyin.stores import service as stores
from shouyin.stores.models import Store
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render, request_language

router = APIRouter(include_in_schema=False)
Seller = Annotated[Principal, Depends(require("sales.sell"))]

# Texts the till's JavaScript shows; keys are stable names, values English msgids.
JS_TEXTS: dict[str, str] = {
    "unknown_code": "Unknown barcode {code}: nothing was added.",
    "inactive": "{name} is no longer sold: nothing was added.",
    "no_line": "Select a line first.",
    "empty_cart": "The cart is empty.",
    "bad_quantity": "Enter a whole quantity of 1 or more.",
    "bad_weight": "Enter a weight above zero.",
    "bad_amount": "Enter an amount in yuan, for example 12.50.",
    "bad_percent": "Enter a percentage between 0 and 100.",
    "no_discount_right": "You do not have permission to give discounts.",
    "no_override_right": "You do not have permission to change prices.",
    "card_part": "Card payment of {amount} noted; {remaining} left to pay in cash.",
    "card_removed": "The card part was removed.",
    "network": "The server cannot be reached. Check the network and try again.",
    "not_ready": "The totals are being updated. Try again in a moment.",
    "no_results": "No products found.",
    "searching": "Searching…",
    "receipt_failed": "The order is saved, but its receipt could not be loaded.",
    "step_subtotal": "Subtotal",
    "step_price_override": "Price changes",
    "step_line_discount": "Line discounts",
    "step_order_discount": "Order discount",
    "step_rounding": "Rounding",
    "step_total": "Total",
    "off_percent": "{value}% off",
    "off_amount": "{value} off",
    "register_unset": "Choose a register",
    "exact": "Exact",
    "member_query_needed": "Type a mobile, its last 4 digits, a card number or a name.",
    "member_more": "Showing the 50 newest matches: type the full mobile or the name to narrow down.",
    "member_attached": "Member {name} is attached to this sale.",
    "member_detached": "The member was removed from this sale.",
    "stock_warning": "Stock is now below zero: {products}",
}


def till_texts(lang: str) -> dict[str, str]:
    return {key: i18n.gettext(lang, text) for key, text in JS_TEXTS.items()}


def _store_choice(session: Session, principal: Principal, store_id: int | None) -> Store | None:
    """The user's own store; HQ users (no store) pick one with ``?store_id=``."""
    if principal.store_id is not None:
        if store_id is not None:
            principal.require_store(store_id)
        return stores.get_store(session, store_id=principal.store_id)
    if store_id is None:
        return None
    return stores.get_store(session, store_id=store_id)


def _config(store: Store, registers: list[Any], principal: Principal, lang: str) -> dict[str, Any]:
    return {
        "store": {"id": store.id, "name": store.name, "rounding": store.rounding},
        "registers": [{"id": r.id, "code": r.code, "name": r.name} for r in registers],
        "can_discount": principal.can("sales.discount"),
        "can_override": principal.can("sales.price_override"),
        "texts": till_texts(lang),
    }


@router.get("/till")
def till_page(
    request: Request,
    principal: Seller,
    db: ReadDb,
    store_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
) -> Response:
    store = _store_choice(db, principal, store_id)
    if store is None:
        choices = [s for s in stores.list_stores(db) if s.active]
        return render(request, "till/pick_store.html", {"stores": choices})
    registers = [r for r in stores.list_registers(db, store_id=store.id) if r.active]
    config = _config(store, registers, principal, request_language(request))
    return render(
        request,
        "till/till.html",
        {
            "store": store,
            "registers": registers,
            "can_discount": config["can_discount"],
            "can_override": config["can_override"],
            "config": config,
        },
    )
