"""Stock on hand and manual receipts, adjustments and damage."""

from __future__ import annotations

from typing import Any

from tests import factories
from tests.conftest import AppHarness


def _setup(harness: AppHarness) -> tuple[Any, Any]:
    return harness.write(
        lambda s: (
            (store := factories.make_store(s)),
            factories.make_product(s, stock={store.id: 5}),
        )
    )  # type: ignore[no-any-return]


def test_receipt_and_damage_move_on_hand_and_show_on_the_stock_card(harness: AppHarness) -> None:
    store, product = _setup(harness)
    client = harness.client(harness.user("store_manager", store))
    for kind, qty in (("receipt", 20), ("damage", 3), ("adjustment", -2)):
        body = {
            "store_id": store.id,
            "kind": kind,
            "reason": "到货",
            "lines": [{"product_id": product.id, "quantity": qty}],
        }
        assert client.post("/api/v1/stock/adjustments", json=body).status_code == 201
    card = client.get(f"/api/v1/stock/{store.id}/{product.id}").json()
    assert card["on_hand"] == 5 + 20 - 3 - 2
    assert [m["kind"] for m in card["movements"]][:3] == ["adjustment", "damage", "receipt"]


def test_cashier_cannot_adjust_and_bad_lines_write_nothing(harness: AppHarness) -> None:
    store, product = _setup(harness)
    body = {
        "store_id": store.id,
        "kind": "receipt",
        "reason": "x",
        "lines": [{"product_id": product.id, "quantity": 1}],
    }
    assert (
        harness.client(harness.user("cashier", store))
        .post("/api/v1/stock/adjustments", json=body)
        .status_code
        == 403
    )
    manager = harness.client(harness.user("store_manager", store))
    body["lines"] = [
        {"product_id": product.id, "quantity": 1},
        {"product_id": 999999, "quantity": 1},
    ]
    response = manager.post("/api/v1/stock/adjustments", json=body)
    assert response.status_code == 404 and response.json()["code"] == "catalog.product_unknown"
    body["lines"] = [{"product_id": product.id, "quantity": -1}]
    assert (
        manager.post("/api/v1/stock/adjustments", json=body).json()["code"]
        == "stock.quantity_invalid"
    )
    assert manager.get(f"/api/v1/stock/{store.id}/{product.id}").json()["on_hand"] == 5
