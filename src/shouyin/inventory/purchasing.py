"""Purchase orders (采购单): draft, sent, partly received, received, or cancelled.

A draft can be changed; sending it fixes its lines. Receipts (:mod:`receiving`) move the
status on as goods arrive. Store managers order for their own store, HQ for any.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Table, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog.models import Product
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.inventory import suppliers
from shouyin.inventory.purchasing_models import (
    PurchaseOrder,
    PurchaseOrderLine,
    StockCost,
    Supplier,
)
from shouyin.inventory.purchasing_schemas import (
    OrderCreate,
    OrderLineAdd,
    OrderLineIn,
    OrderLinePublic,
    OrderLineUpdate,
    OrderPage,
    OrderPublic,
    OrderSummary,
    OrderUpdate,
)
from shouyin.shared.clock import business_date, utcnow
from shouyin.shared.numbering import numbers_of
from shouyin.shared.types import table_of
from shouyin.stores.models import Store
from shouyin.stores.service import get_store

MANAGE = "purchasing.manage"
MAX_LINES = 500
T = TypeVar("T")


# --- shared by orders and receipts --------------------------------------------------------


def products_of(session: Session, product_ids: Collection[int]) -> dict[int, Product]:
    """The products named, all of which must exist."""
    found = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(product_ids)))}
    for product_id in product_ids:
        if product_id not in found:
            raise NotFound(
                "Product {product_id} is unknown.",
                code="catalog.product_unknown", details={"product_id": product_id},
            )  # fmt: skip
    return found


def store_day(store: Store) -> date:
    return business_date(utcnow(), store.timezone, store.day_cutoff_minutes)


class AlreadyMade(Exception):
    """A concurrent request with the same client UUID made the document first."""

    def __init__(self, document_id: int) -> None:
        super().__init__(document_id)
        self.document_id = document_id


def numbered(
    session: Session, table: Table, prefix: str, store: Store, insert: Callable[[str], T],
    client_uuid: str,
) -> T:  # fmt: skip
    """Insert with the next number of the store's day, e.g. PO-S01-20261123-001.

    Two writers may pick the same number; the unique key refuses the second, which takes
    the next one (in a savepoint, so nothing else is lost). A refusal because a retry with
    the same client UUID got there first raises AlreadyMade: the caller answers with it."""
    stem = f"{prefix}-{store.code}-{store_day(store):%Y%m%d}-"
    for _ in range(5):
        count = session.scalar(
            select(func.count()).select_from(table).where(numbers_of(table.c.number, stem))
        )
        try:
            with session.begin_nested():
                return insert(f"{stem}{int(count or 0) + 1:03d}")
        except IntegrityError:
            made = session.scalar(select(table.c.id).where(table.c.client_uuid == client_uuid))
            if made is not None:
                raise AlreadyMade(int(made)) from None
            continue
    raise Conflict("Too many documents at once; try again.", code="purchasing.number_busy")


# --- orders ---------------------------------------------------------------------------------


def _order(session: Session, order_id: int, actor: Principal, lock: bool = False) -> PurchaseOrder:
    query = select(PurchaseOrder).where(PurchaseOrder.id == order_id)
    order = session.scalar(query.with_for_update() if lock else query)
    if order is None or (actor.store_id is not None and order.store_id != actor.store_id):
        raise NotFound("No such purchase order.", code="purchase_order.not_found")
    return order


def _check_supplier(session: Session, supplier_id: int) -> Supplier:
    supplier = suppliers.get_supplier(session, supplier_id=supplier_id)
    if not supplier.active:
        raise ValidationFailed(
            "The supplier {code} is inactive.",
            code="supplier.inactive", details={"code": supplier.code},
        )  # fmt: skip
    return supplier


def _check_lines(session: Session, lines: list[OrderLineIn]) -> None:
    ids = [x.product_id for x in lines]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(
            "A product is on the order twice; put it on one line.", code="purchase_order.duplicate"
        )
    products_of(session, set(ids))


def _add_lines(session: Session, order_id: int, lines: list[OrderLineIn]) -> None:
    session.add_all(
        PurchaseOrderLine(order_id=order_id, product_id=x.product_id, quantity=x.quantity,
                          unit_cost=x.unit_cost, received=0)
        for x in lines
    )  # fmt: skip
    session.flush()


def create_order(
    session: Session, *, data: OrderCreate, actor: Principal
) -> tuple[OrderPublic, bool]:
    """The draft, and whether it was made now (False: a retry with the same UUID)."""
    actor.require(MANAGE)
    actor.require_store(data.store_id)
    found = session.scalar(
        select(PurchaseOrder.id).where(PurchaseOrder.client_uuid == str(data.client_uuid))
    )
    if found is not None:
        return get_order(session, order_id=found, actor=actor), False
    store = get_store(session, store_id=data.store_id)
    _check_supplier(session, data.supplier_id)
    _check_lines(session, data.lines)

    def insert(number: str) -> PurchaseOrder:
        order = PurchaseOrder(
            client_uuid=str(data.client_uuid), number=number, store_id=store.id,
            supplier_id=data.supplier_id, status="draft", created_at=utcnow(),
            created_by=actor.user_id, expected_on=data.expected_on, note=data.note,
        )  # fmt: skip
        session.add(order)
        session.flush()
        return order

    try:
        order = numbered(
            session, table_of(PurchaseOrder), "PO", store, insert, str(data.client_uuid)
        )
    except AlreadyMade as first:
        return get_order(session, order_id=first.document_id, actor=actor), False
    _add_lines(session, order.id, data.lines)
    audit.record(
        session, actor=actor, action="purchase_order.create", entity="purchase_order",
        entity_id=order.id, store_id=store.id, after=data.model_dump(mode="json"),
    )  # fmt: skip
    return get_order(session, order_id=order.id, actor=actor), True


def _draft(session: Session, order_id: int, actor: Principal) -> PurchaseOrder:
    """The order, locked, when it can still be changed: once sent, the supplier has it."""
    actor.require(MANAGE)
    order = _order(session, order_id, actor, lock=True)
    if order.status != "draft":
        raise Conflict("Only a draft order can be changed.", code="purchase_order.not_draft")
    return order


def update_order(
    session: Session, *, order_id: int, data: OrderUpdate, actor: Principal
) -> OrderPublic:
    order = _draft(session, order_id, actor)
    changes = data.model_dump(exclude_unset=True, mode="json")
    if data.supplier_id is not None:
        _check_supplier(session, data.supplier_id)
        order.supplier_id = data.supplier_id
    if "expected_on" in changes:
        order.expected_on = data.expected_on
    if "note" in changes:
        order.note = data.note
    if data.lines is not None:
        _check_lines(session, data.lines)
        session.execute(delete(PurchaseOrderLine).where(PurchaseOrderLine.order_id == order.id))
        _add_lines(session, order.id, data.lines)
    audit.record(
        session, actor=actor, action="purchase_order.update", entity="purchase_order",
        entity_id=order.id, store_id=order.store_id, after=changes,
    )  # fmt: skip
    return get_order(session, order_id=order.id, actor=actor)


def _move(session: Session, order_id: int, actor: Principal, to: str, allowed: set[str]) -> None:
    order = _order(session, order_id, actor, lock=True)
    if order.status not in allowed:
        raise Conflict(
            "The order is {status}; it cannot be {action}.",
            code=f"purchase_order.cannot_{'send' if to == 'sent' else 'cancel'}",
            details={"status": order.status, "action": to},
        )  # fmt: skip
    before = order.status
    order.status = to
    if to == "sent":
        order.sent_at = utcnow()
    audit.record(
        session, actor=actor, action=f"purchase_order.{to}", entity="purchase_order",
        entity_id=order.id, store_id=order.store_id, before={"status": before},
        after={"status": to},
    )  # fmt: skip


def send_order(session: Session, *, order_id: int, actor: Principal) -> OrderPublic:
    actor.require(MANAGE)
    order = _order(session, order_id, actor, lock=True)  # no line goes while this looks
    has_lines = session.scalar(
        select(PurchaseOrderLine.id).where(PurchaseOrderLine.order_id == order_id).limit(1)
    )
    if has_lines is None and order.status == "draft":
        raise Conflict(
            "Add at least one product before sending the order.", code="purchase_order.empty"
        )
    _move(session, order_id, actor, "sent", {"draft"})
    return get_order(session, order_id=order_id, actor=actor)


def cancel_order(session: Session, *, order_id: int, actor: Principal) -> OrderPublic:
    """A draft, or a sent order nothing of which has arrived yet."""
    actor.require(MANAGE)
    _move(session, order_id, actor, "cancelled", {"draft", "sent"})
    return get_order(session, order_id=order_id, actor=actor)


# --- a draft's lines --------------------------------------------------------------------------


def _line(session: Session, order: PurchaseOrder, line_id: int) -> PurchaseOrderLine:
    line = session.get(PurchaseOrderLine, line_id)
    if line is None or line.order_id != order.id:
        raise NotFound("The order has no such line.", code="purchase_order.line_not_found")
    return line


def _line_audit(
    session: Session, actor: Principal, order: PurchaseOrder, action: str,
    before: dict[str, Any] | None, after: dict[str, Any] | None,
) -> None:  # fmt: skip
    audit.record(
        session, actor=actor, action=f"purchase_order.{action}", entity="purchase_order",
        entity_id=order.id, store_id=order.store_id, before=before, after=after,
    )  # fmt: skip


def _figures(line: PurchaseOrderLine) -> dict[str, int]:
    return {"product_id": line.product_id, "quantity": line.quantity, "unit_cost": line.unit_cost}


def average_cost(session: Session, store_id: int, product_id: int) -> int:
    """Fen per unit (per kg when weighed): the store's moving-average cost, else zero."""
    milli = session.scalar(
        select(StockCost.unit_cost_milli).where(
            StockCost.store_id == store_id, StockCost.product_id == product_id
        )
    )
    return 0 if milli is None else (int(milli) + 500) // 1000


