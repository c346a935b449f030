"""Receiving (入库) through the service on SQLite and PostgreSQL: the moving-average cost with
known numbers, stock below zero, weighed goods, over-receipt, and two receipts of one order
at once."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.inventory import purchasing, receiving, service, stock_card
from shouyin.inventory.models import StockLevel
from shouyin.inventory.purchasing_models import PurchaseOrderLine, StockCost, Supplier
from shouyin.inventory.purchasing_schemas import OrderCreate, ReceiptCreate
from shouyin.inventory.receiving import moving_average
from shouyin.inventory.schemas import AdjustmentIn
from tests import factories

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


def test_moving_average_arithmetic() -> None:
    assert moving_average(0, None, 10, 200) == 200_000  # the first receipt sets it
    assert moving_average(10, 200_000, 30, 300) == 275_000  # 10 @ ¥2.00 + 30 @ ¥3.00 → ¥2.75
    assert moving_average(-5, 275_000, 10, 100) == 100_000  # nothing on hand to average with
    assert moving_average(2, 100_000, 1, 101) == 100_333  # 100.3333… rounds down
    assert moving_average(1, 100_000, 2, 101) == 100_667  # 100.6666… rounds up
    assert moving_average(1, 1, 1, 0) == 1  # 0.5 milli rounds half up


def _world(db: Database) -> dict[str, Any]:
    with db.write() as session:
        store = factories.make_store(session)
        tea = factories.make_product(session, price=1999)
        rice = factories.make_product(session, price=637, weighed=True)
        supplier = Supplier(code=f"S{uuid.uuid4().hex[:8]}", name="粮油", lead_time_days=2,
                            active=True)  # fmt: skip
        session.add(supplier)
        session.flush()
        manager = factories.make_user(session, role="store_manager", store=store)
        return {"store": store.id, "tea": tea.id, "rice": rice.id, "supplier": supplier.id,
                "actor": factories.principal_of(manager)}  # fmt: skip


def _receive(
    db: Database, w: dict[str, Any], lines: list[tuple[int, int, int]], over: str = "warn",
    **kw: Any,
) -> Any:  # fmt: skip
    data = ReceiptCreate.model_validate({
        "client_uuid": str(uuid.uuid4()), "store_id": w["store"],
        "lines": [{"product_id": p, "quantity": q, "unit_cost": c} for p, q, c in lines], **kw,
    })  # fmt: skip
    with db.write() as session:
        return receiving.receive(session, data=data, actor=w["actor"], over_receipt=over)[0]


def _cost(db: Database, w: dict[str, Any], product: int) -> tuple[int, int | None, int | None]:
    with db.read() as session:
        page = stock_card.card(session, actor=w["actor"], store_id=w["store"], product_id=product)
        return page.on_hand, page.unit_cost_milli, page.value_at_cost


@BOTH
def test_known_numbers_negative_stock_and_weighed_goods(database: Database) -> None:
    w = _world(database)
    _receive(database, w, [(w["tea"], 10, 200)])
    _receive(database, w, [(w["tea"], 30, 300)])
    assert _cost(database, w, w["tea"]) == (40, 275_000, 11000)
    # Sold below zero: the next receipt's cost is the whole average.
    with database.write() as session:
        service.adjust(session, actor=w["actor"], data=AdjustmentIn.model_validate({
            "store_id": w["store"], "kind": "adjustment", "reason": "盘亏",
            "lines": [{"product_id": w["tea"], "quantity": -45}]}))  # fmt: skip
    _receive(database, w, [(w["tea"], 15, 400)])
    assert _cost(database, w, w["tea"]) == (10, 400_000, 4000)
    # Two lines of one product in one receipt average one after the other.
    _receive(database, w, [(w["tea"], 10, 200), (w["tea"], 20, 500)])
    # (10×4.00 + 10×2.00) / 20 = 3.00; (20×3.00 + 20×5.00) / 40 = 4.00
    assert _cost(database, w, w["tea"]) == (40, 400_000, 16000)
    # Weighed: grams at a cost per kg. 1.5 kg @ ¥6.00/kg, then 0.5 kg @ ¥10.00/kg → ¥7.00/kg.
    _receive(database, w, [(w["rice"], 1500, 600)])
    _receive(database, w, [(w["rice"], 500, 1000)])
    assert _cost(database, w, w["rice"]) == (2000, 700_000, 1400)


def _sent_order(db: Database, w: dict[str, Any], quantity: int) -> Any:
    data = OrderCreate.model_validate({
        "client_uuid": str(uuid.uuid4()), "store_id": w["store"], "supplier_id": w["supplier"],
        "lines": [{"product_id": w["tea"], "quantity": quantity, "unit_cost": 100}],
    })  # fmt: skip
    with db.write() as session:
        order, _ = purchasing.create_order(session, data=data, actor=w["actor"])
        return purchasing.send_order(session, order_id=order.id, actor=w["actor"])


@BOTH
def test_over_receipt_block_writes_nothing_and_warn_lists_the_line(database: Database) -> None:
    w = _world(database)
    order = _sent_order(database, w, 10)
    with pytest.raises(DomainError) as caught:
        _receive(database, w, [(w["tea"], 11, 100)], order_id=order.id, over="block")
    assert caught.value.code == "receipt.over_ordered"
    assert _cost(database, w, w["tea"]) == (0, None, None)
    made = _receive(database, w, [(w["tea"], 11, 100)], order_id=order.id, over="warn")
    assert [(x.ordered, x.received) for x in made.warnings] == [(10, 11)]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_receipts_of_one_order_at_once_count_both(database: Database) -> None:
    w = _world(database)
    order = _sent_order(database, w, 10)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def receive() -> None:
        try:
            barrier.wait()
            _receive(database, w, [(w["tea"], 5, 100)], order_id=order.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=receive) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with database.read() as session:
        line = session.scalar(
            select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == order.id)
        )
        assert line is not None and line.received == 10
        assert (
            purchasing.get_order(session, order_id=order.id, actor=w["actor"]).status == "received"
        )
        level = session.get(StockLevel, (w["store"], w["tea"]))
        assert level is not None and level.on_hand == 10
        assert session.get(StockCost, (w["store"], w["tea"])) is not None


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_two_orders_at_once_get_the_next_numbers(database: Database) -> None:
    w = _world(database)
    barrier = threading.Barrier(2)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def create() -> None:
        try:
            barrier.wait()
            numbers.append(_sent_order(database, w, 1).number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(x.rsplit("-", 1)[1] for x in numbers) == ["001", "002"]


@BOTH
def test_a_retry_racing_its_first_receipt_gets_that_receipt(database: Database) -> None:
    w = _world(database)
    data = ReceiptCreate.model_validate({
        "client_uuid": str(uuid.uuid4()), "store_id": w["store"],
        "lines": [{"product_id": w["tea"], "quantity": 5, "unit_cost": 1000}],
    })  # fmt: skip
    barrier = threading.Barrier(2)
    made: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait()
            with database.write() as session:
                view, created = receiving.receive(session, data=data, actor=w["actor"])
            made.append((view.id, created))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({receipt_id for receipt_id, _ in made}) == 1
    assert sorted(created for _, created in made) == [False, True]
    assert _cost(database, w, w["tea"])[0] == 5  # the goods counted once
