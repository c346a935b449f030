"""Checkout: fetch what pricing needs, price in pure code, write the order in a few statements.

The hot path avoids per-row ORM flushes: one query for the store, one for the products, then
one statement per table (order counter, order, lines, payments, stock movements, levels).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.customers import service as members
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.inventory import service as inventory
from shouyin.inventory.models import StockLevel
from shouyin.loyalty import catalogue as loyalty_catalogue
from shouyin.loyalty import checkout as loyalty
from shouyin.sales import orders as order_views
from shouyin.sales import payment_codes, shifts, statements
from shouyin.sales.models import Order
from shouyin.sales.numbering import order_number
from shouyin.sales.offers import Offers
from shouyin.sales.pricing import (
    Cart,
    CartLine,
    Discount,
    PricedCart,
    PricedLine,
    Step,
    price_cart,
)
from shouyin.sales.schemas import (
    DiscountIn,
    OrderCreate,
    OrderPublic,
    QuoteRequest,
    StockWarningPublic,
    VoidIn,
)
from shouyin.sales.tender import CODE_METHODS, Settlement, Tender, settle
from shouyin.shared.clock import business_date, to_local, utcnow


class DuplicateSubmission(Exception):
    """Another request stored this client UUID first; the caller returns that order."""


@dataclass(frozen=True)
class StoreContext:
    id: int
    code: str
    timezone: str
    cutoff: int
    rounding: str
    register_ok: bool
    shift_id: int | None  # the register's open shift


def _store_context(session: Session, *, store_id: int, register_id: int | None) -> StoreContext:
    params = {"store_id": store_id, "register_id": register_id or 0}
    row = session.connection().execute(statements.STORE_CONTEXT, params).first()
    if row is None or not row[5]:
        raise NotFound("No such store.", code="store.not_found")
    return StoreContext(row[0], row[1], row[2], row[3], row[4], row[6] is not None, row[7])


def _discount(value: DiscountIn | None) -> Discount | None:
    return Discount(value.kind, value.value) if value else None


def _check_rights(actor: Principal, data: QuoteRequest) -> None:
    actor.require("sales.sell")
    actor.require_store(data.store_id)
    if data.order_discount or any(line.discount for line in data.lines):
        actor.require("sales.discount")
    if any(line.price_override is not None for line in data.lines):
        actor.require("sales.price_override")


def _build_cart(session: Session, data: QuoteRequest, rounding: str, sale_offers: Offers) -> Cart:
    products = catalog.products_for_sale(session, product_ids={x.product_id for x in data.lines})
    lines = []
    for index, line in enumerate(data.lines):
        product = products.get(line.product_id)
        if product is None or not product.active:
            raise NotFound(
                "Product {product_id} is unknown or no longer sold.",
                code="catalog.product_unknown",
                details={"product_id": line.product_id, "index": index},
            )
        lines.append(
            CartLine(
                product_id=product.id, name=product.name, unit_price=product.price,
                quantity=line.quantity, weighed=product.weighed,
                price_override=line.price_override, discount=_discount(line.discount),
                category_id=product.category_id, member_discount=product.member_discount,
            )
        )  # fmt: skip
    return Cart(tuple(lines), _discount(data.order_discount), rounding, sale_offers)  # type: ignore[arg-type]


def _prepare(
    session: Session, data: QuoteRequest, store: StoreContext, now: datetime
) -> tuple[loyalty_catalogue.Catalogue, loyalty.Prepared]:
    """The offers this sale may use: the member's tier, running promotions, coupons, points."""
    if data.member_id is not None:
        members.ensure_active(session, member_id=data.member_id)
    catalogue = loyalty_catalogue.current(session)
    prepared = loyalty.prepare(
        session, catalogue=catalogue, member_id=data.member_id, coupon_codes=data.coupon_codes,
        points=data.points, store_id=store.id, now=now, local=to_local(now, store.timezone),
    )  # fmt: skip
    return catalogue, prepared


