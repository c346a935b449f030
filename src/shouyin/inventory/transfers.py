"""Transfers (调拨) between stores: draft, sent (in transit), received at the destination.

Stock leaves the sender when the transfer is sent and arrives at the destination when it is
received with the counted quantities, entering the destination's moving-average cost at the
sender's cost. What was sent but not counted at the destination stays on the transfer line as
a shortfall (and in the audit log): it left one store and never reached the other. Every state change is one conditional UPDATE, so two people pressing
"send" or "receive" at once move stock once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog.models import Product
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.inventory import receiving, states
from shouyin.inventory import service as inventory
from shouyin.inventory.models import StockLevel
from shouyin.inventory.purchasing_models import StockCost
from shouyin.inventory.transfer_models import Transfer, TransferLine
from shouyin.inventory.transfer_schemas import (
    StockWarning,
    TransferCreate,
    TransferLinePublic,
    TransferPage,
    TransferPublic,
    TransferReceive,
    TransferSummary,
)
from shouyin.shared.clock import business_date, utcnow
from shouyin.shared.numbering import numbers_of
from shouyin.stores.models import Store

PERMISSION = "transfers.manage"


# --- create ---------------------------------------------------------------------------------


def create(
    session: Session, *, data: TransferCreate, actor: Principal
) -> tuple[TransferPublic, bool]:
    """A draft; returns it and whether it was created now (False: a retry of the same UUID)."""
    actor.require(PERMISSION)
    existing = _by_uuid(session, str(data.client_uuid))
    if existing is not None:
        return detail(session, transfer_id=existing, actor=actor), False
    actor.require_store(data.from_store_id)
    if data.from_store_id == data.to_store_id:
        raise ValidationFailed("A transfer must go to another store.", code="transfer.same_store")
    sender = _store(session, data.from_store_id)
    _store(session, data.to_store_id)
    _check_lines(session, [(x.product_id, x.quantity) for x in data.lines])
    now = utcnow()
    day = business_date(now, sender.timezone, sender.day_cutoff_minutes)
    prefix = f"TR-{sender.code}-{day:%Y%m%d}-"
    for _ in range(5):
        try:
            with session.begin_nested():
                transfer = Transfer(
                    client_uuid=str(data.client_uuid), number=_next_number(session, prefix),
                    from_store_id=data.from_store_id, to_store_id=data.to_store_id,
                    status="draft", created_at=now, created_by=actor.user_id, note=data.note,
                )  # fmt: skip
                session.add(transfer)
                session.flush()
                session.add_all(
                    TransferLine(transfer_id=transfer.id, product_id=x.product_id,
                                 quantity=x.quantity)
                    for x in data.lines
                )  # fmt: skip
                session.flush()
        except IntegrityError:
            # Another request took this number, or stored the same UUID first.
            found = _by_uuid(session, str(data.client_uuid))
            if found is not None:
                return detail(session, transfer_id=found, actor=actor), False
            continue
        return detail(session, transfer_id=transfer.id, actor=actor), True
    raise Conflict("Too many transfers at once; try again.", code="transfer.number_busy")


def _by_uuid(session: Session, client_uuid: str) -> int | None:
    return session.scalar(select(Transfer.id).where(Transfer.client_uuid == client_uuid))


def _next_number(session: Session, prefix: str) -> str:
    count = session.scalar(
        select(func.count()).select_from(Transfer).where(numbers_of(Transfer.number, prefix))
    )
    return f"{prefix}{(count or 0) + 1:03d}"


def _store(session: Session, store_id: int) -> Store:
    store = session.get(Store, store_id)
    if store is None or not store.active:
        raise NotFound(
            "Store {store_id} is unknown.", code="store.not_found", details={"store_id": store_id}
        )
    return store


def _check_lines(session: Session, lines: Sequence[tuple[int, int]]) -> None:
    ids = [product_id for product_id, _ in lines]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(
            "Each product may appear once on a transfer.", code="transfer.duplicate_product"
        )
    bad = [product_id for product_id, quantity in lines if quantity <= 0]
    if bad:
        raise ValidationFailed(
            "Quantities must be above zero.",
            code="transfer.quantity_invalid",
            details={"product_ids": bad},
        )
    known = set(session.scalars(select(Product.id).where(Product.id.in_(ids))))
    unknown = [product_id for product_id in ids if product_id not in known]
    if unknown:
        raise NotFound(
            "Product {product_id} is unknown.",
            code="catalog.product_unknown",
            details={"product_id": unknown[0]},
        )


# --- send, receive, cancel ------------------------------------------------------------------


def send(
    session: Session, *, transfer_id: int, actor: Principal, negative_stock: str = "warn"
) -> TransferPublic:
    """Draft → in transit: the goods leave the sending store in this transaction."""
    transfer = _for_sender(session, transfer_id, actor)
    now = utcnow()
    _move_status(session, transfer, "draft", "in_transit", sent_at=now, sent_by=actor.user_id)
    lines = _lines(session, transfer.id)
    costs = _costs(session, transfer.from_store_id, [x.product_id for x in lines])
    for line in lines:
        line.unit_cost_milli = costs.get(line.product_id)
    session.flush()
    conn = session.connection()
    inventory.record_movements(
        conn, store_id=transfer.from_store_id, kind="transfer_out", at=now,
        user_id=actor.user_id, ref_type="transfer", ref_id=transfer.id,
        movements=[inventory.Movement(x.product_id, -x.quantity) for x in lines],
    )  # fmt: skip
    # Read after the levels moved: the rows are locked by our update, so this is exact even
    # when a sale of the same products commits at the same moment.
    warnings = below_zero(session, transfer.from_store_id, [x.product_id for x in lines])
    if warnings and negative_stock == "block":
        sent = {x.product_id: x.quantity for x in lines}
        items = [
            {"product_id": w.product_id, "name": w.name, "on_hand": w.on_hand + sent[w.product_id],
             "requested": sent[w.product_id]}
            for w in warnings
        ]  # fmt: skip
        raise ValidationFailed(
            "Not enough stock to send (on hand in brackets): {products}.",
            code="stock.insufficient",
            details={
                "products": ", ".join(f"{x['name']} ({x['on_hand']})" for x in items),
                "items": items,
            },
        )
    audit.record(
        session, actor=actor, action="transfer.send", entity="transfer", entity_id=transfer.id,
        store_id=transfer.from_store_id,
        after={"number": transfer.number, "to_store_id": transfer.to_store_id,
               "lines": [{"product_id": x.product_id, "quantity": x.quantity} for x in lines]},
    )  # fmt: skip
    view = detail(session, transfer_id=transfer.id, actor=actor)
    view.stock_warnings = warnings
    return view


def receive(
    session: Session, *, transfer_id: int, data: TransferReceive, actor: Principal
) -> TransferPublic:
    """In transit → received, with what was counted; the goods arrive at the destination."""
    actor.require(PERMISSION)
    transfer = _visible(session, transfer_id, actor)
    actor.require_store(transfer.to_store_id)
    lines = _lines(session, transfer.id)
    counted = _counted(lines, data)
    now = utcnow()
    _move_status(
        session, transfer, "in_transit", "received", received_at=now, received_by=actor.user_id
    )
    for line in lines:
        line.received = counted[line.product_id]
    session.flush()
    arrived = [(x.product_id, counted[x.product_id]) for x in lines if counted[x.product_id] > 0]
    _carry_costs(session, transfer, arrived)
    inventory.record_movements(
        session.connection(), store_id=transfer.to_store_id, kind="transfer_in", at=now,
        user_id=actor.user_id, ref_type="transfer", ref_id=transfer.id,
        movements=[inventory.Movement(x.product_id, counted[x.product_id])
                   for x in lines if counted[x.product_id] > 0],
    )  # fmt: skip
    short = [
        {"product_id": x.product_id, "sent": x.quantity, "received": counted[x.product_id],
         "shortfall": x.quantity - counted[x.product_id]}
        for x in lines
        if counted[x.product_id] < x.quantity
    ]  # fmt: skip
    audit.record(
        session, actor=actor, action="transfer.receive", entity="transfer",
        entity_id=transfer.id, store_id=transfer.to_store_id,
        after={"number": transfer.number, "from_store_id": transfer.from_store_id,
               "received": {str(k): v for k, v in counted.items()}, "shortfall": short},
    )  # fmt: skip
    return detail(session, transfer_id=transfer.id, actor=actor)


def _carry_costs(session: Session, transfer: Transfer, arrived: list[tuple[int, int]]) -> None:
    """What arrives goes into the destination's moving-average cost at the cost it was sent
    at (recorded on the line when sent). A product the sender had no cost for leaves the
    destination's average as it is. The sender's own average does not change: goods leave it
    at its average."""
    sent_at = {x.product_id: x.unit_cost_milli for x in _lines(session, transfer.id)}
    receiving.update_costs(
        session, store_id=transfer.to_store_id,
        lines=[receiving.CostLine(pid, qty, cost) for pid, qty in arrived
               if (cost := sent_at.get(pid)) is not None],
    )  # fmt: skip


def _costs(session: Session, store_id: int, product_ids: list[int]) -> dict[int, int]:
    query = select(StockCost.product_id, StockCost.unit_cost_milli).where(
        StockCost.store_id == store_id, StockCost.product_id.in_(product_ids)
    )
    return {row[0]: row[1] for row in session.execute(query)}


def _counted(lines: Sequence[TransferLine], data: TransferReceive) -> dict[int, int]:
    counted = {x.product_id: x.quantity for x in lines}
    given = [x.product_id for x in data.lines]
    if len(set(given)) != len(given):
        raise ValidationFailed(
            "Each product may appear once on a transfer.", code="transfer.duplicate_product"
        )
    for line in data.lines:
        if line.product_id not in counted:
            raise ValidationFailed(
                "Product {product_id} is not on this transfer.",
                code="transfer.product_not_on_transfer",
                details={"product_id": line.product_id},
            )
        if line.received < 0:
            raise ValidationFailed(
                "A received quantity cannot be negative.", code="transfer.quantity_invalid",
                details={"product_ids": [line.product_id]},
            )  # fmt: skip
        if line.received > counted[line.product_id]:
            raise ValidationFailed(
                "More was counted than was sent for product {product_id}; "
                "receive what was sent and adjust the rest.",
                code="transfer.over_receipt",
                details={"product_id": line.product_id, "sent": counted[line.product_id]},
            )
    counted.update({x.product_id: x.received for x in data.lines})
    return counted


def cancel(session: Session, *, transfer_id: int, actor: Principal) -> TransferPublic:
    """A draft is dropped; goods in transit go back on the sender's shelf."""
    transfer = _for_sender(session, transfer_id, actor)
    before = transfer.status
    if before not in ("draft", "in_transit"):
        raise _wrong_state(transfer.status)
    _move_status(session, transfer, before, "cancelled")
    if before == "in_transit":
        lines = _lines(session, transfer.id)
        inventory.record_movements(
            session.connection(), store_id=transfer.from_store_id, kind="transfer_in",
            at=utcnow(), user_id=actor.user_id, ref_type="transfer", ref_id=transfer.id,
            reason="cancelled",
            movements=[inventory.Movement(x.product_id, x.quantity) for x in lines],
        )  # fmt: skip
    audit.record(
        session, actor=actor, action="transfer.cancel", entity="transfer", entity_id=transfer.id,
        store_id=transfer.from_store_id, before={"status": before},
        after={"number": transfer.number, "status": "cancelled"},
    )  # fmt: skip
    return detail(session, transfer_id=transfer.id, actor=actor)


