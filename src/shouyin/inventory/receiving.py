"""Goods receipts (入库): stock in, against a purchase order or without one, at a cost.

Everything is checked before anything is written; then the receipt and its lines, the
ledger movements (kind "receipt"), the order's received quantities and status, and the
store's moving-average cost of each product, in the caller's one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog.models import Product
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.inventory import service as ledger
from shouyin.inventory import suppliers
from shouyin.inventory.models import StockLevel
from shouyin.inventory.purchasing import MANAGE, AlreadyMade, line_cost, numbered, products_of
from shouyin.inventory.purchasing_models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    StockCost,
    Supplier,
)
from shouyin.inventory.purchasing_schemas import (
    OverReceipt,
    ReceiptCreate,
    ReceiptLinePublic,
    ReceiptPage,
    ReceiptPublic,
    ReceiptSummary,
)
from shouyin.shared.clock import utcnow
from shouyin.shared.types import table_of
from shouyin.stores.service import get_store


def moving_average(on_hand_before: int, old_milli: int | None, quantity: int, cost: int) -> int:
    """The new average cost in thousandths of a fen, rounded half up; ``cost`` in fen."""
    return moving_average_milli(on_hand_before, old_milli, quantity, cost * 1000)


def moving_average_milli(
    on_hand_before: int, old_milli: int | None, quantity: int, cost_milli: int
) -> int:
    """The same with the incoming cost in thousandths of a fen (a transfer's source cost).

    Stock below zero has no cost to average with (those goods were sold before they were
    booked in), and the first receipt sets the cost."""
    if old_milli is None:
        return cost_milli
    before = max(on_hand_before, 0)
    total = before + quantity
    return (before * old_milli + quantity * cost_milli + total // 2) // total


class CostLine(NamedTuple):
    """Goods coming into a store at a cost: a receipt line, or a transfer line received."""

    product_id: int
    quantity: int  # > 0
    cost_milli: int


def receive(
    session: Session, *, data: ReceiptCreate, actor: Principal, over_receipt: str = "warn"
) -> tuple[ReceiptPublic, bool]:
    """The receipt and whether it was made now (False: a retry with the same UUID)."""
    actor.require(MANAGE)
    actor.require_store(data.store_id)
    found = _retried(session, data)
    if found is not None:
        return get_receipt(session, receipt_id=found, actor=actor), False
    store = get_store(session, store_id=data.store_id)
    order = _order_to_receive(session, data) if data.order_id is not None else None
    # A retry that raced the first one waited on the order's lock: look again.
    found = _retried(session, data)
    if found is not None:
        return get_receipt(session, receipt_id=found, actor=actor), False
    supplier_id = order.supplier_id if order is not None else data.supplier_id
    if supplier_id is not None:
        suppliers.get_supplier(session, supplier_id=supplier_id)
    products_of(session, {x.product_id for x in data.lines})
    if order is None and any(x.order_line_id is not None for x in data.lines):
        raise ValidationFailed(
            "Order lines can only be received against their purchase order.",
            code="receipt.line_without_order",
        )
    order_lines = _order_lines(session, order, data) if order is not None else {}
    warnings = _over(order_lines, data)
    if warnings and over_receipt == "block":
        raise ValidationFailed(
            "More than ordered would be received on {count} line(s); receive at most what is "
            "outstanding.",
            code="receipt.over_ordered",
            details={"count": len(warnings), "lines": [w.model_dump() for w in warnings]},
        )  # fmt: skip

    def insert(number: str) -> GoodsReceipt:
        receipt = GoodsReceipt(
            client_uuid=str(data.client_uuid), number=number, store_id=store.id,
            supplier_id=supplier_id, order_id=data.order_id, user_id=actor.user_id,
            created_at=utcnow(), note=data.note,
        )  # fmt: skip
        session.add(receipt)
        session.flush()
        return receipt

    try:
        receipt = numbered(
            session, table_of(GoodsReceipt), "GR", store, insert, str(data.client_uuid)
        )
    except AlreadyMade as first:  # a retry that raced the first submission
        return get_receipt(session, receipt_id=first.document_id, actor=actor), False
    _write_lines(session, receipt, data, actor)
    if order is not None:
        _update_order(session, order, order_lines, data)
    audit.record(
        session, actor=actor, action="goods_receipt.create", entity="goods_receipt",
        entity_id=receipt.id, store_id=store.id,
        after={"number": receipt.number, "order_id": data.order_id,
               "lines": [x.model_dump() for x in data.lines],
               "over_ordered": [w.model_dump() for w in warnings]},
    )  # fmt: skip
    made = get_receipt(session, receipt_id=receipt.id, actor=actor)
    return made.model_copy(update={"warnings": warnings}), True


def _retried(session: Session, data: ReceiptCreate) -> int | None:
    found = session.execute(
        select(GoodsReceipt.id, GoodsReceipt.store_id).where(
            GoodsReceipt.client_uuid == str(data.client_uuid)
        )
    ).first()
    if found is None:
        return None
    if found.store_id != data.store_id:
        raise Conflict(
            "This receipt's number was already used for another receipt. Start again.",
            code="receipt.uuid_reused",
        )
    return int(found.id)


def _order_to_receive(session: Session, data: ReceiptCreate) -> PurchaseOrder:
    # Locked: two receipts against one order count its received quantities one at a time.
    order = session.scalar(
        select(PurchaseOrder).where(PurchaseOrder.id == data.order_id).with_for_update()
    )
    if order is None:
        raise NotFound("No such purchase order.", code="purchase_order.not_found")
    if order.store_id != data.store_id:
        raise ValidationFailed(
            "Purchase order {number} is for another store.",
            code="receipt.order_other_store", details={"number": order.number},
        )  # fmt: skip
    if order.status not in ("sent", "partly_received"):
        raise ValidationFailed(
            "Purchase order {number} is {status}; only a sent order can be received.",
            code="receipt.order_not_open", details={"number": order.number, "status": order.status},
        )  # fmt: skip
    if data.supplier_id is not None and data.supplier_id != order.supplier_id:
        raise ValidationFailed(
            "The supplier is not the order's supplier.", code="receipt.supplier_mismatch"
        )
    return order


def _order_lines(
    session: Session, order: PurchaseOrder, data: ReceiptCreate
) -> dict[int, PurchaseOrderLine]:
    """The order's lines, by id; each receipt line names one of them, or its product does."""
    lines = {
        x.id: x
        for x in session.scalars(
            select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == order.id)
        )
    }
    by_product = {x.product_id: x.id for x in lines.values()}
    seen: set[int] = set()
    for line in data.lines:
        if line.order_line_id is None:
            line.order_line_id = by_product.get(line.product_id)
        target = lines.get(line.order_line_id or 0)
        if target is None or target.product_id != line.product_id:
            raise ValidationFailed(
                "Product {product_id} is not on purchase order {number}.",
                code="receipt.line_not_on_order",
                details={"product_id": line.product_id, "number": order.number},
            )  # fmt: skip
        if target.id in seen:
            raise ValidationFailed(
                "Order line {order_line_id} is received twice in one receipt.",
                code="receipt.line_duplicate", details={"order_line_id": target.id},
            )  # fmt: skip
        seen.add(target.id)
    return lines