def replace_lines(
    session: Session, *, order_id: int, lines: list[OrderLineIn], actor: Principal
) -> OrderPublic:
    """All of a draft's lines at once; an empty list leaves an empty draft."""
    order = _draft(session, order_id, actor)
    _check_lines(session, lines)
    before = session.scalars(
        select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == order.id)
    ).all()
    old = [_figures(x) for x in before]
    session.execute(delete(PurchaseOrderLine).where(PurchaseOrderLine.order_id == order.id))
    _add_lines(session, order.id, lines)
    new = [x.model_dump() for x in lines]
    _line_audit(session, actor, order, "lines_replace", {"lines": old}, {"lines": new})
    return get_order(session, order_id=order.id, actor=actor)


def add_line(
    session: Session, *, order_id: int, data: OrderLineAdd, actor: Principal
) -> OrderPublic:
    order = _draft(session, order_id, actor)
    products_of(session, {data.product_id})
    taken = session.scalars(
        select(PurchaseOrderLine.product_id).where(PurchaseOrderLine.order_id == order.id)
    ).all()
    if data.product_id in taken:
        raise Conflict(
            "The product is already on the order; change that line's quantity.",
            code="purchase_order.line_exists", details={"product_id": data.product_id},
        )  # fmt: skip
    if len(taken) >= MAX_LINES:
        raise ValidationFailed(
            "At most {limit} products a document.", code="purchase_order.too_many_lines",
            details={"limit": MAX_LINES},
        )  # fmt: skip
    cost = data.unit_cost
    if cost is None:
        cost = average_cost(session, order.store_id, data.product_id)
    line = OrderLineIn(product_id=data.product_id, quantity=data.quantity, unit_cost=cost)
    _add_lines(session, order.id, [line])
    _line_audit(session, actor, order, "line_add", None, line.model_dump())
    return get_order(session, order_id=order.id, actor=actor)


