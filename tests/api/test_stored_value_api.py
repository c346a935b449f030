"""Stored value through HTTP: rules, idempotent recharges, refunds, receipts, statements and
the liability report with its exports, and who may do each."""

from __future__ import annotations

import csv
import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from shouyin.loyalty.models import LedgerEntry
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
RECHARGES = "/api/v1/stored-value/recharges"


def member(client: Any, store_id: int | None = None) -> int:
    n = factories.next_id()
    body = {"mobile": f"137{n:08d}", "name": f"会员{n}", "consent": True}
    if store_id is not None:
        body["store_id"] = store_id
    response = client.post("/api/v1/members", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def recharge_body(member_id: int, store_id: int, principal: int, **extra: Any) -> dict[str, Any]:
    return {
        "client_uuid": str(uuid.uuid4()), "member_id": member_id, "store_id": store_id,
        "principal": principal, "method": "cash", **extra,
    }  # fmt: skip


def setup(harness: AppHarness) -> dict[str, Any]:
    store = harness.write(factories.make_store)
    admin = harness.client(harness.user("hq_admin"))
    rule = admin.post(
        "/api/v1/stored-value/rules",
        json={"name": "充500送50", "min_principal": 50000, "bonus": 5000},
    )
    assert rule.status_code == 201, rule.text
    cashier_user = harness.user("cashier", store)
    return {
        "store": store, "admin": admin, "cashier": harness.client(cashier_user),
        "cashier_name": cashier_user.display_name,
        "manager": harness.client(harness.user("store_manager", store)),
        "member": member(admin, store.id), "rule": rule.json(),
    }  # fmt: skip


@BOTH
def test_recharge_then_retry_then_reused_uuid(harness: AppHarness) -> None:
    shop = setup(harness)
    body = recharge_body(shop["member"], shop["store"].id, 50000, method="card", reference="POS1")
    first = shop["cashier"].post(RECHARGES, json=body)
    assert first.status_code == 201, first.text
    done = first.json()
    assert (done["principal"], done["bonus"], done["balance_after"]) == (50000, 5000, 55000)
    assert done["rule_id"] == shop["rule"]["id"] and done["cashier_name"] == shop["cashier_name"]
    retry = shop["cashier"].post(RECHARGES, json=body)
    assert retry.status_code == 200 and retry.json() == done
    reused = shop["cashier"].post(RECHARGES, json=body | {"principal": 100})
    assert reused.status_code == 409 and reused.json()["code"] == "recharge.uuid_reused"
    statement = shop["cashier"].get(f"/api/v1/members/{shop['member']}/stored-value").json()
    assert (statement["sv_principal"], statement["sv_bonus"], statement["total"]) == (
        50000,
        5000,
        1,
    )


@BOTH
def test_simultaneous_retries_make_one_recharge(harness: AppHarness) -> None:
    shop = setup(harness)
    body = recharge_body(shop["member"], shop["store"].id, 10000)
    clients = [harness.client(harness.user("cashier", shop["store"])) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda c: c.post(RECHARGES, json=body), clients))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201], [r.text for r in responses]  # fmt: skip
    assert len({r.json()["id"] for r in responses}) == 1
    with harness.db.read() as session:
        count = select(func.count()).select_from(LedgerEntry)
        assert session.scalar(count.where(LedgerEntry.member_id == shop["member"])) == 1


def test_over_the_cap_says_how_much_fits(harness: AppHarness) -> None:
    shop = setup(harness)
    assert shop["cashier"].post(RECHARGES, json=recharge_body(shop["member"], shop["store"].id, 450000)).status_code == 201  # fmt: skip
    refused = shop["cashier"].post(RECHARGES, json=recharge_body(shop["member"], shop["store"].id, 50000))  # fmt: skip
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "stored_value.over_cap"
    assert problem["details"]["most_fen"] == 45000  # ¥455 + ¥450 < ¥5,000 only without bonus
    assert "￥5000.00" in problem["message"]


