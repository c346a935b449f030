"""A store manager counts a category (盘点) on the phone-sized page — scanning adds one at a
time, a typed quantity sets the count — reviews the variance and posts it; the stock moves."""

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

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand
SIZES = [(1366, 768), (1024, 768), (390, 844)]


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
        page.screenshot(path=str(SHOTS / f"stocktake-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


def _scan(page: Page, code: str, status: int = 200) -> None:
    scan = page.locator("#scan")
    expect(scan).to_be_focused()  # the field keeps focus: a scanner types into it
    scan.fill(code)
    with page.expect_response(lambda r: r.url.endswith("/counts")) as answered:
        scan.press("Enter")
    assert answered.value.status == status, answered.value.text()


def test_a_category_is_counted_on_a_phone_and_the_variance_posted(
    login: Callable[[str], Page], seed: Seed
) -> None:
    yogurt = seed.products["yogurt"]
    before = _on_hand(seed, seed.store_id, yogurt.id)

    page = login(seed.manager)
    page.goto("/office/stocktakes")
    option = page.locator("select[name=category_id] option", has_text="粮油乳品")
    page.select_option("select[name=category_id]", option.get_attribute("value"))
    page.fill("input[name=note]", "e2e 盘点")
    _shots(page, "list")
    page.click("#start")
    expect(page.locator("#stocktake-status")).to_be_visible()
    number = page.locator("h1").inner_text().split()[1]
    assert re.fullmatch(r"ST-\w+-\d{8}-\d{3}", number), number

    page.set_viewport_size({"width": 390, "height": 844})
    page.click("#count-link")
    for expected in ("1", "2", "3"):
        _scan(page, yogurt.barcode)
        expect(page.locator("#last-counted")).to_have_text(expected)
    expect(page.locator("#last-count")).to_contain_text(yogurt.name)
    _scan(page, seed.unknown_barcode, 404)
    expect(page.locator("#count-error")).to_be_visible()
    page.fill("#qty", str(before - 1))
    page.locator("#scan").click()
    _scan(page, yogurt.barcode)  # with a quantity: sets the count
    expect(page.locator("#last-counted")).to_have_text(str(before - 1))
    expect(page.locator("#recent li")).to_have_count(1)
    _shots(page, "count")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(page.url.removesuffix("/count") + "?lines=variance")
    row = page.locator(f"#stocktake-lines tr[data-product='{yogurt.id}']")
    expect(row.locator("td.variance")).to_have_text("-1")
    _shots(page, "review")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#post")
    expect(page.locator("p.notice")).to_be_visible()
    expect(page.locator("#stocktake-status")).to_have_text(re.compile("过账|posted", re.I))
    _shots(page, "posted")
    assert _on_hand(seed, seed.store_id, yogurt.id) == before - 1
    page.goto("/office/stocktakes")
    expect(page.locator(f"#stocktakes tr[data-number='{number}']")).to_be_visible()
