"""Printing through the service on SQLite and PostgreSQL: the fake network printer receives
the receipt (barcode, survey QR, drawer pulse for cash), reprints, reports, the drawer, a file
device, and a printer that does not answer."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.auth.principal import Principal
from shouyin.config import Settings
from shouyin.errors import Conflict, DomainError, Forbidden, NotFound
from shouyin.printing import service
from shouyin.printing.devices import PrinterUnreachable
from shouyin.printing.schemas import PrinterSave
from shouyin.sales import returns
from shouyin.sales import service as sales
from shouyin.sales.models import Order
from shouyin.sales.return_schemas import ReturnCreate
from shouyin.sales.schemas import OrderCreate, OrderPublic
from shouyin.service.survey_links import read_survey_token
from tests import factories
from tests.escpos import find, parse
from tests.fakeprinter import FakePrinter, fake_printer_fixture  # noqa: F401

PULSE = b"\x1bp"
SECRET = "test-secret"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(mode="test", secret_key=SECRET, var_dir=tmp_path, printer_timeout_seconds=1)


def _shop(session: Session) -> dict[str, Any]:
    store = factories.make_store(session)
    cashier = factories.make_user(session, role="cashier", store=store)
    manager = factories.make_user(session, role="store_manager", store=store)
    return {
        "store": store, "register": factories.register_of(session, store),
        "tea": factories.make_product(session, price=1500, stock={store.id: 50}),
        "cashier": factories.principal_of(cashier), "manager": factories.principal_of(manager),
        "hq": factories.principal_of(factories.make_user(session, role="hq_admin")),
    }  # fmt: skip


def _sell(session: Session, shop: dict[str, Any], payments: list[dict[str, Any]]) -> OrderPublic:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id,
        "lines": [{"product_id": shop["tea"].id, "quantity": 2}], "payments": payments,
    }  # fmt: skip
    order, _ = sales.checkout(
        session, data=OrderCreate.model_validate(body), actor=shop["cashier"],
        discount_audit_percent=100,
    )  # fmt: skip
    return order


def _printer(
    session: Session, shop: dict[str, Any], address: str, *, actor: Principal | None = None,
    kind: str = "network", register: bool = True, **extra: Any,
) -> int:  # fmt: skip
    data = PrinterSave.model_validate({
        "store_id": shop["store"].id, "register_id": shop["register"].id if register else None,
        "kind": kind, "address": address, **extra,
    })  # fmt: skip
    saved, _ = service.save_printer(session, actor=actor or shop["manager"], data=data)
    return saved.id


def _print(
    session: Session, shop: dict[str, Any], order: OrderPublic, settings: Settings, *,
    reprint: bool = False,
) -> service.Job:  # fmt: skip
    job = service.receipt_job(
        session, actor=shop["cashier"], register_id=shop["register"].id, order_id=order.id,
        reprint=reprint, settings=settings,
    )  # fmt: skip
    service.send(job, timeout=settings.printer_timeout_seconds)
    return job


def test_a_cash_sale_prints_its_receipt_and_opens_the_drawer(
    session: Session, fake_printer: FakePrinter, settings: Settings
) -> None:
    shop = _shop(session)
    _printer(session, shop, fake_printer.address, paper_mm=58)
    order = _sell(session, shop, [{"method": "cash", "amount": 5000}])
    job = _print(session, shop, order, settings)
    assert job.drawer_opened
    (received,) = fake_printer.jobs(1)
    commands, text = parse(received)
    assert find(commands, b"\x1dk")[0].args[2:] == b"{B" + order.number.encode()
    assert len(find(commands, PULSE)) == 1
    assert shop["store"].name in text and "找零" in text and "￥20.00" in text
    (qr,) = [c.args for c in find(commands, b"\x1d(") if c.args[3:6] == b"1P0"]
    token = qr[6:].decode().rsplit("/s/", 1)[1]
    assert read_survey_token(token, secret=SECRET) == order.id
    assert max(len(row.encode("gbk")) for row in text.split("\n")) <= 32  # 58 mm


def test_a_reprint_is_marked_opens_no_drawer_and_is_audited(
    session: Session, fake_printer: FakePrinter, settings: Settings
) -> None:
    shop = _shop(session)
    _printer(session, shop, fake_printer.address)
    order = _sell(session, shop, [{"method": "cash", "amount": 3000}])
    job = _print(session, shop, order, settings, reprint=True)
    service.record_reprint(session, actor=shop["cashier"], job=job)
    (received,) = fake_printer.jobs(1)
    commands, text = parse(received)
    assert "重印" in text and find(commands, PULSE) == [] and not job.drawer_opened
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "receipt.reprint")).one()
    assert entry.entity_id == str(order.id) and entry.actor == shop["cashier"].username


def test_a_card_sale_opens_no_drawer(
    session: Session, fake_printer: FakePrinter, settings: Settings
) -> None:
    shop = _shop(session)
    _printer(session, shop, fake_printer.address)
    order = _sell(session, shop, [{"method": "card", "amount": 3000, "reference": "T8841"}])
    assert not _print(session, shop, order, settings).drawer_opened
    commands, _ = parse(fake_printer.jobs(1)[0])
    assert find(commands, PULSE) == []


def test_no_drawer_pulse_when_no_drawer_is_attached(
    session: Session, fake_printer: FakePrinter, settings: Settings
) -> None:
    shop = _shop(session)
    _printer(session, shop, fake_printer.address, drawer=False)
    order = _sell(session, shop, [{"method": "cash", "amount": 3000}])
    assert not _print(session, shop, order, settings).drawer_opened
    assert find(parse(fake_printer.jobs(1)[0])[0], PULSE) == []
    assert service.kick_drawer(session, register_id=shop["register"].id) is False


def test_a_printer_that_does_not_answer_leaves_the_sale_alone(
    session: Session, fake_printer: FakePrinter, settings: Settings
) -> None:
    shop = _shop(session)
    _printer(session, shop, fake_printer.address)
    order = _sell(session, shop, [{"method": "cash", "amount": 3000}])
    fake_printer.stall()
    with pytest.raises(PrinterUnreachable) as caught:
        _print(session, shop, order, settings)
    assert caught.value.status == 503 and fake_printer.address in caught.value.message
    assert session.get(Order, order.id) is not None
    register = shop["register"].id
    assert service.kick_drawer(session, register_id=register, timeout=0.2) is False
    assert service.print_report(
        session, register_id=register, title="X", lines=[], timeout=0.2
    ) is False  # fmt: skip


def test_no_printer_set_up(session: Session, settings: Settings) -> None:
    shop = _shop(session)
    order = _sell(session, shop, [{"method": "cash", "amount": 3000}])
    with pytest.raises(Conflict) as caught:
        _print(session, shop, order, settings)
    assert caught.value.code == "printer.none"
    register = shop["register"].id
    assert service.kick_drawer(session, register_id=register) is False
    assert service.print_report(session, register_id=register, title="X", lines=[]) is False


def test_report_and_drawer_for_other_parts(session: Session, fake_printer: FakePrinter) -> None:
    shop = _shop(session)
    _printer(session, shop, fake_printer.address, register=False, paper_mm=80)  # store default
    register = shop["register"].id
    rows = [("现金", "￥100.00"), ("订单数", "3")]
    assert service.print_report(session, register_id=register, title="Z 报表", lines=rows)
    assert service.kick_drawer(session, register_id=register)
    # Two connections: the fake printer may finish reading them in either order.
    pulse, report = sorted(fake_printer.jobs(2), key=len)
    commands, text = parse(report)
    assert "Z 报表" in text and "订单数" in text and find(commands, b"\x1dV")
    assert pulse == b"\x1bp\x00\x32\x32"


def test_the_registers_own_printer_wins_over_the_store_default(
    session: Session, fake_printer: FakePrinter
) -> None:
    shop = _shop(session)
    default = _printer(session, shop, "127.0.0.1:1", register=False)
    own = _printer(session, shop, fake_printer.address)
    register = shop["register"].id
    chosen = service.printer_for(session, register_id=register)
    assert chosen is not None and chosen.id == own
    _printer(session, shop, fake_printer.address, active=False)  # switched off: the default
    chosen = service.printer_for(session, register_id=register)
    assert chosen is not None and chosen.id == default
    listed = service.list_printers(session, actor=shop["manager"], store_id=None)
    assert sorted(p.id for p in listed) == sorted([default, own])  # saved twice: one row


def test_a_file_device_gets_the_bytes_appended(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    shop = _shop(session)
    target = tmp_path / "lp0.bin"
    target.touch()  # the device (or a file made for it) exists: it is never created
    with pytest.raises(Forbidden):  # a store may not write to the server's files
        _printer(session, shop, str(target), kind="file")
    _printer(session, shop, str(target), kind="file", actor=shop["hq"])
    order = _sell(session, shop, [{"method": "cash", "amount": 3000}])
    _print(session, shop, order, settings)
    first = target.read_bytes()
    assert find(parse(first)[0], b"\x1dk")[0].args[2:] == b"{B" + order.number.encode()
    assert service.kick_drawer(session, register_id=shop["register"].id)
    assert target.read_bytes() == first + b"\x1bp\x00\x32\x32"


def test_an_order_of_another_store_is_not_printed(session: Session, settings: Settings) -> None:
    shop, other = _shop(session), _shop(session)
    _printer(session, shop, "127.0.0.1:9")
    order = _sell(session, other, [{"method": "cash", "amount": 3000}])
    with pytest.raises(NotFound):
        _print(session, shop, order, settings)
    with pytest.raises(DomainError) as caught:  # nor at another store's register
        service.receipt_job(
            session, actor=shop["cashier"], register_id=other["register"].id,
            order_id=order.id, reprint=False, settings=settings,
        )  # fmt: skip
    assert caught.value.status == 403


def test_a_cashier_cannot_set_up_printers(session: Session) -> None:
    shop = _shop(session)
    with pytest.raises(Forbidden):
        _printer(session, shop, "127.0.0.1:9100", actor=shop["cashier"])


def test_a_missing_file_device_is_unreachable_and_not_created(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    shop = _shop(session)
    target = tmp_path / "nothing-here"
    _printer(session, shop, str(target), kind="file", actor=shop["hq"])
    order = _sell(session, shop, [{"method": "cash", "amount": 3000}])
    with pytest.raises(PrinterUnreachable):
        _print(session, shop, order, settings)
    assert not target.exists()


def test_a_return_slip_prints_with_its_number_and_opens_the_drawer_for_cash(
    session: Session, fake_printer: FakePrinter
) -> None:
    shop = _shop(session)
    _printer(session, shop, fake_printer.address, paper_mm=58)
    order = _sell(session, shop, [{"method": "cash", "amount": 3000}])
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "order_id": order.id,
        "lines": [{"order_line_id": order.lines[0].id, "quantity": 1}], "reason": "不想要了",
        "approval": {"username": shop["manager"].username, "password": factories.PASSWORD},
    }  # fmt: skip
    made, _ = returns.create(
        session, data=ReturnCreate.model_validate(body), actor=shop["cashier"],
        approval_limit=100_000,
    )  # fmt: skip
    register = shop["register"].id
    job = service.return_job(
        session, actor=shop["cashier"], register_id=register, return_id=made.id, reprint=False
    )
    service.send(job, timeout=1)
    copy = service.return_job(
        session, actor=shop["cashier"], register_id=register, return_id=made.id, reprint=True
    )
    service.send(copy, timeout=1)
    service.record_reprint(session, actor=shop["cashier"], job=copy)
    first, second = fake_printer.jobs(2)
    commands, text = parse(first)
    assert "退货单" in text and order.number in text and "不想要了" in text
    assert "退回现金" in text and "-￥15.00" in text
    assert find(commands, b"\x1dk")[0].args[2:] == b"{B" + made.number.encode()
    assert len(find(commands, PULSE)) == 1 and job.drawer_opened
    commands, text = parse(second)
    assert "重印" in text and find(commands, PULSE) == []
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "return.reprint")).one()
    assert entry.entity_id == str(made.id)
