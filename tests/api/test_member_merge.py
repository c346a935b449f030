"""Duplicate members: found, merged with their history, audited; bad merges refused."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from shouyin.audit.models import AuditEntry
from shouyin.sales.models import Order
from tests import factories
from tests.conftest import AppHarness
from tests.integration.test_points_ops import earn


def _register(client: Any, mobile: str, name: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/members", json={"mobile": mobile, "name": name, "consent": True, **extra}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_duplicates_are_reported_and_merged_with_their_orders_and_tags(harness: AppHarness) -> None:
    def build(session: Any) -> tuple[Any, Any]:
        store = factories.make_store(session)
        return store, factories.make_product(session, price=300, stock={store.id: 10})

    store, product = harness.write(build)
    manager = harness.client(harness.user("store_manager", store))
    old = _register(manager, "13812345678", "王芳", birthday="1988-08-08", tags=["老顾客"])
    new = _register(manager, "13987654321", "王芳", birthday="1988-08-08", tags=["宝妈"])
    _register(manager, "13700000000", "王芳", birthday="1990-01-01")  # same name, another person
    body = {"client_uuid": str(uuid.uuid4()), "store_id": store.id, "member_id": new["id"],
            "lines": [{"product_id": product.id, "quantity": 1}], "payments": [{"method": "cash", "amount": 300}]}  # fmt: skip
    order = manager.post("/api/v1/orders", json=body).json()
    groups = manager.get("/api/v1/members/duplicates").json()
    assert {"reason": "name_birthday", "member_ids": sorted([old["id"], new["id"]])} in [
        {"reason": g["reason"], "member_ids": sorted(g["member_ids"])} for g in groups
    ]
    merged = manager.post(f"/api/v1/members/{old['id']}/merge", json={"duplicate_id": new["id"]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["tags"] == ["宝妈", "老顾客"]
    with harness.db.read() as session:
        assert session.get(Order, order["id"]).member_id == old["id"]  # type: ignore[union-attr]
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "member.merge")).one()
    assert entry.after["orders"] == [order["id"]]  # type: ignore[index]
    # The duplicate's mobile now finds the survivor.
    found = manager.get("/api/v1/members/lookup", params={"q": "13987654321"}).json()
    assert [m["id"] for m in found] == [old["id"]]
    assert manager.get(f"/api/v1/members/{new['id']}").status_code == 404


def test_merging_a_member_with_itself_or_as_a_cashier_is_refused(harness: AppHarness) -> None:
    manager = harness.client(harness.user("store_manager"))
    member = _register(manager, "13812345678", "李雷")
    response = manager.post(
        f"/api/v1/members/{member['id']}/merge", json={"duplicate_id": member["id"]}
    )
    assert response.status_code == 422 and response.json()["code"] == "member.merge_self"
    other = _register(manager, "13912345678", "李雷")
    cashier = harness.client(harness.user("cashier"))
    assert (
        cashier.post(
            f"/api/v1/members/{member['id']}/merge", json={"duplicate_id": other["id"]}
        ).status_code
        == 403
    )


def test_merge_chains_lead_to_the_last_survivor_and_erasure_takes_them_all(
    harness: AppHarness,
) -> None:
    manager = harness.client(harness.user("store_manager"))
    a = _register(manager, "13800000001", "周杰")
    b = _register(manager, "13800000002", "周杰")
    c = _register(manager, "13800000003", "周杰")
    assert (
        manager.post(f"/api/v1/members/{b['id']}/merge", json={"duplicate_id": a["id"]}).status_code
        == 200
    )
    assert (
        manager.post(f"/api/v1/members/{c['id']}/merge", json={"duplicate_id": b["id"]}).status_code
        == 200
    )
    for mobile in ("13800000001", "13800000002", "13800000003"):
        assert [
            m["id"] for m in manager.get("/api/v1/members/lookup", params={"q": mobile}).json()
        ] == [c["id"]]
    admin = harness.client(harness.user("hq_admin"))
    assert admin.post(f"/api/v1/members/{c['id']}/erase").status_code == 200
    for mobile in ("13800000001", "13800000002", "13800000003"):
        assert manager.get("/api/v1/members/lookup", params={"q": mobile}).json() == []
        assert _register(manager, mobile, "新会员")["id"] not in (a["id"], b["id"], c["id"])


@pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
def test_a_merge_over_the_stored_value_cap_is_refused_and_nothing_moves(
    harness: AppHarness,
) -> None:
    def build(session: Any) -> tuple[Any, Any]:
        store = factories.make_store(session)
        return store, factories.make_product(session, price=300, stock={store.id: 10})

    store, product = harness.write(build)
    manager = harness.client(harness.user("store_manager", store))
    kept = _register(manager, "13812345678", "王芳", tags=["老顾客"])
    other = _register(manager, "13987654321", "王芳", tags=["宝妈"])
    body = {"client_uuid": str(uuid.uuid4()), "store_id": store.id, "member_id": other["id"],
            "lines": [{"product_id": product.id, "quantity": 1}], "payments": [{"method": "cash", "amount": 300}]}  # fmt: skip
    order = manager.post("/api/v1/orders", json=body).json()
    harness.write(lambda s: earn(s, kept["id"], sv=300_000))
    harness.write(lambda s: earn(s, other["id"], sv=250_000))
    refused = manager.post(
        f"/api/v1/members/{kept['id']}/merge", json={"duplicate_id": other["id"]}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "member.merge_over_cap"
    with harness.db.read() as session:
        assert session.get(Order, order["id"]).member_id == other["id"]  # type: ignore[union-attr]
        assert (
            session.scalars(select(AuditEntry).where(AuditEntry.action == "member.merge")).all()
            == []
        )
    assert manager.get(f"/api/v1/members/{other['id']}").json()["tags"] == ["宝妈"]
    assert manager.get(f"/api/v1/members/{kept['id']}").json()["tags"] == ["老顾客"]
