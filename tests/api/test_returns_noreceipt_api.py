"""Over HTTP: returns without a receipt, finding a receipt at the till, another store's receipt."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shouyin.customers.keys import cipher_for
from shouyin.customers.models import Member
from shouyin.inventory.models import StockLevel
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)


def _shop(harness: AppHarness) -> dict[str, Any]:
    shop: dict[str, Any] = harness.write(factories.gold_member_shop)
    shop["cashier"] = harness.user("cashier", shop["store"])
    shop["manager"] = harness.user("store_manager", shop["store"])
    return shop


def _approval(user: Any) -> dict[str, str]:
    return {"username": user.username, "password": factories.PASSWORD}


def _sell(client: Any, shop: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id,
        "lines": [{"product_id": shop["bag"].id, "quantity": 1},
                  {"product_id": shop["tea"].id, "quantity": 1}],
        "payments": [{"method": "cash", "amount": 12000}], **extra,
    }  # fmt: skip
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def _on_hand(harness: AppHarness, store_id: int, product_id: int) -> int:
    with harness.db.read() as session:
        level = session.get(StockLevel, (store_id, product_id))
        return level.on_hand if level is not None else 0


@BOTH
def test_a_return_without_receipt_is_made_once_and_read_back(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "reason": "小票丢失",
        "lines": [{"product_id": shop["tea"].id, "quantity": 2, "unit_refund": 1800}],
    }  # fmt: skip
    missing = client.post("/api/v1/returns/without-receipt", json=body)
    assert missing.status_code == 403 and missing.json()["code"] == "return.approval_required"
    wrong = client.post("/api/v1/returns/without-receipt",
                        json={**body, "approval": {"username": shop["manager"].username,
                                                   "password": "wrong-password"}})  # fmt: skip
    assert wrong.status_code == 403 and wrong.json()["code"] == "return.approval_invalid"
    assert _on_hand(harness, shop["store"].id, shop["tea"].id) == 50
    # The till sends the same UUID again, now with the manager's approval.
    body["approval"] = _approval(shop["manager"])
    made = client.post("/api/v1/returns/without-receipt", json=body)
    assert made.status_code == 201, made.text
    first = made.json()
    assert (first["order_id"], first["order_number"], first["refund"]) == (None, None, 3600)
    assert first["payments"] == [
        {"method": "cash", "amount": 3600, "reference": None, "status": "done", "message": None}
    ]
    assert first["approver_id"] == shop["manager"].id
    assert "-NR1" in first["number"]
    retry = client.post("/api/v1/returns/without-receipt", json=body)
    assert retry.status_code == 200 and retry.json() == first
    assert client.get(f"/api/v1/returns/{first['id']}").json() == first
    assert _on_hand(harness, shop["store"].id, shop["tea"].id) == 52


@BOTH
def test_bad_returns_without_receipt_are_refused(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])

    def post(line: dict[str, Any], **extra: Any) -> Any:
        body = {
            "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
            "register_id": shop["register"].id, "reason": "小票丢失",
            "lines": [{"product_id": shop["tea"].id, "quantity": 1, **line}],
            "approval": _approval(shop["manager"]), **extra,
        }  # fmt: skip
        return client.post("/api/v1/returns/without-receipt", json=body)

    above = post({"unit_refund": 2001})
    assert above.status_code == 422 and above.json()["code"] == "return.refund_above_price"
    unknown = post({"product_id": 2**31 - 1})
    assert unknown.status_code == 422 and unknown.json()["code"] == "return.product_unknown"
    for bad in (post({"quantity": 0}), post({"unit_refund": 0}), post({}, reason="")):
        assert bad.status_code == 422
    stranger = harness.client(harness.user("cashier"))
    elsewhere = stranger.post("/api/v1/returns/without-receipt", json={
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id, "reason": "x",
        "register_id": shop["register"].id, "lines": [{"product_id": shop["tea"].id, "quantity": 1}],
    })  # fmt: skip
    assert elsewhere.status_code == 403
    # Cash comes out of a drawer: a return without a receipt names its register.
    assert post({}, register_id=None).status_code == 422
    assert _on_hand(harness, shop["store"].id, shop["tea"].id) == 50


@BOTH
def test_the_till_finds_a_receipt_by_number_or_by_what_the_customer_remembers(
    harness: AppHarness,
) -> None:
    shop = _shop(harness)
    cipher = cipher_for(harness.app.state.settings)

    def give_mobile(session: Any) -> None:
        member = session.get(Member, shop["gold"].id)
        member.last4_idx = cipher.index("last4", "5678")

    harness.write(give_mobile)
    client = harness.client(shop["cashier"])
    plain = _sell(client, shop)
    member_sale = _sell(client, shop, member_id=shop["gold"].id,
                        lines=[{"product_id": shop["tea"].id, "quantity": 1}],
                        payments=[{"method": "cash", "amount": 2000}])  # fmt: skip
    store = shop["store"].id
    found = client.get("/api/v1/returns/lookup",
                       params={"number": plain["number"], "store_id": store})  # fmt: skip
    assert found.status_code == 200, found.text
    view = found.json()
    assert view["order_id"] == plain["id"] and view["paid"] == {"cash": plain["total"]}
    assert [x["returnable"] for x in view["lines"]] == [1, 1]
    nothing = client.get("/api/v1/returns/lookup", params={"number": "X-1", "store_id": store})
    assert nothing.status_code == 404 and nothing.json()["code"] == "return.receipt_unknown"

    def search(**params: Any) -> list[str]:
        response = client.get("/api/v1/returns/orders", params={"store_id": store, **params})
        assert response.status_code == 200, response.text
        return [x["number"] for x in response.json()]

    assert search() == [member_sale["number"], plain["number"]]
    assert search(total=plain["total"]) == [plain["number"]]
    assert search(mobile_tail="5678") == [member_sale["number"]]
    assert search(mobile_tail="0000") == []
    assert search(day=plain["business_date"]) == [member_sale["number"], plain["number"]]
    assert search(day="2001-01-01") == []
    bad = client.get("/api/v1/returns/orders", params={"store_id": store, "mobile_tail": "12"})
    assert bad.status_code == 422
    stranger = harness.client(harness.user("cashier"))
    assert stranger.get("/api/v1/returns/orders", params={"store_id": store}).status_code == 403


@BOTH
def test_another_stores_receipt_only_with_the_setting(harness: AppHarness) -> None:
    shop = _shop(harness)
    order = _sell(harness.client(shop["cashier"]), shop)
    here = harness.write(lambda s: factories.make_store(s))
    register = harness.write(lambda s: factories.register_of(s, here))
    cashier = harness.client(harness.user("cashier", here))
    manager = harness.user("store_manager", here)
    params = {"number": order["number"], "store_id": here.id}
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": here.id, "register_id": register.id,
        "order_id": order["id"], "reason": "异地退货", "approval": _approval(manager),
        "lines": [{"order_line_id": order["lines"][1]["id"], "quantity": 1}],
    }  # fmt: skip
    off = cashier.get("/api/v1/returns/lookup", params=params)
    assert off.status_code == 422 and off.json()["code"] == "return.other_store"
    refused = cashier.post("/api/v1/returns", json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "return.other_store"
    harness.app.state.settings.return_other_store = True
    view = cashier.get("/api/v1/returns/lookup", params=params)
    assert view.status_code == 200 and view.json()["store_id"] == shop["store"].id
    made = cashier.post("/api/v1/returns", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["store_id"] == here.id and made.json()["refund"] == 2000
    assert _on_hand(harness, here.id, shop["tea"].id) == 1
    assert _on_hand(harness, shop["store"].id, shop["tea"].id) == 49


@BOTH
def test_a_wechat_sale_is_refunded_to_wechat_or_in_cash(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    charge = client.post("/api/v1/payment-codes", json={
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "code": "134567890123456781", "amount": 10000,
    })  # fmt: skip
    assert charge.status_code == 201, charge.text
    trade_no = charge.json()["trade_no"]
    order = _sell(client, shop, payments=[
        {"method": "wechat", "amount": 10000, "reference": trade_no},
        {"method": "cash", "amount": 2000},
    ])  # fmt: skip

    def give_back(line: int, **extra: Any) -> dict[str, Any]:
        body = {
            "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
            "register_id": shop["register"].id, "order_id": order["id"], "reason": "质量问题",
            "lines": [{"order_line_id": order["lines"][line]["id"], "quantity": 1}],
            "approval": _approval(shop["manager"]), **extra,
        }  # fmt: skip
        made = client.post("/api/v1/returns", json=body)
        assert made.status_code == 201, made.text
        result: dict[str, Any] = made.json()
        return result

    # The tea in cash, as the customer asks; then the bag back to WeChat, with its refund id.
    tea = give_back(1, refund_to="cash")
    assert [(p["method"], p["amount"], p["reference"]) for p in tea["payments"]] == [
        ("cash", 2000, None)
    ]
    bag = give_back(0)
    # Refunded at the gateway once the return was recorded: done, with its refund id.
    assert [(p["method"], p["amount"], p["status"]) for p in bag["payments"]] == [
        ("wechat", 10000, "done")
    ]
    assert bag["payments"][0]["reference"]
    assert client.get(f"/api/v1/returns/{bag['id']}").json() == bag
