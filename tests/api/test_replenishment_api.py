"""Reorder rules, the replenishment list (JSON, CSV), suggested purchase orders and stock
alerts through HTTP, on both databases."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shouyin.inventory.purchasing_models import PurchaseOrder, PurchaseOrderLine
from shouyin.inventory.service import Movement, record_movements
from shouyin.shared.clock import utcnow
from tests import factories
from tests.conftest import AppHarness

pytestmark = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
RULES = "/api/v1/reorder-rules"


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        store = factories.make_store(session)
        other = factories.make_store(session)
        tea = factories.make_product(session, price=2000, stock={store.id: 8})
        water = factories.make_product(session, price=350, stock={store.id: 30})
        soap = factories.make_product(session, price=500, stock={store.id: 3})
        return {"store": store, "other": other, "tea": tea, "water": water, "soap": soap}

    shop: dict[str, Any] = harness.write(build)
    shop["manager"] = harness.client(harness.user("store_manager", shop["store"]))
    shop["cashier"] = harness.client(harness.user("cashier", shop["store"]))
    shop["hq"] = harness.client(harness.user("hq_admin"))
    made = shop["hq"].post(
        "/api/v1/suppliers", json={"code": f"S{uuid.uuid4().hex[:6]}", "name": "华润供应"}
    )
    assert made.status_code == 201, made.text
    shop["supplier"] = made.json()
    return shop


def _sell(
    harness: AppHarness, store_id: int, product_id: int, qty: int, days_ago: int,
    kind: str = "sale",
) -> None:  # fmt: skip
    harness.write(lambda s: record_movements(
        s.connection(), store_id=store_id, movements=[Movement(product_id, -qty)], kind=kind,
        at=utcnow() - timedelta(days=days_ago), user_id=None,
    ))  # fmt: skip


def _rule(shop: dict[str, Any], product: str, **fields: Any) -> Any:
    body = {"store_id": shop["store"].id, "product_id": shop[product].id, **fields}
    return shop["manager"].put(RULES, json=body)


def test_rules_set_change_list_delete(harness: AppHarness) -> None:
    shop = _shop(harness)
    first = _rule(shop, "tea", mode="manual", min_qty=10, max_qty=40)
    assert first.status_code == 201, first.text
    again = _rule(shop, "tea", mode="manual", min_qty=5, max_qty=20,
                  supplier_id=shop["supplier"]["id"])  # fmt: skip
    assert again.status_code == 200 and again.json()["min_qty"] == 5
    body = {"store_id": shop["store"].id, "product_id": shop["tea"].id, "min_qty": 1, "max_qty": 5}
    assert shop["cashier"].put(RULES, json=body).status_code == 403  # reads, cannot set
    listed = shop["manager"].get(RULES, params={"store_id": shop["store"].id}).json()
    assert listed["total"] == 1
    assert listed["items"][0]["sku"] == shop["tea"].sku
    assert listed["items"][0]["supplier_id"] == shop["supplier"]["id"]
    gone = shop["manager"].delete(f"{RULES}/{shop['store'].id}/{shop['tea'].id}")
    assert gone.status_code == 204
    again = shop["manager"].delete(f"{RULES}/{shop['store'].id}/{shop['tea'].id}")
    assert again.status_code == 404


def test_rules_refused(harness: AppHarness) -> None:
    shop = _shop(harness)
    assert _rule(shop, "tea", min_qty=10, max_qty=4).status_code == 422
    body = {"store_id": shop["other"].id, "product_id": shop["tea"].id, "min_qty": 1, "max_qty": 5}
    assert shop["manager"].put(RULES, json=body).status_code == 403
    body = {"store_id": shop["store"].id, "product_id": 2**31 - 1, "min_qty": 1, "max_qty": 5}
    assert shop["manager"].put(RULES, json=body).status_code == 404


def test_list_manual_and_velocity(harness: AppHarness) -> None:
    shop = _shop(harness)
    store_id = shop["store"].id
    # tea: manual 10/40 with 8 on hand → order 32.
    assert _rule(shop, "tea", min_qty=10, max_qty=40,
                 supplier_id=shop["supplier"]["id"]).status_code == 201  # fmt: skip
    # water: by velocity, from sales minus returns of the last 28 days.
    _sell(harness, store_id, shop["water"].id, 50, days_ago=3)
    _sell(harness, store_id, shop["water"].id, 6, days_ago=20)
    _sell(harness, store_id, shop["water"].id, 100, days_ago=40)  # outside the 28 days
    _sell(harness, store_id, shop["water"].id, -14, days_ago=2, kind="return")  # net 42 sold
    harness.write(
        lambda s: record_movements(
            s.connection(),
            store_id=store_id,
            movements=[Movement(shop["water"].id, 100)],
            kind="receipt",
            at=utcnow(),
            user_id=None,
        )
    )  # fmt: skip
    assert _rule(shop, "water", mode="velocity", lead_days=3, safety_days=2,
                 review_days=7).status_code == 201  # fmt: skip
    # soap: manual 2/10 with 3 on hand: above its point, not listed.
    assert _rule(shop, "soap", min_qty=2, max_qty=10).status_code == 201
    got = shop["manager"].get("/api/v1/replenishment", params={"store_id": store_id})
    assert got.status_code == 200, got.text
    items = {x["product_id"]: x for x in got.json()["items"]}
    assert set(items) == {shop["tea"].id, shop["water"].id}
    tea = items[shop["tea"].id]
    assert (tea["on_hand"], tea["reorder_point"], tea["suggested"]) == (8, 10, 32)
    assert tea["supplier_name"] == "华润供应"
    water = items[shop["water"].id]
    # 42 net sold in 28 days: point ⌈42 × 5 / 28⌉ = 8, up to ⌈42 × 12 / 28⌉ = 18;
    # on hand 30 − 50 − 6 − 100 + 14 + 100 = −12.
    assert (water["on_hand"], water["reorder_point"], water["order_up_to"]) == (-12, 8, 18)
    assert water["suggested"] == 30 and water["supplier_id"] is None
    assert water["on_order"] == tea["on_order"] == 0
    by_supplier = (
        shop["manager"]
        .get(
            "/api/v1/replenishment",
            params={"store_id": store_id, "supplier_id": shop["supplier"]["id"]},
        )
        .json()["items"]
    )
    assert [x["product_id"] for x in by_supplier] == [shop["tea"].id]
    csv = shop["manager"].get("/api/v1/replenishment.csv", params={"store_id": store_id})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert f"{shop['tea'].sku},{shop['tea'].name},8,10,40,0,32,华润供应" in csv.text
    other = shop["manager"].get("/api/v1/replenishment", params={"store_id": shop["other"].id})
    assert other.status_code == 403


def test_suggested_purchase_orders(harness: AppHarness) -> None:
    shop = _shop(harness)
    store_id = shop["store"].id
    _rule(shop, "tea", min_qty=10, max_qty=40, supplier_id=shop["supplier"]["id"])
    _rule(shop, "soap", min_qty=5, max_qty=10)  # low, but no supplier
    url = "/api/v1/replenishment/purchase-orders"
    assert shop["cashier"].post(url, json={"store_id": store_id}).status_code == 403
    made = shop["manager"].post(url, json={"store_id": store_id})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["need_supplier"] == [shop["soap"].id]
    assert len(body["orders"]) == 1 and body["orders"][0]["number"].startswith("PO-")
    with harness.db.read() as session:
        order = session.get(PurchaseOrder, body["orders"][0]["id"])
        assert order is not None and order.status == "draft"
        lines = session.scalars(
            select(PurchaseOrderLine).where(PurchaseOrderLine.order_id == order.id)
        ).all()
        assert [(x.product_id, x.quantity) for x in lines] == [(shop["tea"].id, 32)]
    only_soap = shop["manager"].post(url, json={"store_id": store_id,
                                                "product_ids": [shop["soap"].id]})  # fmt: skip
    assert only_soap.json() == {"orders": [], "need_supplier": [shop["soap"].id]}


def test_alerts_scan_acknowledge_resolve(harness: AppHarness) -> None:
    shop = _shop(harness)
    store_id = shop["store"].id
    _rule(shop, "tea", min_qty=10, max_qty=40)
    _rule(shop, "water", min_qty=5, max_qty=50)
    scan = shop["manager"].post("/api/v1/stock-alerts/scan")
    assert scan.status_code == 200 and scan.json() == {"opened": 1, "resolved": 0, "emailed": 0}
    assert shop["manager"].post("/api/v1/stock-alerts/scan").json()["opened"] == 0
    alerts = shop["manager"].get("/api/v1/stock-alerts", params={"store_id": store_id}).json()
    assert [(x["product_id"], x["on_hand"], x["reorder_point"], x["status"]) for x in alerts] == [
        (shop["tea"].id, 8, 10, "open")
    ]
    alert_id = alerts[0]["id"]
    assert shop["cashier"].post(f"/api/v1/stock-alerts/{alert_id}/acknowledge").status_code == 403
    acked = shop["manager"].post(f"/api/v1/stock-alerts/{alert_id}/acknowledge")
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    # Acknowledged is still open: no second alert for the same product.
    assert shop["manager"].post("/api/v1/stock-alerts/scan").json()["opened"] == 0
    harness.write(lambda s: record_movements(
        s.connection(), store_id=store_id, movements=[Movement(shop["tea"].id, 20)],
        kind="receipt", at=utcnow(), user_id=None,
    ))  # fmt: skip
    assert shop["manager"].post("/api/v1/stock-alerts/scan").json()["resolved"] == 1
    resolved = (
        shop["manager"]
        .get("/api/v1/stock-alerts", params={"store_id": store_id, "status": "resolved"})
        .json()
    )
    assert [x["id"] for x in resolved] == [alert_id]
    assert shop["manager"].post("/api/v1/stock-alerts/999999/acknowledge").status_code == 404


def test_office_page_rule_form_check_now_and_orders(harness: AppHarness) -> None:
    shop = _shop(harness)
    store_id, client = shop["store"].id, shop["manager"]
    form = {"store_id": str(store_id), "code": shop["tea"].sku, "mode": "manual",
            "min_qty": "10", "max_qty": "40", "lead_days": "3", "safety_days": "2",
            "review_days": "7", "supplier_id": str(shop["supplier"]["id"])}  # fmt: skip
    saved = client.post("/office/replenishment/rules", data=form)
    assert saved.status_code == 303, saved.text
    bad = client.post("/office/replenishment/rules", data={**form, "max_qty": "x"})
    assert bad.status_code == 422 and "reorder_rule.form_invalid" in bad.text
    unknown = client.post("/office/replenishment/rules", data={**form, "code": "NOPE"})
    assert unknown.status_code == 404
    checked = client.post("/office/replenishment/scan", data={"store_id": str(store_id)})
    assert checked.status_code == 303 and "done=scan-1-0" in checked.headers["location"]
    page = client.get(f"/office/replenishment?store_id={store_id}")
    assert page.status_code == 200
    assert page.text.count(f'data-product="{shop["tea"].id}"') == 3  # alert, list, rule
    assert "在途" in page.text  # the list says what is already on its way
    edit = client.get(f"/office/replenishment?store_id={store_id}&edit={shop['tea'].id}")
    assert f'name="code" value="{shop["tea"].sku}"' in edit.text
    assert 'name="max_qty" type="number" min="0" value="40"' in edit.text
    made = client.post("/office/replenishment/purchase-orders", data={"store_id": str(store_id)})
    assert made.status_code == 303 and "done=orders-1-0" in made.headers["location"]
    assert shop["cashier"].post("/office/replenishment/scan", data={}).status_code == 403
    gone = client.post("/office/replenishment/rules", data={**form, "delete": "1"})
    assert gone.status_code == 303
    assert shop["manager"].get(RULES, params={"store_id": store_id}).json()["total"] == 0