def update_line(
    session: Session, *, order_id: int, line_id: int, data: OrderLineUpdate, actor: Principal
) -> OrderPublic:
    order = _draft(session, order_id, actor)
    line = _line(session, order, line_id)
    before = _figures(line)
    if data.quantity is not None:
        line.quantity = data.quantity
    if data.unit_cost is not None:
        line.unit_cost = data.unit_cost
    session.flush()
    _line_audit(session, actor, order, "line_update", before, _figures(line))
    return get_order(session, order_id=order.id, actor=actor)


def remove_line(session: Session, *, order_id: int, line_id: int, actor: Principal) -> OrderPublic:
    order = _draft(session, order_id, actor)
    line = _line(session, order, line_id)
    before = _figures(line)
    session.delete(line)
    session.flush()
    _line_audit(session, actor, order, "line_remove", before, None)
    return get_order(session, order_id=order.id, actor=actor)


def get_order(session: Session, *, order_id: int, actor: Principal) -> OrderPublic:
    order = _order(session, order_id, actor)
    supplier = suppliers.get_supplier(session, supplier_id=order.supplier_id)
    rows = session.execute(
        select(PurchaseOrderLine, Product)
        .join(Product, Product.id == PurchaseOrderLine.product_id)
        .where(PurchaseOrderLine.order_id == order.id)
        .order_by(PurchaseOrderLine.id)
    ).all()
    lines = [
        OrderLinePublic(
            id=line.id, product_id=p.id, sku=p.sku, name=p.name, unit=p.unit, weighed=p.weighed,
            quantity=line.quantity, unit_cost=line.unit_cost, received=line.received,
            outstanding=max(line.quantity - line.received, 0),
        )
        for line, p in rows
    ]  # fmt: skip
    return OrderPublic(
        id=order.id, number=order.number, client_uuid=order.client_uuid, store_id=order.store_id,
        supplier_id=order.supplier_id, supplier_name=supplier.name, status=order.status,
        created_at=order.created_at, created_by=order.created_by, sent_at=order.sent_at,
        expected_on=order.expected_on, note=order.note,
        total_cost=sum(line_cost(x.quantity, x.unit_cost, x.weighed) for x in lines), lines=lines,
    )  # fmt: skip


