"""A manager sends a transfer (调拨) to another store; that store's manager receives it one
unit short; both stores' stock is right and the shortfall shows on the transfer."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shouyin.db import Database, make_engine
from shouyin.inventory.models import StockLevel
from tests import factories
from tests.e2e.conftest import Seed

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand
SIZES = [(1366, 768), (1024, 768)]


def _on_hand(seed: Seed, store_id: int, product_id: int) -> int:
    """Read straight from the database, independent of the pages under test."""
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.read() as session:
            value = session.scalar(
                select(StockLevel.on_hand).where(
                    StockLevel.store_id == store_id, StockLevel.product_id == product_id
                )
            )
        return value or 0
    finally:
        db.dispose()


def _shots(page: Page, name: str) -> None:
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"transfers-{name}-{width}.png"))
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


def test_a_transfer_received_one_unit_short(login: Callable[[str], Page], seed: Seed) -> None:
    water = seed.products["water"]
    sender_before = _on_hand(seed, seed.store_id, water.id)
    receiver_before = _on_hand(seed, seed.day_store_id, water.id)

    page = login(seed.manager)
    page.goto("/office/transfers/new")
    page.select_option("select[name=to_store_id]", str(seed.day_store_id))
    page.fill("textarea[name=lines]", f"{water.barcode} 3")
    page.fill("input[name=note]", "e2e 调拨")
    _shots(page, "new")
    page.click("#new-transfer button[type=submit]")
    expect(page.locator("#transfer-status")).to_be_visible()
    number = page.locator("h1").inner_text().split()[1]
    assert re.fullmatch(r"TR-\w+-\d{8}-\d{3}", number), number
    detail_url = page.url.split("?")[0]
    page.click("#send")
    expect(page.locator("p.notice")).to_be_visible()
    assert _on_hand(seed, seed.store_id, water.id) == sender_before - 3
    assert _on_hand(seed, seed.day_store_id, water.id) == receiver_before  # in transit
    _shots(page, "sent")

    page.context.clear_cookies()
    page = login(seed.day_manager)
    page.goto("/office/transfers?direction=in&status=in_transit")
    _shots(page, "list")
    page.click(f"tr[data-number='{number}'] a")
    assert page.url.split("?")[0] == detail_url
    count = page.locator(f"tr[data-product='{water.id}'] input[name=received]")
    expect(count).to_have_value("3")
    count.fill("2")
    _shots(page, "receive")
    page.click("#receive")
    expect(page.locator("#shortfall")).to_be_visible()
    expect(page.locator(f"tr[data-product='{water.id}'] td.short")).to_have_text("1")
    _shots(page, "received")

    assert _on_hand(seed, seed.store_id, water.id) == sender_before - 3
    assert _on_hand(seed, seed.day_store_id, water.id) == receiver_before + 2


def test_the_till_warns_after_a_sale_that_takes_stock_below_zero(
    login: Callable[[str], Page], seed: Seed
) -> None:
    """negative_stock is "warn" by default: the sale goes through and the cashier is told."""
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.write() as session:
            product = factories.make_product(
                session, name="调拨测试饼干", price=500, barcode="6977000000017",
                stock={seed.store_id: 1},
            )  # fmt: skip
            product_id = product.id
    finally:
        db.dispose()
    page = login(seed.cashier)
    expect(page).to_have_url(re.compile(r"/till$"))
    for _ in range(2):
        expect(page.get_by_test_id("scan")).to_be_focused()
        page.keyboard.type("6977000000017")
        page.keyboard.press("Enter")
    expect(page.get_by_test_id("cart-line").first.get_by_test_id("line-qty")).to_have_text("2")
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    expect(page.get_by_text("调拨测试饼干 (-1)")).to_be_visible()
    _shots(page, "till-warning")
    assert _on_hand(seed, seed.store_id, product_id) == -1