def _for_sender(session: Session, transfer_id: int, actor: Principal) -> Transfer:
    actor.require(PERMISSION)
    transfer = _visible(session, transfer_id, actor)
    actor.require_store(transfer.from_store_id)
    return transfer


def _move_status(
    session: Session, transfer: Transfer, before: str, after: str, **values: Any
) -> None:
    states.move_status(session, transfer, before, after, _wrong_state, **values)


def _wrong_state(status: str) -> Conflict:
    messages = {
        "draft": "This transfer has not been sent yet.",
        "in_transit": "This transfer was already sent.",
        "received": "This transfer was already received.",
        "cancelled": "This transfer was cancelled.",
    }
    return Conflict(messages.get(status, "This transfer cannot do that now."),
                    code=f"transfer.{status}")  # fmt: skip


def below_zero(session: Session, store_id: int, product_ids: Collection[int]) -> list[StockWarning]:
    rows = session.execute(
        select(StockLevel.product_id, Product.name, StockLevel.on_hand)
        .join(Product, Product.id == StockLevel.product_id)
        .where(
            StockLevel.store_id == store_id,
            StockLevel.product_id.in_(list(product_ids)),
            StockLevel.on_hand < 0,
        )
        .order_by(StockLevel.product_id)
    )
    return [StockWarning(product_id=r[0], name=r[1], on_hand=r[2]) for r in rows]


