"""The loyalty account, points adjustments and gifts through HTTP: who may do what, and what
the till and the back office read back."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shouyin.inventory.service import on_hand
from shouyin.stores.models import Store
from tests import factories
from tests.conftest import AppHarness
from tests.integration.test_points_ops import earn

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)


def _register(client: Any, mobile: str, name: str = "张三") -> int:
    response = client.post(
        "/api/v1/members", json={"mobile": mobile, "name": name, "consent": True}
    )
    assert response.status_code == 201, response.text
    member_id: int = response.json()["id"]
    return member_id


@BOTH
def test_a_manager_adjusts_points_and_everyone_with_loyalty_read_sees_them(
    harness: AppHarness,
) -> None:
    store = harness.write(factories.make_store)
    manager = harness.client(harness.user("store_manager", store))
    cashier = harness.client(harness.user("cashier", store))
    member_id = _register(manager, "13812345678")
    url = f"/api/v1/members/{member_id}/points/adjustments"
    added = manager.post(url, json={"points": 500, "reason": "开业活动补录"})
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["points"] == 500 and body["entry"]["kind"] == "adjust"
    assert body["entry"]["store_id"] == store.id and body["entry"]["reason"] == "开业活动补录"
    taken = manager.post(url, json={"points": -120, "reason": "退货冲回"})
    assert taken.status_code == 201 and taken.json()["points"] == 380
    account = cashier.get(f"/api/v1/members/{member_id}/loyalty")
    assert account.status_code == 200, account.text
    summary = account.json()
    assert summary["points"] == 380 and summary["tier"]["code"] == "regular"
    assert summary["next_tier"]["code"] == "silver" and summary["growth_needed"] == 200_000
    assert summary["expiring"]["points"] == 380
    assert summary["stored_value"] == {"principal": 0, "bonus": 0, "total": 0}
    ledger = cashier.get(f"/api/v1/members/{member_id}/loyalty/ledger", params={"limit": 1})
    assert ledger.json()["total"] == 2
    assert [e["points"] for e in ledger.json()["items"]] == [-120]
    only = cashier.get(f"/api/v1/members/{member_id}/loyalty/ledger", params={"kind": "gift"})
    assert only.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    tiers = cashier.get(f"/api/v1/members/{member_id}/loyalty/tier-changes")
    assert tiers.status_code == 200 and tiers.json() == []


def test_adjustments_are_refused_without_permission_reason_or_points(harness: AppHarness) -> None:
    manager = harness.client(harness.user("store_manager"))
    cashier = harness.client(harness.user("cashier"))
    member_id = _register(manager, "13812345678")
    url = f"/api/v1/members/{member_id}/points/adjustments"
    assert cashier.post(url, json={"points": 10, "reason": "送积分"}).status_code == 403
    no_reason = manager.post(url, json={"points": 10})
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "points.reason_required"
    zero = manager.post(url, json={"points": 0, "reason": "没有变化"})
    assert zero.status_code == 422 and zero.json()["code"] == "points.adjust_zero"
    too_many = manager.post(url, json={"points": 1_000_001, "reason": "太多了"})
    assert too_many.status_code == 422 and too_many.json()["code"] == "request.invalid"
    as_text = manager.post(url, json={"points": "10", "reason": "字符串"})
    assert as_text.status_code == 422
    short = manager.post(url, json={"points": -1, "reason": "扣一分"})
    assert short.status_code == 422 and short.json()["code"] == "points.insufficient"
    assert manager.get(f"/api/v1/members/{member_id}/loyalty").json()["points"] == 0
    missing = manager.post(
        "/api/v1/members/999999/points/adjustments", json={"points": 1, "reason": "不存在"}
    )
    assert missing.status_code == 404


@BOTH
def test_gifts_are_configured_by_hq_and_redeemed_at_the_till(harness: AppHarness) -> None:
    def setup(session: Session) -> tuple[Store, int]:
        store = factories.make_store(session)
        return store, factories.make_product(session, price=1_500, stock={store.id: 3}).id

    store, product_id = harness.write(setup)
    marketer = harness.client(harness.user("hq_marketer"))
    cashier = harness.client(harness.user("cashier", store))
    other_cashier = harness.client(harness.user("cashier"))
    created = marketer.post(
        "/api/v1/loyalty/gifts", json={"name": "环保袋", "points": 200, "product_id": product_id}
    )
    assert created.status_code == 201, created.text
    gift = created.json()
    assert cashier.post("/api/v1/loyalty/gifts", json={"name": "x", "points": 1}).status_code == 403
    assert (
        marketer.post("/api/v1/loyalty/gifts", json={"name": "x", "points": 0}).status_code == 422
    )
    assert [g["name"] for g in cashier.get("/api/v1/loyalty/gifts").json()] == ["环保袋"]
    member_id = _register(cashier, "13912345678", "李四")
    harness.write(lambda s: earn(s, member_id, points=250, expires_on=date(2030, 12, 31)))
    url = f"/api/v1/members/{member_id}/gift-redemptions"
    request = {"client_uuid": str(uuid.uuid4()), "gift_id": gift["id"], "store_id": store.id}
    assert other_cashier.post(url, json=request).status_code == 403
    no_uuid = {"gift_id": gift["id"], "store_id": store.id}
    assert cashier.post(url, json=no_uuid).status_code == 422
    done = cashier.post(url, json=request)
    assert done.status_code == 201, done.text
    assert done.json()["points"] == 50 and done.json()["entry"]["kind"] == "gift"
    retried = cashier.post(url, json=request)
    assert retried.status_code == 200, retried.text
    assert retried.json()["entry"] == done.json()["entry"] and retried.json()["points"] == 50
    again = cashier.post(url, json={**request, "client_uuid": str(uuid.uuid4())})
    assert again.status_code == 422 and again.json()["code"] == "points.insufficient"
    other_member = _register(cashier, "13912345679", "王五")
    reused = cashier.post(f"/api/v1/members/{other_member}/gift-redemptions", json=request)
    assert reused.status_code == 409 and reused.json()["code"] == "gift.uuid_reused"
    with harness.db.read() as session:
        assert on_hand(session, store_id=store.id, product_id=product_id) == 2
    retired = marketer.patch(f"/api/v1/loyalty/gifts/{gift['id']}", json={"active": False})
    assert retired.status_code == 200 and retired.json()["active"] is False
    assert cashier.get("/api/v1/loyalty/gifts", params={"active": "true"}).json() == []
    assert marketer.patch("/api/v1/loyalty/gifts/999999", json={"points": 5}).status_code == 404
