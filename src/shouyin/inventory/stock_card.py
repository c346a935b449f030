"""The stock card (进销存明细): a product's movements in a store with the balance after each.

Newest first. The balance is worked back from the cached level: the balance after a
movement is on-hand now less everything booked after it. One indexed sum (over the newer
movements of this store and product) gives the page's first balance; the rest follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.auth.models import User
from shouyin.auth.principal import Principal
from shouyin.catalog.models import Product
from shouyin.errors import NotFound
from shouyin.inventory import service as ledger
from shouyin.inventory.count_models import Stocktake
from shouyin.inventory.models import StockMovement
from shouyin.inventory.purchasing_models import GoodsReceipt, StockCost
from shouyin.inventory.purchasing_schemas import CardLine, StockCardPage
from shouyin.inventory.transfer_models import Transfer
from shouyin.sales.models import Order
from shouyin.sales.return_models import ReturnOrder
from shouyin.stores.service import get_store

# ref_type -> the table whose number names the document.
_NUMBERED: dict[str, Any] = {
    "order": Order, "return": ReturnOrder, "receipt": GoodsReceipt, "transfer": Transfer,
    "stocktake": Stocktake,
}  # fmt: skip


def _local_start(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(timezone))


def value_at_cost(on_hand: int, unit_cost_milli: int, weighed: bool) -> int:
    """Fen, rounded half up; weighed goods are grams at a cost per kg. Below zero: nothing."""
    scale = 1_000_000 if weighed else 1000
    return (max(on_hand, 0) * unit_cost_milli + scale // 2) // scale


def card(
    session: Session, *, actor: Principal, store_id: int, product_id: int,
    start: date | None = None, end: date | None = None, limit: int = 50, offset: int = 0,
) -> StockCardPage:  # fmt: skip
    """Movements from ``start`` to ``end`` (local days of the store, both included)."""
    actor.require_store(store_id)
    store = get_store(session, store_id=store_id)
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound("Product {product_id} is unknown.", code="catalog.product_unknown",
                       details={"product_id": product_id})  # fmt: skip
    where: list[Any] = [StockMovement.store_id == store_id, StockMovement.product_id == product_id]
    if start is not None:
        where.append(StockMovement.at >= _local_start(start, store.timezone))
    if end is not None:
        where.append(StockMovement.at < _local_start(end + timedelta(days=1), store.timezone))
    total = session.scalar(select(func.count()).select_from(StockMovement).where(*where)) or 0
    rows = session.execute(
        select(StockMovement, User.display_name)
        .outerjoin(User, User.id == StockMovement.user_id)
        .where(*where)
        .order_by(StockMovement.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    on_hand = ledger.on_hand(session, store_id=store_id, product_id=product_id)
    items = _with_balances(session, store_id, product_id, on_hand, rows)
    cost = session.get(StockCost, (store_id, product_id))
    milli = cost.unit_cost_milli if cost is not None else None
    return StockCardPage(
        store_id=store_id, product_id=product_id, sku=product.sku, name=product.name,
        unit=product.unit, weighed=product.weighed, on_hand=on_hand, unit_cost_milli=milli,
        value_at_cost=value_at_cost(on_hand, milli, product.weighed) if milli is not None else None,
        items=items, total=total, limit=limit, offset=offset,
    )  # fmt: skip


def _with_balances(
    session: Session, store_id: int, product_id: int, on_hand: int, rows: Sequence[Any]
) -> list[CardLine]:
    if not rows:
        return []
    newer = session.scalar(
        select(func.coalesce(func.sum(StockMovement.quantity), 0)).where(
            StockMovement.store_id == store_id,
            StockMovement.product_id == product_id,
            StockMovement.id > rows[0][0].id,
        )
    )
    balance = on_hand - int(newer or 0)
    references = _references(session, [m for m, _ in rows])
    items = []
    for movement, user in rows:
        items.append(
            CardLine(
                id=movement.id, at=movement.at, kind=movement.kind, quantity=movement.quantity,
                balance=balance, ref_type=movement.ref_type, ref_id=movement.ref_id, user=user,
                reference=references.get((movement.ref_type, movement.ref_id), movement.reason),
            )
        )  # fmt: skip
        balance -= movement.quantity
    return items


def _references(session: Session, movements: list[StockMovement]) -> dict[tuple[Any, Any], str]:
    """The numbers of the documents the page's movements came from, one query per kind."""
    wanted: dict[str, set[int]] = {}
    for m in movements:
        if m.ref_type in _NUMBERED and m.ref_id is not None:
            wanted.setdefault(m.ref_type, set()).add(m.ref_id)
    found: dict[tuple[Any, Any], str] = {}
    for ref_type, ids in wanted.items():
        model = _NUMBERED[ref_type]
        for ref_id, number in session.execute(
            select(model.id, model.number).where(model.id.in_(ids))
        ):
            found[(ref_type, ref_id)] = number
    return found
