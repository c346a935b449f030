"""Till resilience (issue 6, item 8): a crashed browser loses no cart, and paying while the
network flickers never makes two orders. (A plain reload is covered in test_till_held.py.)"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.conftest import Seed
from tests.e2e.test_till import open_till, scan, scan_field, yuan
from tests.e2e.test_till_loyalty import attach
from tests.e2e.test_till_member import add_member

pytestmark = pytest.mark.e2e
ORDERS = "**/api/v1/orders"
NETWORK_ERROR = "无法连接服务器"


def client_uuid(page: Page) -> str:
    return str(page.evaluate("document.querySelector('.till-app')._x_dataStack[0].clientUuid"))


def lose_the_answer(page: Page, reached: list[int]) -> None:
    """The next order POST reaches the server, which stores the order, but the answer is lost
    on the way back: the till sees a network error."""

    def handle(route: Route) -> None:
        if route.request.method != "POST" or reached:
            route.fallback()
            return
        response = route.fetch()
        reached.append(response.status)
        route.abort("connectionreset")

    page.route(ORDERS, handle)


def test_a_crashed_browser_loses_no_cart(login: Callable[[str], Page], seed: Seed) -> None:
    page = open_till(login, seed.cashier)
    mobile = "13955507788"
    add_member(page, seed, mobile, "恢复客")
    water, noodles = seed.products["water"], seed.products["noodles"]
    for product in (water, noodles, water):
        scan(page, product.barcode)
    attach(page, mobile, "恢复客")
    total = 2 * water.price + noodles.price
    expect(page.get_by_test_id("total")).to_have_text(yuan(total))
    uuid = client_uuid(page)
    orders_before = seed.order_count()

    # The till's tab dies without a chance to save anything more (no unload handlers run);
    # the cashier opens the till again in the same browser profile.
    context = page.context
    page.close(run_before_unload=False)
    again = context.new_page()
    again.goto("/till")
    expect(again.get_by_test_id("message")).to_contain_text("已恢复未完成的交易")
    lines = again.get_by_test_id("cart-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text(water.name)
    expect(lines.nth(0).get_by_test_id("line-qty")).to_have_text("2")
    expect(again.get_by_test_id("member-name-shown")).to_have_text("恢复客")
    expect(again.get_by_test_id("total")).to_have_text(yuan(total))
    assert client_uuid(again) == uuid

    # The restored sale is paid once, as one order.
    expect(scan_field(again)).to_be_focused()
    again.keyboard.press("F9")
    expect(again.get_by_test_id("cash-input")).to_be_focused()
    again.keyboard.press("Enter")
    expect(again.get_by_test_id("receipt")).to_be_visible()
    assert seed.order_count() == orders_before + 1
    assert seed.orders()[-1]["number"] == again.get_by_test_id("order-number").inner_text()
    again.close()


def test_paying_again_after_a_lost_answer_makes_one_order(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = open_till(login, seed.cashier)
    cola, chips = seed.products["cola"], seed.products["chips"]
    scan(page, cola.barcode)
    scan(page, chips.barcode)
    total = cola.price + chips.price
    expect(page.get_by_test_id("total")).to_have_text(yuan(total))
    orders_before = seed.order_count()
    uuid = client_uuid(page)

    reached: list[int] = []
    lose_the_answer(page, reached)
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.type("20")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("message")).to_contain_text(NETWORK_ERROR)
    # The order is stored, but the till could not know: it still shows the sale.
    assert reached == [201]
    assert seed.order_count() == orders_before + 1
    expect(page.get_by_test_id("receipt")).to_be_hidden()
    assert client_uuid(page) == uuid

    # The network is back; the cashier presses Enter again: the till gets the stored order.
    page.unroute(ORDERS)
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    expect(page.get_by_test_id("receipt-change")).to_have_text(yuan(2000 - total))
    assert seed.order_count() == orders_before + 1
    stored = seed.orders()[-1]
    assert stored["number"] == page.get_by_test_id("order-number").inner_text()
    assert (stored["total"], stored["paid"], stored["change"]) == (total, 2000, 2000 - total)


def test_a_reload_after_a_lost_answer_still_makes_one_order(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = open_till(login, seed.cashier)
    tissue = seed.products["tissue"]
    scan(page, tissue.barcode)
    expect(page.get_by_test_id("total")).to_have_text(yuan(tissue.price))
    orders_before = seed.order_count()

    reached: list[int] = []
    lose_the_answer(page, reached)
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("message")).to_contain_text(NETWORK_ERROR)
    assert reached == [201] and seed.order_count() == orders_before + 1

    # The cashier reloads the till in a hurry: the cart comes back with its order UUID, and
    # paying it the same way returns the order already made.
    page.unroute(ORDERS)
    page.reload()
    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    expect(scan_field(page)).to_be_focused()
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    assert seed.order_count() == orders_before + 1
    assert seed.orders()[-1]["number"] == page.get_by_test_id("order-number").inner_text()


def test_paying_differently_after_a_lost_answer_still_makes_one_order(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = open_till(login, seed.cashier)
    noodles = seed.products["noodles"]
    scan(page, noodles.barcode)
    expect(page.get_by_test_id("total")).to_have_text(yuan(noodles.price))
    orders_before = seed.order_count()

    reached: list[int] = []
    lose_the_answer(page, reached)
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.type("10")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("message")).to_contain_text(NETWORK_ERROR)
    assert reached == [201]
    page.unroute(ORDERS)

    # The customer hands over a 50 instead, or the cashier retypes the amount: the order was
    # already made with the first tender, and that is the one the till must show.
    page.get_by_test_id("cash-input").fill("50")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    assert seed.order_count() == orders_before + 1
    assert seed.orders()[-1]["number"] == page.get_by_test_id("order-number").inner_text()
