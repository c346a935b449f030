"""A manager merges two duplicate members through the duplicates page; the till's member
panel shows the attached member's visits and last visit."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.conftest import Seed
from tests.e2e.test_till import inside_viewport, open_till, scan

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand

# Numbers and a name used by no other e2e test.
TWIN_NAME = "欧阳明远"
TWIN_BIRTHDAY = "1988-08-08"
KEEP_MOBILE = "13600005501"
MERGE_MOBILE = "13600005502"
TILL_MOBILE = "13600005503"


def api_register(page: Page, seed: Seed, mobile: str, name: str, **extra: Any) -> dict[str, Any]:
    """Register a member through the API as the logged-in user of `page`."""
    csrf = page.evaluate("document.body.dataset.csrf")
    body = {"mobile": mobile, "name": name, "consent": True, **extra}
    response = page.request.post(
        f"{seed.url}/api/v1/members", data=body, headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 201, response.text()
    return dict(response.json())


def test_manager_merges_two_duplicates(login: Callable[[str], Page], seed: Seed) -> None:
    page = login(seed.manager)
    page.goto("/office/members")
    keep = api_register(page, seed, KEEP_MOBILE, TWIN_NAME, birthday=TWIN_BIRTHDAY)
    merge = api_register(page, seed, MERGE_MOBILE, TWIN_NAME, birthday=TWIN_BIRTHDAY)

    page.reload()
    page.get_by_test_id("duplicates-link").click()
    expect(page).to_have_url(re.compile(r"/office/members/duplicates$"))
    row = page.locator(f'tr[data-member-id="{merge["id"]}"]')
    expect(row).to_contain_text(TWIN_NAME)
    expect(row).to_contain_text("136****5502")
    expect(row).to_contain_text(merge["card_no"])
    expect(page.locator(f'tr[data-member-id="{keep["id"]}"]')).to_contain_text("136****5501")
    assert MERGE_MOBILE not in page.content()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "member-duplicates.png"), full_page=True)

    asked: list[str] = []

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    row.locator(f'button[data-survivor="{keep["id"]}"]').click()
    expect(page).to_have_url(re.compile(rf"/office/members/{keep['id']}\?merged=1$"))
    assert asked and keep["card_no"] in asked[0] and merge["card_no"] in asked[0]
    expect(page.get_by_test_id("merged-notice")).to_be_visible()
    expect(page.locator("#profile")).to_contain_text(TWIN_NAME)
    page.screenshot(path=str(SHOTS / "member-merged.png"), full_page=True)

    csrf = page.evaluate("document.body.dataset.csrf")
    headers = {"X-CSRF-Token": csrf}
    gone = page.request.get(f"{seed.url}/api/v1/members/{merge['id']}", headers=headers)
    assert gone.status == 404
    found = page.request.get(f"{seed.url}/api/v1/members/lookup?q={MERGE_MOBILE}", headers=headers)
    assert found.status == 200 and [m["id"] for m in found.json()] == [keep["id"]]

    page.goto("/office/members/duplicates")
    expect(page.locator(f'tr[data-member-id="{merge["id"]}"]')).to_have_count(0)


def test_till_panel_shows_visits_after_a_sale(login: Callable[[str], Page], seed: Seed) -> None:
    page = open_till(login, seed.cashier)
    member = api_register(page, seed, TILL_MOBILE, "司马静")

    def attach() -> None:
        page.keyboard.press("F5")
        expect(page.get_by_test_id("member-search")).to_be_focused()
        page.keyboard.type(TILL_MOBILE)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("member-panel")).to_contain_text(member["name"])

    scan(page, seed.products["water"].barcode)
    expect(page.get_by_test_id("cart-line")).to_have_count(1)
    attach()
    expect(page.get_by_test_id("member-visits")).to_have_text("0")
    expect(page.get_by_test_id("member-last-visit")).to_be_hidden()
    page.keyboard.press("F9")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    page.get_by_test_id("new-sale").click()

    attach()
    stats = page.get_by_test_id("member-stats")
    expect(stats).to_be_visible()
    expect(page.get_by_test_id("member-visits")).to_have_text("1")
    expect(page.get_by_test_id("member-last-visit")).to_have_text(
        re.compile(r"^\d{4}-\d{2}-\d{2}$")
    )
    expect(stats).to_contain_text("到店次数")
    # The panel also carries the member's tier, points and stored value.
    for word in ("积分", "储值"):
        expect(page.get_by_test_id("member-panel")).to_contain_text(word)

    # The extra line must not push the total or the pay keys off a 1024x768 till.
    page.set_viewport_size({"width": 1024, "height": 768})
    for key in ("cola", "noodles", "chips", "tissue"):
        scan(page, seed.products[key].barcode)
    for locator in (
        page.get_by_test_id("member-panel"),
        page.get_by_test_id("total"),
        page.locator("button.pay-cash"),
        page.locator("button.pay-card"),
        page.get_by_test_id("member-key"),
    ):
        expect(locator).to_be_visible()
        assert inside_viewport(page, locator)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "till-member-stats-1024.png"))
