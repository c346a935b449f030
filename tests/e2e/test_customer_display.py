"""The customer display (客显) next to the till, in the same browser: ⇧F8 opens it, it follows
the cart, the member (masked), the payment and the change, then welcomes the next customer."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import NTH_PROMOTION, Seed
from tests.e2e.test_till import inside_viewport, open_till, scan, yuan
from tests.e2e.test_till_loyalty import attach
from tests.e2e.test_till_member import add_member

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand
SIZES = [(1366, 768), (1024, 768)]


def shots(display: Page, name: str) -> None:
    """The display at both sizes of a second screen, for a look by hand."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        display.set_viewport_size({"width": width, "height": height})
        display.screenshot(path=str(SHOTS / f"display-{name}-{width}.png"))
    display.set_viewport_size({"width": 1366, "height": 768})


def open_display(till: Page) -> Page:
    """⇧F8 on the till: the display window of its register opens."""
    register = till.evaluate("window.TILL.registers[0].id")
    with till.context.expect_page() as opened:
        till.keyboard.press("Shift+F8")
    display = opened.value
    expect(display).to_have_url(re.compile(rf"/till/display\?register_id={register}$"))
    display.set_viewport_size({"width": 1366, "height": 768})
    return display


def phase(display: Page) -> str:
    return str(display.get_by_test_id("display").get_attribute("data-phase"))


