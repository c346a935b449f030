"""The stock card (进销存明细) page: a product's movements in a store with the balance after
each, its moving-average cost and value at cost."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb
from shouyin.errors import ValidationFailed
from shouyin.inventory import stock_card
from shouyin.stores import service as stores
from shouyin.web.office_common import PAGE_SIZE, _, error_of, page_count, parse_day, parse_id
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("stock.read"))]
Text = Annotated[str, Query(max_length=60)]
PathId = Annotated[int, Path(ge=1, le=ID_MAX)]
PageNo = Annotated[int, Query(ge=1, le=100_000)]
KIND_LABELS = {
    "sale": _("Sale"),
    "return": _("Return"),
    "receipt": _("Goods received"),
    "adjustment": _("Adjustment"),
    "damage": _("Damage"),
    "stocktake": _("Stocktake difference"),
    "transfer_out": _("Transfer out"),
    "transfer_in": _("Transfer in"),
}


# --- the stock card --------------------------------------------------------------------------


@router.get("/office/stock/{product_id}")
def stock_card_page(
    request: Request, principal: Reader, db: ReadDb, product_id: PathId, store_id: Text = "",
    start: Annotated[str, Query(alias="from", max_length=20)] = "",
    end: Annotated[str, Query(alias="to", max_length=20)] = "", page: PageNo = 1,
) -> Response:  # fmt: skip
    every = stores.list_stores(db, store_id=principal.store_id)
    store = principal.store_id or parse_id(store_id) or (every[0].id if every else None)
    error = None
    card = None
    try:
        if store is None:
            raise ValidationFailed("Choose a store.", code="purchasing.store_missing")
        card = stock_card.card(
            db, actor=principal, store_id=store, product_id=product_id, start=parse_day(start),
            end=parse_day(end), limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
        )  # fmt: skip
    except ValidationFailed as exc:
        error = error_of(request, exc)
    context = {
        "card": card, "stores": [] if principal.store_id else every, "error": error,
        "filters": {"store_id": store or "", "from": start, "to": end},
        "page": page, "pages": page_count(card.total if card else 0),
        "kind_labels": KIND_LABELS, "product_id": product_id,
    }  # fmt: skip
    return render(request, "office/purchasing/stock_card.html", context)
