"""Coupons over REST: who may configure, issue, read and void; error codes; the till's scan."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from shouyin.loyalty.models import Coupon, CouponTemplate
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
TEMPLATE = {"name": "满100减20", "kind": "threshold", "value": 2000, "min_spend": 10000,
            "valid_days": 30}  # fmt: skip


def _member(client: Any, mobile: str, name: str, **extra: Any) -> int:
    body = {"mobile": mobile, "name": name, "consent": True, **extra}
    response = client.post("/api/v1/members", json=body)
    assert response.status_code == 201, response.text
    member_id: int = response.json()["id"]
    return member_id


def _template(client: Any, **fields: Any) -> dict[str, Any]:
    response = client.post("/api/v1/coupon-templates", json=TEMPLATE | fields)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@BOTH
def test_a_marketer_sets_up_issues_and_the_till_scans(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    marketer = harness.client(harness.user("hq_marketer"))
    cashier = harness.client(harness.user("cashier", store))
    zhang = _member(cashier, "13812345678", "张三", tags=["VIP"], store_id=store.id)
    li = _member(cashier, "13987654321", "李四", store_id=store.id)
    template = _template(marketer, per_member_limit=1)
    assert template["active"] and template["scope"] == "all"
    listed = cashier.get("/api/v1/coupon-templates").json()  # loyalty.read may look
    assert [t["id"] for t in listed] == [template["id"]]
    issue = f"/api/v1/coupon-templates/{template['id']}/issue"
    bulk = marketer.post(issue, json={"filters": {"tag": "VIP"}})
    assert bulk.json() == {"issued": 1, "members": 1, "skipped": 0}
    both = marketer.post(issue, json={"member_ids": [zhang, li]}).json()
    assert both == {"issued": 1, "members": 1, "skipped": 1}  # 张三 is at the limit
    [coupon] = cashier.get(f"/api/v1/members/{li}/coupons").json()
    assert coupon["usable"] and coupon["kind"] == "threshold" and coupon["min_spend"] == 10000
    scanned = cashier.get(f"/api/v1/coupons/{coupon['code'].lower()}")
    assert scanned.status_code == 200 and scanned.json()["member_id"] == li
    page = marketer.get(f"/api/v1/coupon-templates/{template['id']}/coupons?limit=1").json()
    assert page["total"] == 2 and len(page["items"]) == 1
    refused = cashier.post(f"/api/v1/coupons/{coupon['code']}/void", json={"reason": "x"})
    assert refused.status_code == 403  # voiding needs coupons.issue
    voided = marketer.post(f"/api/v1/coupons/{coupon['code']}/void", json={"reason": "发错"})
    assert voided.status_code == 200 and voided.json()["status"] == "void"
    again = marketer.post(f"/api/v1/coupons/{coupon['code']}/void", json={"reason": "发错"})
    assert again.status_code == 409 and again.json()["code"] == "coupon.not_voidable"


def test_cashiers_and_managers_cannot_configure_templates(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    admin = harness.client(harness.user("hq_admin"))
    template = _template(admin)
    for role in ("cashier", "store_manager", "auditor"):
        client = harness.client(harness.user(role, store))
        created = client.post("/api/v1/coupon-templates", json=TEMPLATE)
        assert created.status_code == 403, role
        changed = client.put(f"/api/v1/coupon-templates/{template['id']}", json=TEMPLATE)
        assert changed.status_code == 403, role
    cashier = harness.client(harness.user("cashier", store))
    member = _member(cashier, "13812345678", "张三")
    issued = cashier.post(
        f"/api/v1/coupon-templates/{template['id']}/issue", json={"member_ids": [member]}
    )
    assert issued.status_code == 403  # a cashier cannot issue coupons either
    with harness.db.read() as session:
        assert session.scalar(select(func.count()).select_from(CouponTemplate)) == 1
        assert session.scalar(select(func.count()).select_from(Coupon)) == 0


def test_store_managers_issue_in_bulk_only_to_their_store(harness: AppHarness) -> None:
    north, south = harness.write(factories.make_store), harness.write(factories.make_store)
    admin = harness.client(harness.user("hq_admin"))
    template = _template(admin)
    _member(admin, "13812345678", "张三", store_id=north.id)
    _member(admin, "13987654321", "李四", store_id=south.id)
    manager = harness.client(harness.user("store_manager", north))
    issue = f"/api/v1/coupon-templates/{template['id']}/issue"
    assert manager.post(issue, json={"filters": {}}).json()["members"] == 1
    other = manager.post(issue, json={"filters": {"store_id": south.id}})
    assert other.status_code == 403 and other.json()["code"] == "store.forbidden"


@BOTH
def test_errors_have_their_status_and_code(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))
    bad_kind = admin.post("/api/v1/coupon-templates", json=TEMPLATE | {"value": 20000})
    assert bad_kind.status_code == 422 and bad_kind.json()["code"] == "coupon.value_invalid"
    percent = TEMPLATE | {"kind": "percent", "value": 10000}
    assert admin.post("/api/v1/coupon-templates", json=percent).json()["code"] == (
        "coupon.value_invalid"
    )
    as_text = admin.post("/api/v1/coupon-templates", json=TEMPLATE | {"value": "2000"})
    assert as_text.status_code == 422 and as_text.json()["code"] == "request.invalid"
    naive = admin.post(
        "/api/v1/coupon-templates",
        json=TEMPLATE | {"valid_days": None, "valid_from": "2026-01-01T00:00:00",
                         "valid_to": "2026-02-01T00:00:00"},
    )  # fmt: skip
    assert naive.status_code == 422 and naive.json()["code"] == "request.invalid"
    window = {"valid_days": None, "valid_from": "2026-01-01T00:00:00+08:00"}
    far = admin.post(
        "/api/v1/coupon-templates",
        json=TEMPLATE | window | {"valid_to": "9999-12-31T23:00:00-05:00"},  # year 10000 in UTC
    )
    assert far.status_code == 422 and far.json()["code"] == "coupon.validity_invalid"
    extra = admin.post("/api/v1/coupon-templates", json=TEMPLATE | {"points": 1})
    assert extra.status_code == 422
    assert admin.get("/api/v1/coupon-templates/999999").json()["code"] == (
        "coupon.template_not_found"
    )
    assert admin.get("/api/v1/coupon-templates/0").status_code == 422
    missing = admin.get("/api/v1/coupons/CP0000000000")
    assert missing.status_code == 404 and missing.json()["code"] == "coupon.not_found"
    assert admin.get("/api/v1/members/999999/coupons").json()["code"] == "member.not_found"
    template = _template(admin)
    issue = f"/api/v1/coupon-templates/{template['id']}/issue"
    nobody = admin.post(issue, json={"member_ids": [999999]})
    assert nobody.status_code == 422 and nobody.json()["code"] == "coupon.member_unknown"
    many = admin.post(issue, json={"member_ids": list(range(1, 10_001))})  # one query, any backend
    assert many.status_code == 422 and many.json()["code"] == "coupon.member_unknown"
    too_long = admin.post(issue, json={"member_ids": list(range(1, 10_002))})
    assert too_long.status_code == 422 and too_long.json()["code"] == "request.invalid"
    neither = admin.post(issue, json={"count": 1})
    assert neither.status_code == 422 and neither.json()["code"] == "coupon.target_invalid"
    too_many = admin.post(issue, json={"member_ids": [1], "count": 21})
    assert too_many.status_code == 422
    void = admin.post("/api/v1/coupons/CP0000000000/void", json={"reason": ""})
    assert void.status_code == 422
    off = admin.put(f"/api/v1/coupon-templates/{template['id']}", json=TEMPLATE | {"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    member = _member(admin, "13812345678", "张三")
    closed = admin.post(issue, json={"member_ids": [member]})
    assert closed.status_code == 409 and closed.json()["code"] == "coupon.template_inactive"