def sale_cart(
    session: Session, *, data: QuoteRequest, actor: Principal, now: datetime
) -> tuple[loyalty_catalogue.Catalogue, loyalty.Prepared, Cart]:
    """The cart as pricing sees it, with every offer this sale may use (reads only)."""
    _check_rights(actor, data)
    store = _store_context(session, store_id=data.store_id, register_id=None)
    catalogue, prepared = _prepare(session, data, store, now)
    return catalogue, prepared, _build_cart(session, data, store.rounding, prepared.offers)


def quote(session: Session, *, data: QuoteRequest, actor: Principal) -> PricedCart:
    _, _, cart = sale_cart(session, data=data, actor=actor, now=utcnow())
    priced = price_cart(cart)
    _check_size(priced)
    return priced


# Orders are stored as int4 fen on PostgreSQL: far above any real basket, far below overflow.
MAX_ORDER_FEN = 1_000_000_000


def request_hash(data: OrderCreate) -> str:
    """A fingerprint of what was asked, to tell a retry from a different sale."""
    return hashlib.sha256(data.model_dump_json().encode()).hexdigest()


def retried_order(session: Session, *, data: OrderCreate) -> int | None:
    """The order an earlier submission with this UUID made, if the same sale was sent."""
    row = (
        session.connection()
        .execute(statements.ORDER_BY_UUID, {"uuid": str(data.client_uuid)})
        .first()
    )
    if row is None:
        return None
    if row[1] is not None and row[1] != request_hash(data):
        raise Conflict(
            "This sale's number was already used for a different sale. Start a new sale.",
            code="order.uuid_reused",
        )
    return int(row[0])