def line_cost(quantity: int, unit_cost: int, weighed: bool) -> int:
    """Fen: weighed goods are grams at a cost per kg, rounded half up."""
    return (quantity * unit_cost + 500) // 1000 if weighed else quantity * unit_cost


def list_orders(
    session: Session, *, actor: Principal, store_id: int | None = None,
    supplier_id: int | None = None, status: str | None = None, limit: int = 50, offset: int = 0,
) -> OrderPage:  # fmt: skip
    store_id = actor.scope_store(store_id)
    query: Any = select(PurchaseOrder, Supplier.name).join(
        Supplier, Supplier.id == PurchaseOrder.supplier_id
    )
    if store_id is not None:
        query = query.where(PurchaseOrder.store_id == store_id)
    if supplier_id is not None:
        query = query.where(PurchaseOrder.supplier_id == supplier_id)
    if status is not None:
        query = query.where(PurchaseOrder.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(PurchaseOrder.id.desc()).limit(limit).offset(offset))
    items = [
        OrderSummary(
            id=o.id, number=o.number, store_id=o.store_id, supplier_id=o.supplier_id,
            supplier_name=name, status=o.status, created_at=o.created_at,
            expected_on=o.expected_on,
        )
        for o, name in rows
    ]  # fmt: skip
    return OrderPage(items=items, total=total)
