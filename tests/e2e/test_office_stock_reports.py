"""A manager opens the stock reports, sees the value at cost of a product, switches to slow
movers and downloads them as Excel."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from shouyin.db import Database, make_engine
from shouyin.inventory.purchasing_models import StockCost
from shouyin.shared.clock import utcnow
from tests import factories
from tests.e2e.conftest import Seed

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand


def _unsold_product(seed: Seed) -> tuple[int, str]:
    """A product of its own in the manager's store: 12 on hand at ¥1.50, never sold."""
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.write() as session:
            product = factories.make_product(session, name="e2e 滞销 围巾", price=3900,
                                             stock={seed.store_id: 12})  # fmt: skip
            session.add(StockCost(store_id=seed.store_id, product_id=product.id,
                                  unit_cost_milli=150_000, updated_at=utcnow()))  # fmt: skip
            return product.id, product.sku
    finally:
        db.dispose()


def test_a_manager_downloads_slow_movers_as_excel(
    login: Callable[[str], Page], seed: Seed, tmp_path: Path
) -> None:
    product_id, sku = _unsold_product(seed)
    page = login(seed.manager)
    page.goto("/office/stock-reports")
    row = page.locator(f"#report-rows tr[data-product='{product_id}']")
    expect(row).to_contain_text("￥18.00")
    expect(page.locator("#summary-products")).not_to_have_text("0")

    page.click("#report-kinds a[data-kind='slow-movers']")
    expect(page).to_have_url(re.compile(r"kind=slow-movers"))
    expect(page.locator("#report-kinds a.on")).to_have_attribute("data-kind", "slow-movers")
    expect(row.locator("td.last-sale")).to_have_text("从未售出")
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "stock-reports-slow-movers.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    download = download_info.value
    assert re.fullmatch(r"stock-slow-movers-store-\d+-\d{8}\.xlsx", download.suggested_filename)
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    sheet = load_workbook(target).active
    assert sheet is not None
    rows = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert rows[0][:3] == ["门店", "编码", "商品"]
    mine = next(r for r in rows if r[1] == sku)
    assert mine[2:] == ["e2e 滞销 围巾", None, "个", "12", "从未售出", "18.00"]


def test_head_office_chooses_a_store_for_the_turnover(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = login(seed.admin)
    page.goto("/office/stock-reports?kind=turnover")
    expect(page.locator("#report-rows th").first).to_have_text("门店")  # all stores
    page.select_option("select[name=store_id]", str(seed.store_id))
    page.click("#report-filters button[type=submit]")
    expect(page).to_have_url(re.compile(rf"store_id={seed.store_id}"))
    expect(page.locator("#report-rows th").first).to_have_text("编码")
    expect(page.locator("input[name=from]")).to_be_visible()
    page.click("#by-category summary")
    page.screenshot(path=str(SHOTS / "stock-reports-turnover.png"), full_page=True)
