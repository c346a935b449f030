"""Suppliers, purchase orders, goods receipts (入库) and the stock card through HTTP, on both
databases: every rule and bad input, and nothing half-written."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from shouyin.audit.models import AuditEntry
from shouyin.inventory.purchasing_models import GoodsReceipt, GoodsReceiptLine
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
pytestmark = BOTH


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        store = factories.make_store(session)
        other = factories.make_store(session)
        water = factories.make_product(session, price=350)
        tea = factories.make_product(session, price=2000, stock={store.id: 4})
        rice = factories.make_product(session, price=600, weighed=True)
        return {"store": store, "other": other, "water": water, "tea": tea, "rice": rice}

    shop: dict[str, Any] = harness.write(build)
    shop["manager"] = harness.client(harness.user("store_manager", shop["store"]))
    shop["hq"] = harness.client(harness.user("hq_admin"))
    supplier = shop["hq"].post(
        "/api/v1/suppliers", json={"code": f"S{uuid.uuid4().hex[:6]}", "name": "华润供应"}
    )
    assert supplier.status_code == 201, supplier.text
    shop["supplier"] = supplier.json()
    return shop


def _order(shop: dict[str, Any], lines: list[tuple[Any, int, int]], send: bool = True) -> Any:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "supplier_id": shop["supplier"]["id"],
        "lines": [{"product_id": p.id, "quantity": q, "unit_cost": c} for p, q, c in lines],
    }  # fmt: skip
    made = shop["manager"].post("/api/v1/purchase-orders", json=body)
    assert made.status_code == 201, made.text
    if send:
        sent = shop["manager"].post(f"/api/v1/purchase-orders/{made.json()['id']}/send")
        assert sent.status_code == 200, sent.text
        return sent.json()
    return made.json()


def _receive(shop: dict[str, Any], lines: list[dict[str, Any]], **extra: Any) -> Any:
    body = {"client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id, "lines": lines,
            **extra}  # fmt: skip
    return shop["manager"].post("/api/v1/goods-receipts", json=body)


def _card(shop: dict[str, Any], product: Any, **query: Any) -> dict[str, Any]:
    params = {"store_id": shop["store"].id, **query}
    response = shop["manager"].get(f"/api/v1/stock/{product.id}/card", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _receipts(harness: AppHarness) -> tuple[int, int]:
    def count(session: Any) -> tuple[int, int]:
        return (
            session.scalar(select(func.count()).select_from(GoodsReceipt)),
            session.scalar(select(func.count()).select_from(GoodsReceiptLine)),
        )

    return harness.write(count)  # type: ignore[no-any-return]


def test_suppliers_search_change_deactivate_and_rules(harness: AppHarness) -> None:
    shop = _shop(harness)
    manager, code = shop["manager"], shop["supplier"]["code"]
    dup = manager.post("/api/v1/suppliers", json={"code": code.lower(), "name": "x"})
    assert dup.status_code == 409 and dup.json()["code"] == "supplier.code_taken"
    bad = manager.post("/api/v1/suppliers", json={"code": "L1", "name": "x", "lead_time_days": 366})
    assert bad.status_code == 422
    made = manager.post(
        "/api/v1/suppliers", json={"code": "FRESH1", "name": "鲜果行", "lead_time_days": 0}
    )
    assert made.status_code == 201 and made.json()["lead_time_days"] == 0
    found = manager.get("/api/v1/suppliers", params={"q": "鲜果"}).json()
    assert [s["code"] for s in found["items"]] == ["FRESH1"]
    sid = made.json()["id"]
    # The list is the chain's: a store manager adds suppliers, only HQ changes them.
    for refused in (
        manager.patch(f"/api/v1/suppliers/{sid}", json={"name": "鲜果"}),
        manager.post(f"/api/v1/suppliers/{sid}/deactivate"),
    ):
        assert refused.status_code == 403 and refused.json()["code"] == "supplier.hq_only"
        assert "总部" in refused.json()["message"]  # zh_CN by default
    hq = shop["hq"]
    changed = hq.patch(f"/api/v1/suppliers/{sid}", json={"phone": "021-5555", "name": "鲜果"})
    assert changed.json()["phone"] == "021-5555" and changed.json()["name"] == "鲜果"
    taken = hq.patch(f"/api/v1/suppliers/{sid}", json={"code": code})
    assert taken.status_code == 409
    off = hq.post(f"/api/v1/suppliers/{sid}/deactivate")
    assert off.json()["active"] is False
    assert (
        manager.get("/api/v1/suppliers", params={"active": True, "q": "FRESH"}).json()["items"]
        == []
    )
    cashier = harness.client(harness.user("cashier", shop["store"]))
    assert cashier.post("/api/v1/suppliers", json={"code": "C9", "name": "x"}).status_code == 403
    # An inactive supplier takes no new orders.
    body = {"client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id, "supplier_id": sid,
            "lines": [{"product_id": shop["water"].id, "quantity": 1, "unit_cost": 1}]}  # fmt: skip
    refused = manager.post("/api/v1/purchase-orders", json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "supplier.inactive"


def test_order_draft_change_send_cancel_and_idempotent_create(harness: AppHarness) -> None:
    shop = _shop(harness)
    manager = shop["manager"]
    body = {"client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
            "supplier_id": shop["supplier"]["id"],
            "lines": [{"product_id": shop["water"].id, "quantity": 24, "unit_cost": 120}]}  # fmt: skip
    first = manager.post("/api/v1/purchase-orders", json=body)
    assert first.status_code == 201
    order = first.json()
    assert order["status"] == "draft" and order["number"].startswith(f"PO-{shop['store'].code}-")
    assert order["number"].endswith("-001") and order["total_cost"] == 24 * 120
    again = manager.post("/api/v1/purchase-orders", json=body)
    assert again.status_code == 200 and again.json()["id"] == order["id"]
    url = f"/api/v1/purchase-orders/{order['id']}"
    lines = [{"product_id": shop["water"].id, "quantity": 48, "unit_cost": 110},
             {"product_id": shop["rice"].id, "quantity": 5000, "unit_cost": 300}]  # fmt: skip
    changed = manager.patch(url, json={"lines": lines, "note": "周五到"}).json()
    assert [x["quantity"] for x in changed["lines"]] == [48, 5000]
    assert changed["total_cost"] == 48 * 110 + 1500 and changed["note"] == "周五到"
    assert manager.post(f"{url}/send").json()["status"] == "sent"
    assert manager.patch(url, json={"note": "x"}).json()["code"] == "purchase_order.not_draft"
    assert manager.post(f"{url}/send").status_code == 409
    assert manager.post(f"{url}/cancel").json()["status"] == "cancelled"
    assert manager.post(f"{url}/cancel").status_code == 409
    # Filters.
    listed = manager.get("/api/v1/purchase-orders", params={"status": "cancelled"}).json()
    assert [x["id"] for x in listed["items"]] == [order["id"]]
    assert manager.get("/api/v1/purchase-orders", params={"status": "sent"}).json()["total"] == 0
    by_supplier = {"supplier_id": shop["supplier"]["id"]}
    assert manager.get("/api/v1/purchase-orders", params=by_supplier).json()["total"] == 1
    second = _order(shop, [(shop["tea"], 1, 1)], send=False)
    assert second["number"].endswith("-002")


def test_order_bad_input_and_store_scoping(harness: AppHarness) -> None:
    shop = _shop(harness)
    manager = shop["manager"]
    base = {"store_id": shop["store"].id, "supplier_id": shop["supplier"]["id"]}

    def post(**over: Any) -> Any:
        body = {"client_uuid": str(uuid.uuid4()), **base,
                "lines": [{"product_id": shop["water"].id, "quantity": 1, "unit_cost": 1}],
                **over}  # fmt: skip
        return manager.post("/api/v1/purchase-orders", json=body)

    assert post(lines=[{"product_id": 999999, "quantity": 1, "unit_cost": 1}]).status_code == 404
    assert (
        post(lines=[{"product_id": shop["water"].id, "quantity": 0, "unit_cost": 1}]).status_code
        == 422
    )
    assert (
        post(lines=[{"product_id": shop["water"].id, "quantity": 1, "unit_cost": -1}]).status_code
        == 422
    )
    assert post(lines=[]).status_code == 201  # an empty draft: lines are added on its page
    two = [{"product_id": shop["water"].id, "quantity": 1, "unit_cost": 1}] * 2
    assert post(lines=two).json()["code"] == "purchase_order.duplicate"
    assert post(supplier_id=999999).status_code == 404
    assert post(store_id=shop["other"].id).status_code == 403
    # HQ orders for any store; the other store's manager neither sees nor sends it.
    hq_order = shop["hq"].post(
        "/api/v1/purchase-orders",
        json={"client_uuid": str(uuid.uuid4()), "store_id": shop["other"].id,
              "supplier_id": shop["supplier"]["id"],
              "lines": [{"product_id": shop["water"].id, "quantity": 1, "unit_cost": 1}]},
    )  # fmt: skip
    assert hq_order.status_code == 201
    oid = hq_order.json()["id"]
    assert manager.get(f"/api/v1/purchase-orders/{oid}").status_code == 404
    assert manager.post(f"/api/v1/purchase-orders/{oid}/send").status_code == 404
    assert (
        manager.get("/api/v1/purchase-orders", params={"store_id": shop["other"].id}).status_code
        == 403
    )
    assert all(o["store_id"] == shop["store"].id
               for o in manager.get("/api/v1/purchase-orders").json()["items"])  # fmt: skip
    assert (
        shop["hq"]
        .get("/api/v1/purchase-orders", params={"store_id": shop["other"].id})
        .json()["total"]
        == 1
    )


def _actions(harness: AppHarness, order_id: int) -> list[str]:
    def read(session: Any) -> list[str]:
        query = (
            select(AuditEntry.action)
            .where(AuditEntry.entity == "purchase_order", AuditEntry.entity_id == str(order_id))
            .order_by(AuditEntry.id)
        )
        return list(session.scalars(query))

    return harness.write(read)  # type: ignore[no-any-return]


def test_draft_lines_added_changed_removed_replaced_then_sent(harness: AppHarness) -> None:
    shop = _shop(harness)
    manager, water, tea, rice = shop["manager"], shop["water"], shop["tea"], shop["rice"]
    # The store paid ¥1.25 a bottle so far: a line added without a cost starts there.
    got = _receive(shop, [{"product_id": water.id, "quantity": 4, "unit_cost": 125}])
    assert got.status_code == 201, got.text
    draft = _order(shop, [], send=False)
    assert draft["lines"] == [] and draft["total_cost"] == 0
    url = f"/api/v1/purchase-orders/{draft['id']}"
    empty = manager.post(f"{url}/send")
    assert empty.status_code == 409 and empty.json()["code"] == "purchase_order.empty"

    added = manager.post(f"{url}/lines", json={"product_id": water.id})
    assert added.status_code == 201, added.text
    assert [(x["quantity"], x["unit_cost"]) for x in added.json()["lines"]] == [(1, 125)]
    tea_line = manager.post(f"{url}/lines", json={"product_id": tea.id, "quantity": 3,
                                                   "unit_cost": 1500})  # fmt: skip
    assert tea_line.json()["total_cost"] == 125 + 4500
    twice = manager.post(f"{url}/lines", json={"product_id": water.id})
    assert twice.status_code == 409 and twice.json()["code"] == "purchase_order.line_exists"
    assert manager.post(f"{url}/lines", json={"product_id": 999999}).status_code == 404
    line_id = {x["product_id"]: x["id"] for x in tea_line.json()["lines"]}
    water_url = f"{url}/lines/{line_id[water.id]}"
    for bad in ({"quantity": 0}, {"unit_cost": -1}, {"quantity": "2"}, {"quantity": True},
                {"price": 1}):  # fmt: skip
        assert manager.patch(water_url, json=bad).status_code == 422, bad
    changed = manager.patch(water_url, json={"quantity": 24, "unit_cost": 110})
    assert changed.status_code == 200, changed.text
    assert changed.json()["total_cost"] == 24 * 110 + 4500
    removed = manager.delete(f"{url}/lines/{line_id[tea.id]}")
    assert removed.status_code == 200 and len(removed.json()["lines"]) == 1
    assert manager.delete(f"{url}/lines/{line_id[tea.id]}").status_code == 404

    replaced = manager.put(f"{url}/lines", json={"lines": [
        {"product_id": rice.id, "quantity": 2500, "unit_cost": 400},
        {"product_id": water.id, "quantity": 12, "unit_cost": 100}]})  # fmt: skip
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["total_cost"] == 1000 + 1200
    dup = [{"product_id": rice.id, "quantity": 1, "unit_cost": 1}] * 2
    assert manager.put(f"{url}/lines", json={"lines": dup}).status_code == 422
    assert len(manager.get(url).json()["lines"]) == 2  # nothing half-written

    sent = manager.post(f"{url}/send")
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    first = sent.json()["lines"][0]["id"]
    for response in (
        manager.post(f"{url}/lines", json={"product_id": tea.id}),
        manager.patch(f"{url}/lines/{first}", json={"quantity": 5}),
        manager.delete(f"{url}/lines/{first}"),
        manager.put(f"{url}/lines", json={"lines": []}),
    ):
        assert response.status_code == 409 and response.json()["code"] == "purchase_order.not_draft"
    assert manager.get(url).json()["lines"] == sent.json()["lines"]
    assert _actions(harness, draft["id"]) == [
        "purchase_order.create", "purchase_order.line_add", "purchase_order.line_add",
        "purchase_order.line_update", "purchase_order.line_remove",
        "purchase_order.lines_replace", "purchase_order.sent",
    ]  # fmt: skip


def test_draft_lines_belong_to_their_order_and_store(harness: AppHarness) -> None:
    shop = _shop(harness)
    water = shop["water"]
    mine = _order(shop, [(water, 1, 100)], send=False)
    other = _order(shop, [(water, 2, 100)], send=False)
    foreign = f"/api/v1/purchase-orders/{mine['id']}/lines/{other['lines'][0]['id']}"
    assert shop["manager"].patch(foreign, json={"quantity": 9}).status_code == 404
    assert shop["manager"].delete(foreign).status_code == 404
    elsewhere = harness.client(harness.user("store_manager", shop["other"]))
    url = f"/api/v1/purchase-orders/{mine['id']}/lines"
    assert elsewhere.post(url, json={"product_id": water.id}).status_code == 404
    cashier = harness.client(harness.user("cashier", shop["store"]))
    assert cashier.post(url, json={"product_id": water.id}).status_code == 403
    assert shop["manager"].put(url, json={"lines": []}).json()["lines"] == []
    emptied = shop["manager"].get(f"/api/v1/purchase-orders/{mine['id']}").json()
    assert emptied["lines"] == [] and emptied["status"] == "draft"


def test_receiving_a_po_partly_then_fully_with_moving_average_cost(harness: AppHarness) -> None:
    shop = _shop(harness)
    water, rice = shop["water"], shop["rice"]
    order = _order(shop, [(water, 40, 300), (rice, 2000, 500)])
    lines = {x["product_id"]: x["id"] for x in order["lines"]}
    # Without a PO first: 10 @ ¥2.00.
    loose = _receive(shop, [{"product_id": water.id, "quantity": 10, "unit_cost": 200}],
                     supplier_id=shop["supplier"]["id"])  # fmt: skip
    assert loose.status_code == 201, loose.text
    assert loose.json()["number"].startswith(f"GR-{shop['store'].code}-")
    assert _card(shop, water)["unit_cost_milli"] == 200_000
    part = _receive(shop, [{"product_id": water.id, "quantity": 30, "unit_cost": 300,
                            "order_line_id": lines[water.id]}], order_id=order["id"])  # fmt: skip
    assert part.status_code == 201 and part.json()["warnings"] == []
    detail = shop["manager"].get(f"/api/v1/purchase-orders/{order['id']}").json()
    assert detail["status"] == "partly_received"
    assert [(x["received"], x["outstanding"]) for x in detail["lines"]] == [(30, 10), (0, 2000)]
    card = _card(shop, water)
    # (10 × 2.00 + 30 × 3.00) / 40 = ¥2.75
    assert card["on_hand"] == 40 and card["unit_cost_milli"] == 275_000
    assert card["value_at_cost"] == 11000
    # The rest; the order line is found by product when not named.
    rest = _receive(shop, [{"product_id": water.id, "quantity": 10, "unit_cost": 300},
                           {"product_id": rice.id, "quantity": 2000, "unit_cost": 500}],
                    order_id=order["id"])  # fmt: skip
    assert rest.status_code == 201, rest.text
    assert rest.json()["total_cost"] == 3000 + 1000
    detail = shop["manager"].get(f"/api/v1/purchase-orders/{order['id']}").json()
    assert detail["status"] == "received"
    assert all(x["outstanding"] == 0 for x in detail["lines"])
    # (40 × 2750 + 10 × 3000) / 50 = 2800 milli-yuan... in milli-fen: 280_000
    assert _card(shop, water)["unit_cost_milli"] == 280_000
    rice_card = _card(shop, rice)
    assert rice_card["on_hand"] == 2000 and rice_card["value_at_cost"] == 1000  # 2 kg × ¥5
    listed = shop["manager"].get("/api/v1/goods-receipts", params={"order_id": order["id"]})
    assert listed.json()["total"] == 2
    got = shop["manager"].get(f"/api/v1/goods-receipts/{rest.json()['id']}").json()
    assert got["order_number"] == order["number"] and len(got["lines"]) == 2
    # A received order takes nothing more and cannot be cancelled.
    closed = _receive(shop, [{"product_id": water.id, "quantity": 1, "unit_cost": 1}],
                      order_id=order["id"])  # fmt: skip
    assert closed.status_code == 422 and closed.json()["code"] == "receipt.order_not_open"
    cancel = shop["manager"].post(f"/api/v1/purchase-orders/{order['id']}/cancel")
    assert cancel.status_code == 409
    audit = harness.write(
        lambda s: s.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "goods_receipt.create")
        )
    )
    assert audit == 3


def test_over_receipt_warns_or_blocks(harness: AppHarness) -> None:
    shop = _shop(harness)
    water = shop["water"]
    order = _order(shop, [(water, 10, 100)])
    over = [{"product_id": water.id, "quantity": 12, "unit_cost": 100}]
    harness.app.state.settings = harness.app.state.settings.model_copy(
        update={"over_receipt": "block"}
    )
    before = _receipts(harness)
    blocked = _receive(shop, over, order_id=order["id"])
    assert blocked.status_code == 422 and blocked.json()["code"] == "receipt.over_ordered"
    assert blocked.json()["message"].startswith("有 1 行的入库数量超过了采购数量")
    assert blocked.json()["details"]["lines"][0]["received"] == 12
    assert _receipts(harness) == before and _card(shop, water)["on_hand"] == 0
    harness.app.state.settings = harness.app.state.settings.model_copy(
        update={"over_receipt": "warn"}
    )
    warned = _receive(shop, over, order_id=order["id"])
    assert warned.status_code == 201
    assert warned.json()["warnings"] == [
        {"order_line_id": order["lines"][0]["id"], "product_id": water.id, "ordered": 10,
         "received": 12}
    ]  # fmt: skip
    detail = shop["manager"].get(f"/api/v1/purchase-orders/{order['id']}").json()
    assert detail["status"] == "received" and detail["lines"][0]["outstanding"] == 0


def test_receipt_bad_input_writes_nothing(harness: AppHarness) -> None:
    shop = _shop(harness)
    water, tea = shop["water"], shop["tea"]
    order = _order(shop, [(water, 10, 100)])
    draft = _order(shop, [(water, 10, 100)], send=False)
    cancelled = _order(shop, [(water, 10, 100)])
    shop["manager"].post(f"/api/v1/purchase-orders/{cancelled['id']}/cancel")
    other = shop["hq"].post(
        "/api/v1/purchase-orders",
        json={"client_uuid": str(uuid.uuid4()), "store_id": shop["other"].id,
              "supplier_id": shop["supplier"]["id"],
              "lines": [{"product_id": water.id, "quantity": 1, "unit_cost": 1}]},
    ).json()  # fmt: skip
    shop["hq"].post(f"/api/v1/purchase-orders/{other['id']}/send")
    good = {"product_id": water.id, "quantity": 1, "unit_cost": 100}
    before = _receipts(harness)
    cases = [
        ([good, {"product_id": 999999, "quantity": 1, "unit_cost": 1}], {}, 404,
         "catalog.product_unknown"),
        ([{**good, "quantity": 0}], {}, 422, None),
        ([{**good, "unit_cost": -5}], {}, 422, None),
        ([good], {"order_id": draft["id"]}, 422, "receipt.order_not_open"),
        ([good], {"order_id": cancelled["id"]}, 422, "receipt.order_not_open"),
        ([good], {"order_id": other["id"]}, 422, "receipt.order_other_store"),
        ([good], {"order_id": 999999}, 404, "purchase_order.not_found"),
        ([good, {"product_id": tea.id, "quantity": 1, "unit_cost": 1}], {"order_id": order["id"]},
         422, "receipt.line_not_on_order"),
        ([good, good], {"order_id": order["id"]}, 422, "receipt.line_duplicate"),
        ([good], {"supplier_id": 999999}, 404, "supplier.not_found"),
        ([{**good, "order_line_id": order["lines"][0]["id"]}], {}, 422,
         "receipt.line_without_order"),
    ]  # fmt: skip
    for lines, extra, status, code in cases:
        response = _receive(shop, lines, **extra)
        assert response.status_code == status, (lines, extra, response.text)
        if code:
            assert response.json()["code"] == code
    assert _receipts(harness) == before
    assert _card(shop, water)["on_hand"] == 0
    detail = shop["manager"].get(f"/api/v1/purchase-orders/{order['id']}").json()
    assert detail["status"] == "sent" and detail["lines"][0]["received"] == 0
    # Another store's stock is not this manager's to receive.
    body = {"client_uuid": str(uuid.uuid4()), "store_id": shop["other"].id, "lines": [good]}
    assert shop["manager"].post("/api/v1/goods-receipts", json=body).status_code == 403
    cashier = harness.client(harness.user("cashier", shop["store"]))
    assert (
        cashier.post(
            "/api/v1/goods-receipts", json={**body, "store_id": shop["store"].id}
        ).status_code
        == 403
    )


def test_receipt_retry_returns_the_first_and_moves_stock_once(harness: AppHarness) -> None:
    shop = _shop(harness)
    body = {"client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
            "lines": [{"product_id": shop["water"].id, "quantity": 6, "unit_cost": 100}]}  # fmt: skip
    first = shop["manager"].post("/api/v1/goods-receipts", json=body)
    again = shop["manager"].post("/api/v1/goods-receipts", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert _card(shop, shop["water"])["on_hand"] == 6


def test_stock_card_balances_references_paging_and_dates(harness: AppHarness) -> None:
    shop = _shop(harness)
    tea, manager = shop["tea"], shop["manager"]
    made = _receive(shop, [{"product_id": tea.id, "quantity": 10, "unit_cost": 900}]).json()
    adjust = {"store_id": shop["store"].id, "kind": "adjustment", "reason": "破损盘亏",
              "lines": [{"product_id": tea.id, "quantity": -3}]}  # fmt: skip
    assert manager.post("/api/v1/stock/adjustments", json=adjust).status_code == 201
    card = _card(shop, tea)
    assert card["on_hand"] == 11 and card["total"] == 3
    assert [(x["kind"], x["quantity"], x["balance"]) for x in card["items"]] == [
        ("adjustment", -3, 11), ("receipt", 10, 14), ("receipt", 4, 4),
    ]  # fmt: skip
    assert card["items"][0]["reference"] == "破损盘亏"
    assert card["items"][1]["reference"] == made["number"] and card["items"][1]["user"]
    page = _card(shop, tea, limit=1, offset=1)
    assert [(x["quantity"], x["balance"]) for x in page["items"]] == [(10, 14)]
    assert _card(shop, tea, **{"from": "2000-01-01", "to": "2000-12-31"})["items"] == []
    assert _card(shop, tea, **{"from": "2000-01-01"})["total"] == 3
    other = manager.get(f"/api/v1/stock/{tea.id}/card", params={"store_id": shop["other"].id})
    assert other.status_code == 403
    assert (
        manager.get("/api/v1/stock/999999/card", params={"store_id": shop["store"].id}).status_code
        == 404
    )
    # The old per-store card still answers.
    assert manager.get(f"/api/v1/stock/{shop['store'].id}/{tea.id}").json()["on_hand"] == 11


def _csrf(client: Any) -> str:
    return str(client.headers["X-CSRF-Token"])


def test_office_pages_supplier_order_receive_and_stock_card(harness: AppHarness) -> None:
    shop = _shop(harness)
    manager, water = shop["manager"], shop["water"]
    token = _csrf(manager)
    saved = manager.post("/office/suppliers", data={"csrf_token": token, "code": "GZ01",
                         "name": "广州副食", "lead_time_days": "2"})  # fmt: skip
    assert saved.status_code == 303, saved.text
    page = manager.get("/office/suppliers", params={"q": "GZ01"})
    assert page.status_code == 200 and "广州副食" in page.text
    # A store adds suppliers; changing one is head office's, so the store gets no edit form.
    assert "?edit=" not in page.text and "由总部操作" in page.text
    bad = manager.post("/office/suppliers", data={"csrf_token": token, "code": "GZ01",
                       "name": "x", "lead_time_days": "2"})  # fmt: skip
    assert bad.status_code == 409 and 'data-code="supplier.code_taken"' in bad.text
    assert manager.get("/office/purchase-orders/new").status_code == 200
    sku = harness.write(lambda s: s.get(type(water), water.id).sku)
    form = {"csrf_token": token, "store_id": str(shop["store"].id),
            "supplier_id": str(shop["supplier"]["id"]), "lines": f"{sku} 12 2.50\n"}  # fmt: skip
    made = manager.post("/office/purchase-orders/new", data=form)
    assert made.status_code == 303, made.text
    url = made.headers["location"].split("?")[0]
    detail = manager.get(url)
    assert detail.status_code == 200 and 'id="send"' in detail.text
    wrong = manager.post("/office/purchase-orders/new", data={**form, "lines": "NOPE 1 1"})
    assert wrong.status_code == 404 and "catalog.code_unknown" in wrong.text
    order_id = url.rsplit("/", 1)[1]
    assert manager.post(f"{url}/send", data={"csrf_token": token}).status_code == 303
    receive = manager.get("/office/goods-receipts/new", params={"order_id": order_id})
    assert receive.status_code == 200 and 'value="12"' in receive.text
    line_id = manager.get(f"/api/v1/purchase-orders/{order_id}").json()["lines"][0]["id"]
    got = manager.post("/office/goods-receipts/new", data={
        "csrf_token": token, "order_id": order_id, "line_id": str(line_id), "quantity": "5",
        "cost": "2.50"})  # fmt: skip
    assert got.status_code == 303, got.text
    assert manager.get(got.headers["location"]).status_code == 200
    assert 'class="badge st-partly_received"' in manager.get(url).text
    card = manager.get(f"/office/stock/{water.id}", params={"store_id": shop["store"].id})
    assert card.status_code == 200 and 'id="on-hand">5<' in card.text
    assert "¥2.500" in card.text
    loose = manager.post("/office/goods-receipts/new", data={
        "csrf_token": token, "store_id": str(shop["store"].id), "lines": f"{sku} 3 abc"})  # fmt: skip
    assert loose.status_code == 422 and "money.invalid" in loose.text
    for path in ("/office/purchase-orders", "/office/goods-receipts", "/office/goods-receipts/new"):
        assert manager.get(path).status_code == 200, path
    cashier = harness.client(harness.user("cashier", shop["store"]))
    assert cashier.get("/office/purchase-orders").status_code in (302, 303, 403)


def test_office_receipt_page_warns_of_over_receipt_and_card_pages(harness: AppHarness) -> None:
    shop = _shop(harness)
    manager, water = shop["manager"], shop["water"]
    order = _order(shop, [(water, 2, 100)])
    line_id = order["lines"][0]["id"]
    got = manager.post("/office/goods-receipts/new", data={
        "csrf_token": _csrf(manager), "order_id": str(order["id"]), "line_id": str(line_id),
        "quantity": "3", "cost": "1.00"})  # fmt: skip
    assert got.status_code == 303 and "over=1" in got.headers["location"]
    page = manager.get(got.headers["location"])
    assert 'id="over-warning"' in page.text and "以下商品的入库数量超过了采购数量" in page.text
    for _ in range(55):
        _receive(shop, [{"product_id": water.id, "quantity": 1, "unit_cost": 100}])
    first = manager.get(f"/office/stock/{water.id}", params={"store_id": shop["store"].id})
    assert "第 1 页，共 2 页" in first.text or "page=2" in first.text
    second = manager.get(
        f"/office/stock/{water.id}", params={"store_id": shop["store"].id, "page": 2}
    )
    assert second.status_code == 200 and second.text.count('data-kind="receipt"') == 6
    edit = shop["hq"].get("/office/suppliers", params={"edit": shop["supplier"]["id"]})
    assert f'value="{shop["supplier"]["code"]}"' in edit.text and 'name="id"' in edit.text
    store_edit = manager.get("/office/suppliers", params={"edit": shop["supplier"]["id"]})
    assert 'name="id"' not in store_edit.text  # head office changes suppliers


def test_office_draft_starts_empty_and_is_edited_in_place_until_sent(harness: AppHarness) -> None:
    shop = _shop(harness)
    manager = shop["manager"]
    token = _csrf(manager)
    form = {"csrf_token": token, "store_id": str(shop["store"].id),
            "supplier_id": str(shop["supplier"]["id"]), "lines": "  \n"}  # fmt: skip
    made = manager.post("/office/purchase-orders/new", data=form)
    assert made.status_code == 303, made.text
    url = made.headers["location"].split("?")[0]
    draft = manager.get(url)
    assert draft.status_code == 200 and 'id="product-search"' in draft.text
    assert "shouyinOrderEditor(" in draft.text and "还没有商品" in draft.text
    refused = manager.post(f"{url}/send", data={"csrf_token": token})
    assert refused.status_code == 409 and 'data-code="purchase_order.empty"' in refused.text
    order_id = int(url.rsplit("/", 1)[1])
    added = manager.post(f"/api/v1/purchase-orders/{order_id}/lines",
                         json={"product_id": shop["water"].id, "quantity": 6})  # fmt: skip
    assert added.status_code == 201, added.text
    assert manager.post(f"{url}/send", data={"csrf_token": token}).status_code == 303
    sent = manager.get(url)
    assert 'id="product-search"' not in sent.text and 'data-testid="outstanding">6<' in sent.text
