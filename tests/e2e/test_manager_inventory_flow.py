"""The issue's manager flow in one go, in the back office: a manager orders two products of a
category of their own and receives the purchase order, counts the category (one count differs),
posts the variance, sets a reorder point, sells below it at the till and sees the low-stock
alert appear."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from shouyin.catalog.pinyin import pinyin_of
from shouyin.db import Database, make_engine
from tests import factories
from tests.e2e.conftest import Seed
from tests.e2e.test_till import scan, scan_field, yuan

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("SHOUYIN_SHOTS", "test-results"))  # pytest-playwright clears it
CATEGORY = "烘焙调料"  # no other e2e test counts or sells it


@dataclass(frozen=True)
class Item:
    id: int
    name: str
    barcode: str
    price: int


def _ean13(stem: str) -> str:
    odd_even = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(stem))
    return stem + str((10 - odd_even % 10) % 10)


def _seed_category(seed: Seed) -> dict[str, Item]:
    """A category and two products with no stock yet in the seed's store (straight into the
    live server's database, as conftest seeds it); names with real pinyin initials."""
    specs = {"flour": ("金龙鱼高筋面粉 1kg", "690188800001", 1290),
             "yeast": ("安琪高活性干酵母 13g", "690188800002", 350)}  # fmt: skip
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.write() as session:
            category = factories.make_category(session, CATEGORY)
            made = {}
            for key, (name, stem, price) in specs.items():
                code = _ean13(stem)
                product = factories.make_product(
                    session, name=name, price=price, barcode=code, category=category
                )
                product.pinyin, product.initials = pinyin_of(name)
                product.sku = f"FLOW-{key.upper()}"
                made[key] = Item(product.id, name, code, price)
            return made
    finally:
        db.dispose()


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"inventory-flow-{name}.png"), full_page=True)


def _order_and_receive(page: Page, flour: Item, yeast: Item) -> None:
    """A draft built by searching products, sent, then received in full."""
    csrf = page.locator("body").get_attribute("data-csrf") or ""
    code = f"FLOW{uuid.uuid4().hex[:4].upper()}"
    supplier = page.request.post("/api/v1/suppliers", data={"code": code, "name": "安琪烘焙供应"},
                                 headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert supplier.status == 201, supplier.text()
    page.goto("/office/purchase-orders/new")
    page.select_option("select[name=supplier_id]", label=f"{code} · 安琪烘焙供应")
    page.locator("#save-order").click()
    expect(page).to_have_url(re.compile(r"/office/purchase-orders/\d+"))
    for item, initials, quantity, cost in ((flour, "jlygj", "20", "8.00"),
                                           (yeast, "aqgh", "10", "2.50")):  # fmt: skip
        page.locator("#product-search").fill(initials)  # pinyin initials: 金龙鱼高筋…
        result = page.locator(f"#search-results li[data-product='{item.id}']")
        expect(result).to_be_visible()
        page.locator("#product-search").press("Enter")
        row = page.locator(f"#order-lines tr[data-product='{item.id}']")
        expect(row.locator("input.count")).to_be_focused()
        row.locator("input.count").fill(quantity)
        row.locator("input.cost").fill(cost)
        row.locator("input.cost").press("Enter")
        expect(row.get_by_test_id("line-cost")).not_to_have_text("￥0.00")
    expect(page.locator("#total-cost")).to_have_text("￥185.00")  # 20 × 8 + 10 × 2.50
    _shoot(page, "1-order-draft")
    page.locator("#send").click()
    expect(page.locator("#order-status")).to_have_text("已发给供应商")
    order_url = page.url.split("?")[0]

    page.locator("#receive").click()
    expect(page.get_by_label(f"本次入库 {flour.name}")).to_have_value("20")
    expect(page.get_by_label(f"本次入库 {yeast.name}")).to_have_value("10")
    _shoot(page, "2-receive")
    page.locator("#save-receipt").click()
    expect(page).to_have_url(re.compile(r"/office/goods-receipts/\d+"))
    expect(page.locator("p.notice")).to_be_visible()
    page.goto(order_url)
    expect(page.locator("#order-status")).to_have_text("已全部到货")


def _stock_card(page: Page, seed: Seed, item: Item, on_hand: int) -> None:
    page.goto(f"/office/stock/{item.id}?store_id={seed.store_id}")
    expect(page.locator("#on-hand")).to_have_text(str(on_hand))


def _count(page: Page, item: Item, counted: int) -> None:
    """On the phone-sized count page: type the count, then scan the barcode."""
    page.fill("#qty", str(counted))
    page.locator("#scan").fill(item.barcode)
    with page.expect_response(lambda r: r.url.endswith("/counts")) as answered:
        page.locator("#scan").press("Enter")
    assert answered.value.status == 200, answered.value.text()
    expect(page.locator("#last-counted")).to_have_text(str(counted))


def _count_and_post(page: Page, seed: Seed, flour: Item, yeast: Item) -> None:
    page.goto("/office/stocktakes")
    option = page.locator("select[name=category_id] option", has_text=CATEGORY)
    page.select_option("select[name=category_id]", option.get_attribute("value"))
    page.click("#start")
    expect(page.locator("#stocktake-status")).to_be_visible()
    page.click("#count-link")
    _count(page, flour, 18)  # two bags are missing
    _count(page, yeast, 10)
    expect(page.locator("#recent li")).to_have_count(2)
    _shoot(page, "4-count")
    page.goto(page.url.removesuffix("/count"))
    lines = page.locator("#stocktake-lines")
    expect(lines.locator(f"tr[data-product='{flour.id}'] td.variance")).to_have_text("-2")
    expect(lines.locator(f"tr[data-product='{yeast.id}'] td.variance")).to_have_text("0")
    expect(page.locator("#total-variance")).to_have_text("-2")
    _shoot(page, "5-variance")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#post")
    expect(page.locator("#stocktake-status")).to_have_text(re.compile("过账|posted", re.I))


def _set_min(page: Page, seed: Seed, item: Item, minimum: int, maximum: int) -> None:
    page.goto("/office/replenishment")
    form = page.locator("#rule-form")
    form.locator("input[name=code]").fill(item.barcode)
    form.locator("select[name=mode]").select_option("manual")
    form.locator("input[name=min_qty]").fill(str(minimum))
    form.locator("input[name=max_qty]").fill(str(maximum))
    page.locator("#save-rule").click()
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator(f"#rules tr[data-product='{item.id}']")).to_contain_text(str(minimum))
    # Still above the point: checking raises nothing for it.
    page.locator("#check-now").click()
    expect(page.locator("#done")).to_be_visible()
    expect(page.locator(f"#alerts tr[data-product='{item.id}']")).to_have_count(0)


