"""Returns at the till (退货, ⇧F4): a cashier sells two items, scans the receipt and returns
one with the manager's approval typed on the spot; and a return without a receipt."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shouyin.db import Database, make_engine
from shouyin.inventory.models import StockLevel
from tests.e2e.conftest import Seed
from tests.e2e.test_till import inside_viewport, open_till, scan, yuan

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def on_hand(seed: Seed, product_id: int) -> int:
    """The store's stock, read from the database (independent of the screens under test)."""
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.read() as session:
            found = session.scalar(
                select(StockLevel.on_hand).where(
                    StockLevel.store_id == seed.store_id, StockLevel.product_id == product_id
                )
            )
            return int(found or 0)
    finally:
        db.dispose()


def approve(page: Page, username: str, password: str) -> None:
    expect(page.get_by_test_id("approval-username")).to_be_focused()
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


@pytest.mark.parametrize("width", [1366, 1024])
def test_a_cashier_returns_one_item_of_a_receipt_with_the_managers_approval(
    login: Callable[[str], Page], seed: Seed, width: int
) -> None:
    page = open_till(login, seed.cashier)
    page.set_viewport_size({"width": width, "height": 768})
    water, cola = seed.products["water"], seed.products["cola"]
    for product in (water, cola):
        scan(page, product.barcode)
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.press("Enter")
    number = page.get_by_test_id("order-number").inner_text()
    page.keyboard.press("Enter")  # the next sale
    stock_before = on_hand(seed, cola.id)

    # ⇧F4: the return screen; the receipt's barcode is scanned into it.
    expect(page.get_by_test_id("return-key")).to_be_visible()
    page.keyboard.press("Shift+F4")
    panel = page.get_by_test_id("return-panel")
    expect(panel).to_be_visible()
    expect(page.get_by_test_id("return-number")).to_be_focused()
    expect(page.get_by_test_id("return-order").first).to_contain_text(number)
    shot(page, f"till-return-find-{width}.png")
    page.keyboard.type(number)
    page.keyboard.press("Enter")
    lines = page.get_by_test_id("return-line")
    expect(lines).to_have_count(2)
    expect(page.get_by_test_id("return-take")).to_have_text(["1", "1"])
    expect(page.get_by_test_id("return-refund")).to_have_text(yuan(water.price + cola.price))
    # Keep the water: − on the first line; only the cola goes back.
    page.keyboard.type("-")
    expect(page.get_by_test_id("return-take")).to_have_text(["0", "1"])
    expect(page.get_by_test_id("return-refund")).to_have_text(yuan(cola.price))
    shot(page, f"till-return-lines-{width}.png")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("return-reason")).to_be_focused()
    page.keyboard.press("ArrowDown")  # the first usual reason
    expect(page.get_by_test_id("return-reason")).not_to_have_value("")
    page.keyboard.press("Enter")

    # A cashier needs the manager: the approval appears on the spot.
    approval = page.get_by_test_id("return-approval")
    expect(approval).to_be_visible()
    assert inside_viewport(page, page.get_by_test_id("approval-submit"))
    shot(page, f"till-return-approval-{width}.png")
    approve(page, seed.manager, "not-the-password")
    expect(page.get_by_test_id("approval-error")).to_be_visible()
    assert on_hand(seed, cola.id) == stock_before
    approve(page, seed.manager, seed.password)
    result = page.get_by_test_id("return-result")
    expect(result).to_be_visible()
    expect(approval).to_be_hidden()
    expect(page.get_by_test_id("return-result-number")).to_have_text(f"{number}-R1")
    expect(page.get_by_test_id("return-result-tender")).to_have_text(
        [re.compile(r"现金\s*" + re.escape(yuan(cola.price)))]
    )
    shot(page, f"till-return-done-{width}.png")
    assert on_hand(seed, cola.id) == stock_before + 1

    # What the receipt can still return, as the API says: the water only.
    left = page.request.get(
        "/api/v1/returns/lookup", params={"number": number, "store_id": seed.store_id}
    )
    assert left.ok, left.text()
    assert [x["returnable"] for x in left.json()["lines"]] == [1, 0]
    assert left.json()["refunded"] == cola.price
    page.keyboard.press("Enter")
    expect(panel).to_be_hidden()
    expect(page.get_by_test_id("message")).to_contain_text(f"{number}-R1")
    expect(page.get_by_test_id("scan")).to_be_focused()


@pytest.mark.parametrize("width", [1366, 1024])
def test_a_return_without_a_receipt_needs_the_manager(
    login: Callable[[str], Page], seed: Seed, width: int
) -> None:
    page = open_till(login, seed.cashier)
    page.set_viewport_size({"width": width, "height": 768})
    chips = seed.products["chips"]
    stock_before = on_hand(seed, chips.id)
    page.keyboard.press("Shift+F4")
    expect(page.get_by_test_id("return-number")).to_be_focused()
    page.keyboard.press("F2")
    code = page.get_by_test_id("return-item-code")
    expect(code).to_be_focused()
    page.keyboard.type(chips.barcode)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("return-item")).to_have_count(1)
    expect(page.get_by_test_id("return-item-unit")).to_have_value(f"{chips.price / 100:.2f}")
    page.keyboard.type("+")  # two bags
    expect(page.get_by_test_id("return-item-qty")).to_have_value("2")
    # F6: the refund agreed with the customer, below the price.
    page.keyboard.press("F6")
    expect(page.get_by_test_id("return-item-unit")).to_be_focused()
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    expect(code).to_be_focused()
    expect(page.get_by_test_id("return-refund")).to_have_text(yuan(1000))
    shot(page, f"till-return-noreceipt-{width}.png")
    page.keyboard.press("Enter")  # an empty code: on to the reason
    expect(page.get_by_test_id("return-reason")).to_be_focused()
    page.keyboard.type("小票丢失")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("return-approval")).to_be_visible()
    approve(page, seed.manager, seed.password)
    expect(page.get_by_test_id("return-result")).to_be_visible()
    expect(page.get_by_test_id("return-result-number")).to_have_text(re.compile(r"-NR\d+$"))
    expect(page.get_by_test_id("return-result-tender")).to_have_text(
        [re.compile(r"现金\s*" + re.escape(yuan(1000)))]
    )
    assert on_hand(seed, chips.id) == stock_before + 2
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("return-panel")).to_be_hidden()
