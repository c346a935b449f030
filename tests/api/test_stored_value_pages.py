"""The stored-value pages through HTTP: recharge rules, a member's recharge and refund forms,
and the liability report, with who may see and change what."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
RULES = "/office/loyalty/stored-value"


def member(client: Any) -> int:
    n = factories.next_id()
    body = {"mobile": f"136{n:08d}", "name": f"会员{n}", "consent": True}
    response = client.post("/api/v1/members", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


@BOTH
def test_marketer_creates_edits_and_deletes_a_rule(harness: AppHarness) -> None:
    marketer = harness.client(harness.user("hq_marketer"))
    page = marketer.get(RULES)
    assert page.status_code == 200 and "储值" in page.text and 'id="rule-form"' in page.text
    form = {"name": "充500送50", "min_yuan": "500", "bonus_yuan": "50", "valid_from": "2026-01-01", "valid_until": "2026-12-31", "active": "1"}  # fmt: skip
    saved = marketer.post(f"{RULES}/rules", data=form)
    assert saved.status_code == 303
    listed = marketer.get(RULES).text
    assert "充500送50" in listed and "￥500.00" in listed and "￥50.00" in listed
    assert "2026-01-01" in listed and "2026-12-31" in listed  # the last day is shown inclusive
    rule_id = int(re.findall(r'data-rule="(\d+)"', listed)[0])
    rule = next(r for r in marketer.get("/api/v1/stored-value/rules").json() if r["id"] == rule_id)
    assert rule["valid_to"].startswith("2026-12-31T16:00:00")  # midnight after the day, China time
    edit = marketer.get(RULES, params={"edit": rule_id}).text
    assert 'value="500.00"' in edit
    bad = marketer.post(f"{RULES}/rules/{rule_id}", data=form | {"bonus_yuan": "600"})
    assert bad.status_code == 422 and "recharge_rule.bonus_too_big" in bad.text
    assert 'value="600"' in bad.text  # the form comes back as typed
    assert marketer.post(f"{RULES}/rules/{rule_id}/delete").status_code == 303
    assert f'data-rule="{rule_id}"' not in marketer.get(RULES).text


def test_rule_dates_past_2999_or_before_1970_come_back_as_errors(harness: AppHarness) -> None:
    marketer = harness.client(harness.user("hq_marketer"))
    form = {"name": "充500送50", "min_yuan": "500", "bonus_yuan": "50", "active": "1"}
    for dates in ({"valid_until": "9999-12-31"}, {"valid_from": "0001-01-01"}, {"valid_until": "1969-12-31"}):  # fmt: skip
        page = marketer.post(f"{RULES}/rules", data=form | dates)
        assert page.status_code == 422, dates
        assert 'data-code="recharge_rule.time_invalid"' in page.text and "1970" in page.text
        assert f'value="{next(iter(dates.values()))}"' in page.text  # the form comes back as typed
    assert 'data-rule="' not in marketer.get(RULES).text
    last = marketer.post(f"{RULES}/rules", data=form | {"valid_from": "2026-01-01", "valid_until": "2999-12-31"})  # fmt: skip
    assert last.status_code == 303


def test_cashier_sees_rules_but_cannot_change_them(harness: AppHarness) -> None:
    cashier = harness.client(harness.user("cashier"))
    page = cashier.get(RULES)
    assert page.status_code == 200 and 'id="rule-form"' not in page.text
    form = {"name": "x", "min_yuan": "1", "bonus_yuan": "0"}
    assert cashier.post(f"{RULES}/rules", data=form).status_code == 403
    assert cashier.get("/office/loyalty/liability").status_code == 403


@BOTH
def test_recharge_form_shows_result_and_receipt_then_refund_empties_card(
    harness: AppHarness,
) -> None:
    store = harness.write(factories.make_store)
    admin = harness.client(harness.user("hq_admin"))
    admin.post("/api/v1/stored-value/rules", json={"name": "充500送50", "min_principal": 50000, "bonus": 5000})  # fmt: skip
    member_id = member(admin)
    cashier = harness.client(harness.user("cashier", store))
    page = cashier.get(f"/office/members/{member_id}/recharge")
    assert page.status_code == 200 and 'id="recharge-form"' in page.text
    assert "充500送50" in page.text  # the cashier sees which bonus a recharge can earn
    body = {"client_uuid": hidden(page.text, "client_uuid"), "store_id": str(store.id), "amount": "500", "method": "cash"}  # fmt: skip
    done = cashier.post(f"/office/members/{member_id}/recharge", data=body)
    assert done.status_code == 303
    twice = cashier.post(f"/office/members/{member_id}/recharge", data=body)
    assert twice.headers["location"] == done.headers["location"]  # a double click recharges once
    result = cashier.get(done.headers["location"]).text
    assert 'id="result"' in result and "￥550.00" in result
    receipt = re.search(r'href="(/api/v1/stored-value/recharges/\d+/receipt\?format=text)"', result)
    assert receipt is not None and "￥550.00" in cashier.get(receipt.group(1)).text
    assert cashier.get(f"/office/members/{member_id}/sv-refund").status_code == 403

    manager = harness.client(harness.user("store_manager", store))
    refund_page = manager.get(f"/office/members/{member_id}/sv-refund").text
    refund = {"client_uuid": hidden(refund_page, "client_uuid"), "amount": "", "method": "cash", "reason": "退卡"}  # fmt: skip
    no_reason = manager.post(f"/office/members/{member_id}/sv-refund", data=refund | {"reason": ""})
    assert no_reason.status_code == 422 and "stored_value.reason_missing" in no_reason.text
    assert "按退还本金的比例" in refund_page  # the hint says the bonus goes in proportion
    part = manager.post(f"/office/members/{member_id}/sv-refund", data=refund | {"amount": "100"})
    assert part.status_code == 303
    shown = manager.get(part.headers["location"]).text  # ¥100 of ¥500 takes ¥10 of the ¥50
    assert 'data-stat="balance">￥440.00' in shown and "￥10.00" in shown
    refund_page = manager.get(f"/office/members/{member_id}/sv-refund").text
    refund["client_uuid"] = hidden(refund_page, "client_uuid")
    emptied = manager.post(f"/office/members/{member_id}/sv-refund", data=refund)
    assert emptied.status_code == 303
    shown = manager.get(emptied.headers["location"]).text
    assert 'data-stat="balance">￥0.00' in shown and "￥40.00" in shown  # bonus written off


def test_recharge_form_errors_come_back_inline(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))
    store = harness.write(factories.make_store)
    member_id = member(admin)
    url = f"/office/members/{member_id}/recharge"
    base = {"client_uuid": str(uuid.uuid4()), "store_id": str(store.id), "method": "cash"}
    for amount, code in (("abc", "money.invalid"), ("0", "stored_value.amount_invalid"), ("6000", "stored_value.over_cap")):  # fmt: skip
        page = admin.post(url, data=base | {"amount": amount})
        assert page.status_code == 422 and f'data-code="{code}"' in page.text, amount
    no_store = admin.post(url, data=base | {"amount": "10", "store_id": ""})
    assert 'data-code="stored_value.store_missing"' in no_store.text


@BOTH
def test_liability_page_with_chart_table_and_exports(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    admin = harness.client(harness.user("hq_admin"))
    body = {"client_uuid": str(uuid.uuid4()), "member_id": member(admin), "store_id": store.id, "principal": 12345, "method": "cash"}  # fmt: skip
    assert admin.post("/api/v1/stored-value/recharges", json=body).status_code == 201
    page = admin.get("/office/loyalty/liability")
    assert page.status_code == 200 and 'id="chart-liability"' in page.text
    assert "echarts.min.js" in page.text and "￥123.45" in page.text and store.name in page.text
    assert "/api/v1/stored-value/liability/export?" in page.text
    manager = harness.client(harness.user("store_manager", store))
    mine = manager.get("/office/loyalty/liability")
    assert mine.status_code == 200 and "￥123.45" in mine.text
    other = harness.client(harness.user("store_manager"))
    assert "￥123.45" not in other.get("/office/loyalty/liability").text
    bad = admin.get("/office/loyalty/liability", params={"first": "2026-13"})
    assert bad.status_code == 422 and "liability.month_invalid" in bad.text
