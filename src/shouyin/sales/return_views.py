"""What a return needs to know about its order, and the REST views of returns.

:func:`order_facts` reads an order, its lines and payments and everything earlier returns
of it gave back, in a handful of queries; with ``lock`` the order row is locked first
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers), so two returns of
the same order never both see the same quantities as still returnable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.catalog.models import Product
from shouyin.errors import NotFound, ValidationFailed
from shouyin.sales.models import Order, OrderLine, Payment
from shouyin.sales.refund_rules import LineHistory, SoldLine, line_refund, points_shares
from shouyin.sales.return_models import ReturnLine, ReturnOrder, ReturnPayment
from shouyin.sales.return_schemas import (
    RecentOrder,
    ReturnableLine,
    ReturnablePublic,
    ReturnLinePublic,
    ReturnLoyaltyPublic,
    ReturnPaymentPublic,
    ReturnPublic,
)


@dataclass(frozen=True)
class LineFacts:
    sold: SoldLine
    line_no: int
    product_id: int
    name: str


@dataclass(frozen=True)
class Earlier:
    """What the order's earlier returns gave back, in total."""

    count: int = 0
    refund: int = 0
    points_taken: int = 0  # taken back plus recorded as unrecovered
    sv_principal: int = 0
    sv_bonus: int = 0


@dataclass(frozen=True)
class OrderFacts:
    id: int
    number: str
    store_id: int
    member_id: int | None
    business_date: date
    created_at: datetime
    total: int
    points_redeemed: int
    lines: dict[int, LineFacts]
    paid: dict[str, int]
    history: dict[int, LineHistory] = field(default_factory=dict)
    refunded: dict[str, int] = field(default_factory=dict)
    earlier: Earlier = Earlier()

    def line_history(self, line_id: int) -> LineHistory:
        return self.history.get(line_id, LineHistory())


def _points_redeemed(steps: list[dict[str, object]]) -> int:
    refs = [str(s.get("ref") or "") for s in steps]
    return sum(int(ref.split(":", 1)[1]) for ref in refs if ref.startswith("points:"))


def order_facts(
    conn: Connection, *, order_id: int, actor: Principal | None, lock: bool
) -> OrderFacts:
    query = select(
        Order.id, Order.number, Order.store_id, Order.member_id, Order.business_date,
        Order.created_at, Order.total, Order.steps,
    ).where(Order.id == order_id)  # fmt: skip
    row = conn.execute(query.with_for_update() if lock else query).first()
    # Another store's order is reported as missing, as orders do.
    if row is None or (actor is not None and actor.store_id not in (None, row.store_id)):
        raise NotFound("No such order.", code="order.not_found")
    rows = conn.execute(
        select(
            OrderLine.id, OrderLine.line_no, OrderLine.product_id, OrderLine.name,
            OrderLine.quantity, OrderLine.weighed, OrderLine.net, OrderLine.points,
        )
        .where(OrderLine.order_id == order_id)
        .order_by(OrderLine.line_no)
    ).all()  # fmt: skip
    redeemed = _points_redeemed(list(row.steps or []))
    shares = points_shares(redeemed, [r.points for r in rows])
    lines = {
        r.id: LineFacts(
            SoldLine(r.id, r.quantity, bool(r.weighed), r.net, share), r.line_no,
            r.product_id, r.name,
        )
        for r, share in zip(rows, shares, strict=True)
    }  # fmt: skip
    paid = conn.execute(
        select(Payment.method, func.sum(Payment.amount))
        .where(Payment.order_id == order_id)
        .group_by(Payment.method)
    ).all()
    history, refunded, earlier = _earlier(conn, order_id)
    return OrderFacts(
        id=row.id, number=row.number, store_id=row.store_id, member_id=row.member_id,
        business_date=row.business_date, created_at=row.created_at, total=row.total,
        points_redeemed=redeemed,
        lines=lines, paid={m: int(a) for m, a in paid}, history=history, refunded=refunded,
        earlier=earlier,
    )  # fmt: skip


def _earlier(
    conn: Connection, order_id: int
) -> tuple[dict[int, LineHistory], dict[str, int], Earlier]:
    of_order = ReturnOrder.order_id == order_id
    history = {
        line_id: LineHistory(int(q), int(r), int(p))
        for line_id, q, r, p in conn.execute(
            select(
                ReturnLine.order_line_id, func.sum(ReturnLine.quantity),
                func.sum(ReturnLine.refund), func.sum(ReturnLine.points_given),
            )
            .join(ReturnOrder, ReturnOrder.id == ReturnLine.return_id)
            .where(of_order)
            .group_by(ReturnLine.order_line_id)
        )
        if line_id is not None
    }  # fmt: skip
    refunded = {
        method: int(amount)
        for method, amount in conn.execute(
            select(ReturnPayment.method, func.sum(ReturnPayment.amount))
            .join(ReturnOrder, ReturnOrder.id == ReturnPayment.return_id)
            .where(of_order)
            .group_by(ReturnPayment.method)
        )
    }
    totals = conn.execute(
        select(
            func.count(), func.coalesce(func.sum(ReturnOrder.refund), 0),
            func.coalesce(func.sum(ReturnOrder.points_taken + ReturnOrder.points_unrecovered), 0),
            func.coalesce(func.sum(ReturnOrder.sv_principal), 0),
            func.coalesce(func.sum(ReturnOrder.sv_bonus), 0),
        ).where(of_order)
    ).one()  # fmt: skip
    return history, refunded, Earlier(*(int(x) for x in totals))


