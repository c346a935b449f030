"""The whole service loop of issue 10 in one story: a member buys at the till and the receipt
printer prints the survey QR; on a phone the member follows the link and answers with a low
score; a complaint opens; the store manager assigns it; its resolution deadline passes; the
SLA check escalates it and gives the configured coupon; the manager sees the escalation, the
notice and the coupon; at the member's next visit the till offers the coupon.

Moving the clock: the live server runs on the real clock and a breach coupon is valid from
the moment of the check, so the till (real clock) could not offer a coupon issued by a check
run days ahead. The complaint is aged instead: its times move back until its resolution
deadline lies two minutes in the past, which is what days passing would do to it. The check
then runs as `shouyin service check-sla --at ...` (the command the server's scheduler
mirrors) with the live server's environment plus the compensation setting, once just before
the deadline (a warning, no breach) and once at the present (the breach).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from shouyin.auth.models import User
from shouyin.db import Database, make_engine
from shouyin.loyalty.models import Coupon, CouponTemplate
from shouyin.printing.models import Printer
from shouyin.service.models import SurveyAnswer, Ticket, TicketCompensation, TicketEvent
from shouyin.service.survey_links import read_survey_token
from shouyin.shared.clock import as_utc, to_local, utcnow
from shouyin.stores.models import Register
from tests.e2e.conftest import SECRET, Seed
from tests.e2e.test_till import open_till, scan, yuan
from tests.e2e.test_till_loyalty import attach
from tests.e2e.test_till_member import add_member
from tests.escpos import find, parse
from tests.fakeprinter import FakePrinter

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("SHOUYIN_SHOTS") or ROOT / "test-results")  # looked at by hand
PHONE = {"width": 360, "height": 740}
DESK = {"width": 1366, "height": 768}
MOBILE, NAME = "13900001010", "陈思远"  # used by no other test
COUPON_NAME, COUPON_VALUE = "投诉致歉券", 300
COMMENT = "收银员很不耐烦，还把找零扔在柜台上。"
TIMEZONE = "Asia/Shanghai"  # the seeded store's


def _db(seed: Seed) -> Database:
    return Database(make_engine(seed.database_url, count_statements=False))


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"service-flow-{name}.png"), full_page=True)


def _local(moment: datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return to_local(moment, TIMEZONE).strftime(fmt)


# --- seed helpers: straight into the live server's database --------------------------------


@pytest.fixture
def printer(seed: Seed) -> Iterator[FakePrinter]:
    """A fake network printer for the seeded register, so the receipt (with its survey QR)
    really prints; removed afterwards, so other browser tests sell without one."""
    fake = FakePrinter()
    db = _db(seed)
    try:
        with db.write() as session:
            register_id = session.scalars(
                select(Register.id).where(Register.store_id == seed.store_id)
            ).first()
            row = Printer(store_id=seed.store_id, register_id=register_id, kind="network",
                          address=fake.address, paper_mm=80, drawer=True, active=True)  # fmt: skip
            session.add(row)
            session.flush()
            printer_id = row.id
        yield fake
    finally:
        with db.write() as session:
            found = session.get(Printer, printer_id)
            if found is not None:
                session.delete(found)
        db.dispose()
        fake.stop()


def _coupon_template(seed: Seed) -> int:
    """The apology coupon head office set as the breach compensation: 3 yuan off, 30 days."""
    db = _db(seed)
    try:
        with db.write() as session:
            template = CouponTemplate(
                name=COUPON_NAME, kind="voucher", value=COUPON_VALUE, min_spend=0, scope="all",
                scope_ids=[], valid_days=30,
            )  # fmt: skip
            session.add(template)
            session.flush()
            return template.id
    finally:
        db.dispose()


def _user_id(seed: Seed, username: str) -> int:
    db = _db(seed)
    try:
        with db.read() as session:
            return session.scalars(select(User.id).where(User.username == username)).one()
    finally:
        db.dispose()


def _ticket_of_order(seed: Seed, order_id: int) -> dict[str, Any]:
    """Read straight from the database, independent of the pages under test."""
    db = _db(seed)
    try:
        with db.read() as session:
            answer = session.scalars(
                select(SurveyAnswer).where(SurveyAnswer.order_id == order_id)
            ).one()
            t = session.scalars(select(Ticket).where(Ticket.order_id == order_id)).one()
            given = session.scalars(
                select(TicketCompensation).where(TicketCompensation.ticket_id == t.id)
            ).all()
            coupons = [session.get(Coupon, c.coupon_id) for c in given if c.coupon_id]
            return {
                "id": t.id, "number": t.number, "status": t.status, "source": t.source,
                "priority": t.priority, "member_id": t.member_id, "assignee_id": t.assignee_id,
                "survey_answer_id": t.survey_answer_id, "answer_id": answer.id,
                "satisfaction": answer.satisfaction, "tags": answer.tags,
                "respond_by": as_utc(t.respond_by), "resolve_by": as_utc(t.resolve_by),
                "first_response_at": t.first_response_at,
                "resolution_breached_at": t.resolution_breached_at,
                "response_breached_at": t.response_breached_at,
                "compensations": [(c.kind, c.reason) for c in given],
                "coupons": [
                    (c.code, c.member_id, c.template_id, c.status, as_utc(c.valid_from))
                    for c in coupons if c is not None
                ],
            }  # fmt: skip
    finally:
        db.dispose()


def _age(seed: Seed, ticket_id: int, by: timedelta) -> None:
    """Days pass for the complaint: every time of the ticket, its timeline and its survey
    answer moves back by ``by`` (the order itself stays: other tests read today's sales)."""
    db = _db(seed)
    try:
        with db.write() as session:
            t = session.get(Ticket, ticket_id)
            assert t is not None
            for name in ("opened_at", "respond_by", "resolve_by", "first_response_at",
                         "updated_at"):  # fmt: skip
                value = getattr(t, name)
                if value is not None:
                    setattr(t, name, as_utc(value) - by)
            for event in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)):
                event.at = as_utc(event.at) - by
            answer = session.get(SurveyAnswer, t.survey_answer_id)
            assert answer is not None
            answer.submitted_at = as_utc(answer.submitted_at) - by
    finally:
        db.dispose()


