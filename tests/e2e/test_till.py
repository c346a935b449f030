"""The till in a real browser: scan, pay cash, see the receipt; errors; small screens; English."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import Seed

pytestmark = pytest.mark.e2e


def open_till(login: Callable[[str], Page], username: str) -> Page:
    page = login(username)
    expect(page).to_have_url(re.compile(r"/till$"))
    expect(scan_field(page)).to_be_focused()
    return page


def scan_field(page: Page) -> Locator:
    return page.get_by_test_id("scan")


def scan(page: Page, code: str) -> None:
    """Type like a barcode scanner: into whatever has the focus, then Enter."""
    expect(scan_field(page)).to_be_focused()
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def yuan(fen: int) -> str:
    return f"￥{fen // 100}.{fen % 100:02d}"


def inside_viewport(page: Page, locator: Locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None and size is not None
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


def test_cashier_sells_for_cash_and_gets_a_receipt(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = open_till(login, seed.cashier)
    water, cola, chips = (seed.products[k] for k in ("water", "cola", "chips"))
    orders_before = seed.order_count()

    for product in (water, cola, water, chips):
        scan(page, product.barcode)
    lines = page.get_by_test_id("cart-line")
    expect(lines).to_have_count(3)
    expect(lines.nth(0)).to_contain_text(water.name)
    expect(lines.nth(0).get_by_test_id("line-qty")).to_have_text("2")
    expect(lines.nth(1).get_by_test_id("line-qty")).to_have_text("1")
    total = 2 * water.price + cola.price + chips.price
    expect(page.get_by_test_id("total")).to_have_text(yuan(total))
    expect(scan_field(page)).to_be_focused()

    page.keyboard.press("F9")
    cash_input = page.get_by_test_id("cash-input")
    expect(cash_input).to_be_focused()
    expect(page.get_by_test_id("cash-due")).to_have_text(yuan(total))
    page.keyboard.type("50")
    change = 5000 - total
    expect(page.get_by_test_id("cash-change")).to_have_text(yuan(change))
    page.keyboard.press("Enter")

    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_be_visible()
    number = page.get_by_test_id("order-number")
    expect(number).to_have_text(re.compile(r"\S+-\d{8}-\d{4}"))
    expect(page.get_by_test_id("receipt-change")).to_have_text(yuan(change))
    order_number = number.inner_text()
    expect(page.get_by_test_id("receipt-text")).to_contain_text(order_number)
    expect(page.get_by_test_id("receipt-text")).to_contain_text(water.name)

    assert seed.order_count() == orders_before + 1
    order = seed.orders()[-1]
    assert (order["number"], order["total"], order["paid"], order["change"]) == (
        order_number, total, 5000, change,
    )  # fmt: skip
    # The same order through the API, with the browser's session cookie.
    api = page.request.get(f"/api/v1/orders/{order['id']}")
    assert api.ok
    body = api.json()
    assert body["total"] == total
    assert [(x["product_id"], x["quantity"]) for x in body["lines"]] == [
        (water.id, 2), (cola.id, 1), (chips.id, 1),
    ]  # fmt: skip
    assert [(p["method"], p["tendered"], p["change"]) for p in body["payments"]] == [
        ("cash", 5000, change)
    ]

    page.keyboard.press("Enter")  # New sale
    expect(receipt).to_be_hidden()
    expect(lines).to_have_count(0)
    expect(page.get_by_test_id("total")).to_have_text(yuan(0))
    expect(scan_field(page)).to_be_focused()
    assert seed.order_count() == orders_before + 1


def test_scanning_on_the_receipt_starts_the_next_sale(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = open_till(login, seed.cashier)
    cola = seed.products["cola"]
    scan(page, cola.barcode)
    expect(page.get_by_test_id("total")).to_have_text(yuan(cola.price))
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.press("Enter")  # empty cash field: the exact amount
    expect(page.get_by_test_id("receipt-change")).to_have_text(yuan(0))

    page.keyboard.type(cola.barcode)  # the scanner, with the receipt still on screen
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_hidden()
    lines = page.get_by_test_id("cart-line")
    expect(lines).to_have_count(1)
    expect(lines.get_by_test_id("line-qty")).to_have_text("1")
    expect(page.get_by_test_id("total")).to_have_text(yuan(cola.price))


def test_unknown_barcode_shows_a_message_and_adds_nothing(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = open_till(login, seed.cashier)
    scan(page, seed.unknown_barcode)
    message = page.get_by_test_id("message")
    expect(message).to_be_visible()
    expect(message).to_contain_text(seed.unknown_barcode)
    expect(message).to_contain_text("未知条码")
    expect(page.get_by_test_id("cart-line")).to_have_count(0)
    expect(page.get_by_test_id("total")).to_have_text(yuan(0))
    expect(scan_field(page)).to_be_focused()
    expect(scan_field(page)).to_have_value("")


def test_total_and_function_keys_fit_a_1024x768_screen(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = login(seed.cashier)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto("/till")
    expect(scan_field(page)).to_be_focused()
    for key in ("water", "cola", "noodles", "chips", "tissue"):
        scan(page, seed.products[key].barcode)
    expect(page.get_by_test_id("cart-line")).to_have_count(5)

    assert inside_viewport(page, page.get_by_test_id("total"))
    keys = page.locator(".till-keys button")
    expect(keys.first).to_be_visible()
    for i in range(keys.count()):
        assert inside_viewport(page, keys.nth(i)), keys.nth(i).inner_text()
        box = keys.nth(i).bounding_box()
        assert box is not None and box["height"] >= 44
    # The page itself never scrolls; only the cart list does.
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    # A cashier has no discount or price-change keys.
    expect(page.locator(".till-keys")).not_to_contain_text("F3")
    expect(page.locator(".till-keys")).not_to_contain_text("F6")


def test_weighed_product_asks_for_the_weight(login: Callable[[str], Page], seed: Seed) -> None:
    page = open_till(login, seed.cashier)
    apples = seed.products["apples"]
    scan(page, apples.barcode)
    weight = page.get_by_test_id("weight-input")
    expect(weight).to_be_focused()
    page.keyboard.type("0.5")
    page.keyboard.press("Enter")
    line = page.get_by_test_id("cart-line")
    expect(line).to_have_count(1)
    expect(line.get_by_test_id("line-qty")).to_have_text("0.500 kg")
    expect(page.get_by_test_id("total")).to_have_text(yuan(apples.price // 2))
    expect(scan_field(page)).to_be_focused()

    # A second weighing is its own line; grams can be typed with their unit.
    scan(page, apples.barcode)
    expect(weight).to_be_focused()
    page.keyboard.type("250g")
    expect(page.get_by_test_id("weight-preview")).to_have_text("= 0.250 kg")
    page.keyboard.press("Enter")
    expect(line).to_have_count(2)
    expect(line.nth(1).get_by_test_id("line-qty")).to_have_text("0.250 kg")
    expect(page.get_by_test_id("total")).to_have_text(yuan(apples.price * 3 // 4))


def test_english_labels_after_switching_language(login: Callable[[str], Page], seed: Seed) -> None:
    page = open_till(login, seed.cashier)
    keys = page.locator(".till-keys")
    expect(keys).to_contain_text("现金")
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/till$"))
    expect(keys).to_contain_text("Cash")
    expect(keys).to_contain_text("Find product")
    expect(page.locator("table.cart thead")).to_contain_text("Unit price")
    scan(page, seed.unknown_barcode)
    expect(page.get_by_test_id("message")).to_contain_text("Unknown barcode")
    page.get_by_role("link", name="中文").click()
    expect(keys).to_contain_text("现金")


def test_cashier_has_no_discount_key(login: Callable[[str], Page], seed: Seed) -> None:
    page = open_till(login, seed.cashier)
    scan(page, seed.products["cola"].barcode)
    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    page.keyboard.press("F3")
    expect(page.get_by_test_id("message")).to_contain_text("权限")
    expect(page.get_by_test_id("discount-input")).to_be_hidden()
    expect(page.get_by_test_id("total")).to_have_text(yuan(seed.products["cola"].price))


def test_manager_discounts_and_splits_card_and_cash(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = open_till(login, seed.manager)
    tissue = seed.products["tissue"]  # 12.90
    scan(page, tissue.barcode)
    page.keyboard.press("F3")
    expect(page.get_by_test_id("discount-input")).to_be_focused()
    page.keyboard.type("10")  # 10% off: 9折
    page.keyboard.press("Enter")
    total = tissue.price - tissue.price // 10  # 1161
    expect(page.get_by_test_id("total")).to_have_text(yuan(total))

    page.keyboard.press("F10")
    card_amount = page.get_by_test_id("card-amount")
    expect(card_amount).to_be_focused()
    card_amount.fill("10")
    page.get_by_test_id("card-reference").fill("T8841")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("cash-due")).to_have_text(yuan(total - 1000))
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.type("2")
    expect(page.get_by_test_id("cash-change")).to_have_text(yuan(200 - (total - 1000)))
    page.keyboard.press("Enter")

    expect(page.get_by_test_id("receipt-change")).to_have_text(yuan(200 - (total - 1000)))
    order = seed.orders()[-1]
    assert order["number"] == page.get_by_test_id("order-number").inner_text()
    body = page.request.get(f"/api/v1/orders/{order['id']}").json()
    assert body["total"] == total
    assert sorted(
        (p["method"], p["amount"], p["tendered"], p["reference"]) for p in body["payments"]
    ) == [
        ("card", 1000, 1000, "T8841"),
        ("cash", total - 1000, 200, None),
    ]


def test_hq_user_picks_the_store_first(login: Callable[[str], Page], seed: Seed) -> None:
    page = login(seed.admin)
    page.goto("/till")
    page.get_by_role("link", name=re.compile(seed.store_name)).click()
    expect(page).to_have_url(re.compile(rf"/till\?store_id={seed.store_id}$"))
    expect(page.locator(".till-where")).to_contain_text(seed.store_name)
    scan(page, seed.products["water"].barcode)
    expect(page.get_by_test_id("total")).to_have_text(yuan(seed.products["water"].price))
