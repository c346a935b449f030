"""Shift figures against a plain recomputation from the rows, on both databases: sales with
mixed tenders, a return with refunds, cash moves, voids; a sale of another shift stays out."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.sales import returns, service, shift_reports, shift_service, z_reports
from shouyin.sales.models import Order, Payment
from shouyin.sales.receipt import text_width
from shouyin.sales.return_models import ReturnOrder, ReturnPayment
from shouyin.sales.return_schemas import ReturnCreate, ReturnLineIn
from shouyin.sales.schemas import LineIn, OrderCreate, PaymentIn, VoidIn, VoidLineIn
from shouyin.sales.shift_models import Shift
from shouyin.sales.shift_schemas import CashMoveIn, ShiftCloseIn, ZReportCreate
from shouyin.stores.models import Register
from tests import factories


def _sell(session: Session, shop: dict[str, Any], register: Register, payments: list[Any],
          qty: int = 2, member: Any = None) -> Any:  # fmt: skip
    data = OrderCreate(
        client_uuid=uuid.uuid4(), store_id=shop["store"].id, register_id=register.id,
        lines=[LineIn(product_id=shop["tea"].id, quantity=qty)],
        payments=[PaymentIn(**p) for p in payments], member_id=member.id if member else None,
    )  # fmt: skip
    order, _ = service.checkout(
        session, data=data, actor=shop["cashier"], discount_audit_percent=100
    )
    return order


def _scenario(session: Session) -> dict[str, Any]:
    store = factories.make_store(session, shift=False)
    register = factories.register_of(session, store)
    other = Register(store_id=store.id, code="R2", name="2号收银台")
    session.add(other)
    session.flush()
    cashier_user = factories.make_user(session, store=store)
    manager_user = factories.make_user(session, role="store_manager", store=store)
    member = factories.make_member(session)
    factories.fund(session, member, sv_principal=5000)
    shop = {
        "store": store, "register": register, "other": other,
        "cashier": factories.principal_of(cashier_user),
        "manager": factories.principal_of(manager_user),
        "tea": factories.make_product(session, price=1250, stock={store.id: 100}),
    }  # fmt: skip
    shift = factories.open_shift(session, register, cashier_user, float_fen=30000)
    factories.open_shift(session, other, manager_user)
    card = {"method": "card", "reference": "T1234"}
    sold = [
        _sell(session, shop, register, [{"method": "cash", "amount": 5000}]),
        _sell(session, shop, register, [{**card, "amount": 2500}]),
        _sell(session, shop, register, [{**card, "amount": 1000}, {"method": "cash", "amount": 2000}]),
        _sell(session, shop, register, [{"method": "stored_value", "amount": 2500}], member=member),
    ]  # fmt: skip
    _sell(session, shop, other, [{"method": "cash", "amount": 9999}])  # another shift
    for order in sold[1:3]:
        body = ReturnCreate(
            client_uuid=uuid.uuid4(), store_id=store.id, register_id=register.id,
            order_id=order.id, lines=[ReturnLineIn(order_line_id=order.lines[0].id, quantity=1)],
            reason="质量问题",
        )  # fmt: skip
        returns.create(session, data=body, actor=shop["manager"], approval_limit=100_000)
    for kind, amount in (("in", 10000), ("out", 4000), ("no_sale", 0), ("no_sale", 0)):
        move = CashMoveIn(client_uuid=uuid.uuid4(), kind=kind, amount=amount, reason="测试")  # type: ignore[arg-type]
        shift_service.cash_move(session, shift_id=shift.id, data=move, actor=shop["cashier"])
    line = VoidLineIn(product_id=shop["tea"].id, name="茶", quantity=1, amount=1250)
    service.record_void(
        session, data=VoidIn(store_id=store.id, register_id=register.id, lines=[line]),
        actor=shop["cashier"],
    )  # fmt: skip
    return {**shop, "shift": shift}


def _recomputed(session: Session, shift: Shift) -> dict[str, Any]:
    """The figures from the rows, one by one, with no GROUP BY."""
    orders = session.scalars(select(Order).where(Order.shift_id == shift.id)).all()
    ids = [o.id for o in orders]
    sales: Counter[str] = Counter()
    for p in session.scalars(select(Payment).where(Payment.order_id.in_(ids))):
        sales[p.method] += p.amount
    made = session.scalars(select(ReturnOrder).where(ReturnOrder.shift_id == shift.id)).all()
    refunds: Counter[str] = Counter()
    for r in session.scalars(
        select(ReturnPayment).where(ReturnPayment.return_id.in_([r.id for r in made]))
    ):
        refunds[r.method] += r.amount
    return {
        "orders": len(orders), "gross": sum(o.subtotal for o in orders),
        "discounts": sum(o.discount_total for o in orders), "net": sum(o.total for o in orders),
        "sales": dict(sales), "refunds": dict(refunds), "returns": len(made),
        "returns_amount": sum(r.refund for r in made),
        "expected_cash": shift.opening_float + sales["cash"] - refunds["cash"] + 10000 - 4000,
    }  # fmt: skip


def test_figures_equal_a_recomputation(session: Session) -> None:
    shop = _scenario(session)
    shift = shop["shift"]
    want = _recomputed(session, shift)
    got = shift_service.figures(session, shift)

    assert (got.orders, got.gross, got.discounts, got.net) == (
        want["orders"], want["gross"], want["discounts"], want["net"]
    )  # fmt: skip
    assert got.orders == 4 and got.net == 4 * 2500
    tenders = {t.method: t for t in got.tenders}
    assert [t.method for t in got.tenders] == ["cash", "card", "stored_value"]
    assert {m: t.sales for m, t in tenders.items()} == want["sales"]
    assert {m: t.refunds for m, t in tenders.items() if t.refunds} == want["refunds"]
    assert (
        (got.returns, got.returns_amount) == (want["returns"], want["returns_amount"]) == (2, 2500)
    )
    assert (got.cash_in, got.cash_out, got.no_sales) == (10000, 4000, 2)
    assert (got.voids, got.voids_amount) == (1, 1250)
    assert got.expected_cash == want["expected_cash"] == tenders["cash"].expected
    assert tenders["card"].expected == want["sales"]["card"] - want["refunds"].get("card", 0)
    # Stored value is shown, never counted.
    assert tenders["stored_value"].sales == 2500 and tenders["stored_value"].expected is None
    assert shift_reports.expected_of(got).keys() == {"cash", "card"}


def test_close_and_z_freeze_the_same_figures(session: Session) -> None:
    shop = _scenario(session)
    shift = shop["shift"]
    live = shift_service.figures(session, shift)
    counted = {"cash": live.expected_cash + 100, "card": 0}
    closed = shift_service.close(
        session, shift_id=shift.id, data=ShiftCloseIn(counted=counted),  # type: ignore[arg-type]
        actor=shop["cashier"], lang="en",
    )  # fmt: skip
    card_expected = next(t.expected for t in live.tenders if t.method == "card")
    assert closed.shift.variance == {"cash": 100, "card": -(card_expected or 0)}
    assert closed.figures.model_dump(exclude={"tenders"}) == live.model_dump(exclude={"tenders"})
    assert "Expected cash" in closed.text
    z = z_reports.create(
        session, data=ZReportCreate(store_id=shop["store"].id, register_id=shop["register"].id),
        actor=shop["manager"], lang="en",
    )  # fmt: skip
    assert z.data.figures.net == live.net and z.data.figures.orders == live.orders
    assert z.data.variance == closed.shift.variance
    assert [(c.cashier_id, c.orders, c.cash_variance) for c in z.data.cashiers] == [
        (shop["cashier"].user_id, 4, 100)
    ]
    assert "Z report" in z.text
    # The same rows fit 58 mm (32 columns) and 80 mm (48 columns) paper, Chinese or not.
    zh = z_reports.get(session, z_id=z.id, actor=shop["manager"], lang="zh_CN")
    for width in (32, 48):
        text = shift_reports.render_text("Z", zh.rows, width)
        assert max(text_width(line) for line in text.splitlines()) <= width