def _check_size(priced: PricedCart) -> None:
    if priced.subtotal > MAX_ORDER_FEN:
        raise ValidationFailed(
            "An order may come to at most {limit} yuan before discounts.",
            code="cart.too_large",
            details={"limit": MAX_ORDER_FEN // 100},
        )


def checkout(
    session: Session, *, data: OrderCreate, actor: Principal, discount_audit_percent: int,
    negative_stock: str = "warn",
) -> tuple[OrderPublic, bool]:  # fmt: skip
    """Returns the order and whether it was created now (False: a retry of an earlier one).

    `negative_stock` "block" refuses a sale that takes a product below zero in the store;
    "warn" lets it through and lists those products in the answer's `stock_warnings`.
    """
    _check_rights(actor, data)
    found = retried_order(session, data=data)
    if found is not None:
        return order_views.load(session, order_id=found, actor=actor), False
    store = _store_context(session, store_id=data.store_id, register_id=data.register_id)
    if data.register_id is not None and not store.register_ok:
        raise ValidationFailed("The register is not in this store.", code="register.not_in_store")
    conn = session.connection()
    shift_id = shifts.require_open(conn, store.shift_id, register_id=data.register_id)
    now = utcnow()
    catalogue, prepared = _prepare(session, data, store, now)
    priced = price_cart(_build_cart(session, data, store.rounding, prepared.offers))
    _check_size(priced)
    settlement = settle(
        priced.total, [Tender(p.method, p.amount, p.reference) for p in data.payments]
    )
    stored_value = sum(t.amount for t in settlement.tenders if t.method == "stored_value")
    if stored_value and data.member_id is None:
        raise ValidationFailed(
            "Stored value can only pay with a member attached.",
            code="stored_value.member_required",
        )
    day = business_date(now, store.timezone, store.cutoff)
    seq = conn.execute(statements.upsert(conn, "next_seq"), {"store_id": store.id, "day": day})
    number = order_number(store.code, day, seq.scalar_one())
    order_id = _insert_order(
        conn, data=data, actor=actor, priced=priced, settlement=settlement,
        number=number, day=day, now=now, shift_id=shift_id,
    )  # fmt: skip
    line_ids = _insert_lines(conn, order_id, priced)
    _insert_payments(conn, order_id, settlement)
    _claim_payment_codes(conn, store.id, order_id, settlement)
    inventory.record_movements(
        conn, store_id=store.id, kind="sale", at=now, user_id=actor.user_id, ref_type="order",
        ref_id=order_id,
        movements=[inventory.Movement(x.product_id, -x.quantity) for x in priced.lines],
    )  # fmt: skip
    warnings = _stock_warnings(conn, store.id, priced, block=negative_stock == "block")
    sale_loyalty = loyalty.record(
        session, prepared=prepared, catalogue=catalogue, total=priced.total,
        points_used=priced.points_used, stored_value=stored_value, order_id=order_id,
        store_id=store.id, user_id=actor.user_id, now=now, day=day,
    )  # fmt: skip
    _audit_discounts(session, actor, order_id, number, priced, discount_audit_percent)
    view = order_views.from_priced(
        order_id=order_id, line_ids=line_ids, data=data, actor=actor, number=number, day=day,
        now=now, priced=priced, settlement=settlement, loyalty=sale_loyalty,
    )  # fmt: skip
    view.stock_warnings = warnings
    return view, True


# Levels read back after this sale moved them. The UPDATE locked the rows, so on PostgreSQL the
# values include every sale committed before ours and none can slip in until we commit: the
# check is exact under concurrency, and costs one statement.
_NEGATIVE_LEVELS = (
    select(StockLevel.product_id, StockLevel.on_hand)
    .where(
        StockLevel.store_id == bindparam("store_id"),
        StockLevel.product_id.in_(bindparam("product_ids", expanding=True)),
        StockLevel.on_hand < 0,
    )
    .order_by(StockLevel.product_id)
)


def _stock_warnings(
    conn: Connection, store_id: int, priced: PricedCart, *, block: bool
) -> list[StockWarningPublic]:
    names = {x.product_id: x.name for x in priced.lines}
    rows = conn.execute(_NEGATIVE_LEVELS, {"store_id": store_id, "product_ids": list(names)})
    warnings = [StockWarningPublic(product_id=p, name=names[p], on_hand=n) for p, n in rows]
    if warnings and block:
        # Raising rolls the whole order back: nothing of this sale is written.
        raise ValidationFailed(
            "Not enough stock (on hand in brackets): {products}.",
            code="stock.insufficient",
            details={
                "products": ", ".join(f"{w.name} ({w.on_hand + _sold(priced, w.product_id)})"
                                      for w in warnings),
                "items": [
                    {"product_id": w.product_id, "name": w.name,
                     "on_hand": w.on_hand + _sold(priced, w.product_id),
                     "requested": _sold(priced, w.product_id)}
                    for w in warnings
                ],
            },
        )  # fmt: skip
    return warnings


def _sold(priced: PricedCart, product_id: int) -> int:
    return sum(x.quantity for x in priced.lines if x.product_id == product_id)


def _insert_order(
    conn: Connection, *, data: OrderCreate, actor: Principal, priced: PricedCart,
    settlement: Settlement, number: str, day: object, now: datetime, shift_id: int | None,
) -> int:  # fmt: skip
    values = {
        "client_uuid": str(data.client_uuid), "number": number, "store_id": data.store_id,
        "register_id": data.register_id, "shift_id": shift_id, "cashier_id": actor.user_id,
        "member_id": data.member_id, "request_hash": request_hash(data), "business_date": day,
        "created_at": now, "status": "completed", "subtotal": priced.subtotal,
        "discount_total": priced.discount_total, "total": priced.total,
        "paid": settlement.paid, "change": settlement.change,
        "item_count": sum(1 if x.weighed else x.quantity for x in priced.lines),
        "steps": [_step_row(s) for s in priced.steps],
    }  # fmt: skip
    order_id = conn.execute(statements.upsert(conn, "new_order"), values).scalar()
    if order_id is None:
        raise DuplicateSubmission(str(data.client_uuid))
    return int(order_id)


def _step_row(step: Step) -> dict[str, object]:
    row: dict[str, object] = {"kind": step.kind, "amount": step.amount}
    if step.label:
        row["label"] = step.label
    if step.ref:
        row["ref"] = step.ref
    return row


def line_row(order_id: int, x: PricedLine) -> dict[str, object]:
    """An order line as stored: every pricing step of the line, so a refund can undo it."""
    return {
        "order_id": order_id, "line_no": x.index + 1, "product_id": x.product_id,
        "name": x.name, "quantity": x.quantity, "weighed": int(x.weighed),
        "list_price": x.list_price, "unit_price": x.unit_price, "list_amount": x.list_amount,
        "override_amount": x.override_amount, "line_discount": x.line_discount,
        "order_discount": x.order_discount, "rounding": x.rounding, "net": x.net,
        "item_promotion": x.item_promotion, "tier_discount": x.tier_discount,
        "order_promotion": x.order_promotion, "coupon": x.coupon, "points": x.points,
    }  # fmt: skip


def _insert_lines(conn: Connection, order_id: int, priced: PricedCart) -> list[int]:
    rows = [line_row(order_id, x) for x in priced.lines]
    ids = {line_no: line_id for line_id, line_no in conn.execute(statements.INSERT_LINES, rows)}
    return [ids[x.index + 1] for x in priced.lines]


def _insert_payments(conn: Connection, order_id: int, settlement: Settlement) -> None:
    rows = [
        {"order_id": order_id, "method": t.method, "amount": t.amount, "tendered": t.tendered,
         "change": t.change, "reference": t.reference}
        for t in settlement.tenders
    ]  # fmt: skip
    if rows:
        conn.execute(statements.INSERT_PAYMENTS, rows)


def _claim_payment_codes(
    conn: Connection, store_id: int, order_id: int, settlement: Settlement
) -> None:
    """A WeChat/Alipay tender pays with a charged payment code, which can pay one order only."""
    codes = [
        payment_codes.CodeTender(t.method, t.amount, t.reference)
        for t in settlement.tenders
        if t.method in CODE_METHODS
    ]
    if codes:
        payment_codes.claim_for_order(conn, store_id=store_id, order_id=order_id, tenders=codes)


def _audit_discounts(
    session: Session, actor: Principal, order_id: int, number: str, priced: PricedCart,
    limit_percent: int,
) -> None:  # fmt: skip
    overrides = [x for x in priced.lines if x.unit_price != x.list_price]
    for line in overrides:
        audit.record(
            session, actor=actor, action="sale.price_override", entity="order",
            entity_id=order_id, before={"price": line.list_price, "product_id": line.product_id},
            after={"price": line.unit_price, "order": number, "line": line.index + 1},
        )  # fmt: skip
    given = sum(x.line_discount + x.order_discount for x in priced.lines)
    if given > 0 and given * 100 > priced.subtotal * limit_percent:
        audit.record(
            session, actor=actor, action="sale.discount", entity="order", entity_id=order_id,
            after={"order": number, "subtotal": priced.subtotal, "discount": given,
                   "limit_percent": limit_percent},
        )  # fmt: skip


def record_void(session: Session, *, data: VoidIn, actor: Principal) -> int:
    """Voids happen in the till's cart before an order exists; the log keeps them visible."""
    actor.require("sales.sell")
    actor.require_store(data.store_id)
    entry = audit.record(
        session, actor=actor, store_id=data.store_id,
        action="sale.void_cart" if data.whole_cart else "sale.void_line",
        entity="register", entity_id=data.register_id,
        before={"lines": [line.model_dump() for line in data.lines],
                "amount": sum(line.amount for line in data.lines)},
    )  # fmt: skip
    return entry.id


def reassign_member(session: Session, *, from_member: int, to_member: int) -> list[int]:
    """Move a member's orders to another member (a merge); returns the order ids moved."""
    ids = list(session.scalars(select(Order.id).where(Order.member_id == from_member)))
    if ids:
        session.execute(update(Order).where(Order.id.in_(ids)).values(member_id=to_member))
    return ids
