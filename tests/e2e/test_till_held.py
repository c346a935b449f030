"""Held carts at the till (挂单): park a member's cart with a coupon and points, sell to the
next customer, recall the first cart and pay it; a reload keeps the cart in progress, and a
paid cart is gone after a reload."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Seed
from tests.e2e.test_till import inside_viewport, open_till, scan, scan_field, yuan
from tests.e2e.test_till_loyalty import attach, step
from tests.e2e.test_till_member import add_member

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def pay_exact_cash(page: Page) -> str:
    """F9, Enter: the exact amount in cash; returns the order number on the receipt."""
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    return page.get_by_test_id("order-number").inner_text()


def parked_here(page: Page) -> list[dict[str, Any]]:
    registers = page.evaluate("window.TILL.registers")
    response = page.request.get(f"/api/v1/held-carts?register_id={registers[0]['id']}")
    assert response.ok, response.text()
    return list(response.json()["items"])


@pytest.mark.parametrize("width", [1366, 1024])
def test_park_sell_another_recall_and_pay(
    login: Callable[[str], Page], seed: Seed, width: int
) -> None:
    page = open_till(login, seed.cashier)
    page.set_viewport_size({"width": width, "height": 768})
    before_parked = len(parked_here(page))
    mobile, name = f"1361111{width:04d}", "挂单客"
    member = add_member(page, seed, mobile, name)
    seed.fund_member(member["id"], points=500)
    voucher = seed.issue_coupon(member["id"], name="5元代金券", value=500)
    yogurt, rice, water = (seed.products[k] for k in ("yogurt", "rice", "water"))

    for product in (yogurt, yogurt, rice):
        scan(page, product.barcode)
    attach(page, mobile, name)
    scan(page, voucher)
    expect(step(page, "coupon")).to_contain_text("5元代金券")
    page.keyboard.press("Shift+F7")
    expect(page.get_by_test_id("points-input")).to_be_focused()
    page.keyboard.type("100")
    page.keyboard.press("Enter")
    expect(step(page, "points")).to_contain_text("100 积分")
    total = page.get_by_test_id("total")
    expect(total).not_to_have_class(re.compile(r"\bstale\b"))
    first_total = total.inner_text()

    # Park it with a label: a new sale starts, the badge counts the parked cart.
    page.keyboard.press("Shift+F2")
    label = page.get_by_test_id("park-label")
    expect(label).to_be_focused()
    page.keyboard.type("红衣女士")
    shot(page, f"till-held-park-{width}.png")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("cart-line")).to_have_count(0)
    expect(page.get_by_test_id("member-panel")).to_be_hidden()
    expect(page.get_by_test_id("message")).to_contain_text("红衣女士")
    expect(page.get_by_test_id("held-count")).to_have_text(str(before_parked + 1))
    expect(scan_field(page)).to_be_focused()
    assert inside_viewport(page, page.get_by_test_id("recall-key"))

    # The next customer buys water and pays.
    scan(page, water.barcode)
    expect(total).to_have_text(yuan(water.price))
    pay_exact_cash(page)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_hidden()

    # Recall: the list shows the cart; Enter brings it back, priced again.
    page.keyboard.press("Shift+F3")
    held = page.get_by_test_id("held-cart").filter(has_text="红衣女士")
    expect(held).to_have_count(1)
    expect(held).to_contain_text(first_total)
    expect(held).to_contain_text("3 件")
    shot(page, f"till-held-recall-{width}.png")
    held.hover()
    page.keyboard.press("Enter")
    expect(page.locator('[data-dialog="recall"]')).to_be_hidden()
    lines = page.get_by_test_id("cart-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0).get_by_test_id("line-qty")).to_have_text("2")
    expect(page.get_by_test_id("member-name-shown")).to_have_text(name)
    expect(step(page, "coupon")).to_contain_text("5元代金券")
    expect(step(page, "points")).to_contain_text("100 积分")
    expect(total).to_have_text(first_total)
    if before_parked == 0:
        expect(page.get_by_test_id("held-count")).to_be_hidden()
    expect(scan_field(page)).to_be_focused()

    # A reload keeps the recalled cart: lines, member, coupon and points.
    page.reload()
    expect(scan_field(page)).to_be_focused()
    expect(lines).to_have_count(2)
    expect(page.get_by_test_id("member-name-shown")).to_have_text(name)
    expect(step(page, "coupon")).to_contain_text("5元代金券")
    expect(total).to_have_text(first_total)
    shot(page, f"till-held-restored-{width}.png")

    pay_exact_cash(page)
    expect(page.get_by_test_id("receipt-points-earned")).to_be_visible()
    # Paid: a reload shows an empty till, not the cart again.
    page.reload()
    expect(scan_field(page)).to_be_focused()
    expect(page.get_by_test_id("cart-line")).to_have_count(0)
    expect(page.get_by_test_id("member-panel")).to_be_hidden()
    assert len(parked_here(page)) == before_parked


def test_a_reload_keeps_the_cart_and_its_order_uuid(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = open_till(login, seed.cashier)
    water, cola = seed.products["water"], seed.products["cola"]
    scan(page, water.barcode)
    scan(page, water.barcode)
    scan(page, cola.barcode)
    expect(page.get_by_test_id("total")).to_have_text(yuan(2 * water.price + cola.price))
    uuid = page.evaluate("document.querySelector('.till-app')._x_dataStack[0].clientUuid")
    page.reload()
    expect(page.get_by_test_id("cart-line")).to_have_count(2)
    expect(page.get_by_test_id("cart-line").nth(0).get_by_test_id("line-qty")).to_have_text("2")
    expect(page.get_by_test_id("total")).to_have_text(yuan(2 * water.price + cola.price))
    assert page.evaluate("document.querySelector('.till-app')._x_dataStack[0].clientUuid") == uuid
    # Cancelling the sale forgets it too.
    expect(scan_field(page)).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator('[data-dialog="cancel"] button.danger')).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("cart-line")).to_have_count(0)
    page.reload()
    expect(scan_field(page)).to_be_focused()
    expect(page.get_by_test_id("cart-line")).to_have_count(0)


def test_parking_needs_a_cart_and_recall_waits_for_the_sale(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = open_till(login, seed.cashier)
    page.keyboard.press("Shift+F2")
    expect(page.get_by_test_id("message")).to_contain_text("购物车是空的")
    scan(page, seed.products["cola"].barcode)
    page.keyboard.press("Shift+F3")
    expect(page.get_by_test_id("message")).to_contain_text("⇧F2")
    expect(page.locator('[data-dialog="recall"]')).to_be_hidden()
    page.get_by_test_id("message").get_by_role("button").click()

    # A parked cart nobody comes back for is deleted from the list, in two presses.
    page.keyboard.press("Shift+F2")
    expect(page.get_by_test_id("park-label")).to_be_focused()
    page.keyboard.type("没回来的顾客")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("cart-line")).to_have_count(0)
    page.keyboard.press("Shift+F3")
    held = page.get_by_test_id("held-cart").filter(has_text="没回来的顾客")
    delete = held.get_by_test_id("held-delete")
    delete.click()
    expect(delete.locator("span:visible")).to_have_text("确认删除？")
    delete.click()
    expect(held).to_have_count(0)
    assert not [h for h in parked_here(page) if h["label"] == "没回来的顾客"]
