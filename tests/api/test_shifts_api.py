"""Shifts (交接班) over HTTP on both databases: open, cash moves, X report, close with a count,
Z report, and every refusal (someone else's shift, twice, more cash out than the drawer)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from shouyin.audit.models import AuditEntry
from shouyin.sales.shift_models import CashMove, Shift
from shouyin.stores.models import Register
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
SHIFTS = "/api/v1/shifts"
Z = "/api/v1/z-reports"


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        store = factories.make_store(session, shift=False)
        register = factories.register_of(session, store)
        second = Register(store_id=store.id, code="R2", name="2号收银台")
        session.add(second)
        session.flush()
        return {
            "store": store, "register": register,
            "second": second, "water": factories.make_product(session, price=350,
                                                              stock={store.id: 1000}),
        }  # fmt: skip

    shop: dict[str, Any] = harness.write(build)
    shop["cashier_user"] = harness.user("cashier", shop["store"])
    shop["cashier"] = harness.client(shop["cashier_user"])
    shop["other_user"] = harness.user("cashier", shop["store"])
    shop["other"] = harness.client(shop["other_user"])
    shop["manager_user"] = harness.user("store_manager", shop["store"])
    shop["manager"] = harness.client(shop["manager_user"])
    return shop


def _open(client: Any, shop: dict[str, Any], float_fen: int = 20000, reg: str = "register") -> Any:
    body = {"client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
            "register_id": shop[reg].id, "opening_float": float_fen}  # fmt: skip
    return client.post(SHIFTS, json=body)


def _sell(client: Any, shop: dict[str, Any], payments: list[dict[str, Any]], qty: int = 2) -> Any:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id,
        "lines": [{"product_id": shop["water"].id, "quantity": qty}], "payments": payments,
    }  # fmt: skip
    return client.post("/api/v1/orders", json=body)


def _move(client: Any, shift_id: int, kind: str, amount: int, reason: str = "找零") -> Any:
    body = {"client_uuid": str(uuid.uuid4()), "kind": kind, "amount": amount, "reason": reason}
    return client.post(f"{SHIFTS}/{shift_id}/cash-moves", json=body)


def _tender(report: dict[str, Any], method: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in report["figures"]["tenders"] if t["method"] == method)
    return found


@BOTH
def test_a_shift_from_open_to_z_report(harness: AppHarness) -> None:
    shop = _shop(harness)
    cashier = shop["cashier"]
    refused = _sell(cashier, shop, [{"method": "cash", "amount": 700}])
    assert refused.status_code == 409 and refused.json()["code"] == "shift.not_open"
    none = cashier.get(f"{SHIFTS}/current", params={"register_id": shop["register"].id})
    assert none.status_code == 404 and none.json()["code"] == "shift.none"

    opened = _open(cashier, shop)
    assert opened.status_code == 201, opened.text
    shift = opened.json()
    assert shift["cashier_id"] == shop["cashier_user"].id and shift["opening_float"] == 20000
    assert shift["register_name"] == "1号收银台" and shift["status"] == "open"
    current = cashier.get(f"{SHIFTS}/current", params={"register_id": shop["register"].id})
    assert current.json()["id"] == shift["id"]

    assert _sell(cashier, shop, [{"method": "cash", "amount": 1000}]).status_code == 201
    card = _sell(cashier, shop, [{"method": "card", "amount": 700, "reference": "T0001"}])
    assert card.status_code == 201, card.text
    split = [
        {"method": "card", "amount": 300, "reference": "T0002"},
        {"method": "cash", "amount": 400},
    ]
    assert _sell(cashier, shop, split).status_code == 201
    assert _move(cashier, shift["id"], "in", 5000).status_code == 201
    assert _move(cashier, shift["id"], "out", 2000, "存银行").status_code == 201
    assert _move(cashier, shift["id"], "no_sale", 0, "换零钱").status_code == 201

    x = cashier.get(f"{SHIFTS}/{shift['id']}/report")
    assert x.status_code == 200, x.text
    report = x.json()
    assert report["kind"] == "x" and report["shift"]["status"] == "open"
    figures = report["figures"]
    assert figures["orders"] == 3 and figures["net"] == 2100
    assert (figures["cash_in"], figures["cash_out"], figures["no_sales"]) == (5000, 2000, 1)
    # Cash sales are what the orders kept, after change: 700 + 400.
    assert _tender(report, "cash")["sales"] == 1100
    assert _tender(report, "card")["expected"] == 1000
    assert figures["expected_cash"] == 20000 + 1100 + 5000 - 2000
    assert "X" in report["text"] and "￥" in report["text"]
    printed = cashier.post(f"{SHIFTS}/{shift['id']}/print", json={"which": "x"})
    assert printed.status_code == 200 and printed.json() == {"printed": False}

    counted = {"cash": 24000, "card": 1000}
    closed = cashier.post(
        f"{SHIFTS}/{shift['id']}/close", json={"counted": counted, "note": "少1元"}
    )
    assert closed.status_code == 200, closed.text
    result = closed.json()
    assert result["kind"] == "close" and result["shift"]["status"] == "closed"
    assert result["shift"]["expected"] == {"cash": 24100, "card": 1000}
    assert result["shift"]["counted"] == counted
    assert result["shift"]["variance"] == {"cash": -100, "card": 0}
    assert result["shift"]["closed_by"] == shop["cashier_user"].id
    assert _tender(result, "cash")["variance"] == -100
    # The frozen report is what a later read shows.
    assert cashier.get(f"{SHIFTS}/{shift['id']}/report").json()["figures"] == result["figures"]
    again = _sell(cashier, shop, [{"method": "cash", "amount": 700}])
    assert again.status_code == 409 and again.json()["code"] == "shift.not_open"

    body = {"store_id": shop["store"].id, "register_id": shop["register"].id}
    assert cashier.post(Z, json=body).status_code == 403
    made = shop["manager"].post(Z, json=body)
    assert made.status_code == 201, made.text
    z = made.json()
    assert z["number"] == 1 and z["business_date"] == shift["business_date"]
    assert z["data"]["figures"]["net"] == 2100 and z["data"]["variance"] == {
        "cash": -100,
        "card": 0,
    }
    assert [c["cashier_id"] for c in z["data"]["cashiers"]] == [shop["cashier_user"].id]
    assert [s["shift_id"] for s in z["data"]["shifts"]] == [shift["id"]]
    twice = shop["manager"].post(Z, json=body)
    assert twice.status_code == 409 and twice.json()["code"] == "z.exists"
    # The Z report ends the register's day: no new shift, so no sale outside every Z report.
    reopen = {"client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
              "register_id": shop["register"].id, "opening_float": 0}  # fmt: skip
    refused = cashier.post("/api/v1/shifts", json=reopen)
    assert refused.status_code == 409 and refused.json()["code"] == "shift.day_closed"
    assert "1" in refused.json()["message"]
    listed = shop["manager"].get(Z, params={"store_id": shop["store"].id}).json()
    assert [item["id"] for item in listed["items"]] == [z["id"]]
    assert shop["manager"].get(f"{Z}/{z['id']}").json()["data"] == z["data"]
    assert shop["manager"].post(f"{Z}/{z['id']}/print").json() == {"printed": False}
    with harness.db.read() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"shift.open", "shift.cash_in", "shift.cash_out", "shift.no_sale", "shift.close",
            "z.create"} <= actions  # fmt: skip


@BOTH
def test_open_is_idempotent_and_one_per_register(harness: AppHarness) -> None:
    shop = _shop(harness)
    body = {"client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
            "register_id": shop["register"].id, "opening_float": 10000}  # fmt: skip
    first = shop["cashier"].post(SHIFTS, json=body)
    retry = shop["cashier"].post(SHIFTS, json=body)
    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    clash = _open(shop["other"], shop)
    assert clash.status_code == 409 and clash.json()["code"] == "shift.already_open"
    assert _open(shop["other"], shop, reg="second").status_code == 201
    assert _open(shop["cashier"], shop, float_fen=-1, reg="second").status_code == 422


@BOTH
def test_cash_moves_check_amounts_and_the_drawer(harness: AppHarness) -> None:
    shop = _shop(harness)
    shift = _open(shop["cashier"], shop, float_fen=10000).json()
    client = shop["cashier"]
    short = _move(client, shift["id"], "out", 10001)
    assert short.status_code == 409 and short.json()["code"] == "shift.cash_short"
    assert _move(client, shift["id"], "out", 0).status_code == 422
    assert _move(client, shift["id"], "no_sale", 100).status_code == 422
    assert _move(client, shift["id"], "in", 100, "").status_code == 422
    assert _move(client, shift["id"], "in", 100, "   ").status_code == 422
    body = {"client_uuid": str(uuid.uuid4()), "kind": "out", "amount": 10000, "reason": "存银行"}
    first = client.post(f"{SHIFTS}/{shift['id']}/cash-moves", json=body)
    retry = client.post(f"{SHIFTS}/{shift['id']}/cash-moves", json=body)
    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    with harness.db.read() as session:
        moves = session.scalars(select(CashMove).where(CashMove.shift_id == shift["id"])).all()
    assert [(m.kind, m.amount) for m in moves] == [("out", 10000)]
    # The drawer is empty now: even a fen is too much.
    assert _move(client, shift["id"], "out", 1).json()["code"] == "shift.cash_short"


@BOTH
def test_closing_rules(harness: AppHarness) -> None:
    shop = _shop(harness)
    shift = _open(shop["cashier"], shop).json()
    assert (
        _sell(
            shop["cashier"], shop, [{"method": "card", "amount": 700, "reference": "T0001"}]
        ).status_code
        == 201
    )
    url = f"{SHIFTS}/{shift['id']}/close"
    not_yours = shop["other"].post(url, json={"counted": {"cash": 20000, "card": 700}})
    assert not_yours.status_code == 403 and not_yours.json()["code"] == "shift.not_yours"
    missing = shop["cashier"].post(url, json={"counted": {"cash": 20000}})
    assert missing.status_code == 422 and missing.json()["code"] == "shift.count_missing"
    negative = shop["cashier"].post(url, json={"counted": {"cash": -1, "card": 700}})
    assert negative.status_code == 422
    unknown = shop["cashier"].post(url, json={"counted": {"cash": 1, "stored_value": 7}})
    assert unknown.status_code == 422
    with harness.db.read() as session:
        assert session.get(Shift, shift["id"]).status == "open"  # type: ignore[union-attr]
    # A manager may close anyone's shift.
    done = shop["manager"].post(url, json={"counted": {"cash": 20000, "card": 700}})
    assert done.status_code == 200, done.text
    assert done.json()["shift"]["closed_by_name"] == shop["manager_user"].display_name
    twice = shop["cashier"].post(url, json={"counted": {"cash": 20000, "card": 700}})
    assert twice.status_code == 409 and twice.json()["code"] == "shift.closed"
    closed_move = _move(shop["cashier"], shift["id"], "in", 100)
    assert closed_move.status_code == 409 and closed_move.json()["code"] == "shift.closed"


@BOTH
def test_z_report_refusals_and_numbering(harness: AppHarness) -> None:
    shop = _shop(harness)
    manager = shop["manager"]
    body = {"store_id": shop["store"].id, "register_id": shop["register"].id}
    empty = manager.post(Z, json=body)
    assert empty.status_code == 422 and empty.json()["code"] == "z.no_shifts"
    shift = _open(shop["cashier"], shop).json()
    still_open = manager.post(Z, json=body)
    assert still_open.status_code == 409 and still_open.json()["code"] == "z.shifts_open"
    close = {"counted": {"cash": 20000}}
    assert shop["cashier"].post(f"{SHIFTS}/{shift['id']}/close", json=close).status_code == 200
    assert manager.post(Z, json=body).json()["number"] == 1
    other = _open(shop["cashier"], shop, reg="second").json()
    assert shop["cashier"].post(f"{SHIFTS}/{other['id']}/close", json=close).status_code == 200
    second = manager.post(Z, json={**body, "register_id": shop["second"].id})
    assert second.status_code == 201 and second.json()["number"] == 1  # numbered per register


@BOTH
def test_who_sees_which_shifts(harness: AppHarness) -> None:
    shop = _shop(harness)
    mine = _open(shop["cashier"], shop).json()
    theirs = _open(shop["other"], shop, reg="second").json()
    own = shop["cashier"].get(SHIFTS).json()
    assert [s["id"] for s in own["items"]] == [mine["id"]]
    assert shop["cashier"].get(f"{SHIFTS}/{theirs['id']}").status_code == 404
    assert shop["cashier"].get(f"{SHIFTS}/{theirs['id']}/report").status_code == 404
    every = shop["manager"].get(SHIFTS, params={"status": "open"}).json()
    assert {s["id"] for s in every["items"]} == {mine["id"], theirs["id"]}
    by_register = shop["manager"].get(SHIFTS, params={"register_id": shop["second"].id}).json()
    assert [s["id"] for s in by_register["items"]] == [theirs["id"]]
    elsewhere = harness.write(lambda s: factories.make_store(s, shift=False))
    stranger = harness.client(harness.user("store_manager", elsewhere))
    assert stranger.get(f"{SHIFTS}/{mine['id']}").status_code == 403
    assert (
        stranger.get(f"{SHIFTS}/current", params={"register_id": shop["register"].id}).status_code
        == 403
    )
    assert stranger.get(SHIFTS, params={"store_id": shop["store"].id}).status_code == 403


@BOTH
def test_office_pages_list_show_and_make_the_z_report(harness: AppHarness) -> None:
    shop = _shop(harness)
    shift = _open(shop["cashier"], shop).json()
    assert _sell(shop["cashier"], shop, [{"method": "cash", "amount": 700}]).status_code == 201
    close = {"counted": {"cash": 20600}}
    assert shop["cashier"].post(f"{SHIFTS}/{shift['id']}/close", json=close).status_code == 200
    manager = shop["manager"]
    listed = manager.get("/office/shifts", params={"status": "closed"})
    assert listed.status_code == 200
    assert f"/office/shifts/{shift['id']}" in listed.text and "variance-short" in listed.text
    detail = manager.get(f"/office/shifts/{shift['id']}")
    assert detail.status_code == 200 and "-¥1.00" in detail.text.replace("￥", "¥")
    printed = manager.post(f"/office/shifts/{shift['id']}/print", data={})
    assert printed.status_code == 303
    assert shop["cashier"].get("/office/shifts").status_code == 403
    form = {"register_id": str(shop["register"].id), "day": ""}
    made = manager.post("/office/z-reports", data=form)
    assert made.status_code == 303, made.text
    page = manager.get(made.headers["location"])
    assert page.status_code == 200 and "Z1" in page.text
    again = manager.post("/office/z-reports", data=form)
    assert again.status_code == 409 and 'data-code="z.exists"' in again.text
    bad_day = manager.post("/office/z-reports", data={**form, "day": "2024-13-40"})
    assert bad_day.status_code == 422
    assert manager.get("/office/z-reports").status_code == 200


@BOTH
def test_concurrent_cash_outs_never_take_more_than_the_drawer(harness: AppHarness) -> None:
    shop = _shop(harness)
    shift = _open(shop["cashier"], shop, float_fen=10000).json()
    clients = [harness.client(shop["cashier_user"]) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda c: _move(c, shift["id"], "out", 6000).status_code, clients))
    assert sorted(answers) == [201, 409, 409]
    closers = [harness.client(shop["cashier_user"]) for _ in range(2)]
    close = {"counted": {"cash": 4000}}
    with ThreadPoolExecutor(2) as pool:
        closed = list(
            pool.map(lambda c: c.post(f"{SHIFTS}/{shift['id']}/close", json=close), closers)
        )
    assert sorted(r.status_code for r in closed) == [200, 409]


@BOTH
def test_a_shift_with_a_paid_code_no_sale_used_cannot_close(harness: AppHarness) -> None:
    shop = _shop(harness)
    cashier = shop["cashier"]
    shift = _open(cashier, shop).json()
    charge = {"client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
              "register_id": shop["register"].id, "code": "134567890123456780",
              "amount": 700}  # fmt: skip
    paid = cashier.post("/api/v1/payment-codes", json=charge)
    assert paid.status_code == 201 and paid.json()["status"] == "succeeded", paid.text
    close = f"/api/v1/shifts/{shift['id']}/close"
    refused = cashier.post(close, json={"counted": {"cash": 20000}})
    assert refused.status_code == 409 and refused.json()["code"] == "shift.codes_unsettled"
    assert "7.00" in refused.json()["message"]
    # Given back to the customer, the code no longer holds the close.
    cancelled = cashier.post(f"/api/v1/payment-codes/{paid.json()['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "reversed"
    assert cashier.post(close, json={"counted": {"cash": 20000}}).status_code == 200
