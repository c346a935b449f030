"""Returns without a receipt (无小票退货): goods back, cash out, a manager's approval always.

There is no order to take the refund from, so the price is the product's current price (or
less, as the manager agrees with the customer), the refund is cash only, and the member's
balances are not touched. The return is numbered per store and business day
(``{store code}-{yyyymmdd}-NR{n}``), restocks what came back, records the register's shift
and is audited with the approver. A retry with the same client UUID returns the first return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog.models import Product
from shouyin.errors import ValidationFailed
from shouyin.inventory import service as inventory
from shouyin.sales import return_views
from shouyin.sales.return_models import ReturnLine, ReturnOrder, ReturnPayment
from shouyin.sales.return_schemas import NoReceiptCreate, NoReceiptLineIn, ReturnPublic
from shouyin.sales.returns import APPROVE, check_approval, request_hash, retried, till_context
from shouyin.shared.clock import business_date, utcnow
from shouyin.shared.money import round_div
from shouyin.shared.types import table_of
from shouyin.stores.models import Store

_returns = table_of(ReturnOrder)


@dataclass(frozen=True)
class Refunded:
    product_id: int
    quantity: int
    refund: int


def create(
    session: Session, *, data: NoReceiptCreate, actor: Principal
) -> tuple[ReturnPublic, bool]:
    """Returns the return and whether it was made now (False: a retry of an earlier one)."""
    actor.require("sales.sell")
    actor.require_store(data.store_id)
    found = retried(session, data=data)
    if found is not None:
        return return_views.load(session, return_id=found, actor=actor), False
    conn = session.connection()
    store, shift_id = till_context(conn, store_id=data.store_id, register_id=data.register_id)
    lines = _work_out(conn, data.lines)
    approver = check_approval(
        session, approval=data.approval, store_id=data.store_id, needed=not actor.can(APPROVE),
        message="A return without a receipt needs a manager's approval.",
    )  # fmt: skip
    approver_id, approver_name = (
        (approver.id, approver.username) if approver else (actor.user_id, actor.username)
    )
    # One numbering at a time per store (PostgreSQL; SQLite has one writer): the lock does not
    # stop sales, whose foreign keys only share the row.
    conn.execute(select(Store.id).where(Store.id == data.store_id).with_for_update(key_share=True))
    found = retried(session, data=data)
    if found is not None:
        return return_views.load(session, return_id=found, actor=actor), False
    day = business_date(utcnow(), store.timezone, store.day_cutoff_minutes)
    return_id = _insert(
        conn, data=data, actor=actor, lines=lines, number=_number(conn, store.code, day),
        day=day, shift_id=shift_id, approver_id=approver_id,
    )  # fmt: skip
    refund = sum(x.refund for x in lines)
    audit.record(
        session, actor=actor, action="sale.return_no_receipt", entity="return",
        entity_id=return_id, store_id=data.store_id,
        after={"refund": refund, "tenders": {"cash": refund}, "reason": data.reason,
               "lines": [[x.product_id, x.quantity, x.refund] for x in lines],
               "approver_id": approver_id, "approver": approver_name},
    )  # fmt: skip
    return return_views.load(session, return_id=return_id, actor=actor), True


def _work_out(conn: Connection, asked: list[NoReceiptLineIn]) -> list[Refunded]:
    ids = [x.product_id for x in asked]
    products = {
        p.id: p
        for p in conn.execute(
            select(Product.id, Product.price, Product.weighed, Product.active).where(
                Product.id.in_(ids)
            )
        )
    }
    lines: list[Refunded] = []
    seen: set[int] = set()
    for line in asked:
        product = products.get(line.product_id)
        details = {"product_id": line.product_id}
        if product is None or not product.active:
            raise ValidationFailed(
                "Product {product_id} is unknown or no longer sold.",
                code="return.product_unknown", details=details,
            )  # fmt: skip
        if line.product_id in seen:
            raise ValidationFailed(
                "Product {product_id} is listed twice.",
                code="return.product_duplicate", details=details,
            )  # fmt: skip
        seen.add(line.product_id)
        unit = product.price if line.unit_refund is None else line.unit_refund
        if unit > product.price:
            raise ValidationFailed(
                "The refund of product {product_id} is above its price ({price} fen).",
                code="return.refund_above_price", details={**details, "price": product.price},
            )  # fmt: skip
        # Weighed goods: the quantity is grams and the price is per kg, as on order lines.
        refund = round_div(unit * line.quantity, 1000) if product.weighed else unit * line.quantity
        if refund <= 0:
            raise ValidationFailed(
                "Product {product_id} would refund nothing.",
                code="return.refund_invalid", details=details,
            )  # fmt: skip
        lines.append(Refunded(line.product_id, line.quantity, refund))
    return lines


def _number(conn: Connection, store_code: str, day: date) -> str:
    prefix = f"{store_code}-{day:%Y%m%d}-NR"
    count = conn.execute(
        select(func.count())
        .select_from(_returns)
        .where(_returns.c.number.startswith(prefix, autoescape=True))
    ).scalar_one()
    return f"{prefix}{int(count) + 1}"


def _insert(
    conn: Connection, *, data: NoReceiptCreate, actor: Principal, lines: list[Refunded],
    number: str, day: date, shift_id: int | None, approver_id: int,
) -> int:  # fmt: skip
    now = utcnow()
    refund = sum(x.refund for x in lines)
    values: dict[str, object] = {
        "client_uuid": str(data.client_uuid), "request_hash": request_hash(data),
        "number": number, "order_id": None, "store_id": data.store_id,
        "register_id": data.register_id, "shift_id": shift_id, "user_id": actor.user_id,
        "approver_id": approver_id, "member_id": None, "business_date": day,
        "created_at": now, "reason": data.reason, "refund_to": "cash", "refund": refund,
        "whole_order": 0, "points_taken": 0, "points_unrecovered": 0, "points_given": 0,
        "growth": 0, "sv_principal": 0, "sv_bonus": 0, "coupon_codes": [],
    }  # fmt: skip
    return_id = int(conn.execute(insert(_returns).returning(_returns.c.id), values).scalar_one())
    conn.execute(
        insert(table_of(ReturnLine)),
        [{"return_id": return_id, "order_line_id": None, "product_id": x.product_id,
          "quantity": x.quantity, "refund": x.refund, "points_given": 0} for x in lines],
    )  # fmt: skip
    conn.execute(
        insert(table_of(ReturnPayment)),
        [{"return_id": return_id, "method": "cash", "amount": refund, "reference": None}],
    )
    inventory.record_movements(
        conn, store_id=data.store_id, kind="return", at=now, user_id=actor.user_id,
        ref_type="return", ref_id=return_id,
        movements=[inventory.Movement(x.product_id, x.quantity) for x in lines],
    )  # fmt: skip
    return return_id
