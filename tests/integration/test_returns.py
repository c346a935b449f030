"""Returns on SQLite and PostgreSQL: a full return leaves every balance as before the sale."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.inventory.models import StockLevel
from shouyin.loyalty import ledger
from shouyin.loyalty.models import Coupon, LedgerEntry, MemberAccount, PointsLot
from shouyin.ops import checks
from shouyin.sales import returns, service
from shouyin.sales.return_schemas import ReturnCreate, ReturnPublic
from shouyin.sales.schemas import OrderCreate, OrderPublic
from shouyin.shared.clock import utcnow
from tests import factories

LIMIT = 20000


@dataclass
class Shop:
    store: Any
    register: Any
    bag: Any
    tea: Any
    rice: Any  # weighed
    gold: Any
    coupon: Any
    cashier: Principal
    manager: Principal
    manager_name: str


def make_shop(session: Session) -> Shop:
    """The gold member of test_checkout_loyalty: promotions, tier, coupon, points, stored value."""
    store = factories.make_store(session)
    bag = factories.make_product(session, price=10000, stock={store.id: 50})
    tea = factories.make_product(session, price=2000, stock={store.id: 50})
    rice = factories.make_product(session, price=600, weighed=True, stock={store.id: 10000})
    gold = factories.make_member(session)
    factories.fund(session, gold, tier="gold", points=1000, sv_principal=3000, sv_bonus=3000)
    coupon = factories.make_coupon(session, member=gold, value=500)
    factories.make_promotion(
        session, kind="nth_discount", params={"n": 2, "percent_off": 5000},
        scope="products", scope_ids=[tea.id], name="第二件半价",
    )  # fmt: skip
    factories.make_promotion(
        session, kind="order_threshold", params={"tiers": [[10000, 1000]]}, name="满100减10"
    )
    cashier = factories.make_user(session, role="cashier", store=store)
    manager = factories.make_user(session, role="store_manager", store=store)
    return Shop(
        store, factories.register_of(session, store), bag, tea, rice, gold, coupon,
        factories.principal_of(cashier), factories.principal_of(manager), manager.username,
    )  # fmt: skip


def sell(session: Session, shop: Shop, *, full_offers: bool = True, **extra: Any) -> OrderPublic:
    body: dict[str, Any] = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop.store.id,
        "register_id": shop.register.id, "member_id": shop.gold.id,
        "lines": [{"product_id": shop.bag.id, "quantity": 1},
                  {"product_id": shop.tea.id, "quantity": 2}],
        "payments": [{"method": "stored_value", "amount": 5000},
                     {"method": "cash", "amount": 2500}],
    }  # fmt: skip
    if full_offers:
        body.update(coupon_codes=[shop.coupon.code], points=200)
    body.update(extra)
    order, created = service.checkout(
        session, data=OrderCreate.model_validate(body), actor=shop.cashier,
        discount_audit_percent=100,
    )  # fmt: skip
    assert created
    return order


def give_back(
    session: Session, shop: Shop, order: OrderPublic, picks: list[tuple[int, int]], *,
    actor: Principal | None = None, approve: bool = True, **extra: Any,
) -> ReturnPublic:  # fmt: skip
    body: dict[str, Any] = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop.store.id, "order_id": order.id,
        "lines": [{"order_line_id": order.lines[i].id, "quantity": q} for i, q in picks],
        "reason": "不想要了",
    }  # fmt: skip
    if approve:
        body["approval"] = {"username": shop.manager_name, "password": factories.PASSWORD}
    body.update(extra)
    made, created = returns.create(
        session, data=ReturnCreate.model_validate(body), actor=actor or shop.cashier,
        approval_limit=LIMIT,
    )  # fmt: skip
    assert created
    return made


def balances(session: Session, shop: Shop) -> dict[str, Any]:
    account = session.execute(
        select(MemberAccount.points, MemberAccount.growth, MemberAccount.sv_principal,
               MemberAccount.sv_bonus, MemberAccount.tier_id)
        .where(MemberAccount.member_id == shop.gold.id)
    ).one()  # fmt: skip
    lots = session.scalar(
        select(func.sum(PointsLot.remaining)).where(PointsLot.member_id == shop.gold.id)
    )
    stock = dict(
        session.execute(
            select(StockLevel.product_id, StockLevel.on_hand).where(
                StockLevel.store_id == shop.store.id
            )
        ).all()
    )
    coupon = session.execute(
        select(Coupon.status, Coupon.order_id).where(Coupon.id == shop.coupon.id)
    ).one()
    return {"account": tuple(account), "lots": lots, "stock": stock, "coupon": tuple(coupon)}


def assert_checks_pass(session: Session) -> None:
    session.flush()
    failed = [r for r in checks.run_all(session) if not r.ok]
    assert failed == []


def test_a_partial_return_then_the_rest_undoes_the_sale_exactly(session: Session) -> None:
    shop = make_shop(session)
    before = balances(session, shop)
    order = sell(session, shop)
    assert order.total == 7500
    assert balances(session, shop)["account"][:4] == (807, 5500, 0, 1000)
    # One tea back: its net share, stored value first (principal and bonus 3:2).
    first = give_back(session, shop, order, [(1, 1)])
    tea = order.lines[1]
    assert first.refund == tea.net // 2 or first.refund == tea.net - tea.net // 2
    assert [(p.method, p.amount) for p in first.payments] == [("stored_value", first.refund)]
    assert first.loyalty is not None and not first.whole_order
    assert first.loyalty.sv_principal + first.loyalty.sv_bonus == first.refund
    assert first.loyalty.coupon_codes == []
    assert balances(session, shop)["coupon"] == ("redeemed", order.id)
    # The rest: the bag and the other tea.
    rest = give_back(session, shop, order, [(0, 1), (1, 1)])
    assert rest.whole_order
    assert first.refund + rest.refund == order.total
    refunded: dict[str, int] = {}
    for ret in (first, rest):
        for p in ret.payments:
            refunded[p.method] = refunded.get(p.method, 0) + p.amount
    assert refunded == {"stored_value": 5000, "cash": 2500}
    assert rest.loyalty is not None and rest.loyalty.coupon_codes == [shop.coupon.code]
    assert first.loyalty.points_given + rest.loyalty.points_given == 200
    assert first.loyalty.points_taken + rest.loyalty.points_taken == 7
    assert balances(session, shop) == before
    assert_checks_pass(session)


def test_returnable_lists_what_is_left_and_the_refund_it_would_give(session: Session) -> None:
    from shouyin.sales import return_views

    shop = make_shop(session)
    order = sell(session, shop)
    give_back(session, shop, order, [(1, 1)])
    view = return_views.returnable(session, order_id=order.id, actor=shop.cashier)
    rows = [(x.sold, x.returned, x.returnable) for x in view.lines]
    assert rows == [(1, 0, 1), (2, 1, 1)]
    assert sum(x.refund for x in view.lines) + view.refunded == order.total


def test_a_line_is_never_returned_twice(session: Session) -> None:
    shop = make_shop(session)
    order = sell(session, shop)
    give_back(session, shop, order, [(0, 1)])
    with pytest.raises(DomainError) as refused:
        give_back(session, shop, order, [(0, 1)])
    assert refused.value.code == "return.quantity_exceeded"
    with pytest.raises(DomainError) as too_many:
        give_back(session, shop, order, [(1, 3)])
    assert too_many.value.code == "return.quantity_exceeded"


def test_weighed_goods_go_back_whole_or_not_at_all(session: Session) -> None:
    shop = make_shop(session)
    order = sell(
        session, shop, full_offers=False, member_id=None,
        lines=[{"product_id": shop.rice.id, "quantity": 1500}],
        payments=[{"method": "cash", "amount": 1000}],
    )  # fmt: skip
    with pytest.raises(DomainError) as refused:
        give_back(session, shop, order, [(0, 700)])
    assert refused.value.code == "return.weighed_whole"
    made = give_back(session, shop, order, [(0, 1500)])
    assert made.refund == order.total and made.loyalty is None
    assert balances(session, shop)["stock"][shop.rice.id] == 10000


def test_approval_is_needed_for_a_cashier_and_above_the_limit(session: Session) -> None:
    shop = make_shop(session)
    order = sell(session, shop, full_offers=False, payments=[{"method": "cash", "amount": 30000}],
                 lines=[{"product_id": shop.bag.id, "quantity": 3}])  # fmt: skip
    with pytest.raises(DomainError) as missing:
        give_back(session, shop, order, [(0, 1)], approve=False)
    assert (missing.value.code, missing.value.status) == ("return.approval_required", 403)
    wrong = {"username": shop.manager_name, "password": "not-the-password"}
    with pytest.raises(DomainError) as bad:
        give_back(session, shop, order, [(0, 1)], approve=False, approval=wrong)
    assert (bad.value.code, bad.value.status) == ("return.approval_invalid", 403)
    other = factories.make_user(session, role="cashier", store=shop.store)
    not_a_manager = {"username": other.username, "password": factories.PASSWORD}
    with pytest.raises(DomainError) as cashier:
        give_back(session, shop, order, [(0, 1)], approve=False, approval=not_a_manager)
    assert cashier.value.code == "return.approval_invalid"
    made = give_back(session, shop, order, [(0, 1)])
    assert made.approver_id is not None
    # A manager returns below the limit alone; above it even a manager confirms on the spot.
    alone = give_back(session, shop, order, [(0, 1)], actor=shop.manager, approve=False)
    assert alone.approver_id is None
    with pytest.raises(DomainError) as over:
        returns.create(
            session, actor=shop.manager, approval_limit=100,
            data=ReturnCreate.model_validate({
                "client_uuid": str(uuid.uuid4()), "store_id": shop.store.id,
                "order_id": order.id, "reason": "坏了",
                "lines": [{"order_line_id": order.lines[0].id, "quantity": 1}],
            }),
        )  # fmt: skip
    assert over.value.code == "return.approval_required"


def test_points_already_spent_are_recorded_as_unrecovered(session: Session) -> None:
    shop = make_shop(session)
    order = sell(session, shop, full_offers=False, payments=[{"method": "cash", "amount": 20000}])
    earned = order.loyalty.points_earned if order.loyalty else 0
    assert earned > 0
    conn = session.connection()
    held = balances(session, shop)["account"][0]
    # The member spends every point they hold.
    ledger.post(conn, member_id=shop.gold.id, at=utcnow(),
                change=ledger.Change(kind="adjust", points=-held, reason="test"))  # fmt: skip
    ledger.spend_lots(conn, member_id=shop.gold.id, points=held)
    made = give_back(session, shop, order, [(0, 1), (1, 2)])
    assert made.loyalty is not None
    assert (made.loyalty.points_taken, made.loyalty.points_unrecovered) == (0, earned)
    assert balances(session, shop)["account"][0] == 0
    assert_checks_pass(session)


def test_bad_input_is_refused_and_nothing_is_written(session: Session) -> None:
    shop = make_shop(session)
    order = sell(session, shop)
    other_store = factories.make_store(session)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"lines": [{"order_line_id": 2**31 - 1, "quantity": 1}]}, "return.line_unknown"),
        ({"refund_to": "cash"}, "return.refund_invalid"),
        ({"lines": [{"order_line_id": order.lines[0].id, "quantity": 1}] * 2},
         "return.line_duplicate"),
    ]  # fmt: skip
    for extra, code in cases:
        with pytest.raises(DomainError) as refused:
            give_back(session, shop, order, [(0, 1)], **extra)
        assert refused.value.code == code
    admin = factories.principal_of(factories.make_user(session, role="hq_admin"))
    with pytest.raises(DomainError) as elsewhere:
        give_back(session, shop, order, [(0, 1)], actor=admin, store_id=other_store.id)
    assert elsewhere.value.code == "return.other_store"
    count = session.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "return")
    )
    assert count == 0


def test_a_retry_returns_the_first_return_and_another_body_is_refused(session: Session) -> None:
    shop = make_shop(session)
    order = sell(session, shop)
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop.store.id, "order_id": order.id,
        "lines": [{"order_line_id": order.lines[1].id, "quantity": 1}], "reason": "重复提交",
        "approval": {"username": shop.manager_name, "password": factories.PASSWORD},
    }  # fmt: skip
    data = ReturnCreate.model_validate(body)
    first, created = returns.create(session, data=data, actor=shop.cashier, approval_limit=LIMIT)
    again, created_again = returns.create(
        session, data=data, actor=shop.cashier, approval_limit=LIMIT
    )
    assert created and not created_again and again == first
    body["lines"] = [{"order_line_id": order.lines[0].id, "quantity": 1}]
    with pytest.raises(DomainError) as reused:
        returns.create(
            session, data=ReturnCreate.model_validate(body), actor=shop.cashier,
            approval_limit=LIMIT,
        )  # fmt: skip
    assert (reused.value.code, reused.value.status) == ("return.uuid_reused", 409)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_returns_of_the_same_line_at_once_only_one_wins(database: Database) -> None:
    with database.write() as session:
        shop = make_shop(session)
        order = sell(session, shop)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            with database.write() as session:
                give_back(session, shop, order, [(1, 2)])
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ok", "return.quantity_exceeded"]
    with database.read() as session:
        assert_checks_pass(session)


def test_another_stores_receipt_comes_back_here_when_the_setting_allows(session: Session) -> None:
    shop = make_shop(session)
    order = sell(session, shop)
    here = factories.make_store(session)
    for product in (shop.bag, shop.tea):
        session.add(StockLevel(store_id=here.id, product_id=product.id, on_hand=0))
    session.flush()
    cashier = factories.principal_of(factories.make_user(session, role="cashier", store=here))
    manager = factories.make_user(session, role="store_manager", store=here)
    picks = [(1, 1)]
    mine = {"username": manager.username, "password": factories.PASSWORD}
    # Off (the default): refused, nothing written. The other store's manager cannot approve.
    with pytest.raises(DomainError) as refused:
        give_back(session, shop, order, picks, actor=factories.principal_of(manager),
                  store_id=here.id, approve=False)  # fmt: skip
    assert (refused.value.code, refused.value.status) == ("return.other_store", 422)
    body: dict[str, Any] = {
        "client_uuid": str(uuid.uuid4()), "store_id": here.id,
        "register_id": factories.register_of(session, here).id, "order_id": order.id,
        "lines": [{"order_line_id": order.lines[1].id, "quantity": 1}], "reason": "异地退货",
    }  # fmt: skip
    with pytest.raises(DomainError) as theirs:
        returns.create(
            session, actor=cashier, approval_limit=LIMIT, other_store=True,
            data=ReturnCreate.model_validate(
                {**body, "approval": {"username": shop.manager_name,
                                      "password": factories.PASSWORD}}),
        )  # fmt: skip
    assert theirs.value.code == "return.approval_invalid"
    made, created = returns.create(
        session, actor=cashier, approval_limit=LIMIT, other_store=True,
        data=ReturnCreate.model_validate({**body, "approval": mine}),
    )  # fmt: skip
    assert created and made.store_id == here.id and made.approver_id == manager.id
    # The refund follows the same rules (stored value first) and the member's points move.
    assert [p.method for p in made.payments] == ["stored_value"]
    assert made.loyalty is not None and made.loyalty.sv_principal + made.loyalty.sv_bonus > 0
    stock = dict(
        session.execute(
            select(StockLevel.store_id, StockLevel.on_hand).where(
                StockLevel.product_id == shop.tea.id
            )
        ).all()
    )
    assert stock == {shop.store.id: 48, here.id: 1}
    # The line is returned once, whichever store took it back.
    with pytest.raises(DomainError) as twice:
        give_back(session, shop, order, [(1, 2)])
    assert twice.value.code == "return.quantity_exceeded"
    assert_checks_pass(session)