def _check_sla(seed: Seed, at: datetime, template_id: int) -> str:
    """`shouyin service check-sla --at` with the live server's environment, and the breach
    compensation set as head office would set it for the server: the apology coupon."""
    folder = Path(seed.database_url.removeprefix("sqlite:///")).parent
    env = {
        **os.environ,
        "SHOUYIN_DATABASE_URL": seed.database_url,
        "SHOUYIN_SECRET_KEY": SECRET,
        "SHOUYIN_VAR_DIR": str(folder),
        "SHOUYIN_MODE": "test",
        "TMPDIR": str(folder),
        "SHOUYIN_COMPLAINT_BREACH_COMPENSATION": f"coupon:{template_id}",
        "COLUMNS": "200",  # one line per message, whatever the terminal
    }
    command = [str(Path(sys.executable).parent / "shouyin"), "service", "check-sla",
               "--at", at.isoformat()]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return " ".join(done.stdout.split())


# --- the people of the story ------------------------------------------------------------


@pytest.fixture
def contexts(browser: Browser, seed: Seed) -> Iterator[Callable[..., BrowserContext]]:
    made: list[BrowserContext] = []

    def new(**options: Any) -> BrowserContext:
        context = browser.new_context(locale="zh-CN", base_url=seed.url, **options)
        made.append(context)
        return context

    yield new
    for context in made:
        context.close()


def _staff_page(contexts: Callable[..., BrowserContext], seed: Seed, username: str) -> Page:
    """A back-office user on their own desktop browser, logged in through the form."""
    page = contexts(viewport=DESK).new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", seed.password)
    page.click("button[type=submit]")
    expect(page.locator("input[name=username]")).to_have_count(0)
    return page


def _survey_link(job: bytes) -> str:
    """The link in the receipt's QR code (GS ( k, function 180: store the data)."""
    commands, _ = parse(job)
    stored = [c.args for c in find(commands, b"\x1d(") if c.args[3:6] == b"1P0"]
    assert len(stored) == 1, "the receipt prints one QR code"
    return stored[0][6:].decode("ascii")


# --- the story ------------------------------------------------------------------------


