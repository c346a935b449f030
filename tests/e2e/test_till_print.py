"""Receipt printing at the till: a fake network printer is set up for the seeded register;
a cash sale prints its receipt (barcode, drawer pulse), the receipt panel reprints it marked
重印, ⇧F6 reprints the last receipt after the next sale started; the back-office printer page
prints a test page. Screenshots at 1366x768 and 1024x768 go to test-results/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shouyin.db import Database, make_engine
from shouyin.printing.models import Printer
from shouyin.stores.models import Register
from tests.e2e.conftest import Seed
from tests.e2e.test_till import open_till, scan
from tests.escpos import find, parse
from tests.fakeprinter import FakePrinter

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand
PULSE = b"\x1bp"


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


@pytest.fixture
def printer(seed: Seed) -> Iterator[FakePrinter]:
    """The fake printer as the seeded register's printer; removed afterwards, so the other
    browser tests sell without one."""
    fake = FakePrinter()
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.write() as session:
            register_id = session.scalars(
                select(Register.id).where(Register.store_id == seed.store_id)
            ).first()
            row = Printer(store_id=seed.store_id, register_id=register_id, kind="network",
                          address=fake.address, paper_mm=80, drawer=True, active=True)  # fmt: skip
            session.add(row)
            session.flush()
            printer_id = row.id
        yield fake
    finally:
        with db.write() as session:
            found = session.get(Printer, printer_id)
            if found is not None:
                session.delete(found)
        db.dispose()
        fake.stop()


@pytest.mark.parametrize("width", [1366, 1024])
def test_a_sale_prints_and_the_receipt_can_be_printed_again(
    login: Callable[[str], Page], seed: Seed, printer: FakePrinter, width: int
) -> None:
    page = open_till(login, seed.cashier)
    page.set_viewport_size({"width": width, "height": 768})
    before = len(printer.received)
    scan(page, seed.products["water"].barcode)
    scan(page, seed.products["water"].barcode)
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    number = page.get_by_test_id("order-number").inner_text()
    note = page.get_by_test_id("print-note")
    expect(note).to_have_text("小票已打印。")
    commands, text = parse(printer.jobs(before + 1)[before])
    assert find(commands, b"\x1dk")[0].args[2:] == b"{B" + number.encode()
    assert len(find(commands, PULSE)) == 1  # cash: the drawer opens
    assert seed.store_name in text and "重印" not in text
    expect(page.get_by_test_id("receipt-text")).to_contain_text(number)
    shot(page, f"till-print-receipt-{width}.png")

    reprint = page.get_by_test_id("reprint")
    expect(reprint).to_be_visible()
    reprint.click()
    expect(note).to_contain_text("重印")
    commands, text = parse(printer.jobs(before + 2)[before + 1])
    assert "重印" in text and number in text and find(commands, PULSE) == []

    # The next customer: ⇧F6 prints the last receipt again without the panel.
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_hidden()
    page.keyboard.press("Shift+F6")
    expect(page.get_by_test_id("message")).to_contain_text(number)
    commands, text = parse(printer.jobs(before + 3)[before + 2])
    assert "重印" in text and find(commands, b"\x1dk")[0].args[2:] == b"{B" + number.encode()


def test_a_printer_that_is_down_leaves_the_sale_standing(
    login: Callable[[str], Page], seed: Seed, printer: FakePrinter
) -> None:
    page = open_till(login, seed.cashier)
    printer.stop()  # refused at once: nothing listens on its port any more
    orders = seed.order_count()
    scan(page, seed.products["water"].barcode)
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    expect(page.get_by_test_id("print-note")).to_contain_text("小票未打印")
    expect(page.get_by_test_id("print-note")).to_contain_text("销售已保存")
    assert seed.order_count() == orders + 1
    expect(page.get_by_test_id("order-number")).not_to_be_empty()


@pytest.mark.parametrize("width", [1366, 1024])
def test_office_printer_page_prints_a_test_page(
    login: Callable[[str], Page], seed: Seed, printer: FakePrinter, width: int
) -> None:
    page = login(seed.manager)
    page.set_viewport_size({"width": width, "height": 768})
    page.goto("/office/printers")
    table = page.locator("#printers")
    expect(table).to_contain_text(printer.address)
    expect(table).to_contain_text("1号收银台")
    before = len(printer.received)
    table.get_by_role("button", name="打印测试页").click()
    expect(page.get_by_test_id("test-result")).to_have_text("测试页已发送到打印机。")
    assert "打印测试" in parse(printer.jobs(before + 1)[before])[1]
    shot(page, f"office-printers-{width}.png")
