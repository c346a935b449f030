"""Member export (permission-checked, audited, masked unless allowed) and erasure."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from sqlalchemy import select

from shouyin.audit.models import AuditEntry
from shouyin.sales.models import Order
from tests import factories
from tests.conftest import AppHarness


def _register(client: Any, mobile: str, name: str, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/members", json={"mobile": mobile, "name": name, "consent": True, **extra}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_export_is_masked_for_marketers_full_for_admins_and_audited(harness: AppHarness) -> None:
    cashier = harness.client(harness.user("cashier"))
    _register(cashier, "13812345678", "张三", email="z@example.com", tags=["VIP"])
    _register(cashier, "13912345678", "李四")
    marketer = harness.client(harness.user("hq_marketer"))
    rows = _rows(marketer.get("/api/v1/members/export").content)
    assert sorted(r["mobile"] for r in rows) == ["138****5678", "139****5678"]
    assert all(r["email"] == "" for r in rows)
    admin = harness.client(harness.user("hq_admin"))
    full = _rows(admin.get("/api/v1/members/export", params={"tag": "VIP"}).content)
    assert [(r["name"], r["mobile"], r["email"]) for r in full] == [
        ("张三", "13812345678", "z@example.com")
    ]
    xlsx = admin.get("/api/v1/members/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert cashier.get("/api/v1/members/export").status_code == 403
    with harness.db.read() as session:
        exports = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "member.export")
        ).all()
    assert len(exports) == 3 and exports[0].after["rows"] == 2  # type: ignore[index]


def test_erasure_removes_the_person_and_keeps_the_sale(harness: AppHarness) -> None:
    def build(session: Any) -> tuple[Any, Any]:
        store = factories.make_store(session)
        return store, factories.make_product(session, price=500, stock={store.id: 10})

    store, product = harness.write(build)
    cashier = harness.client(harness.user("cashier", store))
    member = _register(cashier, "13812345678", "张三", email="z@example.com")
    body = {"client_uuid": str(uuid.uuid4()), "store_id": store.id, "member_id": member["id"],
            "lines": [{"product_id": product.id, "quantity": 1}], "payments": [{"method": "cash", "amount": 500}]}  # fmt: skip
    order = cashier.post("/api/v1/orders", json=body).json()
    assert cashier.post(f"/api/v1/members/{member['id']}/erase").status_code == 403
    admin = harness.client(harness.user("hq_admin"))
    erased = admin.post(f"/api/v1/members/{member['id']}/erase")
    assert erased.status_code == 200 and erased.json()["mobile_masked"] is None
    for query in ("13812345678", "5678", "张三", "zs", member["card_no"]):
        assert cashier.get("/api/v1/members/lookup", params={"q": query}).json() == []
    assert admin.get(f"/api/v1/members/{member['id']}").status_code == 404
    with harness.db.read() as session:
        kept = session.get(Order, order["id"])
    assert kept is not None and kept.total == 500 and kept.member_id == member["id"]
    # The number is free again: the same person may join anew.
    assert _register(cashier, "13812345678", "张三")["id"] != member["id"]
