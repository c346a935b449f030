"""A complaint (投诉) at the till: the customer who just paid comes back unhappy; the cashier
presses ⇧F11, notes the complaint for the member and the sale, and reads the ticket's number
to the customer. The till still fits at 1366x768 and 1024x768."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shouyin.db import Database, make_engine
from shouyin.service.models import Ticket
from tests.e2e.conftest import Seed
from tests.e2e.test_till import inside_viewport, open_till, scan

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand
MOBILE = "13700002222"


def _shots(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1366, 1024):
        page.set_viewport_size({"width": width, "height": 768})
        dialog = page.get_by_test_id("complaint-dialog")
        if dialog.is_visible():
            assert inside_viewport(page, dialog), f"the dialog leaves the screen at {width}"
        page.screenshot(path=str(SHOTS / f"till-complaint-{name}-{width}.png"))
    page.set_viewport_size({"width": 1366, "height": 768})


def _ticket(seed: Seed, number: str) -> dict[str, Any]:
    """Read straight from the database, independent of the screens under test."""
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.read() as session:
            t = session.scalars(select(Ticket).where(Ticket.number == number)).one()
            return {"store_id": t.store_id, "category": t.category, "priority": t.priority,
                    "title": t.title, "description": t.description, "member_id": t.member_id,
                    "order_id": t.order_id, "status": t.status, "source": t.source}  # fmt: skip
    finally:
        db.dispose()


def _order_id(seed: Seed, number: str) -> int:
    return next(o["id"] for o in seed.orders() if o["number"] == number)


def test_a_cashier_opens_a_complaint_with_shift_f11(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = open_till(login, seed.cashier)
    expect(page.get_by_test_id("complaint-key")).to_be_visible()
    _shots(page, "till")
    member = page.evaluate(
        "body => window.shouyin.api('POST', '/api/v1/members', body)",
        {"mobile": MOBILE, "name": "赵小红", "consent": True},
    )

    # A sale to the member, paid in cash.
    page.keyboard.press("F5")
    expect(page.get_by_test_id("member-search")).to_be_focused()
    page.keyboard.type(MOBILE)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("member-panel")).to_contain_text("赵小红")
    scan(page, seed.products["yogurt"].barcode)
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.press("Enter")
    order_number = page.get_by_test_id("order-number").inner_text()
    page.keyboard.press("Enter")  # the next sale: no member on the till any more
    expect(page.get_by_test_id("member-panel")).to_be_hidden()

    # ⇧F11: the dialog knows the last receipt and its member.
    page.keyboard.press("Shift+F11")
    dialog = page.get_by_test_id("complaint-dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_test_id("complaint-category")).to_be_focused()
    expect(page.get_by_test_id("complaint-order")).to_have_text(order_number)
    expect(page.get_by_test_id("complaint-member")).to_contain_text("赵小红")
    page.select_option("[data-testid=complaint-category]", "product")
    page.get_by_test_id("complaint-urgent").click()
    expect(page.get_by_test_id("complaint-urgent")).to_have_class(re.compile(r"\bon\b"))
    # Enter in the title goes on to the description; Ctrl+Enter opens the ticket.
    page.get_by_test_id("complaint-title").click()
    page.keyboard.press("Control+Enter")
    expect(page.get_by_test_id("complaint-error")).to_have_text("请为投诉写一个简短的标题。")
    page.keyboard.type("酸奶过期")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("complaint-description")).to_be_focused()
    page.keyboard.type("顾客刚买的酸奶已过保质期一天。")
    _shots(page, "dialog")
    page.keyboard.press("Control+Enter")

    number = page.get_by_test_id("complaint-number")
    expect(number).to_have_text(re.compile(r"TK-\w+-\d{8}-\d{3}"))
    expect(page.get_by_test_id("message")).to_contain_text(number.inner_text())
    _shots(page, "done")
    found = _ticket(seed, number.inner_text())
    assert found == {
        "store_id": seed.store_id, "category": "product", "priority": "urgent",
        "title": "酸奶过期", "description": "顾客刚买的酸奶已过保质期一天。",
        "member_id": member["id"], "order_id": _order_id(seed, order_number), "status": "new",
        "source": "till",
    }  # fmt: skip

    # Enter closes it; the till is ready to scan again.
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("scan")).to_be_focused()
