"""Reading an order back: the REST view and the receipt."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.auth.models import User
from shouyin.auth.principal import Principal
from shouyin.errors import NotFound
from shouyin.loyalty import catalogue as loyalty_catalogue
from shouyin.loyalty.checkout import SaleLoyalty, sale_summary
from shouyin.sales.models import Order, OrderLine, Payment
from shouyin.sales.pricing import PricedCart
from shouyin.sales.receipt import ReceiptData, ReceiptLabels, ReceiptLine
from shouyin.sales.schemas import (
    OrderCreate,
    OrderLinePublic,
    OrderLoyaltyPublic,
    OrderPublic,
    PaymentPublic,
    PricedLinePublic,
    StepPublic,
)
from shouyin.sales.tender import Settlement
from shouyin.shared import i18n
from shouyin.shared.clock import to_local
from shouyin.shared.money import format_fen
from shouyin.stores.models import Register, Store

STEP_LABELS = {
    "subtotal": "Subtotal",
    "price_override": "Price changes",
    "line_discount": "Item discounts",
    "item_promotion": "Promotion",
    "tier_discount": "Member discount",
    "order_promotion": "Order promotion",
    "order_discount": "Order discount",
    "coupon": "Coupon",
    "points": "Points",
    "rounding": "Rounding",
    "total": "Total",
}
METHOD_LABELS = {
    "cash": "Cash", "card": "Bank card", "stored_value": "Stored value", "wechat": "WeChat Pay",
    "alipay": "Alipay",
}  # fmt: skip


def from_priced(
    *, order_id: int, line_ids: list[int], data: OrderCreate, actor: Principal, number: str,
    day: date, now: datetime, priced: PricedCart, settlement: Settlement,
    loyalty: SaleLoyalty | None,
) -> OrderPublic:  # fmt: skip
    """The response of a fresh checkout, built from memory without reading the rows back."""
    return OrderPublic(
        id=order_id, client_uuid=str(data.client_uuid), number=number, store_id=data.store_id,
        register_id=data.register_id, cashier_id=actor.user_id, cashier_name=actor.display_name,
        member_id=data.member_id,
        business_date=day, created_at=now, status="completed", subtotal=priced.subtotal,
        discount_total=priced.discount_total, total=priced.total, paid=settlement.paid,
        change=settlement.change,
        item_count=sum(1 if x.weighed else x.quantity for x in priced.lines),
        steps=[StepPublic(kind=s.kind, amount=s.amount, label=s.label, ref=s.ref) for s in priced.steps],
        lines=[
            OrderLinePublic(id=line_id, **PricedLinePublic.model_validate(line, from_attributes=True).model_dump())
            for line_id, line in zip(line_ids, priced.lines, strict=True)
        ],
        payments=[PaymentPublic.model_validate(t, from_attributes=True) for t in settlement.tenders],
        coupon_codes=list(priced.coupon_codes), loyalty=_loyalty_public(loyalty),
    )  # fmt: skip


def _loyalty_public(loyalty: SaleLoyalty | None) -> OrderLoyaltyPublic | None:
    if loyalty is None:
        return None
    return OrderLoyaltyPublic.model_validate(loyalty, from_attributes=True)


def _refs(steps: list[StepPublic], kind: str) -> list[str]:
    prefix = kind + ":"
    return [s.ref[len(prefix) :] for s in steps if s.ref and s.ref.startswith(prefix)]


def _order_row(session: Session, order_id: int, actor: Principal | None) -> tuple[Order, str]:
    row = session.execute(
        select(Order, User.display_name)
        .join(User, User.id == Order.cashier_id)
        .where(Order.id == order_id)
    ).first()
    # Another store's order is reported as missing: its existence is not the user's business.
    if row is None or (actor is not None and actor.store_id not in (None, row[0].store_id)):
        raise NotFound("No such order.", code="order.not_found")
    return row[0], row[1]


def _lines(session: Session, order_id: int) -> list[OrderLine]:
    query = select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
    return list(session.scalars(query))


def _payments(session: Session, order_id: int) -> list[Payment]:
    return list(
        session.scalars(select(Payment).where(Payment.order_id == order_id).order_by(Payment.id))
    )


def load(session: Session, *, order_id: int, actor: Principal | None) -> OrderPublic:
    order, cashier_name = _order_row(session, order_id, actor)
    lines = [
        OrderLinePublic(
            id=x.id, index=x.line_no - 1, product_id=x.product_id, name=x.name,
            quantity=x.quantity, weighed=bool(x.weighed), list_price=x.list_price,
            unit_price=x.unit_price, list_amount=x.list_amount,
            override_amount=x.override_amount, line_discount=x.line_discount,
            order_discount=x.order_discount, rounding=x.rounding, net=x.net,
            item_promotion=x.item_promotion, tier_discount=x.tier_discount,
            order_promotion=x.order_promotion, coupon=x.coupon, points=x.points,
        )
        for x in _lines(session, order_id)
    ]  # fmt: skip
    steps = [StepPublic.model_validate(s) for s in order.steps]
    loyalty = None
    if order.member_id is not None:
        redeemed = sum(int(x) for x in _refs(steps, "points"))
        loyalty = sale_summary(
            session, order_id=order.id, points_redeemed=redeemed,
            catalogue=loyalty_catalogue.current(session),
        )  # fmt: skip
    return OrderPublic(
        id=order.id, client_uuid=order.client_uuid, number=order.number,
        store_id=order.store_id, register_id=order.register_id, cashier_id=order.cashier_id,
        cashier_name=cashier_name, member_id=order.member_id, business_date=order.business_date,
        created_at=order.created_at, status=order.status, subtotal=order.subtotal,
        discount_total=order.discount_total, total=order.total, paid=order.paid,
        change=order.change, item_count=order.item_count,
        steps=steps, lines=lines,
        payments=[PaymentPublic.model_validate(p, from_attributes=True) for p in _payments(session, order_id)],
        coupon_codes=_refs(steps, "coupon"), loyalty=_loyalty_public(loyalty),
    )  # fmt: skip


def receipt_data(
    session: Session, *, order_id: int, actor: Principal | None, lang: str
) -> ReceiptData:
    order = load(session, order_id=order_id, actor=actor)
    store = session.get(Store, order.store_id)
    register = session.get(Register, order.register_id) if order.register_id else None
    assert store is not None

    def tr(text: str) -> str:
        return i18n.gettext(lang, text)

    return ReceiptData(
        store_name=store.name, store_address=store.address, order_number=order.number,
        business_date=order.business_date,
        local_time=to_local(order.created_at, store.timezone), cashier=order.cashier_name,
        register=register.name if register else "-",
        lines=tuple(
            ReceiptLine(
                name=x.name, quantity=x.quantity, weighed=x.weighed, unit_price=x.unit_price,
                # Rounding (抹零) is printed once above the total, not spread over lines.
                amount=x.net + x.rounding, discount=x.line_discount + x.order_discount,
            )
            for x in order.lines
        ),
        steps=tuple(
            (_step_label(tr, s), s.amount)
            for s in order.steps if s.kind not in ("subtotal", "total")
        ),
        total=order.total,
        payments=tuple(
            (tr(METHOD_LABELS.get(p.method, p.method)), p.amount, p.tendered, p.change)
            for p in order.payments
        ),
        change=order.change, footer=tr("Thank you for shopping with us!"), labels=_labels(tr),
        member=_member_rows(tr, order.loyalty),
    )  # fmt: skip


def _step_label(tr: Callable[[str], str], step: StepPublic) -> str:
    """ "Coupon 满100减20", "Points 500": the kind, then which offer it was."""
    label = tr(STEP_LABELS.get(step.kind, step.kind))
    if step.kind == "points" and step.ref:
        return f"{label} {step.ref.split(':', 1)[1]}"
    return f"{label} {step.label}" if step.label else label


def _member_rows(
    tr: Callable[[str], str], loyalty: OrderLoyaltyPublic | None
) -> tuple[tuple[str, str], ...]:
    if loyalty is None:
        return ()
    rows = []
    if loyalty.tier_name:
        rows.append((tr("Member tier"), loyalty.tier_name))
    if loyalty.upgraded_to:
        rows.append((tr("Upgraded to"), loyalty.upgraded_to))
    rows.append((tr("Points earned"), str(loyalty.points_earned)))
    if loyalty.points_redeemed:
        rows.append((tr("Points redeemed"), str(loyalty.points_redeemed)))
    rows.append((tr("Points balance"), str(loyalty.points_balance)))
    if loyalty.sv_principal_paid or loyalty.sv_bonus_paid or loyalty.sv_balance:
        rows.append((tr("Stored value balance"), format_fen(loyalty.sv_balance)))
    return tuple(rows)


def _labels(tr: Callable[[str], str]) -> ReceiptLabels:
    return ReceiptLabels(
        order_number=tr("Order no."), time=tr("Time"), business_date=tr("Business day"),
        cashier=tr("Cashier"), register=tr("Register"), item=tr("Item  qty × price"),
        amount=tr("Amount"), discount=tr("Discount"), surcharge=tr("Surcharge"),
        total=tr("Total"), change=tr("Change"),
    )  # fmt: skip
