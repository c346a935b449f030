"""A manager opens the day summary and an order from the back office."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Seed

pytestmark = pytest.mark.e2e


def _sell(page: Page, seed: Seed) -> dict[str, object]:
    """Ring up one cash sale through the API with the logged-in manager's session."""
    csrf = page.locator("body").get_attribute("data-csrf") or ""
    water = seed.products["water"]
    response = page.request.post(
        "/api/v1/orders",
        headers={"X-CSRF-Token": csrf},
        data={
            "client_uuid": str(uuid.uuid4()), "store_id": seed.store_id,
            "lines": [{"product_id": water.id, "quantity": 3}],
            "payments": [{"method": "cash", "amount": 1000}],
        },
    )  # fmt: skip
    assert response.status == 201, response.text()
    order: dict[str, object] = response.json()
    return order


def test_manager_sees_todays_sales_in_the_day_summary(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = login(seed.manager)
    order = _sell(page, seed)
    page.goto("/office/summary")
    expect(page.locator("h1")).to_be_visible()
    # The sales card and the hour chart show today's takings, including this order.
    expect(page.locator(".stat").first).to_be_visible()
    expect(page.locator(".chart canvas").first).to_be_visible()
    expect(page.locator("main")).to_contain_text("￥")
    page.goto("/office/orders")
    row = page.locator("table.grid tr", has_text=str(order["number"]))
    expect(row).to_be_visible()
    row.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"/office/orders/\d+"))
    expect(page.locator("pre.receipt")).to_contain_text(str(order["number"]))
    expect(page.locator("main")).to_contain_text(seed.products["water"].name)


def test_cashier_cannot_open_the_back_office_pages(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = login(seed.cashier)
    response = page.goto("/office/users")
    assert response is not None and response.status == 403