def _over(lines: dict[int, PurchaseOrderLine], data: ReceiptCreate) -> list[OverReceipt]:
    over = []
    for line in data.lines:
        target = lines.get(line.order_line_id or 0)
        if target is not None and target.received + line.quantity > target.quantity:
            over.append(
                OverReceipt(
                    order_line_id=target.id, product_id=target.product_id,
                    ordered=target.quantity, received=target.received + line.quantity,
                )
            )  # fmt: skip
    return over


def _write_lines(
    session: Session, receipt: GoodsReceipt, data: ReceiptCreate, actor: Principal
) -> None:
    session.add_all(
        GoodsReceiptLine(receipt_id=receipt.id, order_line_id=x.order_line_id,
                         product_id=x.product_id, quantity=x.quantity, unit_cost=x.unit_cost)
        for x in data.lines
    )  # fmt: skip
    session.flush()
    update_costs(
        session,
        store_id=receipt.store_id,
        lines=[CostLine(x.product_id, x.quantity, x.unit_cost * 1000) for x in data.lines],
    )
    ledger.record_movements(
        session.connection(), store_id=receipt.store_id, kind="receipt", at=receipt.created_at,
        user_id=actor.user_id, ref_type="receipt", ref_id=receipt.id,
        movements=[ledger.Movement(x.product_id, x.quantity) for x in data.lines],
    )  # fmt: skip


def update_costs(session: Session, *, store_id: int, lines: Sequence[CostLine]) -> None:
    """Move the store's moving-average costs for goods coming in; call it before their
    movements: the average weighs the stock there was against what came in.

    Race-safe: the cost rows are made (INSERT … ON CONFLICT DO NOTHING) and locked first, and
    on-hand is read only then. Two first receipts of a product at once no longer both insert
    (one waited, then found the other's row), and a receipt that waited for another's lock
    reads the on-hand that receipt left, not the one from before it. SQLite serialises
    writers, so there the order does not matter."""
    if not lines:
        return
    ids = sorted({x.product_id for x in lines})
    new = _make_cost_rows(session, store_id, lines)
    locked = session.execute(
        select(StockCost.product_id, StockCost.unit_cost_milli)
        .where(StockCost.store_id == store_id, StockCost.product_id.in_(ids))
        .order_by(StockCost.product_id)
        .with_for_update()
    )
    costs: dict[int, int | None] = {pid: None if pid in new else milli for pid, milli in locked}
    query = select(StockLevel.product_id, StockLevel.on_hand).where(
        StockLevel.store_id == store_id, StockLevel.product_id.in_(ids)
    )
    levels: dict[int, int] = {row.product_id: row.on_hand for row in session.execute(query)}
    for line in lines:
        on_hand = levels.get(line.product_id, 0)
        costs[line.product_id] = moving_average_milli(
            on_hand, costs.get(line.product_id), line.quantity, line.cost_milli
        )
        # Two lines of one product at once: the second averages with the first.
        levels[line.product_id] = on_hand + line.quantity
    now = utcnow()
    session.execute(
        _SET_COST,
        [{"s": store_id, "p": pid, "m": milli, "t": now} for pid, milli in sorted(costs.items())],
    )


