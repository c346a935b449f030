"""The negative-stock setting at checkout: "warn" sells and says so, "block" refuses and
writes nothing — exactly, even when two tills sell the last unit at once."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.sales import pricing, service
from shouyin.sales.models import Order, OrderLine, Payment
from shouyin.sales.schemas import OrderCreate
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
BARRIER_TIMEOUT_S = 20.0


def _shop(session: Session) -> dict[str, Any]:
    store = factories.make_store(session)
    water = factories.make_product(session, price=350, stock={store.id: 1})
    chips = factories.make_product(session, price=1290, stock={store.id: 5})
    cashier = factories.make_user(session, role="cashier", store=store)
    return {"store": store.id, "water": water.id, "water_name": water.name, "chips": chips.id,
            "cashier": factories.principal_of(cashier), "cashier_user": cashier}  # fmt: skip


def _order(shop: dict[str, Any], water: int = 2, chips: int = 1) -> dict[str, Any]:
    lines = [{"product_id": shop["water"], "quantity": water},
             {"product_id": shop["chips"], "quantity": chips}]  # fmt: skip
    return {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"],
        "lines": [x for x in lines if x["quantity"]],
        "payments": [{"method": "cash", "amount": 350 * water + 1290 * chips}],
    }  # fmt: skip


def _sell(db: Database, shop: dict[str, Any], body: dict[str, Any], mode: str) -> Any:
    with db.write() as session:
        order, _ = service.checkout(
            session, data=OrderCreate.model_validate(body), actor=shop["cashier"],
            discount_audit_percent=100, negative_stock=mode,
        )  # fmt: skip
    return order


def _written(db: Database) -> tuple[int, ...]:
    with db.read() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Order, OrderLine, Payment, StockMovement)
        )


def _on_hand(db: Database, store_id: int, product_id: int) -> int:
    with db.read() as session:
        value = session.scalar(
            select(StockLevel.on_hand).where(
                StockLevel.store_id == store_id, StockLevel.product_id == product_id
            )
        )
    return value or 0


def test_warn_sells_below_zero_and_lists_the_products(database: Database) -> None:
    with database.write() as session:
        shop = _shop(session)
    order = _sell(database, shop, _order(shop), "warn")
    assert [w.model_dump() for w in order.stock_warnings] == [
        {"product_id": shop["water"], "name": shop["water_name"], "on_hand": -1}
    ]
    assert _on_hand(database, shop["store"], shop["water"]) == -1
    # A sale that stays above zero carries no warning.
    calm = _sell(database, shop, _order(shop, water=0, chips=1), "warn")
    assert calm.stock_warnings == []


def test_block_refuses_the_sale_and_writes_nothing(database: Database) -> None:
    with database.write() as session:
        shop = _shop(session)
    before = _written(database)
    with pytest.raises(DomainError) as caught:
        _sell(database, shop, _order(shop), "block")
    assert caught.value.status == 422 and caught.value.code == "stock.insufficient"
    assert caught.value.details["items"] == [
        {"product_id": shop["water"], "name": shop["water_name"], "on_hand": 1, "requested": 2}
    ]
    assert shop["water_name"] in caught.value.message
    assert _written(database) == before
    assert _on_hand(database, shop["store"], shop["water"]) == 1
    # The last unit itself may be sold.
    order = _sell(database, shop, _order(shop, water=1), "block")
    assert order.stock_warnings == []
    assert _on_hand(database, shop["store"], shop["water"]) == 0


def test_two_tills_selling_the_last_unit_at_once_one_wins(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL both sales have priced the cart before either writes; the stock UPDATE
    of the second waits for the first and then sees the level it left."""
    with database.write() as session:
        shop = _shop(session)
    bodies = [_order(shop, water=1, chips=0) for _ in range(2)]
    start = threading.Barrier(2)
    if not database.is_sqlite:
        overlap = threading.Barrier(2, timeout=BARRIER_TIMEOUT_S)
        _price = pricing.price_cart

        def price_then_wait(*args: Any, **kw: Any) -> Any:
            priced = _price(*args, **kw)
            overlap.wait()  # both sales are past their reads
            return priced

        monkeypatch.setattr("shouyin.sales.service.price_cart", price_then_wait)

    def run(body: dict[str, Any]) -> str:
        start.wait(BARRIER_TIMEOUT_S)
        try:
            _sell(database, shop, body, "block")
        except DomainError as exc:
            return exc.code
        return "created"

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, bodies))
    assert sorted(results) == ["created", "stock.insufficient"]
    assert _on_hand(database, shop["store"], shop["water"]) == 0
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        ledger = session.scalar(
            select(func.sum(StockMovement.quantity)).where(
                StockMovement.store_id == shop["store"], StockMovement.product_id == shop["water"]
            )
        )
    assert ledger == 0


@BOTH
def test_the_api_answers_with_stock_warnings_by_default(harness: AppHarness) -> None:
    shop = harness.write(_shop)
    client = harness.client(shop["cashier_user"])
    response = client.post("/api/v1/orders", json=_order(shop))
    assert response.status_code == 201, response.text
    assert response.json()["stock_warnings"] == [
        {"product_id": shop["water"], "name": shop["water_name"], "on_hand": -1}
    ]
    # Reading the order back later carries no warning: it was news at the time of the sale.
    again = client.get(f"/api/v1/orders/{response.json()['id']}")
    assert again.status_code == 200 and again.json()["stock_warnings"] == []


@BOTH
def test_the_api_refuses_when_the_setting_blocks(harness: AppHarness) -> None:
    settings = harness.app.state.settings
    harness.app.state.settings = settings.model_copy(update={"negative_stock": "block"})
    shop = harness.write(_shop)
    client = harness.client(shop["cashier_user"])
    before = _written(harness.db)
    response = client.post("/api/v1/orders", json=_order(shop))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "stock.insufficient"
    assert response.json()["details"]["items"][0]["on_hand"] == 1
    assert _written(harness.db) == before
