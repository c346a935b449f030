"""Returns over HTTP: create (idempotent), read, what is returnable, approval and refusals."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shouyin.loyalty.models import MemberAccount
from shouyin.ops import checks
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)


def _shop(harness: AppHarness) -> dict[str, Any]:
    shop: dict[str, Any] = harness.write(factories.gold_member_shop)
    shop["cashier"] = harness.user("cashier", shop["store"])
    shop["manager"] = harness.user("store_manager", shop["store"])
    return shop


def _sell(client: Any, shop: dict[str, Any]) -> dict[str, Any]:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "member_id": shop["gold"].id,
        "lines": [{"product_id": shop["bag"].id, "quantity": 1},
                  {"product_id": shop["tea"].id, "quantity": 2}],
        "payments": [{"method": "stored_value", "amount": 5000},
                     {"method": "cash", "amount": 20000}],
        "coupon_codes": [shop["coupon"].code], "points": 200,
    }  # fmt: skip
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def _return(
    shop: dict[str, Any], order: dict[str, Any], picks: list[tuple[int, int]], **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "order_id": order["id"],
        "lines": [{"order_line_id": order["lines"][i]["id"], "quantity": q} for i, q in picks],
        "reason": "质量问题",
        "approval": {"username": shop["manager"].username, "password": factories.PASSWORD},
    }  # fmt: skip
    body.update(extra)
    return body


@BOTH
def test_a_return_is_made_once_read_back_and_the_rest_undoes_the_sale(
    harness: AppHarness,
) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    order = _sell(client, shop)
    body = _return(shop, order, [(1, 1)])
    made = client.post("/api/v1/returns", json=body)
    assert made.status_code == 201, made.text
    first = made.json()
    assert first["approver_id"] == shop["manager"].id and first["order_number"] == order["number"]
    # A retry answers with the same return; the same UUID with other lines is refused.
    retry = client.post("/api/v1/returns", json=body)
    assert retry.status_code == 200 and retry.json() == first
    changed = {**body, "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1}]}
    conflict = client.post("/api/v1/returns", json=changed)
    assert conflict.status_code == 409 and conflict.json()["code"] == "return.uuid_reused"
    assert client.get(f"/api/v1/returns/{first['id']}").json() == first
    left = client.get(f"/api/v1/orders/{order['id']}/returnable").json()
    assert [x["returnable"] for x in left["lines"]] == [1, 1]
    assert left["refunded"] + sum(x["refund"] for x in left["lines"]) == order["total"]
    rest = client.post("/api/v1/returns", json=_return(shop, order, [(0, 1), (1, 1)])).json()
    assert rest["whole_order"] and rest["loyalty"]["coupon_codes"] == [shop["coupon"].code]
    assert first["refund"] + rest["refund"] == order["total"]
    again = client.post("/api/v1/returns", json=_return(shop, order, [(0, 1)]))
    assert again.status_code == 422 and again.json()["code"] == "return.quantity_exceeded"
    with harness.db.read() as session:
        account = session.get(MemberAccount, shop["gold"].id)
        assert account is not None
        assert (account.points, account.sv_principal, account.sv_bonus) == (1000, 3000, 3000)
        assert [r.name for r in checks.run_all(session) if not r.ok] == []


@BOTH
def test_approval_is_checked_and_a_wrong_password_changes_nothing(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    order = _sell(client, shop)
    missing = client.post("/api/v1/returns", json=_return(shop, order, [(0, 1)], approval=None))
    assert missing.status_code == 403 and missing.json()["code"] == "return.approval_required"
    wrong = {"username": shop["manager"].username, "password": "wrong-password"}
    refused = client.post("/api/v1/returns", json=_return(shop, order, [(0, 1)], approval=wrong))
    assert refused.status_code == 403 and refused.json()["code"] == "return.approval_invalid"
    left = client.get(f"/api/v1/orders/{order['id']}/returnable").json()
    assert [x["returned"] for x in left["lines"]] == [0, 0]


@BOTH
def test_another_stores_staff_and_bad_bodies_are_refused(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    order = _sell(client, shop)
    stranger = harness.client(harness.user("cashier"))
    assert stranger.get(f"/api/v1/orders/{order['id']}/returnable").status_code == 404
    assert stranger.post("/api/v1/returns", json=_return(shop, order, [(0, 1)])).status_code == 403
    bad = _return(shop, order, [(0, 1)])
    bad["lines"][0]["quantity"] = 0
    assert client.post("/api/v1/returns", json=bad).status_code == 422
    cash = client.post("/api/v1/returns", json=_return(shop, order, [(0, 1)], refund_to="cash"))
    assert cash.status_code == 422 and cash.json()["code"] == "return.refund_invalid"
    assert client.get("/api/v1/returns/999999").status_code == 404