def _sell(page: Page, item: Item, count: int) -> None:
    page.goto("/till")
    expect(scan_field(page)).to_be_focused()
    for _ in range(count):
        scan(page, item.barcode)
    expect(page.get_by_test_id("total")).to_have_text(yuan(item.price * count))
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.type(str(item.price * count // 100 + 1))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_visible()


def test_manager_receives_counts_posts_and_sees_a_low_stock_alert_after_sales(
    login: Callable[[str], Page], seed: Seed
) -> None:
    items = _seed_category(seed)
    flour, yeast = items["flour"], items["yeast"]
    page = login(seed.manager)

    _order_and_receive(page, flour, yeast)
    _stock_card(page, seed, flour, 20)
    receipt = page.locator("#movements tbody tr[data-kind=receipt]")
    expect(receipt).to_have_count(1)
    expect(receipt).to_contain_text("GR-")
    expect(receipt).to_contain_text("+20")
    expect(page.locator("#average-cost")).not_to_have_text("-")
    _shoot(page, "3-stock-card-receipt")

    _count_and_post(page, seed, flour, yeast)
    _shoot(page, "6-posted")
    _stock_card(page, seed, flour, 18)
    expect(page.locator("#movements tbody tr").first).to_contain_text("-2")
    _stock_card(page, seed, yeast, 10)

    _set_min(page, seed, flour, 16, 40)
    _sell(page, flour, 3)  # 18 → 15, below the point of 16
    _stock_card(page, seed, flour, 15)

    page.goto("/office/replenishment")
    page.locator("#check-now").click()  # the scheduler's scan, run now
    expect(page.locator("#done")).to_be_visible()
    alert = page.locator(f"#alerts tr[data-product='{flour.id}']")
    expect(alert).to_contain_text(flour.name)
    expect(alert.locator("td.num").nth(0)).to_have_text("15")
    expect(alert.locator("td.num").nth(1)).to_have_text("16")
    expect(alert.locator(".badge")).to_have_text("未处理")
    expect(page.locator(f"#alerts tr[data-product='{yeast.id}']")).to_have_count(0)
    listed = page.locator(f"#list tr[data-product='{flour.id}']")
    expect(listed.locator("b")).to_have_text("25")  # up to 40 from 15
    _shoot(page, "7-alert")
