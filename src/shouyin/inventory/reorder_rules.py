"""Reorder rules per store and product: list, set, delete."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog.models import Product
from shouyin.errors import NotFound
from shouyin.inventory import purchasing, suppliers
from shouyin.inventory.count_models import ReorderRule
from shouyin.inventory.reorder_schemas import RuleIn, RulePage, RulePublic
from shouyin.shared.clock import utcnow
from shouyin.stores.service import get_store


def list_rules(
    session: Session, *, store_id: int, actor: Principal, limit: int = 100, offset: int = 0
) -> RulePage:
    actor.require("stock.read")
    actor.require_store(store_id)
    where = ReorderRule.store_id == store_id
    total = session.scalar(select(func.count()).select_from(ReorderRule).where(where)) or 0
    rows = session.execute(
        select(ReorderRule, Product.sku, Product.name)
        .join(Product, Product.id == ReorderRule.product_id)
        .where(where)
        .order_by(Product.sku)
        .limit(limit)
        .offset(offset)
    )
    return RulePage(total=total, items=[_public(rule, sku, name) for rule, sku, name in rows])


def _public(rule: ReorderRule, sku: str, name: str) -> RulePublic:
    return RulePublic(
        store_id=rule.store_id, product_id=rule.product_id, sku=sku, name=name, mode=rule.mode,
        min_qty=rule.min_qty, max_qty=rule.max_qty, lead_days=rule.lead_days,
        safety_days=rule.safety_days, review_days=rule.review_days,
        supplier_id=rule.supplier_id, updated_at=rule.updated_at,
    )  # fmt: skip


def set_rule(session: Session, *, data: RuleIn, actor: Principal) -> tuple[RulePublic, bool]:
    """The rule, and whether it is new."""
    actor.require(purchasing.MANAGE)
    actor.require_store(data.store_id)
    get_store(session, store_id=data.store_id)
    product = purchasing.products_of(session, {data.product_id})[data.product_id]
    if data.supplier_id is not None:
        suppliers.get_supplier(session, supplier_id=data.supplier_id)
    rule = session.get(ReorderRule, (data.store_id, data.product_id), with_for_update=True)
    before = None if rule is None else _public(rule, product.sku, product.name)
    fields = data.model_dump(exclude={"store_id", "product_id"})
    if rule is None:
        rule = ReorderRule(store_id=data.store_id, product_id=data.product_id, **fields)
        session.add(rule)
    else:
        for key, value in fields.items():
            setattr(rule, key, value)
    rule.updated_at = utcnow()
    session.flush()
    audit.record(
        session, actor=actor, action="reorder_rule.set", entity="product",
        entity_id=data.product_id, store_id=data.store_id,
        before=None if before is None else before.model_dump(mode="json"),
        after=data.model_dump(mode="json"),
    )  # fmt: skip
    return _public(rule, product.sku, product.name), before is None


def delete_rule(session: Session, *, store_id: int, product_id: int, actor: Principal) -> None:
    actor.require(purchasing.MANAGE)
    actor.require_store(store_id)
    done = session.execute(
        delete(ReorderRule).where(
            ReorderRule.store_id == store_id, ReorderRule.product_id == product_id
        )
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise NotFound("No reorder rule for this product.", code="reorder_rule.not_found")
    audit.record(
        session, actor=actor, action="reorder_rule.delete", entity="product",
        entity_id=product_id, store_id=store_id,
    )  # fmt: skip
