"""A shift at the till (交接班): a register with no open shift asks for the float; the cashier
opens with ¥200, sells for cash, takes cash out, opens the drawer without a sale, looks at the
X report, closes with a count ¥1 short and sees the variance; the back office lists it."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Seed
from tests.e2e.test_till import scan, yuan

pytestmark = pytest.mark.e2e
MINUS_ONE_YUAN = re.compile(r"^\s*-[¥￥]1\.00\s*$")
# Looked at by hand; SHOUYIN_SHOTS keeps them out of test-results, which pytest-playwright clears.
SHOTS = Path(
    os.environ.get("SHOUYIN_SHOTS") or Path(__file__).resolve().parents[2] / "test-results"
)


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def open_shift_menu(page: Page) -> None:
    page.keyboard.press("Shift+F9")
    expect(page.get_by_test_id("shift-menu")).to_be_visible()


def cash_move(page: Page, button: str, amount: str | None, reason: str) -> None:
    open_shift_menu(page)
    page.get_by_test_id(button).click()
    # The dialog puts the focus in its first field; typing starts there.
    first = "shift-move-reason" if amount is None else "shift-move-amount"
    expect(page.get_by_test_id(first)).to_be_focused()
    if amount is not None:
        page.get_by_test_id("shift-move-amount").fill(amount)
    page.get_by_test_id("shift-move-reason").fill(reason)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("shift-menu")).to_be_hidden()
    expect(page.get_by_test_id("message")).to_be_visible()


def test_a_whole_shift_at_the_till(login: Callable[[str], Page], seed: Seed) -> None:
    page = login(seed.shift_cashier)
    expect(page.get_by_test_id("shift-needed")).to_be_visible()
    expect(page.get_by_test_id("shift-status")).to_have_class(r"shift-key none")
    # Escape does not get rid of it: the till cannot sell without a shift.
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("shift-float")).to_be_focused()
    shot(page, "shift-open-1366.png")
    page.get_by_test_id("shift-float").fill("200")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("shift-float")).to_be_hidden()
    expect(page.get_by_test_id("shift-status")).to_contain_text("#")

    product = seed.shift_product
    assert product is not None
    scan(page, product.barcode)
    scan(page, product.barcode)
    expect(page.get_by_test_id("total")).to_have_text(yuan(600))
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.get_by_test_id("cash-input").fill("10")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt-change")).to_have_text(yuan(400))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_hidden()

    cash_move(page, "shift-cash-out", "50", "存银行")
    cash_move(page, "shift-no-sale", None, "找零")

    for width in (1366, 1024):
        page.set_viewport_size({"width": width, "height": 768})
        open_shift_menu(page)
        shot(page, f"shift-menu-{width}.png")
        page.keyboard.press("Escape")
    page.set_viewport_size({"width": 1366, "height": 768})

    open_shift_menu(page)
    page.keyboard.press("1")
    report = page.get_by_test_id("shift-report-text")
    expect(report).to_contain_text("￥6.00")
    shot(page, "shift-x-1366.png")
    # ¥200 float + ¥6 sold - ¥50 out.
    expect(report).to_contain_text("￥156.00")
    expect(report).to_contain_text("￥6.00")
    page.get_by_test_id("shift-print").click()
    expect(page.get_by_test_id("message")).to_be_visible()
    page.keyboard.press("Escape")

    open_shift_menu(page)
    page.get_by_test_id("shift-close").click()
    expect(page.get_by_test_id("shift-count-cash")).to_be_focused()
    # A blind count: nothing on the form says how much is expected.
    expect(page.locator('[data-dialog="shift-count"]')).not_to_contain_text("156")
    page.get_by_test_id("shift-count-cash").fill("155")
    page.get_by_test_id("shift-close-note").fill("少一元")
    page.keyboard.press("Enter")
    result = page.get_by_test_id("shift-result")
    expect(result).to_be_visible()
    variance = page.get_by_test_id("shift-variance-value").first
    expect(variance).to_have_text("-￥1.00")
    expect(variance).to_have_class("short")
    expect(page.get_by_test_id("shift-variance")).to_contain_text(yuan(15600))
    for width in (1366, 1024):
        page.set_viewport_size({"width": width, "height": 768})
        shot(page, f"shift-close-result-{width}.png")
    page.set_viewport_size({"width": 1366, "height": 768})

    # Done: the till asks for the next shift's float.
    page.get_by_test_id("shift-result-done").click()
    expect(page.get_by_test_id("shift-needed")).to_be_visible()
    expect(page.get_by_test_id("shift-status")).to_have_class(r"shift-key none")
    page.get_by_test_id("shift-float").fill("100")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("shift-status")).not_to_have_class(r"shift-key none")

    # Another window closes this shift; the next sale is refused and the till asks again.
    shift = page.evaluate("document.querySelector('[x-data]')._x_dataStack[0].shift")
    headers = {"X-CSRF-Token": page.evaluate("document.body.dataset.csrf")}
    closing = {"counted": {"cash": shift["opening_float"]}}
    closed = page.request.post(f"/api/v1/shifts/{shift['id']}/close", data=closing, headers=headers)
    assert closed.ok, closed.text()
    scan(page, product.barcode)
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("shift-needed")).to_be_visible()
    expect(page.get_by_test_id("cart-line")).to_have_count(1)  # the cart waits


def closed_shift_short_by_one_yuan(page: Page) -> int:
    """A shift of the shift store's register, opened and closed through the API, ¥1 short."""
    page.goto("/till")
    config = page.evaluate("window.TILL")
    register_id, store_id = config["registers"][0]["id"], config["store"]["id"]
    csrf = page.evaluate("document.body.dataset.csrf")
    headers = {"X-CSRF-Token": csrf}
    current = page.request.get(f"/api/v1/shifts/current?register_id={register_id}")
    if current.ok:
        shift = current.json()
    else:
        body = {"client_uuid": str(uuid.uuid4()), "store_id": store_id,
                "register_id": register_id, "opening_float": 10000}  # fmt: skip
        opened = page.request.post("/api/v1/shifts", data=body, headers=headers)
        assert opened.ok, opened.text()
        shift = opened.json()
    count = {"counted": {"cash": shift["opening_float"] - 100}, "note": "e2e"}
    closed = page.request.post(f"/api/v1/shifts/{shift['id']}/close", data=count, headers=headers)
    assert closed.ok, closed.text()
    return int(shift["id"])


def test_the_office_lists_the_shift_and_makes_the_z_report(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = login(seed.shift_manager)
    shift_id = closed_shift_short_by_one_yuan(page)
    page.goto("/office/shifts")
    row = page.locator("#shifts tbody tr", has_text=f"#{shift_id}")
    expect(row.locator("td.variance-short")).to_have_text(MINUS_ONE_YUAN)
    for width in (1366, 1024):
        page.set_viewport_size({"width": width, "height": 768})
        shot(page, f"office-shifts-{width}.png")
    page.set_viewport_size({"width": 1366, "height": 768})
    row.get_by_role("link", name=f"#{shift_id}").click()
    expect(page.locator("#tenders td.variance-short")).to_have_text(MINUS_ONE_YUAN)
    shot(page, "office-shift-detail-1366.png")

    page.goto("/office/z-reports")
    page.locator("#make-z button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("Z1")
    expect(page.locator("#z-shifts")).to_contain_text(f"#{shift_id}")
    shot(page, "office-z-report-1366.png")
    page.goto("/office/z-reports")
    page.locator("#make-z button[type=submit]").click()
    expect(page.locator("p.error")).to_have_attribute("data-code", "z.exists")
