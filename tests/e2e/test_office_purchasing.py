"""A manager adds a supplier, orders from it, sends the order, receives it partly and then in
full, and sees the stock and the stock card move, in the back office."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Seed

pytestmark = pytest.mark.e2e
SHOTS = Path(os.environ.get("SHOUYIN_SHOTS", "test-results"))  # pytest-playwright clears it


def _on_hand(page: Page, seed: Seed, product_id: int) -> int:
    response = page.request.get(f"/api/v1/stock/{product_id}/card?store_id={seed.store_id}")
    assert response.status == 200, response.text()
    return int(response.json()["on_hand"])


def _shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    for width in (1366, 1024):
        page.set_viewport_size({"width": width, "height": 768})
        page.screenshot(path=str(SHOTS / f"purchasing-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def _receive(page: Page, quantities: dict[str, str] | None = None) -> None:
    page.locator("#receive").click()
    expect(page).to_have_url(re.compile(r"/office/goods-receipts/new\?order_id=\d+"))
    for label, value in (quantities or {}).items():
        page.get_by_label(f"本次入库 {label}").fill(value)
    page.locator("#save-receipt").click()
    expect(page).to_have_url(re.compile(r"/office/goods-receipts/\d+"))
    expect(page.locator("p.notice")).to_be_visible()


def test_manager_orders_and_receives_and_sees_the_stock_card(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = login(seed.manager)
    tissue, cola = seed.products["tissue"], seed.products["cola"]
    before = _on_hand(page, seed, tissue.id), _on_hand(page, seed, cola.id)
    code, name = f"E2E{uuid.uuid4().hex[:6].upper()}", "上海日化批发"

    page.goto("/office/suppliers")
    page.locator("#supplier-form input[name=code]").fill(code)
    page.locator("#supplier-form input[name=name]").fill(name)
    page.locator("#supplier-form input[name=lead_time_days]").fill("2")
    page.locator("#save-supplier").click()
    expect(page.locator("p.notice")).to_be_visible()
    expect(page.locator(f"#suppliers tr[data-code={code}]")).to_contain_text(name)
    _shoot(page, "suppliers")

    page.goto("/office/purchase-orders/new")
    page.select_option("select[name=supplier_id]", label=f"{code} · {name}")
    page.fill("textarea[name=lines]", f"{tissue.barcode} 10 8.50\n{cola.barcode} 24 1.80\n")
    _shoot(page, "order-new")
    page.locator("#save-order").click()
    expect(page).to_have_url(re.compile(r"/office/purchase-orders/\d+"))
    expect(page.locator("#order-lines tbody tr[data-line]")).to_have_count(2)
    page.locator("#send").click()
    expect(page.locator("#order-status")).to_have_text("已发给供应商")
    order_url = page.url.split("?")[0]

    # Part of the tissue arrives, the cola all of it.
    _receive(page, {tissue.name: "6"})
    page.goto(order_url)
    expect(page.locator("#order-status")).to_have_text("部分到货")
    tissue_row = page.locator(f"#order-lines tr[data-product='{tissue.id}']")
    expect(tissue_row.locator("[data-testid=outstanding]")).to_have_text("4")
    _shoot(page, "order-partly")
    assert _on_hand(page, seed, tissue.id) == before[0] + 6
    assert _on_hand(page, seed, cola.id) == before[1] + 24

    # The rest: the form starts at what is outstanding.
    page.locator("#receive").click()
    expect(page.get_by_label(f"本次入库 {tissue.name}")).to_have_value("4")
    expect(page.get_by_label(f"本次入库 {cola.name}")).to_have_value("0")
    _shoot(page, "receive")
    page.locator("#save-receipt").click()
    expect(page).to_have_url(re.compile(r"/office/goods-receipts/\d+"))
    _shoot(page, "receipt")
    page.goto(order_url)
    expect(page.locator("#order-status")).to_have_text("已全部到货")
    expect(page.locator("#receive")).to_have_count(0)
    assert _on_hand(page, seed, tissue.id) == before[0] + 10

    page.locator(f"#order-lines tr[data-product='{tissue.id}'] a").click()
    expect(page).to_have_url(re.compile(rf"/office/stock/{tissue.id}\?store_id="))
    expect(page.locator("#on-hand")).to_have_text(str(before[0] + 10))
    rows = page.locator("#movements tbody tr[data-kind=receipt]")
    expect(rows.nth(0)).to_contain_text("GR-")
    expect(rows.nth(0)).to_contain_text("+4")
    expect(rows.nth(1)).to_contain_text("+6")
    expect(page.locator("#average-cost")).not_to_have_text("-")
    _shoot(page, "stock-card")


def test_manager_builds_a_draft_by_searching_products_then_sends_it(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = login(seed.manager)
    tissue, cola, chips = seed.products["tissue"], seed.products["cola"], seed.products["chips"]
    page.goto("/office/purchase-orders")
    csrf = page.locator("body").get_attribute("data-csrf") or ""
    code = f"E2E{uuid.uuid4().hex[:6].upper()}"
    made = page.request.post("/api/v1/suppliers", data={"code": code, "name": "杭州日杂批发"},
                             headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert made.status == 201, made.text()
    page.goto("/office/purchase-orders/new")
    page.select_option("select[name=supplier_id]", label=f"{code} · 杭州日杂批发")
    page.locator("#save-order").click()  # no lines: an empty draft
    expect(page).to_have_url(re.compile(r"/office/purchase-orders/\d+"))
    expect(page.locator("#no-lines")).to_be_visible()
    expect(page.locator("#send")).to_be_disabled()

    search = page.locator("#product-search")
    search.fill("抽纸")
    expect(page.locator(f"#search-results li[data-product='{tissue.id}']")).to_be_visible()
    _shoot(page, "draft-search")
    page.locator(f"#search-results li[data-product='{tissue.id}']").click()
    tissue_row = page.locator(f"#order-lines tr[data-product='{tissue.id}']")
    expect(tissue_row).to_be_visible()
    expect(tissue_row.locator("input.count")).to_be_focused()  # ready for the quantity
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    expect(page.locator("#editor-status")).to_have_text("已保存。")
    tissue_row.locator("input.cost").fill("8.50")
    tissue_row.locator("input.cost").press("Enter")
    expect(tissue_row.get_by_test_id("line-cost")).to_have_text("￥85.00")

    # A scanner types the barcode and Enter: the one match goes on the order.
    search.fill(cola.barcode)
    search.press("Enter")
    cola_row = page.locator(f"#order-lines tr[data-product='{cola.id}']")
    expect(cola_row).to_be_visible()
    cola_row.locator("input.count").fill("24")
    cola_row.locator("input.cost").fill("1.8")
    cola_row.locator("input.cost").press("Enter")
    expect(page.locator("#editor-total")).to_have_text("￥128.20")
    expect(page.locator("#total-cost")).to_have_text("￥128.20")

    # Bad values are refused where they are typed; nothing is saved.
    cola_row.locator("input.count").fill("0")
    cola_row.locator("input.count").press("Enter")
    expect(page.locator("#editor-error")).to_contain_text("整数")
    page.locator("#send").click()  # not with a value the order does not hold
    expect(page.locator("#editor-error")).to_contain_text("未能保存")
    expect(page.locator("#order-status")).to_have_text("草稿")
    cola_row.locator("input.count").fill("24")
    cola_row.locator("input.count").press("Enter")

    search.fill(chips.barcode)
    search.press("Enter")
    chips_row = page.locator(f"#order-lines tr[data-product='{chips.id}']")
    expect(chips_row).to_be_visible()
    _shoot(page, "draft-lines")
    chips_row.locator("button.remove").click()
    expect(chips_row).to_have_count(0)
    expect(page.locator("#order-lines tbody tr[data-line]")).to_have_count(2)

    page.reload()  # what the server kept
    expect(page.locator(f"#order-lines tr[data-product='{tissue.id}'] input.count")).to_have_value(
        "10"
    )
    expect(page.locator("#total-cost")).to_have_text("￥128.20")
    # A quantity typed and Send pressed at once: the change is saved before the order goes.
    page.locator(f"#order-lines tr[data-product='{cola.id}'] input.count").fill("30")
    page.locator("#send").click()
    expect(page.locator("#order-status")).to_have_text("已发给供应商")
    expect(page.locator("#product-search")).to_have_count(0)
    expect(page.locator(f"#order-lines tr[data-product='{cola.id}']")).to_contain_text("30")
    expect(page.locator("#total-cost")).to_have_text("￥139.00")
    _shoot(page, "draft-sent")
