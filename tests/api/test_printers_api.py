"""Printers through HTTP on both databases: set-up (printers.manage only), the test page, and
printing a receipt at a register onto the fake network printer."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from shouyin.audit.models import AuditEntry
from shouyin.sales.models import Order
from tests import factories
from tests.conftest import AppHarness
from tests.escpos import find, parse
from tests.fakeprinter import FakePrinter, fake_printer_fixture  # noqa: F401

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
PRINTERS = "/api/v1/printers"
PULSE = b"\x1bp"


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        store = factories.make_store(session)
        register = factories.register_of(session, store)
        tea = factories.make_product(session, price=1500, stock={store.id: 50})
        return {"store": store, "register": register, "tea": tea}

    shop: dict[str, Any] = harness.write(build)
    shop["cashier"] = harness.client(harness.user("cashier", shop["store"]))
    shop["manager"] = harness.client(harness.user("store_manager", shop["store"]))
    return shop


def _setup(shop: dict[str, Any], address: str, **extra: Any) -> dict[str, Any]:
    body = {"store_id": shop["store"].id, "register_id": shop["register"].id,
            "kind": "network", "address": address, "paper_mm": 80, **extra}  # fmt: skip
    response = shop["manager"].put(PRINTERS, json=body)
    assert response.status_code in (200, 201), response.text
    saved: dict[str, Any] = response.json()
    return saved


def _sell(shop: dict[str, Any], payments: list[dict[str, Any]]) -> dict[str, Any]:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id,
        "lines": [{"product_id": shop["tea"].id, "quantity": 1}], "payments": payments,
    }  # fmt: skip
    response = shop["cashier"].post("/api/v1/orders", json=body)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def _print_url(shop: dict[str, Any]) -> str:
    return f"/api/v1/registers/{shop['register'].id}/print/receipt"


@BOTH
def test_set_up_list_change_and_delete(harness: AppHarness) -> None:
    shop = _shop(harness)
    manager = shop["manager"]
    first = manager.put(PRINTERS, json={"store_id": shop["store"].id, "kind": "network",
                                        "address": "192.168.1.50"})  # fmt: skip
    assert first.status_code == 201, first.text
    assert first.json()["address"] == "192.168.1.50:9100"  # the default port
    assert first.json()["register_id"] is None and first.json()["paper_mm"] == 80
    again = manager.put(PRINTERS, json={"store_id": shop["store"].id, "kind": "usb",
                                        "address": "0x04B8:0x0202", "paper_mm": 58})  # fmt: skip
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["address"] == "04b8:0202"
    listed = manager.get(PRINTERS, params={"store_id": shop["store"].id}).json()
    assert [(p["kind"], p["paper_mm"]) for p in listed] == [("usb", 58)]
    assert manager.delete(f"{PRINTERS}/{first.json()['id']}").status_code == 204
    assert manager.get(PRINTERS).json() == []
    with harness.db.read() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity == "printer")
        ).all()
    assert sorted(actions) == ["printer.delete", "printer.save", "printer.save"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"kind": "network", "address": "bad host!"}, "printer.address_invalid"),
        ({"kind": "network", "address": "10.0.0.1:70000"}, "printer.address_invalid"),
        ({"kind": "usb", "address": "04b8"}, "printer.address_invalid"),
        ({"kind": "usb", "address": "zz:01"}, "printer.address_invalid"),
        ({"kind": "file", "address": "lp0"}, "printer.address_invalid"),
        ({"kind": "file", "address": "/dev/../etc/passwd"}, "printer.address_invalid"),
        ({"kind": "file", "address": "/etc/passwd"}, "printer.address_invalid"),
        ({"kind": "file", "address": "/proc/self/mem"}, "printer.address_invalid"),
        ({"kind": "file", "address": "/"}, "printer.address_invalid"),
        ({"kind": "file", "address": "/dev/sda"}, "printer.address_invalid"),
        ({"kind": "file", "address": "/dev/mem"}, "printer.address_invalid"),
    ],
)
def test_bad_addresses_are_refused(harness: AppHarness, change: dict[str, str], code: str) -> None:
    shop = _shop(harness)
    body = {"store_id": shop["store"].id, **change}
    response = shop["manager"].put(PRINTERS, json=body)
    assert response.status_code == 422 and response.json()["code"] == code


@pytest.mark.parametrize(
    "change",
    [{"paper_mm": 76}, {"kind": "serial"}, {"drawer": "yes"}, {"store_id": True},
     {"register_id": 2**31}, {"colour": "red"}, {"address": ""}],
)  # fmt: skip
def test_malformed_set_up_is_a_422(harness: AppHarness, change: dict[str, Any]) -> None:
    shop = _shop(harness)
    body = {"store_id": shop["store"].id, "kind": "network", "address": "10.0.0.9", **change}
    assert shop["manager"].put(PRINTERS, json=body).status_code == 422


def test_a_cashier_cannot_set_up_printers(harness: AppHarness) -> None:
    shop = _shop(harness)
    body = {"store_id": shop["store"].id, "kind": "network", "address": "10.0.0.9"}
    assert shop["cashier"].put(PRINTERS, json=body).status_code == 403
    assert shop["cashier"].get(PRINTERS).status_code == 403
    saved = _setup(shop, "10.0.0.9")
    assert shop["cashier"].post(f"{PRINTERS}/{saved['id']}/test").status_code == 403
    assert shop["cashier"].delete(f"{PRINTERS}/{saved['id']}").status_code == 403


def test_another_stores_printers_are_out_of_reach(harness: AppHarness) -> None:
    shop, other = _shop(harness), _shop(harness)
    saved = _setup(other, "10.0.0.9")
    body = {"store_id": other["store"].id, "kind": "network", "address": "10.0.0.8"}
    assert shop["manager"].put(PRINTERS, json=body).status_code == 403
    assert shop["manager"].delete(f"{PRINTERS}/{saved['id']}").status_code == 404
    assert shop["manager"].get(PRINTERS, params={"store_id": other["store"].id}).status_code == 403
    body = {"store_id": shop["store"].id, "register_id": other["register"].id,
            "kind": "network", "address": "10.0.0.8"}  # fmt: skip
    assert shop["manager"].put(PRINTERS, json=body).status_code == 404


@BOTH
def test_test_page_prints_chinese(harness: AppHarness, fake_printer: FakePrinter) -> None:
    shop = _shop(harness)
    saved = _setup(shop, fake_printer.address)
    response = shop["manager"].post(f"{PRINTERS}/{saved['id']}/test")
    assert response.status_code == 200 and response.json()["printed"] is True
    _, text = parse(fake_printer.jobs(1)[0])
    assert "打印测试" in text and shop["store"].name in text


@BOTH
def test_cash_sale_prints_with_barcode_and_drawer_then_reprint(
    harness: AppHarness, fake_printer: FakePrinter
) -> None:
    shop = _shop(harness)
    _setup(shop, fake_printer.address)
    order = _sell(shop, [{"method": "cash", "amount": 2000}])
    response = shop["cashier"].post(_print_url(shop), json={"order_id": order["id"]})
    assert response.status_code == 200, response.text
    assert response.json()["drawer_opened"] is True
    again = shop["cashier"].post(_print_url(shop), json={"order_id": order["id"], "reprint": True})
    assert again.status_code == 200 and again.json()["drawer_opened"] is False
    first, copy = fake_printer.jobs(2)
    commands, text = parse(first)
    assert find(commands, b"\x1dk")[0].args[2:] == b"{B" + order["number"].encode()
    assert len(find(commands, PULSE)) == 1 and "重印" not in text
    commands, text = parse(copy)
    assert find(commands, PULSE) == [] and "重印" in text and order["number"] in text
    with harness.db.read() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "receipt.reprint")
        ).one()
    assert entry.entity_id == str(order["id"]) and entry.after["number"] == order["number"]  # type: ignore[index]


@BOTH
def test_card_sale_opens_no_drawer(harness: AppHarness, fake_printer: FakePrinter) -> None:
    shop = _shop(harness)
    _setup(shop, fake_printer.address)
    order = _sell(shop, [{"method": "card", "amount": 1500, "reference": "T8841"}])
    response = shop["cashier"].post(_print_url(shop), json={"order_id": order["id"]})
    assert response.status_code == 200 and response.json()["drawer_opened"] is False
    assert find(parse(fake_printer.jobs(1)[0])[0], PULSE) == []


@BOTH
def test_printer_down_is_a_clear_error_and_the_sale_stands(
    harness: AppHarness, fake_printer: FakePrinter
) -> None:
    shop = _shop(harness)
    _setup(shop, fake_printer.address)
    harness.app.state.settings.printer_timeout_seconds = 0.3
    order = _sell(shop, [{"method": "cash", "amount": 2000}])
    fake_printer.stall()
    response = shop["cashier"].post(_print_url(shop), json={"order_id": order["id"]})
    assert response.status_code == 503
    assert response.json()["code"] == "printer.unreachable"
    assert fake_printer.address in response.json()["message"]
    with harness.db.read() as session:
        assert session.get(Order, order["id"]) is not None
    assert shop["cashier"].get(f"/api/v1/orders/{order['id']}").status_code == 200


def test_no_printer_is_a_409(harness: AppHarness) -> None:
    shop = _shop(harness)
    order = _sell(shop, [{"method": "cash", "amount": 2000}])
    response = shop["cashier"].post(_print_url(shop), json={"order_id": order["id"]})
    assert response.status_code == 409 and response.json()["code"] == "printer.none"


def test_print_requests_are_checked(harness: AppHarness) -> None:
    shop, other = _shop(harness), _shop(harness)
    _setup(shop, "127.0.0.1:9")
    theirs = _sell(other, [{"method": "cash", "amount": 2000}])
    url = _print_url(shop)
    assert shop["cashier"].post(url, json={"order_id": theirs["id"]}).status_code == 404
    assert other["cashier"].post(url, json={"order_id": theirs["id"]}).status_code == 403
    assert shop["cashier"].post(url, json={"order_id": True}).status_code == 422
    assert shop["cashier"].post(url, json={"order_id": 1, "reprint": "yes"}).status_code == 422
    missing = "/api/v1/registers/2147483647/print/receipt"
    assert shop["cashier"].post(missing, json={"order_id": theirs["id"]}).status_code == 404


def test_office_page_sets_up_and_tests_a_printer(
    harness: AppHarness, fake_printer: FakePrinter
) -> None:
    shop = _shop(harness)
    manager = shop["manager"]
    page = manager.get("/office/printers")
    assert page.status_code == 200 and "小票打印机" in page.text
    form = {"store_id": str(shop["store"].id), "register_id": str(shop["register"].id),
            "kind": "network", "address": fake_printer.address, "paper_mm": "58",
            "drawer": "1", "active": "1"}  # fmt: skip
    saved = manager.post("/office/printers", data=form)
    assert saved.status_code == 303, saved.text
    listed = manager.get(PRINTERS).json()
    assert [(p["address"], p["paper_mm"], p["drawer"]) for p in listed] == [
        (fake_printer.address, 58, True)
    ]
    page = manager.get(saved.headers["location"])
    assert fake_printer.address in page.text and "1号收银台" in page.text
    tested = manager.post(f"/office/printers/{listed[0]['id']}/test")
    assert tested.status_code == 200 and "测试页已发送到打印机" in tested.text
    assert "打印测试" in parse(fake_printer.jobs(1)[0])[1]
    fake_printer.stop()
    failed = manager.post(f"/office/printers/{listed[0]['id']}/test")
    assert 'data-code="printer.unreachable"' in failed.text and "没有响应" in failed.text


def test_office_page_shows_a_bad_address_and_keeps_the_form(harness: AppHarness) -> None:
    shop = _shop(harness)
    form = {"store_id": str(shop["store"].id), "kind": "usb", "address": "epson", "paper_mm": "80"}
    page = shop["manager"].post("/office/printers", data=form)
    assert page.status_code == 422 and 'data-code="printer.address_invalid"' in page.text
    assert 'value="epson"' in page.text
    assert shop["cashier"].get("/office/printers").status_code == 403


@BOTH
def test_a_return_slip_prints_at_the_register(
    harness: AppHarness, fake_printer: FakePrinter
) -> None:
    shop = _shop(harness)
    manager = harness.user("store_manager", shop["store"])
    _setup(shop, fake_printer.address)
    order = _sell(shop, [{"method": "card", "amount": 1500, "reference": "T8841"}])
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "order_id": order["id"], "reason": "质量问题",
        "lines": [{"order_line_id": order["lines"][0]["id"], "quantity": 1}],
        "approval": {"username": manager.username, "password": factories.PASSWORD},
    }  # fmt: skip
    made = shop["cashier"].post("/api/v1/returns", json=body)
    assert made.status_code == 201, made.text
    url = f"/api/v1/registers/{shop['register'].id}/print/return"
    response = shop["cashier"].post(url, json={"return_id": made.json()["id"]})
    assert response.status_code == 200 and response.json()["drawer_opened"] is False  # card
    commands, text = parse(fake_printer.jobs(1)[0])
    assert "退货单" in text and "退回银行卡" in text and order["number"] in text
    assert find(commands, b"\x1dk")[0].args[2:] == b"{B" + made.json()["number"].encode()
    other = _shop(harness)
    assert other["cashier"].post(url, json={"return_id": made.json()["id"]}).status_code == 403
    assert shop["cashier"].post(url, json={"return_id": 2**31 - 1}).status_code == 404


@BOTH
def test_a_no_sale_and_a_cash_out_open_the_drawer_after_they_are_recorded(
    harness: AppHarness, fake_printer: FakePrinter
) -> None:
    shop = _shop(harness)
    _setup(shop, fake_printer.address)
    cashier = shop["manager"]  # the shift is another user's: a manager may move its cash
    current = cashier.get("/api/v1/shifts/current", params={"register_id": shop["register"].id})
    shift_id = current.json()["id"]
    _sell(shop, [{"method": "cash", "amount": 2000}])
    moves = f"/api/v1/shifts/{shift_id}/cash-moves"
    no_sale = {"client_uuid": str(uuid.uuid4()), "kind": "no_sale", "amount": 0,
               "reason": "换零钱"}  # fmt: skip
    first = cashier.post(moves, json=no_sale)
    assert first.status_code == 201 and first.json()["drawer_opened"] is True
    assert fake_printer.jobs(1)[0].startswith(PULSE)
    # A retry records nothing more and opens nothing more.
    assert cashier.post(moves, json=no_sale).status_code == 200
    out = {"client_uuid": str(uuid.uuid4()), "kind": "out", "amount": 1000, "reason": "交款"}
    assert cashier.post(moves, json=out).json()["drawer_opened"] is True
    assert all(job.startswith(PULSE) for job in fake_printer.jobs(2))
    assert len(fake_printer.received) == 2


@BOTH
def test_only_the_first_print_of_a_cash_sale_opens_the_drawer(
    harness: AppHarness, fake_printer: FakePrinter
) -> None:
    shop = _shop(harness)
    _setup(shop, fake_printer.address)
    order = _sell(shop, [{"method": "cash", "amount": 2000}])
    body = {"order_id": order["id"]}
    assert shop["cashier"].post(_print_url(shop), json=body).json()["drawer_opened"] is True
    # Asking again for the "first" print of an old cash sale is a reprint: no drawer, audited.
    again = shop["cashier"].post(_print_url(shop), json=body)
    assert again.status_code == 200 and again.json()["drawer_opened"] is False
    first, copy = fake_printer.jobs(2)
    assert find(parse(first)[0], PULSE) and not find(parse(copy)[0], PULSE)
    assert "重印" in parse(copy)[1]
    with harness.db.read() as session:
        reprints = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "receipt.reprint")
        ).all()
    assert len(reprints) == 1
