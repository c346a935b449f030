"""Read-only order history for the back office: the filtered list and one order in full."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from shouyin.auth.models import User
from shouyin.errors import NotFound
from shouyin.sales.models import Order, OrderLine, Payment
from shouyin.stores.models import Register, Store

AnySelect = TypeVar("AnySelect", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class OrderRow:
    id: int
    number: str
    store_id: int
    store_name: str
    timezone: str  # the store's, to show the time as the shop saw it
    cashier_id: int
    cashier_name: str
    business_date: date
    created_at: datetime
    status: str
    item_count: int
    total: int
    methods: tuple[str, ...]  # payment methods used, in the order they were paid


@dataclass(frozen=True)
class OrderDetail:
    order: Order
    lines: list[OrderLine]
    payments: list[Payment]
    store: Store
    cashier_name: str
    register_name: str | None


@dataclass(frozen=True)
class OrderFilter:
    store_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    number: str | None = None
    cashier_id: int | None = None

    def apply(self, query: AnySelect) -> AnySelect:
        if self.store_id is not None:
            query = query.where(Order.store_id == self.store_id)
        if self.date_from is not None:
            query = query.where(Order.business_date >= self.date_from)
        if self.date_to is not None:
            query = query.where(Order.business_date <= self.date_to)
        if self.number and self.number.strip():
            # Staff type part of a number (the tail on a receipt); LIKE wildcards are literal.
            query = query.where(Order.number.contains(self.number.strip(), autoescape=True))
        if self.cashier_id is not None:
            query = query.where(Order.cashier_id == self.cashier_id)
        return query


def _methods(session: Session, order_ids: list[int]) -> dict[int, tuple[str, ...]]:
    if not order_ids:
        return {}
    rows = session.execute(
        select(Payment.order_id, Payment.method)
        .where(Payment.order_id.in_(order_ids))
        .order_by(Payment.order_id, Payment.id)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for order_id, method in rows:
        if method not in found[order_id]:
            found[order_id].append(method)
    return {order_id: tuple(methods) for order_id, methods in found.items()}


def list_orders(
    session: Session,
    *,
    store_id: int | None,
    date_from: date | None,
    date_to: date | None,
    number: str | None,
    cashier_id: int | None,
    limit: int,
    offset: int,
) -> tuple[list[OrderRow], int]:
    """One page of orders, newest first, and how many match in all (three queries)."""
    where = OrderFilter(
        store_id=store_id, date_from=date_from, date_to=date_to, number=number,
        cashier_id=cashier_id,
    )  # fmt: skip
    total = session.scalar(where.apply(select(func.count(Order.id)))) or 0
    query = (
        select(Order, Store.name, Store.timezone, User.display_name)
        .join(Store, Store.id == Order.store_id)
        .join(User, User.id == Order.cashier_id)
    )
    query = where.apply(query).order_by(Order.created_at.desc(), Order.id.desc())
    found = session.execute(query.limit(limit).offset(offset)).all()
    methods = _methods(session, [order.id for order, *_ in found])
    rows = [
        OrderRow(
            id=order.id, number=order.number, store_id=order.store_id, store_name=store_name,
            timezone=timezone, cashier_id=order.cashier_id, cashier_name=cashier_name,
            business_date=order.business_date, created_at=order.created_at, status=order.status,
            item_count=order.item_count, total=order.total, methods=methods.get(order.id, ()),
        )
        for order, store_name, timezone, cashier_name in found
    ]  # fmt: skip
    return rows, total


def order_detail(session: Session, *, order_id: int, store_id: int | None = None) -> OrderDetail:
    """An order with everything needed to explain it. With ``store_id``, only that store's:
    another store's order is reported missing, as its existence is not the asker's business."""
    row = session.execute(
        select(Order, Store, User.display_name, Register.name)
        .join(Store, Store.id == Order.store_id)
        .join(User, User.id == Order.cashier_id)
        .outerjoin(Register, Register.id == Order.register_id)
        .where(Order.id == order_id)
    ).first()
    if row is None or store_id not in (None, row[0].store_id):
        raise NotFound("No such order.", code="order.not_found")
    order, store, cashier_name, register_name = row
    lines = session.scalars(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
    ).all()
    payments = session.scalars(
        select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
    ).all()
    return OrderDetail(
        order=order, lines=list(lines), payments=list(payments), store=store,
        cashier_name=cashier_name, register_name=register_name,
    )  # fmt: skip
