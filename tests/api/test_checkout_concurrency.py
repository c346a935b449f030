"""Concurrent tills: retries never double an order, stock never loses a sale."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.sales.models import Order
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)


def _setup(harness: AppHarness) -> tuple[Any, Any, Any]:
    def build(session: Any) -> tuple[Any, Any]:
        store = factories.make_store(session)
        product = factories.make_product(session, price=100, stock={store.id: 1000})
        return store, product

    store, product = harness.write(build)
    return store, product, harness.user("cashier", store)


def _body(store: Any, product: Any, client_uuid: str) -> dict[str, Any]:
    return {
        "client_uuid": client_uuid, "store_id": store.id,
        "lines": [{"product_id": product.id, "quantity": 1}],
        "payments": [{"method": "cash", "amount": 100}],
    }  # fmt: skip


@BOTH
def test_simultaneous_retries_of_one_order_make_one_order(harness: AppHarness) -> None:
    store, product, cashier = _setup(harness)
    body = _body(store, product, str(uuid.uuid4()))
    clients = [harness.client(cashier) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda c: c.post("/api/v1/orders", json=body), clients))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    with harness.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        moved = session.scalar(
            select(func.sum(StockMovement.quantity)).where(StockMovement.kind == "sale")
        )
    assert moved == -1


@BOTH
def test_concurrent_sales_all_land_and_stock_adds_up(harness: AppHarness) -> None:
    store, product, cashier = _setup(harness)
    clients = [harness.client(cashier) for _ in range(4)]
    bodies = [_body(store, product, str(uuid.uuid4())) for _ in range(40)]
    with ThreadPoolExecutor(4) as pool:
        responses = list(
            pool.map(lambda i: clients[i % 4].post("/api/v1/orders", json=bodies[i]), range(40))
        )
    assert all(r.status_code == 201 for r in responses), [
        r.text for r in responses if r.status_code != 201
    ]
    numbers = {r.json()["number"] for r in responses}
    assert len(numbers) == 40
    with harness.db.read() as session:
        level = session.scalar(
            select(StockLevel.on_hand).where(StockLevel.product_id == product.id)
        )
    assert level == 1000 - 40
