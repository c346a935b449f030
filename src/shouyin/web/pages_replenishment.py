"""Back office: low-stock alerts, the replenishment list (补货) and reorder rules."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.catalog.models import Product
from shouyin.db import ReadDb, WriteDb, get_database
from shouyin.errors import DomainError, ValidationFailed
from shouyin.inventory import alerts, reorder_rules, replenishment, suppliers
from shouyin.inventory.count_models import ReorderRule
from shouyin.inventory.reorder_schemas import RuleIn, SuggestIn
from shouyin.stores import service as stores
from shouyin.web.office_common import _, error_of, parse_id
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("stock.read"))]
Manager = Annotated[Principal, Depends(require("purchasing.manage"))]
Text = Annotated[str, Query(max_length=60)]
FormText = Annotated[str, Form(max_length=60)]
PathId = Annotated[int, Path(ge=1, le=ID_MAX)]
PAGE = "/office/replenishment"
ALERT_LABELS = {
    "open": _("Open alert"),
    "acknowledged": _("Acknowledged"),
    "resolved": _("Resolved"),
}
MODE_LABELS = {"manual": _("Manual (min/max)"), "velocity": _("From sales (28 days)")}
BAD_RULE = _("Some values are not valid: quantities and days are whole numbers, max ≥ min.")
SHOWN_RULES = 100


def _store(db: Session, principal: Principal, requested: str) -> int | None:
    if principal.store_id is not None:
        return principal.store_id
    chosen = parse_id(requested)
    if chosen is not None:
        return chosen
    listed = stores.list_stores(db)
    return listed[0].id if listed else None


def _page(
    request: Request, db: Session, principal: Principal, store_id: int | None, *,
    error: dict[str, Any] | None = None, form: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    context: dict[str, Any] = {
        "store_id": store_id, "error": error, "done": request.query_params.get("done"),
        "stores": [] if principal.store_id else stores.list_stores(db),
        "can_manage": principal.can("purchasing.manage"),
        "alert_labels": ALERT_LABELS, "mode_labels": MODE_LABELS,
        "suppliers": suppliers.list_suppliers(db, active=True, limit=200).items,
        "form": form or {"mode": "manual", "min_qty": 0, "max_qty": 0, "lead_days": 3,
                         "safety_days": 2, "review_days": 7},
        "alerts": [], "items": [], "rules": None,
    }  # fmt: skip
    if store_id is not None:
        context["alerts"] = alerts.list_alerts(db, actor=principal, store_id=store_id,
                                               status=None, limit=100)  # fmt: skip
        context["items"] = replenishment.replenishment_list(db, store_id=store_id,
                                                            actor=principal)  # fmt: skip
        context["rules"] = reorder_rules.list_rules(db, store_id=store_id, actor=principal,
                                                    limit=SHOWN_RULES)  # fmt: skip
    return render(request, "office/replenishment/page.html", context, status_code=status)


def _back(store_id: int, done: str) -> Response:
    return RedirectResponse(f"{PAGE}?store_id={store_id}&done={done}", status_code=303)


@router.get(PAGE)
def page(
    request: Request, principal: Reader, db: ReadDb, store_id: Text = "", edit: Text = ""
) -> Response:
    """``edit``: a product id whose rule fills the form."""
    target = _store(db, principal, store_id)
    form = None
    product_id = parse_id(edit)
    if target is not None and product_id is not None:
        form = _form_of(db, target, product_id)
    return _page(request, db, principal, target, form=form)


def _form_of(db: Session, store_id: int, product_id: int) -> dict[str, Any] | None:
    rule = db.get(ReorderRule, (store_id, product_id))
    product = db.get(Product, product_id)
    if rule is None or product is None:
        return None
    return {"code": product.sku, "mode": rule.mode, "min_qty": rule.min_qty,
            "max_qty": rule.max_qty, "lead_days": rule.lead_days,
            "safety_days": rule.safety_days, "review_days": rule.review_days,
            "supplier_id": rule.supplier_id}  # fmt: skip


@router.post(f"{PAGE}/scan")
def scan(request: Request, principal: Manager, store_id: FormText = "") -> Response:
    """Check now: the same scan as the scheduler's, for this manager's stores."""
    target = principal.store_id or parse_id(store_id)
    if target is not None:
        principal.require_store(target)
    done = alerts.scan(get_database(request), request.app.state.settings,
                       store_ids=None if target is None else [target])  # fmt: skip
    return RedirectResponse(
        f"{PAGE}?store_id={target or ''}&done=scan-{done.opened}-{done.resolved}",
        status_code=303,
    )


@router.post(f"{PAGE}/alerts/{{alert_id}}/acknowledge")
def acknowledge(alert_id: PathId, principal: Manager, db: WriteDb) -> Response:
    alert = alerts.acknowledge(db, alert_id=alert_id, actor=principal)
    return _back(alert.store_id, "acknowledged")


@router.post(f"{PAGE}/purchase-orders")
def purchase_orders(
    request: Request, principal: Manager, db: WriteDb, store_id: FormText = ""
) -> Response:
    target = principal.store_id or parse_id(store_id)
    try:
        if target is None:
            raise ValidationFailed("Choose a store.", code="replenishment.store_missing")
        made = replenishment.suggest_orders(db, data=SuggestIn(store_id=target), actor=principal)
    except DomainError as exc:
        db.rollback()
        return _page(request, db, principal, target, error=error_of(request, exc),
                     status=exc.status)  # fmt: skip
    return _back(target, f"orders-{len(made.orders)}-{len(made.need_supplier)}")


@router.post(f"{PAGE}/rules")
def save_rule(
    request: Request, principal: Manager, db: WriteDb, store_id: FormText = "",
    code: FormText = "", mode: FormText = "manual", min_qty: FormText = "0",
    max_qty: FormText = "0", lead_days: FormText = "3", safety_days: FormText = "2",
    review_days: FormText = "7", supplier_id: FormText = "", delete: FormText = "",
) -> Response:  # fmt: skip
    """Set a product's rule by barcode or SKU, or delete it."""
    target = principal.store_id or parse_id(store_id)
    form = {"code": code.strip(), "mode": mode, "min_qty": min_qty, "max_qty": max_qty,
            "lead_days": lead_days, "safety_days": safety_days, "review_days": review_days,
            "supplier_id": parse_id(supplier_id)}  # fmt: skip
    try:
        if target is None:
            raise ValidationFailed("Choose a store.", code="replenishment.store_missing")
        product = catalog.lookup(db, code=code.strip())
        if delete:
            reorder_rules.delete_rule(db, store_id=target, product_id=product.id,
                                      actor=principal)  # fmt: skip
            return _back(target, "rule-deleted")
        data = _rule(target, product.id, form)
        reorder_rules.set_rule(db, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        return _page(request, db, principal, target, error=error_of(request, exc), form=form,
                     status=exc.status)  # fmt: skip
    return _back(target, "rule-saved")


def _rule(store_id: int, product_id: int, form: dict[str, Any]) -> RuleIn:
    try:
        numbers = {k: int(str(form[k]).strip() or "0") for k in
                   ("min_qty", "max_qty", "lead_days", "safety_days", "review_days")}  # fmt: skip
        return RuleIn(store_id=store_id, product_id=product_id, mode=form["mode"],
                      supplier_id=form["supplier_id"], **numbers)  # fmt: skip
    except (ValueError, ValidationError):
        raise ValidationFailed(BAD_RULE, code="reorder_rule.form_invalid") from None
