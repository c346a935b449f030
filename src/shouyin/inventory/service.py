"""The stock ledger: every change is a movement; the level is its cached sum."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.errors import NotFound, ValidationFailed
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.schemas import AdjustmentIn
from shouyin.shared.clock import utcnow
from shouyin.shared.types import table_of
from shouyin.stores import service as stores


@dataclass(frozen=True)
class Movement:
    product_id: int
    quantity: int  # signed: a sale is negative


def record_movements(
    connection: Connection,
    *,
    store_id: int,
    movements: Sequence[Movement],
    kind: str,
    at: datetime,
    user_id: int | None,
    ref_type: str | None = None,
    ref_id: int | None = None,
    reason: str | None = None,
) -> None:
    """Append movements and move the cached levels, two statements whatever the count."""
    if not movements:
        return
    connection.execute(
        _INSERT_MOVEMENTS,
        [
            {"store_id": store_id, "product_id": m.product_id, "quantity": m.quantity,
             "kind": kind, "ref_type": ref_type, "ref_id": ref_id, "reason": reason,
             "user_id": user_id, "at": at}
            for m in movements
        ],
    )  # fmt: skip
    rows = [
        {"store_id": store_id, "product_id": product_id, "on_hand": delta}
        # A fixed order: two stores' sales never lock levels in opposite orders (deadlock).
        for product_id, delta in sorted(_merge(movements).items())
    ]
    connection.execute(_bump_levels(connection.dialect.name), rows)


# Built once: sales call these for every order.
_INSERT_MOVEMENTS = insert(table_of(StockMovement))


@cache
def _bump_levels(dialect_name: str) -> Any:
    table = table_of(StockLevel)
    stmt = (postgresql if dialect_name == "postgresql" else sqlite).insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.store_id, table.c.product_id],
        set_={"on_hand": table.c.on_hand + stmt.excluded.on_hand},
    )


def _merge(movements: Iterable[Movement]) -> dict[int, int]:
    deltas: dict[int, int] = {}
    for movement in movements:
        deltas[movement.product_id] = deltas.get(movement.product_id, 0) + movement.quantity
    return deltas


def on_hand(session: Session, *, store_id: int, product_id: int) -> int:
    value = session.scalar(
        select(StockLevel.on_hand).where(
            StockLevel.store_id == store_id, StockLevel.product_id == product_id
        )
    )
    return value or 0


def stock_card(
    session: Session, *, store_id: int, product_id: int, limit: int = 50
) -> list[StockMovement]:
    query = (
        select(StockMovement)
        .where(StockMovement.store_id == store_id, StockMovement.product_id == product_id)
        .order_by(StockMovement.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def adjust(session: Session, *, data: AdjustmentIn, actor: Principal) -> int:
    """Damage removes, adjustments go either way; each is audited. (Receipts go through
    ``receiving.receive``, which also moves the moving-average cost.)"""
    actor.require("stock.adjust")
    actor.require_store(data.store_id)
    stores.get_store(session, store_id=data.store_id)
    known = catalog.products_for_sale(session, product_ids={x.product_id for x in data.lines})
    unknown = [x.product_id for x in data.lines if x.product_id not in known]
    if unknown:
        raise NotFound(
            "Product {product_id} is unknown.",
            code="catalog.product_unknown",
            details={"product_id": unknown[0]},
        )
    if any(x.quantity == 0 for x in data.lines) or (
        data.kind != "adjustment" and any(x.quantity < 0 for x in data.lines)
    ):
        raise ValidationFailed(
            "Quantities must be above zero (adjustments may be negative).",
            code="stock.quantity_invalid",
        )
    sign = -1 if data.kind == "damage" else 1
    movements = [Movement(x.product_id, sign * x.quantity) for x in data.lines]
    record_movements(
        session.connection(), store_id=data.store_id, movements=movements, kind=data.kind,
        at=utcnow(), user_id=actor.user_id, reason=data.reason,
    )  # fmt: skip
    audit.record(
        session, actor=actor, action=f"stock.{data.kind}", entity="store", entity_id=data.store_id,
        after={"reason": data.reason, "lines": [m.__dict__ for m in movements]},
    )  # fmt: skip
    return len(movements)
