"""Member export (permission-checked, audited, masked unless allowed) and erasure."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.loyalty import ledger
from shouyin.loyalty.models import Coupon, LedgerEntry, MemberAccount
from shouyin.sales.models import Order
from shouyin.shared.clock import utcnow
from tests import factories
from tests.conftest import AppHarness
from tests.integration.test_loyalty_merge import coupon_for
from tests.integration.test_points_ops import assert_consistent, earn

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)


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


@BOTH
def test_erasure_is_refused_while_stored_value_principal_is_held(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    cashier = harness.client(harness.user("cashier", store))
    admin = harness.client(harness.user("hq_admin"))
    member = _register(cashier, "13812345670", "钱七")
    harness.write(lambda s: earn(s, member["id"], points=80, sv=1_000, expires_on=None))
    refused = admin.post(f"/api/v1/members/{member['id']}/erase")
    assert refused.status_code == 409 and refused.json()["code"] == "member.erase_balance"
    assert "请先退还余额" in refused.json()["message"]
    found = admin.get(f"/api/v1/members/{member['id']}")
    assert found.status_code == 200 and found.json()["name"] == "钱七"
    with harness.db.read() as session:
        account = session.get(MemberAccount, member["id"])
        assert account is not None and (account.points, account.sv_principal) == (80, 1_000)
        assert session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "erase")).all() == []


@BOTH
def test_erasure_writes_off_points_bonus_and_coupons_in_the_same_transaction(
    harness: AppHarness,
) -> None:
    store = harness.write(factories.make_store)
    cashier = harness.client(harness.user("cashier", store))
    admin = harness.client(harness.user("hq_admin"))
    member = _register(cashier, "13812345671", "孙八")
    member_id = member["id"]

    def fund(session: Session) -> int:
        earn(session, member_id, points=120, expires_on=date(2030, 1, 1))
        ledger.post(
            session.connection(), member_id=member_id, at=utcnow(),
            change=ledger.Change(kind="recharge", sv_bonus=300),
        )  # fmt: skip
        return coupon_for(session, member_id)

    coupon = harness.write(fund)
    erased = admin.post(f"/api/v1/members/{member_id}/erase")
    assert erased.status_code == 200, erased.text
    with harness.db.read() as session:
        assert ledger.balances(session.connection(), member_id=member_id) == ledger.Balances(
            0, 0, 0, 0
        )
        assert_consistent(session, member_id)
        entry = session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "erase")).one()
        assert (entry.member_id, entry.points, entry.sv_bonus) == (member_id, -120, -300)
        voided = session.get(Coupon, coupon)
        assert voided is not None and voided.status == "void"
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "member.erase")).one()
    assert audit.after == {"loyalty": {"points": 120, "sv_bonus": 300, "coupons_voided": 1}}