_COSTS = table_of(StockCost)
_SET_COST = (
    update(_COSTS)
    .where(_COSTS.c.store_id == bindparam("s"), _COSTS.c.product_id == bindparam("p"))
    .values(unit_cost_milli=bindparam("m"), updated_at=bindparam("t"))
)


def _make_cost_rows(session: Session, store_id: int, lines: Sequence[CostLine]) -> set[int]:
    """Insert the missing cost rows (in product order: no deadlock between two receipts);
    the products whose row was made now. On PostgreSQL a row another transaction inserted and
    has not committed yet makes this wait for it, then counts as existing."""
    first: dict[int, int] = {}
    for line in lines:
        first.setdefault(line.product_id, line.cost_milli)
    now = utcnow()
    dialect = postgresql if session.connection().dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(_COSTS)
        .values([{"store_id": store_id, "product_id": pid, "unit_cost_milli": milli,
                  "updated_at": now} for pid, milli in sorted(first.items())])
        .on_conflict_do_nothing(index_elements=[_COSTS.c.store_id, _COSTS.c.product_id])
        .returning(_COSTS.c.product_id)
    )  # fmt: skip
    return set(session.scalars(stmt))


def _update_order(
    session: Session, order: PurchaseOrder, lines: dict[int, PurchaseOrderLine],
    data: ReceiptCreate,
) -> None:  # fmt: skip
    for line in data.lines:
        lines[line.order_line_id or 0].received += line.quantity
    done = all(x.received >= x.quantity for x in lines.values())
    order.status = "received" if done else "partly_received"
    session.flush()


def get_receipt(session: Session, *, receipt_id: int, actor: Principal) -> ReceiptPublic:
    row = session.execute(
        select(GoodsReceipt, Supplier.name, PurchaseOrder.number)
        .outerjoin(Supplier, Supplier.id == GoodsReceipt.supplier_id)
        .outerjoin(PurchaseOrder, PurchaseOrder.id == GoodsReceipt.order_id)
        .where(GoodsReceipt.id == receipt_id)
    ).first()
    if row is None or (actor.store_id is not None and row[0].store_id != actor.store_id):
        raise NotFound("No such goods receipt.", code="receipt.not_found")
    receipt, supplier_name, order_number = row
    rows = session.execute(
        select(GoodsReceiptLine, Product)
        .join(Product, Product.id == GoodsReceiptLine.product_id)
        .where(GoodsReceiptLine.receipt_id == receipt.id)
        .order_by(GoodsReceiptLine.id)
    ).all()
    lines = [
        ReceiptLinePublic(
            id=x.id, product_id=p.id, sku=p.sku, name=p.name, unit=p.unit, weighed=p.weighed,
            order_line_id=x.order_line_id, quantity=x.quantity, unit_cost=x.unit_cost,
        )
        for x, p in rows
    ]  # fmt: skip
    return ReceiptPublic(
        id=receipt.id, number=receipt.number, client_uuid=receipt.client_uuid,
        store_id=receipt.store_id, supplier_id=receipt.supplier_id, supplier_name=supplier_name,
        order_id=receipt.order_id, order_number=order_number, user_id=receipt.user_id,
        created_at=receipt.created_at, note=receipt.note,
        total_cost=sum(line_cost(x.quantity, x.unit_cost, x.weighed) for x in lines), lines=lines,
    )  # fmt: skip


def list_receipts(
    session: Session, *, actor: Principal, store_id: int | None = None,
    order_id: int | None = None, supplier_id: int | None = None, limit: int = 50, offset: int = 0,
) -> ReceiptPage:  # fmt: skip
    store_id = actor.scope_store(store_id)
    query: Any = (
        select(GoodsReceipt, Supplier.name, PurchaseOrder.number)
        .outerjoin(Supplier, Supplier.id == GoodsReceipt.supplier_id)
        .outerjoin(PurchaseOrder, PurchaseOrder.id == GoodsReceipt.order_id)
    )
    if store_id is not None:
        query = query.where(GoodsReceipt.store_id == store_id)
    if order_id is not None:
        query = query.where(GoodsReceipt.order_id == order_id)
    if supplier_id is not None:
        query = query.where(GoodsReceipt.supplier_id == supplier_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(GoodsReceipt.id.desc()).limit(limit).offset(offset))
    items = [
        ReceiptSummary(
            id=r.id, number=r.number, store_id=r.store_id, supplier_name=name,
            order_number=number, created_at=r.created_at,
        )
        for r, name, number in rows
    ]  # fmt: skip
    return ReceiptPage(items=items, total=total)