def test_who_may_recharge_refund_and_set_rules(harness: AppHarness) -> None:
    shop = setup(harness)
    store, cashier, manager = shop["store"], shop["cashier"], shop["manager"]
    marketer = harness.client(harness.user("hq_marketer"))
    body = recharge_body(shop["member"], store.id, 10000)
    assert marketer.post(RECHARGES, json=body).json()["code"] == "auth.permission_denied"
    other_store = harness.write(factories.make_store)
    away = cashier.post(RECHARGES, json=recharge_body(shop["member"], other_store.id, 100))
    assert away.status_code == 403 and away.json()["code"] == "store.forbidden"
    assert cashier.post(RECHARGES, json=body).status_code == 201
    stranger = harness.client(harness.user("cashier", other_store))
    assert stranger.post(RECHARGES, json=body).status_code == 403  # a retry shows the result
    refund = {"client_uuid": str(uuid.uuid4()), "member_id": shop["member"], "store_id": store.id, "method": "cash", "reason": "退卡"}  # fmt: skip
    assert cashier.post("/api/v1/stored-value/refunds", json=refund).status_code == 403
    done = manager.post("/api/v1/stored-value/refunds", json=refund)
    assert done.status_code == 201 and done.json()["principal"] == 10000
    rule = {"name": "充100送10", "min_principal": 10000, "bonus": 1000}
    assert cashier.get("/api/v1/stored-value/rules").status_code == 200
    assert cashier.post("/api/v1/stored-value/rules", json=rule).status_code == 403
    assert marketer.post("/api/v1/stored-value/rules", json=rule).status_code == 201


def test_rules_crud_and_their_errors(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))
    rules = "/api/v1/stored-value/rules"
    made = admin.post(rules, json={"name": "充100送10", "min_principal": 10000, "bonus": 1000}).json()  # fmt: skip
    window = {"valid_from": "2026-02-01T00:00:00+08:00", "valid_to": "2026-01-01T00:00:00+08:00"}
    bad = admin.put(f"{rules}/{made['id']}", json={"name": "x", "min_principal": 100, "bonus": 10, **window})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["code"] == "recharge_rule.window_invalid"
    too_big = admin.post(rules, json={"name": "x", "min_principal": 100, "bonus": 101})
    assert too_big.json()["code"] == "recharge_rule.bonus_too_big"
    assert admin.post(rules, json={"name": "x", "min_principal": 0, "bonus": 0}).status_code == 422
    changed = admin.put(f"{rules}/{made['id']}", json={"name": "充100送20", "min_principal": 10000, "bonus": 2000, "active": False})  # fmt: skip
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert admin.delete(f"{rules}/{made['id']}").status_code == 204
    assert admin.get(rules).json() == []


def test_receipt_as_text_and_escpos(harness: AppHarness) -> None:
    shop = setup(harness)
    done = shop["cashier"].post(RECHARGES, json=recharge_body(shop["member"], shop["store"].id, 50000)).json()  # fmt: skip
    url = f"{RECHARGES}/{done['id']}/receipt"
    text = shop["cashier"].get(url).text
    for expected in (shop["store"].name, done["number"], "137****", "￥500.00", "￥50.00", "现金", "￥550.00", shop["cashier_name"]):  # fmt: skip
        assert expected in text, expected
    assert max(len(line) for line in text.splitlines()) <= 32
    escpos = shop["cashier"].get(url, params={"format": "escpos", "paper": "80"})
    assert escpos.headers["content-type"] == "application/octet-stream"
    assert escpos.content.startswith(b"\x1b@\x1c&")
    assert "卡内余额".encode("gbk") in escpos.content and "储值充值".encode("gbk") in escpos.content
    other = harness.client(harness.user("cashier", harness.write(factories.make_store)))
    assert other.get(url).status_code == 403  # another store's slip


def test_liability_report_export_and_store_scope(harness: AppHarness) -> None:
    shop = setup(harness)
    second = harness.write(factories.make_store)
    admin = shop["admin"]
    assert admin.post(RECHARGES, json=recharge_body(shop["member"], shop["store"].id, 50000)).status_code == 201  # fmt: skip
    assert admin.post(RECHARGES, json=recharge_body(member(admin), second.id, 20000)).status_code == 201  # fmt: skip
    report = admin.get("/api/v1/stored-value/liability").json()
    assert report["months"][-1]["principal"] == 70000 and report["months"][-1]["bonus"] == 5000
    assert len(report["months"]) == 12
    mine = shop["manager"].get("/api/v1/stored-value/liability").json()
    assert {r["store_id"] for r in mine["rows"]} == {shop["store"].id}
    assert shop["manager"].get("/api/v1/stored-value/liability", params={"store_id": second.id}).status_code == 403  # fmt: skip
    assert shop["cashier"].get("/api/v1/stored-value/liability").status_code == 403
    exported = admin.get("/api/v1/stored-value/liability/export", params={"format": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0] == ["月份", "门店", "本金", "赠送", "合计"]
    assert [shop["store"].name, "500.00", "50.00", "550.00"] in [r[1:] for r in rows]
    xlsx = admin.get("/api/v1/stored-value/liability/export", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.max_row == len(rows)
    bad = admin.get(
        "/api/v1/stored-value/liability", params={"first": "2026-05", "last": "2026-01"}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "liability.range_invalid"
