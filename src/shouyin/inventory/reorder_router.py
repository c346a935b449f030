"""REST: reorder rules, the replenishment list (JSON and CSV), suggested purchase orders and
low-stock alerts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb, get_database
from shouyin.inventory import alerts, reorder_rules, replenishment
from shouyin.inventory.reorder_schemas import (
    AlertPublic,
    ReplenishmentList,
    RuleIn,
    RulePage,
    RulePublic,
    ScanOut,
    SuggestIn,
    SuggestOut,
)
from shouyin.web.params import ID_MAX, IdPath

router = APIRouter(tags=["replenishment"])
Reader = Annotated[Principal, Depends(require("stock.read"))]
Manager = Annotated[Principal, Depends(require("purchasing.manage"))]
StoreQuery = Annotated[int, Query(ge=1, le=ID_MAX)]
OptionalId = Annotated[int | None, Query(ge=1, le=ID_MAX)]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed (permission or store)"},
    404: {"description": "Unknown store, product, supplier, rule or alert"},
    422: {"description": "Invalid input"},
}


@router.get("/api/v1/reorder-rules", response_model=RulePage, responses=ERRORS)
def list_rules(
    store_id: StoreQuery, principal: Reader, db: ReadDb,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> RulePage:  # fmt: skip
    return reorder_rules.list_rules(
        db, store_id=store_id, actor=principal, limit=limit, offset=offset
    )


@router.put("/api/v1/reorder-rules", response_model=RulePublic, responses={201: {}, **ERRORS})
def set_rule(data: RuleIn, principal: Manager, db: WriteDb) -> Response:
    """Set the rule of a product in a store (201 when new, 200 when changed)."""
    rule, created = reorder_rules.set_rule(db, data=data, actor=principal)
    return JSONResponse(rule.model_dump(mode="json"), status_code=201 if created else 200)


@router.delete("/api/v1/reorder-rules/{store_id}/{product_id}", status_code=204,
               responses=ERRORS)  # fmt: skip
def delete_rule(store_id: IdPath, product_id: IdPath, principal: Manager, db: WriteDb) -> Response:
    reorder_rules.delete_rule(db, store_id=store_id, product_id=product_id, actor=principal)
    return Response(status_code=204)


@router.get("/api/v1/replenishment", response_model=ReplenishmentList, responses=ERRORS)
def replenishment_list(
    store_id: StoreQuery, principal: Reader, db: ReadDb, supplier_id: OptionalId = None
) -> ReplenishmentList:
    items = replenishment.replenishment_list(
        db, store_id=store_id, actor=principal, supplier_id=supplier_id
    )
    return ReplenishmentList(store_id=store_id, items=items)


@router.get("/api/v1/replenishment.csv", responses={200: {"content": {"text/csv": {}}}, **ERRORS})
def replenishment_csv(
    store_id: StoreQuery, principal: Reader, db: ReadDb, supplier_id: OptionalId = None
) -> Response:
    items = replenishment.replenishment_list(
        db, store_id=store_id, actor=principal, supplier_id=supplier_id
    )
    return Response(
        "\ufeff" + replenishment.csv_text(items), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="replenishment-{store_id}.csv"'},
    )  # fmt: skip


@router.post("/api/v1/replenishment/purchase-orders", response_model=SuggestOut,
             status_code=201, responses=ERRORS)  # fmt: skip
def suggest_orders(data: SuggestIn, principal: Manager, db: WriteDb) -> SuggestOut:
    """Draft purchase orders from the list, one per supplier; products without a supplier
    come back in ``need_supplier``."""
    return replenishment.suggest_orders(db, data=data, actor=principal)


@router.get("/api/v1/stock-alerts", response_model=list[AlertPublic], responses=ERRORS)
def list_alerts(
    principal: Reader, db: ReadDb, store_id: OptionalId = None,
    status: Literal["open", "acknowledged", "resolved"] | None = None,
) -> list[AlertPublic]:  # fmt: skip
    return alerts.list_alerts(db, actor=principal, store_id=store_id, status=status)


@router.post("/api/v1/stock-alerts/scan", response_model=ScanOut, responses=ERRORS)
def scan(principal: Manager, request: Request) -> ScanOut:
    """Check levels now (the server also does every five minutes); a store manager's scan
    covers their store."""
    stores = None if principal.store_id is None else [principal.store_id]
    return alerts.scan(get_database(request), request.app.state.settings, store_ids=stores)


@router.post("/api/v1/stock-alerts/{alert_id}/acknowledge", response_model=AlertPublic,
             responses=ERRORS)  # fmt: skip
def acknowledge(alert_id: IdPath, principal: Manager, db: WriteDb) -> AlertPublic:
    return alerts.acknowledge(db, alert_id=alert_id, actor=principal)