def test_the_display_follows_a_member_sale_paid_in_cash(
    login: Callable[[str], Page], seed: Seed
) -> None:
    till = open_till(login, seed.cashier)
    errors: list[str] = []
    till.on("pageerror", lambda error: errors.append(f"till: {error} {error.stack}"))
    display = open_display(till)
    display.on("pageerror", lambda error: errors.append(f"display: {error} {error.stack}"))
    expect(display.get_by_test_id("display")).to_have_attribute("data-phase", "welcome")
    display.wait_for_load_state("networkidle")
    # From now on the display asks the server for nothing: the till tells it everything.
    asked: list[str] = []
    display.on("request", lambda request: asked.append(request.url))
    welcome = display.get_by_test_id("display-welcome")
    expect(welcome.get_by_test_id("display-shop")).to_have_text(seed.store_name)
    expect(welcome.get_by_test_id("display-message")).to_have_text("欢迎光临")
    shots(display, "empty")

    water, cola = seed.products["water"], seed.products["cola"]
    scan(till, water.barcode)
    scan(till, cola.barcode)
    lines = display.get_by_test_id("display-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text(water.name)
    expect(display.locator("tr.latest")).to_contain_text(cola.name)
    # One more water: that line is now the one the customer looks at.
    scan(till, water.barcode)
    expect(lines.nth(0).get_by_test_id("display-qty")).to_have_text("2")
    expect(display.locator("tr.latest")).to_contain_text(water.name)
    expect(lines.nth(0).get_by_test_id("display-amount")).to_have_text(yuan(2 * water.price))
    total = 2 * water.price + cola.price
    expect(display.get_by_test_id("display-total")).to_have_text(yuan(total))

    mobile = "13955501234"
    member = add_member(till, seed, mobile, "张三丰")
    seed.fund_member(member["id"], points=321, sv_principal=86420)
    attach(till, mobile, "张三丰")
    shown = display.get_by_test_id("display-member")
    expect(shown.get_by_test_id("display-member-name")).to_have_text("张**")
    # The points balance (积分) is the customer's to see on their own screen.
    expect(shown.get_by_test_id("display-member-points")).to_have_text("321")
    # The member's mobile, full name and stored-value balance never reach the customer's screen.
    assert "1234" not in shown.inner_text() and "张三丰" not in display.content()
    sent = till.evaluate("Alpine.$data(document.querySelector('.till-app')).displayState")
    assert "86420" not in sent and "864.2" not in display.content()
    # Two yogurts: the second at half price, a step the customer sees with the saving.
    yogurt = seed.products["yogurt"]
    scan(till, yogurt.barcode)
    scan(till, yogurt.barcode)
    expect(lines).to_have_count(3)
    expect(display.locator("tr.latest")).to_contain_text(yogurt.name)
    steps = display.get_by_test_id("display-steps")
    expect(steps).to_contain_text(NTH_PROMOTION)
    expect(display.get_by_test_id("display-saved")).to_contain_text(yuan(yogurt.price // 2))
    total += 2 * yogurt.price - yogurt.price // 2
    expect(till.get_by_test_id("total")).to_have_text(yuan(total))
    expect(display.get_by_test_id("display-total")).to_have_text(yuan(total))
    shots(display, "selling")

    # The network drops while the customer gets the money out: the display keeps up.
    till.context.set_offline(True)
    till.keyboard.press("F9")
    expect(till.get_by_test_id("cash-input")).to_be_focused()
    due = display.get_by_test_id("display-due")
    expect(due).to_have_text(till.get_by_test_id("cash-due").inner_text())
    till.keyboard.type("50")
    expect(display.get_by_test_id("display-given")).to_have_text(yuan(5000))
    shots(display, "paying")
    till.context.set_offline(False)
    till.keyboard.press("Enter")
    expect(till.get_by_test_id("receipt")).to_be_visible()
    change = till.get_by_test_id("receipt-change").inner_text()

    expect(display.get_by_test_id("display")).to_have_attribute("data-phase", "paid")
    paid = display.get_by_test_id("display-paid")
    expect(paid.get_by_test_id("display-change")).to_have_text(change)
    expect(paid.get_by_test_id("display-paid-paid")).to_have_text(yuan(5000))
    expect(paid.get_by_test_id("display-thanks")).to_have_text("谢谢惠顾")
    expect(paid.get_by_test_id("display-points-earned")).to_have_text(
        "+" + till.get_by_test_id("receipt-points-earned").inner_text().lstrip("+")
    )
    shots(display, "paid")

    # The next sale starts: the display welcomes the next customer.
    till.keyboard.press("Enter")
    expect(till.get_by_test_id("receipt")).to_be_hidden()
    expect(display.get_by_test_id("display")).to_have_attribute("data-phase", "welcome")
    assert phase(display) == "welcome"
    assert [url for url in asked if not url.endswith("/favicon.ico")] == []
    # (Errors of the till's other parts are theirs to report.)
    assert [e for e in errors if "display" in e] == []


def test_a_display_opened_mid_sale_shows_the_cart_at_once(
    login: Callable[[str], Page], seed: Seed
) -> None:
    till = open_till(login, seed.cashier)
    chips = seed.products["chips"]
    scan(till, chips.barcode)
    expect(till.get_by_test_id("total")).to_have_text(yuan(chips.price))
    # The key that opens the display fits the till's top bar on both till screens.
    for width, height in SIZES:
        till.set_viewport_size({"width": width, "height": height})
        key = till.get_by_test_id("display-key")
        expect(key).to_be_visible()
        assert inside_viewport(till, key)
        till.screenshot(path=str(SHOTS / f"display-till-key-{width}.png"))
    # Opened by hand (a second browser window on the same session), not by ⇧F8: the display
    # says hello and the till answers with the sale in progress.
    register = till.evaluate("window.TILL.registers[0].id")
    display = till.context.new_page()
    display.goto(f"/till/display?register_id={register}")
    expect(display.get_by_test_id("display-line")).to_have_count(1)
    expect(display.get_by_test_id("display-line")).to_contain_text(chips.name)
    expect(display.get_by_test_id("display-total")).to_have_text(yuan(chips.price))

    # The till cancels the sale: the display goes back to the welcome screen.
    till.keyboard.press("Escape")
    expect(till.locator('[data-dialog="cancel"] button.danger')).to_be_focused()
    till.keyboard.press("Enter")
    expect(display.get_by_test_id("display")).to_have_attribute("data-phase", "welcome")
    # A till that goes away (closed, crashed, reloading) leaves the welcome screen too.
    scan(till, chips.barcode)
    expect(display.get_by_test_id("display-line")).to_have_count(1)
    till.reload()
    expect(display.get_by_test_id("display-line")).to_have_count(1)
    display.close()