# --- read -----------------------------------------------------------------------------------


def _visible(session: Session, transfer_id: int, actor: Principal) -> Transfer:
    transfer = session.get(Transfer, transfer_id)
    # Transfers between two other stores are reported as missing.
    if transfer is None or (
        actor.store_id is not None
        and actor.store_id not in (transfer.from_store_id, transfer.to_store_id)
    ):
        raise NotFound("No such transfer.", code="transfer.not_found")
    return transfer


def _lines(session: Session, transfer_id: int) -> list[TransferLine]:
    query = select(TransferLine).where(TransferLine.transfer_id == transfer_id)
    return list(session.scalars(query.order_by(TransferLine.id)))


def detail(session: Session, *, transfer_id: int, actor: Principal) -> TransferPublic:
    actor.require(PERMISSION)
    transfer = _visible(session, transfer_id, actor)
    names = _store_names(session, [transfer.from_store_id, transfer.to_store_id])
    rows = session.execute(
        select(TransferLine, Product.sku, Product.name)
        .join(Product, Product.id == TransferLine.product_id)
        .where(TransferLine.transfer_id == transfer.id)
        .order_by(TransferLine.id)
    ).all()
    lines = [
        TransferLinePublic(
            product_id=line.product_id, sku=sku, name=name, quantity=line.quantity,
            received=line.received,
            shortfall=0 if line.received is None else line.quantity - line.received,
        )
        for line, sku, name in rows
    ]  # fmt: skip
    return TransferPublic(
        id=transfer.id, client_uuid=transfer.client_uuid, number=transfer.number,
        from_store_id=transfer.from_store_id, from_store_name=names[transfer.from_store_id],
        to_store_id=transfer.to_store_id, to_store_name=names[transfer.to_store_id],
        status=transfer.status, note=transfer.note, created_at=transfer.created_at,
        created_by=transfer.created_by, sent_at=transfer.sent_at, sent_by=transfer.sent_by,
        received_at=transfer.received_at, received_by=transfer.received_by, lines=lines,
        shortfall=sum(x.shortfall for x in lines),
    )  # fmt: skip


