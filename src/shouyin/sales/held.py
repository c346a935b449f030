"""Held carts (挂单): park a till's cart while the customer steps away, recall it later.

A parked cart is the till's quote request, checked and priced when it is parked; it is
recalled once, by any till of the same store, and priced again then (prices, coupons and
points may have changed meanwhile). Each till holds at most `held_cart_limit` carts.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.models import User
from shouyin.auth.principal import Principal
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.sales import service as sales
from shouyin.sales.held_models import HeldCart
from shouyin.sales.schemas import QuoteRequest
from shouyin.shared.clock import utcnow
from shouyin.shared.types import table_of
from shouyin.stores import service as stores

ID_MAX = 2**31 - 1
# pg_advisory_xact_lock(class, register): parks on one till are serialised so two at once
# can never both take the last free place.
LOCK_CLASS = 0x4844  # "HD"


class HeldCartCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    store_id: int = Field(ge=1, le=ID_MAX, strict=True)
    register_id: int = Field(ge=1, le=ID_MAX, strict=True)
    label: str | None = Field(
        default=None, max_length=60, description="Who is it for, e.g. 红衣女士"
    )
    cart: QuoteRequest


class HeldCartPublic(BaseModel):
    id: int
    store_id: int
    register_id: int
    user_id: int
    user_name: str
    label: str | None
    item_count: int
    total_hint: int = Field(description="Fen, when parked; the recalled cart is priced again")
    created_at: datetime


class HeldCartPage(BaseModel):
    items: list[HeldCartPublic]
    total: int
    limit: int
    offset: int


class HeldCartRecalled(HeldCartPublic):
    cart: QuoteRequest


def _not_found() -> NotFound:
    return NotFound(
        "This parked cart does not exist or was already recalled.", code="held.not_found"
    )


def _check_register(session: Session, *, store_id: int, register_id: int) -> None:
    register = stores.get_register(session, register_id=register_id)
    if register.store_id != store_id or not register.active:
        raise NotFound("No such register.", code="register.not_found")


def _lock_register(session: Session, register_id: int) -> None:
    # SQLite writers are already one at a time (db.write); PostgreSQL needs the lock.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:c, :r)"), {"c": LOCK_CLASS, "r": register_id}
        )


def _item_count(priced_lines: list[tuple[bool, int]]) -> int:
    # As the till counts: a weighed line is one item, others count their pieces.
    return sum(1 if weighed else max(quantity, 0) for weighed, quantity in priced_lines)


def park(session: Session, *, data: HeldCartCreate, actor: Principal, limit: int) -> HeldCartPublic:
    """Check and price the cart as a quote would, then keep it for this till."""
    actor.require("sales.sell")
    actor.require_store(data.store_id)
    if data.cart.store_id != data.store_id:
        raise ValidationFailed(
            "The cart is for another store than the till.", code="held.store_mismatch"
        )
    if not data.cart.lines:
        raise Conflict("There is nothing in the cart to park.", code="held.empty")
    _check_register(session, store_id=data.store_id, register_id=data.register_id)
    priced = sales.quote(session, data=data.cart, actor=actor)
    _lock_register(session, data.register_id)
    held = session.scalar(
        select(func.count()).select_from(HeldCart).where(HeldCart.register_id == data.register_id)
    )
    if (held or 0) >= limit:
        raise Conflict(
            "This till already holds {limit} parked carts: recall or delete one first.",
            code="held.limit",
            details={"limit": limit},
        )
    label = (data.label or "").strip() or None
    row = HeldCart(
        store_id=data.store_id, register_id=data.register_id, user_id=actor.user_id,
        label=label, cart=data.cart.model_dump(mode="json"), created_at=utcnow(),
        item_count=_item_count([(line.weighed, line.quantity) for line in priced.lines]),
        total_hint=priced.total,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return _public(row, actor.display_name)


def _public(row: HeldCart, user_name: str) -> HeldCartPublic:
    return HeldCartPublic(
        id=row.id, store_id=row.store_id, register_id=row.register_id, user_id=row.user_id,
        user_name=user_name, label=row.label, item_count=row.item_count,
        total_hint=row.total_hint, created_at=row.created_at,
    )  # fmt: skip


def list_held(
    session: Session,
    *,
    actor: Principal,
    store_id: int | None,
    register_id: int | None,
    limit: int,
    offset: int,
) -> HeldCartPage:
    """Parked carts, newest first: of one till, or of a store (own store for store staff)."""
    scope = actor.scope_store(store_id)
    query = select(HeldCart, User.display_name).join(User, User.id == HeldCart.user_id)
    if register_id is not None:
        register = stores.get_register(session, register_id=register_id)
        if scope is not None and register.store_id != scope:
            raise NotFound("No such register.", code="register.not_found")
        query = query.where(HeldCart.register_id == register_id)
    if scope is not None:
        query = query.where(HeldCart.store_id == scope)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(HeldCart.created_at.desc(), HeldCart.id.desc()).limit(limit).offset(offset)
    ).all()
    items = [_public(row, name) for row, name in rows]
    return HeldCartPage(items=items, total=total, limit=limit, offset=offset)


def _take(session: Session, *, held_id: int, actor: Principal) -> tuple[HeldCart, str]:
    """Delete the row and hand back what it held: of two tills racing, one gets it."""
    table = table_of(HeldCart)
    statement = delete(table).where(table.c.id == held_id)
    if actor.store_id is not None:
        statement = statement.where(table.c.store_id == actor.store_id)
    found = session.execute(statement.returning(*table.c)).first()
    if found is None:
        raise _not_found()
    row = HeldCart(**found._asdict())
    name = session.scalar(select(User.display_name).where(User.id == row.user_id)) or ""
    return row, name


def recall(session: Session, *, held_id: int, actor: Principal) -> HeldCartRecalled:
    actor.require("sales.sell")
    row, name = _take(session, held_id=held_id, actor=actor)
    cart = QuoteRequest.model_validate(row.cart)
    return HeldCartRecalled(**_public(row, name).model_dump(), cart=cart)


def delete_held(session: Session, *, held_id: int, actor: Principal) -> None:
    """A parked cart the customer never came back for; written to the audit log like a void."""
    actor.require("sales.sell")
    row, _name = _take(session, held_id=held_id, actor=actor)
    audit.record(
        session, actor=actor, action="held.delete", entity="held_cart", entity_id=row.id,
        before={"register_id": row.register_id, "label": row.label, "item_count": row.item_count,
                "total_hint": row.total_hint, "lines": row.cart.get("lines", [])},
        store_id=row.store_id,
    )  # fmt: skip
