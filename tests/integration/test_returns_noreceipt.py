"""Returns without a receipt on SQLite and PostgreSQL: cash out, goods back, a manager's say."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.inventory.models import StockLevel
from shouyin.ops import checks
from shouyin.sales import return_views, returns_noreceipt
from shouyin.sales.return_models import ReturnOrder
from shouyin.sales.return_schemas import NoReceiptCreate, ReturnPublic
from tests import factories


@dataclass
class Shop:
    store: Any
    register: Any
    towel: Any
    rice: Any  # weighed, per kg
    cashier: Principal
    manager: Principal
    manager_name: str


def make_shop(session: Session, **store: Any) -> Shop:
    shop_store = factories.make_store(session, **store)
    towel = factories.make_product(session, price=2500, stock={shop_store.id: 10})
    rice = factories.make_product(session, price=600, weighed=True, stock={shop_store.id: 5000})
    cashier = factories.make_user(session, role="cashier", store=shop_store)
    manager = factories.make_user(session, role="store_manager", store=shop_store)
    return Shop(
        shop_store, factories.register_of(session, shop_store), towel, rice,
        factories.principal_of(cashier), factories.principal_of(manager), manager.username,
    )  # fmt: skip


def body(shop: Shop, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop.store.id,
        "register_id": shop.register.id, "lines": lines, "reason": "顾客小票丢失",
        "approval": {"username": shop.manager_name, "password": factories.PASSWORD},
    }  # fmt: skip
    made.update(extra)
    return made


def take_back(
    session: Session, shop: Shop, lines: list[dict[str, Any]], *,
    actor: Principal | None = None, **extra: Any,
) -> tuple[ReturnPublic, bool]:  # fmt: skip
    data = NoReceiptCreate.model_validate(body(shop, lines, **extra))
    return returns_noreceipt.create(session, data=data, actor=actor or shop.cashier)


def stock(session: Session, shop: Shop, product: Any) -> int:
    return int(
        session.scalar(
            select(StockLevel.on_hand).where(
                StockLevel.store_id == shop.store.id, StockLevel.product_id == product.id
            )
        )
        or 0
    )


def test_goods_come_back_into_stock_and_the_refund_is_cash(session: Session) -> None:
    shop = make_shop(session)
    made, created = take_back(
        session, shop,
        [{"product_id": shop.towel.id, "quantity": 2},
         {"product_id": shop.rice.id, "quantity": 1250, "unit_refund": 500}],
    )  # fmt: skip
    assert created
    # Two towels at the price; 1.25 kg of rice at ¥5.00/kg agreed: 625 fen.
    assert made.refund == 2 * 2500 + 625
    assert [(p.method, p.amount) for p in made.payments] == [("cash", made.refund)]
    assert made.order_id is None and made.order_number is None
    assert made.number.endswith("-NR1") and made.number.startswith(f"{shop.store.code}-")
    assert made.refund_to == "cash" and made.loyalty is None and made.member_id is None
    assert made.approver_id is not None
    assert [(x.name, x.quantity, x.weighed, x.order_line_id) for x in made.lines] == [
        (shop.towel.name, 2, False, None), (shop.rice.name, 1250, True, None),
    ]  # fmt: skip
    assert stock(session, shop, shop.towel) == 12 and stock(session, shop, shop.rice) == 6250
    row = session.get(ReturnOrder, made.id)
    assert row is not None and row.shift_id is not None
    entry = session.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "sale.return_no_receipt", AuditEntry.entity_id == str(made.id)
        )
    ).one()
    assert entry.after is not None and entry.after["approver"] == shop.manager_name
    # Read back as any return; the next one of the day is NR2.
    again = return_views.load(session, return_id=made.id, actor=shop.cashier)
    assert again == made
    second, _ = take_back(session, shop, [{"product_id": shop.towel.id, "quantity": 1}])
    assert second.number.endswith("-NR2")
    session.flush()
    assert [r.name for r in checks.run_all(session) if not r.ok] == []


def test_a_manager_approves_by_doing_it_and_a_cashier_needs_the_manager(
    session: Session,
) -> None:
    shop = make_shop(session)
    towel = [{"product_id": shop.towel.id, "quantity": 1}]
    mine, _ = take_back(session, shop, towel, actor=shop.manager, approval=None)
    assert mine.approver_id == shop.manager.user_id
    with pytest.raises(DomainError) as missing:
        take_back(session, shop, towel, approval=None)
    assert (missing.value.code, missing.value.status) == ("return.approval_required", 403)
    wrong = {"username": shop.manager_name, "password": "not-the-password"}
    with pytest.raises(DomainError) as bad:
        take_back(session, shop, towel, approval=wrong)
    assert (bad.value.code, bad.value.status) == ("return.approval_invalid", 403)
    other_store = factories.make_store(session)
    elsewhere = factories.make_user(session, role="store_manager", store=other_store)
    with pytest.raises(DomainError) as foreign:
        take_back(session, shop, towel,
                  approval={"username": elsewhere.username, "password": factories.PASSWORD})  # fmt: skip
    assert foreign.value.code == "return.approval_invalid"
    assert stock(session, shop, shop.towel) == 11


def test_bad_input_is_refused_and_nothing_is_written(session: Session) -> None:
    shop = make_shop(session)
    gone = factories.make_product(session, price=100)
    gone.active = False
    session.flush()
    towel = shop.towel.id
    cases: list[tuple[list[dict[str, Any]], str]] = [
        ([{"product_id": 2**31 - 1, "quantity": 1}], "return.product_unknown"),
        ([{"product_id": gone.id, "quantity": 1}], "return.product_unknown"),
        ([{"product_id": towel, "quantity": 1, "unit_refund": 2501}], "return.refund_above_price"),
        ([{"product_id": towel, "quantity": 1}] * 2, "return.product_duplicate"),
        # One gram of rice at ¥6/kg is 0.6 fen: rounds to 1 fen; at 0.4 fen/g it is nothing.
        ([{"product_id": shop.rice.id, "quantity": 1, "unit_refund": 400}],
         "return.refund_invalid"),
    ]  # fmt: skip
    for lines, code in cases:
        with pytest.raises(DomainError) as refused:
            take_back(session, shop, lines)
        assert refused.value.code == code, lines
    for wrong in ({"quantity": 0}, {"unit_refund": 0}, {"reason": ""}):
        lines = [{"product_id": towel, "quantity": 1, **wrong}]
        with pytest.raises(ValueError):
            NoReceiptCreate.model_validate(body(shop, lines, **wrong))
    closed = make_shop(session, shift=False)
    with pytest.raises(DomainError) as no_shift:
        take_back(session, closed, [{"product_id": closed.towel.id, "quantity": 1}])
    assert no_shift.value.code == "shift.not_open"
    assert session.scalar(select(func.count()).select_from(ReturnOrder)) == 0
    assert stock(session, shop, shop.towel) == 10


def test_a_retry_returns_the_first_return_and_another_body_is_refused(session: Session) -> None:
    shop = make_shop(session)
    data = body(shop, [{"product_id": shop.towel.id, "quantity": 1}])
    first, created = returns_noreceipt.create(
        session, data=NoReceiptCreate.model_validate(data), actor=shop.cashier
    )
    # The retry may come without the password: the first return stands.
    retry = {**data, "approval": None}
    again, created_again = returns_noreceipt.create(
        session, data=NoReceiptCreate.model_validate(retry), actor=shop.cashier
    )
    assert created and not created_again and again == first
    assert stock(session, shop, shop.towel) == 11
    data["lines"] = [{"product_id": shop.towel.id, "quantity": 2}]
    with pytest.raises(DomainError) as reused:
        returns_noreceipt.create(
            session, data=NoReceiptCreate.model_validate(data), actor=shop.cashier
        )
    assert (reused.value.code, reused.value.status) == ("return.uuid_reused", 409)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_returns_without_receipt_at_once_get_two_numbers(database: Database) -> None:
    with database.write() as session:
        shop = make_shop(session)
    barrier = threading.Barrier(2)
    numbers: list[str] = []

    def attempt() -> None:
        barrier.wait()
        with database.write() as session:
            made, _ = take_back(session, shop, [{"product_id": shop.towel.id, "quantity": 1}])
        numbers.append(made.number)

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(n.rsplit("-", 1)[1] for n in numbers) == ["NR1", "NR2"]
    with database.read() as session:
        assert stock(session, shop, shop.towel) == 12
