"""The replenishment list (补货单): every product of a store at or below its reorder point.

One query per store computes it all in the database: net sales per product over the last
28 days from the ledger (grouped once), joined to the rules and the cached stock levels, with
the reorder arithmetic of :mod:`reorder` as SQL. Only the products to reorder come back, each
with what is already on its way to the store (open purchase orders, transfers in transit),
which the suggested quantity leaves out.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.catalog.models import Product
from shouyin.inventory import purchasing, reorder
from shouyin.inventory.count_models import ReorderRule
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.purchasing_models import (
    PurchaseOrder,
    PurchaseOrderLine,
    StockCost,
    Supplier,
)
from shouyin.inventory.purchasing_schemas import OrderCreate, OrderLineIn
from shouyin.inventory.reorder_schemas import (
    ReplenishmentLine,
    SuggestedOrder,
    SuggestIn,
    SuggestOut,
)
from shouyin.inventory.transfer_models import Transfer, TransferLine
from shouyin.shared.clock import utcnow
from shouyin.stores.service import get_store

SOLD_KINDS = ("sale", "return")
OPEN_ORDERS = ("sent", "partly_received")


class Low(NamedTuple):
    product_id: int
    mode: str
    on_hand: int
    reorder_point: int
    order_up_to: int
    supplier_id: int | None
    on_order: int = 0  # on open purchase orders and transfers in transit to the store

    @property
    def suggested(self) -> int:
        return max(self.order_up_to - self.on_hand - self.on_order, 0)


def low_query(store_id: int, now: datetime, supplier_id: int | None = None) -> Any:
    """Products of the store to reorder: product_id, mode, on_hand, reorder_point,
    order_up_to, supplier_id, on_order.

    Two parts, UNION ALL: manual rules (every rule of the store read once, its level looked
    up), and velocity rules driven from the grouped sales, since a velocity product that sold
    nothing has nothing to order. Cheaper than joining every rule to the grouped sales."""
    since = now - timedelta(days=reorder.WINDOW_DAYS)
    sold = (
        select(StockMovement.product_id, (-func.sum(StockMovement.quantity)).label("sold"))
        .where(
            StockMovement.store_id == store_id,
            StockMovement.kind.in_(SOLD_KINDS),
            StockMovement.at >= since,
        )
        .group_by(StockMovement.product_id)
        .subquery("sold")
    )
    on_hand = func.coalesce(StockLevel.on_hand, 0)
    level = and_(StockLevel.store_id == ReorderRule.store_id,
                 StockLevel.product_id == ReorderRule.product_id)  # fmt: skip
    manual_up_to = reorder.order_up_to_sql(ReorderRule, literal(0))
    manual = (
        select(ReorderRule.product_id, ReorderRule.mode, on_hand.label("on_hand"),
               ReorderRule.min_qty.label("reorder_point"), manual_up_to.label("order_up_to"),
               ReorderRule.supplier_id)
        .select_from(ReorderRule)
        .outerjoin(StockLevel, level)
        .where(ReorderRule.store_id == store_id, ReorderRule.mode == "manual",
               on_hand <= ReorderRule.min_qty, manual_up_to > 0)
    )  # fmt: skip
    point = reorder.reorder_point_sql(ReorderRule, sold.c.sold)
    up_to = reorder.order_up_to_sql(ReorderRule, sold.c.sold)
    velocity = (
        select(ReorderRule.product_id, ReorderRule.mode, on_hand, point, up_to,
               ReorderRule.supplier_id)
        .select_from(sold)
        .join(ReorderRule, and_(ReorderRule.store_id == store_id,
                                ReorderRule.product_id == sold.c.product_id))
        .outerjoin(StockLevel, level)
        .where(ReorderRule.mode == "velocity", sold.c.sold > 0, on_hand <= point, up_to > 0)
    )  # fmt: skip
    if supplier_id is not None:
        manual = manual.where(ReorderRule.supplier_id == supplier_id)
        velocity = velocity.where(ReorderRule.supplier_id == supplier_id)
    low = union_all(manual, velocity).subquery("low")
    coming = on_order_query(store_id)
    # Joined to the (short) list only, once: the grouped subquery is small (open documents).
    # Sorted in the database: the whole list is then made in the query's first step, and the
    # rows come back in one stretch, so stores computed side by side (replenishment_all) do
    # not wait on each other row by row.
    return (
        select(*low.c, func.coalesce(coming.c.on_order, 0))
        .outerjoin(coming, coming.c.product_id == low.c.product_id)
        .order_by(low.c.product_id)
    )


def on_order_query(store_id: int) -> Any:
    """Per product, what is on its way to the store: ordered − received on its sent and partly
    received purchase orders (never below zero per line), plus what is in transit to it."""
    outstanding = PurchaseOrderLine.quantity - PurchaseOrderLine.received
    ordered = (
        select(PurchaseOrderLine.product_id,
               case((outstanding > 0, outstanding), else_=0).label("quantity"))
        .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
        .where(PurchaseOrder.store_id == store_id, PurchaseOrder.status.in_(OPEN_ORDERS))
    )  # fmt: skip
    in_transit = (
        select(TransferLine.product_id, TransferLine.quantity)
        .join(Transfer, Transfer.id == TransferLine.transfer_id)
        .where(Transfer.to_store_id == store_id, Transfer.status == "in_transit")
    )
    coming = union_all(ordered, in_transit).subquery("coming")
    return (
        select(coming.c.product_id, func.sum(coming.c.quantity).label("on_order"))
        .group_by(coming.c.product_id)
        .subquery("on_order")
    )


def low_products(
    session: Session, *, store_id: int, supplier_id: int | None = None,
    now: datetime | None = None,
) -> list[Low]:  # fmt: skip
    rows = session.execute(low_query(store_id, now or utcnow(), supplier_id))
    return [Low(*row) for row in rows]


def replenishment_list(
    session: Session, *, store_id: int, actor: Principal, supplier_id: int | None = None
) -> list[ReplenishmentLine]:
    actor.require("stock.read")
    actor.require_store(store_id)
    get_store(session, store_id=store_id)
    low = low_products(session, store_id=store_id, supplier_id=supplier_id)
    return describe(session, low)


def describe(session: Session, low: list[Low]) -> list[ReplenishmentLine]:
    """The list with product and supplier names, in SKU order."""
    if not low:
        return []
    names = _names(session, [x.product_id for x in low])
    wanted = {x.supplier_id for x in low if x.supplier_id is not None}
    query = select(Supplier.id, Supplier.name).where(Supplier.id.in_(wanted))
    suppliers: dict[int, str] = {row[0]: row[1] for row in session.execute(query)}
    lines = [
        ReplenishmentLine(
            product_id=x.product_id, sku=names[x.product_id][0], name=names[x.product_id][1],
            mode=x.mode, on_hand=x.on_hand, on_order=x.on_order, reorder_point=x.reorder_point,
            order_up_to=x.order_up_to, suggested=x.suggested, supplier_id=x.supplier_id,
            supplier_name=suppliers.get(x.supplier_id) if x.supplier_id else None,
        )
        for x in low
    ]  # fmt: skip
    return sorted(lines, key=lambda line: line.sku)


def _names(session: Session, product_ids: Collection[int]) -> dict[int, tuple[str, str]]:
    names: dict[int, tuple[str, str]] = {}
    ids = list(product_ids)
    for start in range(0, len(ids), 5000):  # bound the IN list
        chunk = ids[start : start + 5000]
        query = select(Product.id, Product.sku, Product.name).where(Product.id.in_(chunk))
        names.update((pid, (sku, name)) for pid, sku, name in session.execute(query))
    return names


def csv_text(lines: list[ReplenishmentLine]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["sku", "name", "on_hand", "reorder_point", "order_up_to", "on_order",
                     "suggested", "supplier"])  # fmt: skip
    for x in lines:
        writer.writerow([x.sku, x.name, x.on_hand, x.reorder_point, x.order_up_to, x.on_order,
                         x.suggested, x.supplier_name or ""])  # fmt: skip
    return out.getvalue()


def suggest_orders(session: Session, *, data: SuggestIn, actor: Principal) -> SuggestOut:
    """Draft purchase orders from the list, one per supplier (purchasing.create_order).

    Each line's cost is the store's moving-average cost (0 when unknown: change it in the
    draft). The UUID of each draft is new: pressing twice makes two sets of drafts."""
    actor.require(purchasing.MANAGE)
    actor.require_store(data.store_id)
    get_store(session, store_id=data.store_id)
    low = low_products(session, store_id=data.store_id)
    if data.product_ids is not None:
        wanted = set(data.product_ids)
        low = [x for x in low if x.product_id in wanted]
    by_supplier: dict[int, list[Low]] = defaultdict(list)
    need_supplier: list[int] = []
    for x in low:
        if x.suggested <= 0:
            continue
        if x.supplier_id is None:
            need_supplier.append(x.product_id)
        else:
            by_supplier[x.supplier_id].append(x)
    costs = _costs(session, data.store_id, [x.product_id for x in low])
    orders: list[SuggestedOrder] = []
    for supplier_id, items in sorted(by_supplier.items()):
        for start in range(0, len(items), 500):  # an order holds at most 500 lines
            chunk = items[start : start + 500]
            order, _ = purchasing.create_order(
                session, actor=actor,
                data=OrderCreate(
                    client_uuid=uuid.uuid4(), store_id=data.store_id, supplier_id=supplier_id,
                    note="补货建议 / replenishment",
                    lines=[OrderLineIn(product_id=x.product_id, quantity=min(x.suggested,
                                       1_000_000), unit_cost=costs.get(x.product_id, 0))
                           for x in chunk],
                ),
            )  # fmt: skip
            orders.append(SuggestedOrder(id=order.id, number=order.number,
                                         supplier_id=supplier_id, lines=len(chunk)))  # fmt: skip
    return SuggestOut(orders=orders, need_supplier=sorted(need_supplier))


def _costs(session: Session, store_id: int, product_ids: list[int]) -> dict[int, int]:
    if not product_ids:
        return {}
    costs: dict[int, int] = {}
    for start in range(0, len(product_ids), 5000):  # bound the IN list
        query = select(StockCost.product_id, StockCost.unit_cost_milli).where(
            StockCost.store_id == store_id,
            StockCost.product_id.in_(product_ids[start : start + 5000]),
        )
        costs.update((pid, (milli + 500) // 1000) for pid, milli in session.execute(query))
    return costs
