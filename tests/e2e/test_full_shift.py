"""A whole shift at one till, as a cashier lives it: open with a float; five sales paid in cash,
by card, by a WeChat code whose charge times out and is found paid, in cash again while a
customer's cart waits parked, and by card plus cash for the recalled cart; a partial return of
the first sale with the manager's approval; close with a count that matches to the fen; and the
manager's Z report for the day."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Seed
from tests.e2e.test_till import scan, yuan
from tests.e2e.test_till_return import approve

pytestmark = pytest.mark.e2e
FLOAT_YUAN = 500
WECHAT_TIMEOUT_PAID = "134567890123456788"  # the simulator: times out, the query finds it paid


def receipt_number(page: Page) -> str:
    expect(page.get_by_test_id("receipt")).to_be_visible()
    number = page.get_by_test_id("order-number").inner_text()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_hidden()
    return number


def pay_cash(page: Page, given: str = "") -> str:
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    if given:
        page.get_by_test_id("cash-input").fill(given)
    page.keyboard.press("Enter")
    return receipt_number(page)


def card_dialog(page: Page, amount: str, reference: str) -> None:
    page.keyboard.press("F10")
    expect(page.get_by_test_id("card-amount")).to_be_focused()
    page.get_by_test_id("card-amount").fill(amount)
    page.get_by_test_id("card-reference").fill(reference)
    page.keyboard.press("Enter")


def test_a_whole_shift_from_float_to_z_report(login: Callable[[str], Page], seed: Seed) -> None:
    tea, bread = seed.day_products["tea"], seed.day_products["bread"]
    page = login(seed.day_cashier)
    page.goto("/till")

    # Open with a float: the till will not sell before.
    expect(page.get_by_test_id("shift-needed")).to_be_visible()
    page.get_by_test_id("shift-float").fill(str(FLOAT_YUAN))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("shift-status")).to_contain_text("#")

    # 1. Two teas in cash, ¥20 handed over.
    scan(page, tea.barcode)
    scan(page, tea.barcode)
    expect(page.get_by_test_id("total")).to_have_text(yuan(2 * tea.price))
    page.keyboard.press("F9")
    page.get_by_test_id("cash-input").fill("20")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt-change")).to_have_text(yuan(2000 - 2 * tea.price))
    first = receipt_number(page)

    # 2. Bread by card, with the terminal's reference.
    scan(page, bread.barcode)
    card_dialog(page, "", "T10001")
    receipt_number(page)

    # 3. Tea by WeChat: the charge times out, the till asks WeChat Pay, it was paid.
    scan(page, tea.barcode)
    page.keyboard.press("Shift+F10")
    expect(page.get_by_test_id("paycode-code")).to_be_focused()
    page.keyboard.type(WECHAT_TIMEOUT_PAID)
    page.keyboard.press("Enter")
    receipt_number(page)

    # A customer's cart is parked while they fetch their wallet ...
    scan(page, bread.barcode)
    scan(page, bread.barcode)
    page.keyboard.press("Shift+F2")
    expect(page.get_by_test_id("park-label")).to_be_focused()
    page.keyboard.type("取钱包的顾客")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("cart-line")).to_have_count(0)
    # 4. ... the next customer pays a tea in cash ...
    scan(page, tea.barcode)
    pay_cash(page)
    # 5. ... and the parked cart comes back: ¥10 by card, the rest in cash.
    page.keyboard.press("Shift+F3")
    held = page.get_by_test_id("held-cart").filter(has_text="取钱包的顾客")
    expect(held).to_have_count(1)
    held.hover()  # the list's choice follows the pointer, as in tests/e2e/test_till_held.py
    # Enter recalls once the list has the focus (it takes it when the carts are loaded).
    expect(page.locator('[data-dialog="recall"] [data-focus]')).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator('[data-dialog="recall"]')).to_be_hidden()
    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    expect(page.get_by_test_id("total")).to_have_text(yuan(2 * bread.price))
    card_dialog(page, "10", "T10002")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.press("Enter")
    receipt_number(page)

    # One tea of the first sale comes back: the cashier needs the manager on the spot.
    page.keyboard.press("Shift+F4")
    expect(page.get_by_test_id("return-number")).to_be_focused()
    page.keyboard.type(first)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("return-line")).to_have_count(1)
    page.keyboard.type("-")
    expect(page.get_by_test_id("return-take")).to_have_text(["1"])
    expect(page.get_by_test_id("return-refund")).to_have_text(yuan(tea.price))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("return-reason")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("return-approval")).to_be_visible()
    approve(page, seed.day_manager, seed.password)
    expect(page.get_by_test_id("return-result-number")).to_have_text(f"{first}-R1")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("return-panel")).to_be_hidden()

    # Close with a count: the float and the cash taken, less the cash refunded.
    cash = FLOAT_YUAN * 100 + 2 * tea.price + tea.price + (2 * bread.price - 1000) - tea.price
    card = bread.price + 1000
    page.keyboard.press("Shift+F9")
    expect(page.get_by_test_id("shift-menu")).to_be_visible()
    page.get_by_test_id("shift-close").click()
    for method, fen in (("cash", cash), ("card", card), ("wechat", tea.price)):
        page.get_by_test_id(f"shift-count-{method}").fill(f"{fen / 100:.2f}")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("shift-result")).to_be_visible()
    variances = page.get_by_test_id("shift-variance-value")
    expect(variances).to_have_count(3)
    for n in range(3):
        expect(variances.nth(n)).to_have_text(yuan(0))
    page.get_by_test_id("shift-result-done").click()
    expect(page.get_by_test_id("shift-needed")).to_be_visible()

    # The manager makes the day's Z report: five sales, one return, nothing missing.
    page = login(seed.day_manager)
    page.goto("/office/z-reports")
    page.locator("#make-z button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("Z1")
    made = page.request.get("/api/v1/z-reports", params={"store_id": seed.day_store_id})
    assert made.ok, made.text()
    figures = made.json()["items"][0]["data"]["figures"]
    assert (figures["orders"], figures["returns"], figures["returns_amount"]) == (5, 1, tea.price)
    tenders = {t["method"]: (t["net"], t["variance"]) for t in figures["tenders"]}
    assert tenders == {
        "cash": (cash - FLOAT_YUAN * 100, 0),
        "card": (card, 0),
        "wechat": (tea.price, 0),
    }