def returnable(
    session: Session, *, order_id: int, actor: Principal, other_store: bool = False
) -> ReturnablePublic:
    """Each line: sold, returned so far, still returnable and its refund. With
    ``other_store`` (the setting ``return_other_store``) any store's order is shown."""
    facts = order_facts(
        session.connection(), order_id=order_id, actor=None if other_store else actor, lock=False
    )
    lines = []
    for line in facts.lines.values():
        before = facts.line_history(line.sold.id)
        left = line.sold.quantity - before.quantity
        refund = line_refund(line.sold, before, left).refund if left > 0 else 0
        lines.append(
            ReturnableLine(
                order_line_id=line.sold.id, line_no=line.line_no, product_id=line.product_id,
                name=line.name, weighed=line.sold.weighed, sold=line.sold.quantity,
                returned=before.quantity, returnable=left, refund=refund,
            )
        )  # fmt: skip
    return ReturnablePublic(
        order_id=facts.id, order_number=facts.number, store_id=facts.store_id,
        created_at=facts.created_at, member_id=facts.member_id, paid=facts.paid,
        refunded_to=facts.refunded,
        total=facts.total, refunded=facts.earlier.refund, lines=lines,
    )  # fmt: skip


def load(session: Session, *, return_id: int, actor: Principal | None) -> ReturnPublic:
    # A return without a receipt has no order: its lines are named after the product.
    found = session.execute(
        select(ReturnOrder, Order.number)
        .outerjoin(Order, Order.id == ReturnOrder.order_id)
        .where(ReturnOrder.id == return_id)
    ).first()
    if found is None or (actor is not None and actor.store_id not in (None, found[0].store_id)):
        raise NotFound("No such return.", code="return.not_found")
    ret, order_number = found
    lines = session.execute(
        select(
            ReturnLine, func.coalesce(OrderLine.name, Product.name),
            OrderLine.weighed, Product.weighed,
        )
        .join(Product, Product.id == ReturnLine.product_id)
        .outerjoin(OrderLine, OrderLine.id == ReturnLine.order_line_id)
        .where(ReturnLine.return_id == return_id)
        .order_by(OrderLine.line_no, ReturnLine.id)
    ).all()  # fmt: skip
    payments = session.scalars(
        select(ReturnPayment).where(ReturnPayment.return_id == return_id).order_by(ReturnPayment.id)
    ).all()
    loyalty = None
    if ret.member_id is not None or ret.coupon_codes:
        loyalty = ReturnLoyaltyPublic(
            points_taken=ret.points_taken, points_unrecovered=ret.points_unrecovered,
            points_given=ret.points_given, growth=ret.growth, sv_principal=ret.sv_principal,
            sv_bonus=ret.sv_bonus, coupon_codes=list(ret.coupon_codes or []),
        )  # fmt: skip
    return ReturnPublic(
        id=ret.id, client_uuid=ret.client_uuid, number=ret.number, order_id=ret.order_id,
        order_number=order_number, store_id=ret.store_id, register_id=ret.register_id,
        user_id=ret.user_id, approver_id=ret.approver_id, member_id=ret.member_id,
        business_date=ret.business_date, created_at=ret.created_at, reason=ret.reason,
        refund_to=ret.refund_to, refund=ret.refund, whole_order=bool(ret.whole_order),
        lines=[
            ReturnLinePublic(
                id=x.id, order_line_id=x.order_line_id, product_id=x.product_id, name=name,
                quantity=x.quantity, refund=x.refund, points_given=x.points_given,
                weighed=bool(sold_weighed if x.order_line_id is not None else weighed),
            )
            for x, name, sold_weighed, weighed in lines
        ],
        payments=[_payment(p) for p in payments],
        loyalty=loyalty,
    )  # fmt: skip


def _payment(p: ReturnPayment) -> ReturnPaymentPublic:
    """A pending refund's reference is the charged code's trade number (not shown); a failed
    one's is the gateway's reason."""
    return ReturnPaymentPublic(
        method=p.method, amount=p.amount, status=p.status,
        reference=p.reference if p.status == "done" else None,
        message=p.reference if p.status == "failed" else None,
    )  # fmt: skip


def lookup(
    session: Session, *, number: str, store_id: int, actor: Principal, other_store: bool
) -> ReturnablePublic:
    """The receipt the till scanned (its barcode is the order number), ready to return."""
    actor.require_store(store_id)
    row = session.execute(
        select(Order.id, Order.store_id).where(Order.number == number.strip())
    ).first()
    if row is None:
        raise NotFound("No receipt has the number {number}.", code="return.receipt_unknown",
                       details={"number": number.strip()})  # fmt: skip
    if row.store_id != store_id and not other_store:
        raise ValidationFailed(
            "This receipt is from another store; return the goods there.",
            code="return.other_store",
        )
    return returnable(session, order_id=row.id, actor=actor, other_store=other_store)


@dataclass(frozen=True)
class OrderSearch:
    """What the cashier remembers of a sale whose receipt is lost or unreadable."""

    store_id: int
    day: date | None = None  # the business date
    total: int | None = None  # fen
    member_ids: list[int] | None = None  # members with the mobile tail typed
    limit: int = 20


def recent_orders(session: Session, *, search: OrderSearch, actor: Principal) -> list[RecentOrder]:
    """The store's orders matching the search, newest first."""
    actor.require_store(search.store_id)
    query = select(
        Order.id, Order.number, Order.created_at, Order.total, Order.item_count, Order.member_id
    ).where(Order.store_id == search.store_id)
    if search.day is not None:
        query = query.where(Order.business_date == search.day)
    if search.total is not None:
        query = query.where(Order.total == search.total)
    if search.member_ids is not None:
        if not search.member_ids:
            return []
        query = query.where(Order.member_id.in_(search.member_ids))
    rows = session.execute(
        query.order_by(Order.created_at.desc(), Order.id.desc()).limit(search.limit)
    )
    return [RecentOrder(**row._asdict()) for row in rows]
