"""Stock on hand and manual adjustments and damage; receipts go through goods receipts."""

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


def test_adjustment_and_damage_move_on_hand_and_show_on_the_stock_card(
    harness: AppHarness,
) -> None:
    store, product = _setup(harness)
    client = harness.client(harness.user("store_manager", store))
    for kind, qty in (("adjustment", 20), ("damage", 3), ("adjustment", -2)):
        body = {
            "store_id": store.id,
            "kind": kind,
            "reason": "到货",
            "lines": [{"product_id": product.id, "quantity": qty}],
        }
        assert client.post("/api/v1/stock/adjustments", json=body).status_code == 201
    card = client.get(f"/api/v1/stock/{store.id}/{product.id}").json()
    assert card["on_hand"] == 5 + 20 - 3 - 2
    assert [m["kind"] for m in card["movements"]][:3] == ["adjustment", "damage", "adjustment"]


def test_a_receipt_is_no_adjustment(harness: AppHarness) -> None:
    """Goods in without a cost would skip the moving-average cost: refused, nothing moves."""
    store, product = _setup(harness)
    manager = harness.client(harness.user("store_manager", store))
    body = {
        "store_id": store.id,
        "kind": "receipt",
        "reason": "到货",
        "lines": [{"product_id": product.id, "quantity": 20}],
    }
    refused = manager.post("/api/v1/stock/adjustments", json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "request.invalid"
    assert "goods-receipts" in str(refused.json()["details"]["errors"])
    for kind in ("transfer_in", "stocktake", "sale"):
        wrong = manager.post("/api/v1/stock/adjustments", json={**body, "kind": kind})
        assert wrong.status_code == 422, kind
    assert manager.get(f"/api/v1/stock/{store.id}/{product.id}").json()["on_hand"] == 5


def test_cashier_cannot_adjust_and_bad_lines_write_nothing(harness: AppHarness) -> None:
    store, product = _setup(harness)
    body = {
        "store_id": store.id,
        "kind": "damage",
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