def _store_names(session: Session, ids: list[int]) -> dict[int, str]:
    rows = session.execute(select(Store.id, Store.name).where(Store.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def list_transfers(
    session: Session, *, actor: Principal, store_id: int | None = None,
    direction: str | None = None, status: str | None = None, limit: int = 50, offset: int = 0,
) -> TransferPage:  # fmt: skip
    """Newest first; a store's user sees the transfers their store sends or receives."""
    actor.require(PERMISSION)
    store = actor.scope_store(store_id)
    sender, receiver = aliased(Store), aliased(Store)
    where: list[Any] = []
    if store is not None:
        if direction == "out":
            where.append(Transfer.from_store_id == store)
        elif direction == "in":
            where.append(Transfer.to_store_id == store)
        else:
            where.append(or_(Transfer.from_store_id == store, Transfer.to_store_id == store))
    if status is not None:
        where.append(Transfer.status == status)
    total = session.scalar(select(func.count()).select_from(Transfer).where(*where)) or 0
    quantity = (
        select(func.coalesce(func.sum(TransferLine.quantity), 0))
        .where(TransferLine.transfer_id == Transfer.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Transfer, sender.name, receiver.name, quantity)
        .join(sender, sender.id == Transfer.from_store_id)
        .join(receiver, receiver.id == Transfer.to_store_id)
        .where(*where)
        .order_by(Transfer.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        TransferSummary(
            id=t.id, number=t.number, from_store_id=t.from_store_id, from_store_name=from_name,
            to_store_id=t.to_store_id, to_store_name=to_name, status=t.status,
            created_at=t.created_at, sent_at=t.sent_at, received_at=t.received_at,
            quantity=int(qty),
        )
        for t, from_name, to_name, qty in rows
    ]  # fmt: skip
    return TransferPage(items=items, total=total, limit=limit, offset=offset)