def test_a_low_score_becomes_a_ticket_that_breaches_and_the_member_gets_a_coupon(
    login: Callable[[str], Page], seed: Seed, printer: FakePrinter,
    contexts: Callable[..., BrowserContext],
) -> None:  # fmt: skip
    template_id = _coupon_template(seed)

    # 1. The member buys a bottle of water at the till; the receipt prints its survey QR.
    till = open_till(login, seed.cashier)
    member = add_member(till, seed, MOBILE, NAME)
    scan(till, seed.products["water"].barcode)
    attach(till, MOBILE, NAME)
    printed = len(printer.received)
    till.keyboard.press("F9")
    expect(till.get_by_test_id("cash-input")).to_be_focused()
    till.keyboard.press("Enter")
    expect(till.get_by_test_id("receipt")).to_be_visible()
    expect(till.get_by_test_id("print-note")).to_have_text("小票已打印。")
    number = till.get_by_test_id("order-number").inner_text()
    order_id = next(o["id"] for o in seed.orders() if o["number"] == number)
    _shot(till, "01-sale")
    link = _survey_link(printer.jobs(printed + 1)[printed])
    token = urlsplit(link).path.removeprefix("/s/")
    assert read_survey_token(token, secret=SECRET) == order_id

    # 2. On a phone: satisfaction 1, a tag and what happened; the thanks.
    phone = contexts(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    survey = phone.new_page()
    survey.goto(urlsplit(link).path)  # the phone reaches the shop at its public address
    expect(survey.get_by_role("heading", name="这次购物体验如何？")).to_be_visible()
    assert MOBILE not in survey.content() and NAME not in survey.content()
    survey.locator("label[for=sat1]").tap()
    survey.get_by_text("店员态度不好").tap()
    survey.locator("#comment").fill(COMMENT)
    _shot(survey, "02-survey-filled")
    survey.get_by_role("button", name="提交").tap()
    expect(survey.get_by_role("heading", name="感谢您的评价！")).to_be_visible()
    expect(survey.locator(".sv-sorry")).to_contain_text("店长会跟进处理")
    _shot(survey, "03-survey-thanks")
    ticket = _ticket_of_order(seed, order_id)
    assert ticket["survey_answer_id"] == ticket["answer_id"]
    assert (ticket["satisfaction"], ticket["tags"]) == (1, ["unfriendly_staff"])
    assert (ticket["source"], ticket["priority"], ticket["status"]) == ("survey", "high", "new")
    assert ticket["member_id"] == member["id"]
    assert ticket["respond_by"] < ticket["resolve_by"]

    # 3. The store manager finds it in the queue, reads it and assigns it.
    office = _staff_page(contexts, seed, seed.manager)
    office.goto("/office/tickets")
    row = office.locator(f"tr[data-number='{ticket['number']}']")
    expect(row).to_contain_text("问卷：满意度 1/5")
    expect(row).to_contain_text("未分派")
    expect(row.get_by_test_id("deadline")).to_contain_text(
        f"响应期限 {_local(ticket['respond_by'], '%m-%d %H:%M')}"
    )
    _shot(office, "04-queue")
    row.locator("a").click()
    expect(office.locator("h1")).to_contain_text(ticket["number"])
    expect(office.locator("#ticket-head")).to_contain_text("满意度调查")
    expect(office.locator("#ticket-survey")).to_contain_text("来自满意度调查：满意度 1 / 5")
    expect(office.locator("#ticket-head")).to_contain_text(COMMENT)  # the handler reads it
    expect(office.locator("#ticket-member")).to_have_text(NAME[0] + "**")
    expect(office.locator("#ticket-order")).to_have_text(number)
    expect(office.locator("#respond-by")).to_contain_text(_local(ticket["respond_by"]))
    expect(office.locator("#resolve-by")).to_contain_text(_local(ticket["resolve_by"]))
    manager_id = _user_id(seed, seed.manager)
    office.select_option("#assign-form select[name=user_id]", str(manager_id))
    office.fill("#assign-form input[name=comment]", "我来给顾客打电话。")
    office.click("#assign")
    expect(office.locator("p.notice")).to_have_text("投诉已分派。")
    expect(office.locator("#ticket-status")).to_have_text("已分派")
    expect(office.locator("#timeline li[data-kind=assigned]")).to_contain_text("我来给顾客打电话")
    expect(office.locator("#respond-by")).to_contain_text("已响应")
    _shot(office, "05-assigned")
    detail = office.url.split("?")[0]
    ticket = _ticket_of_order(seed, order_id)
    assert ticket["status"] == "assigned" and ticket["assignee_id"] == manager_id
    assert ticket["first_response_at"] is not None  # answered in time: no response breach

    # 4. Days pass: the resolution deadline is two minutes gone. The check run just before
    # the deadline warns; the one now escalates and gives the coupon, once.
    _age(seed, ticket["id"], ticket["resolve_by"] - utcnow() + timedelta(minutes=2))
    ticket = _ticket_of_order(seed, order_id)
    before = _check_sla(seed, ticket["resolve_by"] - timedelta(minutes=10), template_id)
    assert "0 newly escalated" in before and "1 warning(s)" in before, before
    now = utcnow()
    late = _check_sla(seed, now, template_id)
    assert "1 newly escalated (1 compensated, 0 emailed)" in late, late
    assert ticket["number"] in late and "resolution" in late
    again = _check_sla(seed, now + timedelta(minutes=1), template_id)
    assert "0 newly escalated" in again, again
    ticket = _ticket_of_order(seed, order_id)
    assert ticket["response_breached_at"] is None
    assert ticket["resolution_breached_at"] is not None
    assert ticket["compensations"] == [("coupon", "breach_resolution")]
    ((code, owner, used_template, status, valid_from),) = ticket["coupons"]
    assert (owner, used_template, status) == (member["id"], template_id, "issued")
    assert valid_from <= utcnow()

    # 5. The manager sees the escalation, the coupon given and the notice; so does HQ.
    office.goto(detail)
    expect(office.locator("#resolve-by")).to_have_class(re.compile(r"\blate\b"))
    expect(office.locator("#resolve-by")).to_contain_text(_local(ticket["resolve_by"]))
    escalated = office.locator("#timeline li[data-kind=escalated]")
    expect(escalated).to_have_count(1)
    expect(escalated).to_contain_text("超过解决期限：已上报店长")
    expect(escalated).to_contain_text("系统")
    expect(office.locator("#timeline li[data-kind=compensated]")).to_contain_text(
        f"已发放优惠券：{code}"
    )
    given = office.locator("#ticket-compensations tr[data-kind=coupon]")
    expect(given).to_contain_text(code)
    expect(given).to_contain_text("超时补偿")
    _shot(office, "06-escalated")
    office.goto("/office/tickets")
    expect(office.locator(f"tr[data-number='{ticket['number']}']")).to_have_class(
        re.compile(r"\boverdue\b")
    )
    _shot(office, "07-queue-overdue")
    office.goto("/office/notices")
    notices = office.locator(f"#notices tr[data-ticket='{ticket['id']}']")
    breached = notices.filter(has_text="已超时")
    expect(breached).to_have_count(1)
    expect(breached).to_contain_text(f"投诉 {ticket['number']}（")
    expect(breached).to_contain_text(f"已超过解决期限 {_local(ticket['resolve_by'])}。")
    expect(breached).to_have_class(re.compile(r"\bunread\b"))
    expect(notices.filter(has_text="即将超时")).to_contain_text(
        f"投诉 {ticket['number']} 须在 {_local(ticket['resolve_by'])} 前解决。"
    )
    _shot(office, "08-notices")
    breached.get_by_role("button", name="查看投诉").click()
    expect(office.locator("h1")).to_contain_text(ticket["number"])
    expect(office.locator("#ticket-status")).to_have_text("已分派")  # still the store's to do
    hq = _staff_page(contexts, seed, seed.admin)
    hq.goto("/office/notices")
    expect(
        hq.locator(f"#notices tr[data-ticket='{ticket['id']}']").filter(has_text="已超时")
    ).to_contain_text(f"已超过解决期限 {_local(ticket['resolve_by'])}。")

    # 6. The member's next visit: the till offers the apology coupon among theirs.
    till.keyboard.press("Enter")  # the next sale
    expect(till.get_by_test_id("member-panel")).to_be_hidden()
    cola = seed.products["cola"]
    scan(till, cola.barcode)
    attach(till, MOBILE, NAME)
    chip = till.get_by_test_id("offer-coupon").filter(has_text=COUPON_NAME)
    expect(chip).to_have_count(1)
    expect(chip).to_have_attribute("data-code", code)
    expect(chip).to_contain_text(f"本单省 {yuan(COUPON_VALUE)}")
    expect(chip).to_be_enabled()
    _shot(till, "09-next-visit-offer")
    chip.click()
    expect(till.get_by_test_id("total")).to_have_text(yuan(cola.price - COUPON_VALUE))
    _shot(till, "10-next-visit-applied")
    till.keyboard.press("F9")
    expect(till.get_by_test_id("cash-input")).to_be_focused()
    till.keyboard.press("Enter")
    expect(till.get_by_test_id("receipt")).to_be_visible()
    _shot(till, "11-next-visit-paid")
    ((_, _, _, status, _),) = _ticket_of_order(seed, order_id)["coupons"]
    assert status == "redeemed"
