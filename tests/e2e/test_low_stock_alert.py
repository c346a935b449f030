"""A manager sets a reorder point just below a product's stock, sells it at the till until it
is at the point, presses "check now" in the back office and sees the low-stock alert and the
product on the replenishment list."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Seed
from tests.e2e.test_till import open_till, scan, yuan

pytestmark = pytest.mark.e2e
SHOTS = Path(
    os.environ.get("SHOUYIN_SHOTS", "test-results")
)  # pytest-playwright clears test-results


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    for width in (1366, 1024):
        page.set_viewport_size({"width": width, "height": 768})
        page.screenshot(path=str(SHOTS / f"replenishment-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def test_sale_to_the_reorder_point_raises_an_alert(
    login: Callable[[str], Page], seed: Seed
) -> None:
    noodles = seed.products["noodles"]
    page = open_till(login, seed.manager)
    csrf = page.locator("body").get_attribute("data-csrf") or ""
    card = page.request.get(f"/api/v1/stock/{seed.store_id}/{noodles.id}")
    assert card.ok, card.text()
    on_hand = int(card.json()["on_hand"])
    rule = {"store_id": seed.store_id, "product_id": noodles.id, "mode": "manual",
            "min_qty": on_hand - 1, "max_qty": on_hand + 20}  # fmt: skip
    made = page.request.put("/api/v1/reorder-rules", data=rule, headers={"X-CSRF-Token": csrf})
    assert made.status in (200, 201), made.text()
    try:
        scan(page, noodles.barcode)
        expect(page.get_by_test_id("total")).to_have_text(yuan(noodles.price))
        page.keyboard.press("F9")
        expect(page.get_by_test_id("cash-input")).to_be_focused()
        page.keyboard.type("10")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("receipt")).to_be_visible()

        page.goto("/office/replenishment")
        alerts = page.locator("#alerts tbody tr[data-product]")
        expect(page.locator(f"#alerts tr[data-product='{noodles.id}']")).to_have_count(0)
        page.locator("#check-now").click()
        expect(page.locator("#done")).to_be_visible()
        row = page.locator(f"#alerts tr[data-product='{noodles.id}']")
        expect(row).to_contain_text(noodles.name)
        expect(row).to_contain_text(str(on_hand - 1))
        expect(row.locator(".badge")).to_have_text("未处理")
        listed = page.locator(f"#list tr[data-product='{noodles.id}']")
        expect(listed).to_contain_text(str(21))  # up to on_hand + 20, from on_hand − 1
        _shoot(page, "alert")

        row.get_by_role("button", name="知悉").click()
        expect(page.locator(f"#alerts tr[data-product='{noodles.id}'] .badge")).to_have_text(
            "已知悉"
        )
        assert alerts.count() >= 1
    finally:
        page.request.delete(
            f"/api/v1/reorder-rules/{seed.store_id}/{noodles.id}", headers={"X-CSRF-Token": csrf}
        )
