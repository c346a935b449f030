"""A store manager takes a complaint (投诉) from the back office: opens it for a member,
assigns it to themselves, starts, comments, and resolves it giving the member 200 points;
the queue and the ticket's page show each step."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from shouyin.db import Database, make_engine
from shouyin.service.models import Ticket, TicketCompensation
from tests.e2e.conftest import Seed

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand
SIZES = [(1366, 768), (1024, 768)]
MOBILE = "13700001111"


def _png(width: int = 64, height: int = 48) -> bytes:
    """A small orange PNG, the photo of the complaint (visible in the screenshots)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\xe0\x7a\x1f" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))  # fmt: skip


def _shots(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"tickets-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


def _ticket(seed: Seed, number: str) -> dict[str, Any]:
    """Read straight from the database, independent of the pages under test."""
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.read() as session:
            ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
            given = session.scalars(
                select(TicketCompensation).where(TicketCompensation.ticket_id == ticket.id)
            ).all()
            return {"status": ticket.status, "assignee_id": ticket.assignee_id,
                    "member_id": ticket.member_id,
                    "compensations": [(c.kind, c.points) for c in given]}  # fmt: skip
    finally:
        db.dispose()


def test_a_manager_resolves_a_complaint_with_points(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = login(seed.manager)
    member = page.evaluate(
        "body => window.shouyin.api('POST', '/api/v1/members', body)",
        {"mobile": MOBILE, "name": "王小明", "consent": True, "store_id": seed.store_id},
    )

    # A complaint noted by hand, for the member found by mobile.
    page.goto("/office/tickets/new")
    page.select_option("select[name=category]", "product")
    page.select_option("select[name=priority]", "high")
    page.fill("input[name=title]", "酸奶胀袋")
    page.fill("textarea[name=description]", "顾客昨天买的酸奶胀袋了，要求退换。")
    page.fill("input[name=member]", MOBILE)
    page.press("input[name=member]", "Tab")  # the member found, masked, before sending
    expect(page.locator("#member-found")).to_have_text("✓ 王** 137****1111")
    _shots(page, "new")
    page.click("#new-ticket-form button[type=submit]")
    expect(page.locator("#ticket-status")).to_be_visible()
    number = page.locator("h1").inner_text().split()[1]
    assert re.fullmatch(r"TK-\w+-\d{8}-\d{3}", number), number
    expect(page.locator("#ticket-member")).to_have_text("王**")
    detail_url = page.url.split("?")[0]

    # The queue: the new ticket, unassigned, with its deadline.
    page.goto("/office/tickets?assignee=none")
    row = page.locator(f"tr[data-number='{number}']")
    expect(row).to_be_visible()
    expect(row.get_by_test_id("deadline")).to_contain_text("响应期限")
    _shots(page, "list")
    row.locator("a").click()
    assert page.url.split("?")[0] == detail_url

    # Assign to me, start, comment, resolve with 200 points.
    me = page.locator("#assign-form option", has_text="(我)").get_attribute("value")
    assert me
    page.select_option("#assign-form select[name=user_id]", me)
    page.click("#assign")
    expect(page.locator("p.notice")).to_have_text("投诉已分派。")
    page.click("#start")
    expect(page.locator("#ticket-status")).to_have_text("处理中")
    page.fill("#comment-form textarea[name=text]", "已电话联系顾客，约好明天来店退换。")
    page.click("#comment-form button[type=submit]")
    expect(page.locator("#timeline li[data-kind=comment]")).to_contain_text("约好明天来店退换")
    page.set_input_files(
        "#upload-form input[name=image]",
        files=[{"name": "胀袋.png", "mimeType": "image/png", "buffer": _png()}],
    )
    page.click("#upload-form button[type=submit]")
    thumb = page.locator("#ticket-images .thumbs a")
    expect(thumb).to_have_count(1)
    expect(thumb.locator("img")).to_have_js_property("naturalWidth", 64)
    _shots(page, "working")
    page.fill("#resolve-form textarea[name=outcome]", "已退换新品，并赠送 200 积分致歉。")
    page.select_option("#compensation-kind", "points")
    page.fill("#resolve-form input[name=points]", "200")
    page.click("#resolve")
    expect(page.locator("#ticket-status")).to_have_text("已解决")
    expect(page.locator("#ticket-compensations tr[data-kind=points]")).to_contain_text("200")
    expect(page.locator("#timeline li[data-kind=compensated]")).to_contain_text("200")
    expect(page.locator("#close-form")).to_be_visible()
    _shots(page, "resolved")

    found = _ticket(seed, number)
    assert found["status"] == "resolved"
    assert found["member_id"] == member["id"]
    assert found["compensations"] == [("points", 200)]
