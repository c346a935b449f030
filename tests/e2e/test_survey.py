"""A customer opens the survey link from a receipt on a phone, answers with a low score and
sees the thanks; a complaint opens for the store. The same in English after the switch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select, update

from shouyin.auth.models import User
from shouyin.db import Database, make_engine
from shouyin.sales.schemas import LineIn, OrderCreate, PaymentIn
from shouyin.sales.service import checkout
from shouyin.service.models import SurveyAnswer, Ticket
from shouyin.service.survey_links import follow_up_token, survey_token
from shouyin.stores.models import Store
from tests import factories
from tests.e2e.conftest import SECRET, Seed

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand
PHONE = {"width": 360, "height": 740}


def _sell(seed: Seed) -> int:
    """A cash sale of a bottle of water by the seeded cashier, made in the live database."""
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.write() as session:
            cashier = session.scalars(select(User).where(User.username == seed.cashier)).one()
            store = session.get(Store, seed.store_id)
            assert store is not None
            register = factories.register_of(session, store)
            data = OrderCreate(
                client_uuid=uuid.uuid4(), store_id=seed.store_id, register_id=register.id,
                lines=[LineIn(product_id=seed.products["water"].id, quantity=1)],
                payments=[PaymentIn(method="cash", amount=200)],
            )  # fmt: skip
            order, _ = checkout(
                session, data=data, actor=factories.principal_of(cashier),
                discount_audit_percent=100,
            )  # fmt: skip
            return order.id
    finally:
        db.dispose()


def _answer_and_ticket(seed: Seed, order_id: int) -> tuple[Any, Any]:
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.read() as session:
            answer = session.scalars(
                select(SurveyAnswer).where(SurveyAnswer.order_id == order_id)
            ).one_or_none()
            ticket = session.scalars(
                select(Ticket).where(Ticket.order_id == order_id)
            ).one_or_none()
            return answer, ticket
    finally:
        db.dispose()


@pytest.fixture
def phone(browser: Browser, seed: Seed) -> Iterator[BrowserContext]:
    """A customer's phone: small screen, touch, no login, Chinese by default."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
        locale="zh-CN", base_url=seed.url,
    )  # fmt: skip
    yield context
    context.close()


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"survey-{name}.png"), full_page=True)


def test_a_customer_answers_with_a_low_score_on_a_phone(phone: BrowserContext, seed: Seed) -> None:
    order_id = _sell(seed)
    page = phone.new_page()
    page.goto(f"/s/{survey_token(order_id, secret=SECRET)}")
    expect(page.get_by_role("heading", name="这次购物体验如何？")).to_be_visible()
    expect(page.locator(".sv-store")).to_have_text(seed.store_name)
    expect(page.locator(".mainnav")).to_have_count(0)  # not the office layout
    _shot(page, "form-zh")
    page.locator("label[for=sat1]").tap()
    page.locator("label[for=nps2]").tap()
    page.get_by_text("排队时间长").tap()
    page.get_by_text("店员态度不好").tap()
    page.locator("#comment").fill("排队二十分钟，收银员还不耐烦。")
    expect(page.locator("#comment-count")).to_have_text("15")
    _shot(page, "filled-zh")
    page.get_by_role("button", name="提交").tap()
    expect(page.get_by_role("heading", name="感谢您的评价！")).to_be_visible()
    expect(page.locator(".sv-sorry")).to_contain_text("店长会跟进处理")
    _shot(page, "thanks-zh")
    answer, ticket = _answer_and_ticket(seed, order_id)
    assert answer is not None and (answer.satisfaction, answer.nps) == (1, 2)
    assert answer.tags == ["long_queue", "unfriendly_staff"] and answer.lang == "zh_CN"
    assert ticket is not None and ticket.survey_answer_id == answer.id
    assert (ticket.priority, ticket.source, ticket.store_id) == ("high", "survey", seed.store_id)
    # Opening the link again says it was answered.
    page.goto(f"/s/{survey_token(order_id, secret=SECRET)}")
    expect(page.get_by_role("alert")).to_have_text("该问卷已经填写过了，谢谢您！")
    _shot(page, "answered-zh")


def test_the_survey_in_english_after_the_switch(phone: BrowserContext, seed: Seed) -> None:
    order_id = _sell(seed)
    page = phone.new_page()
    page.goto(f"/s/{survey_token(order_id, secret=SECRET)}")
    page.get_by_role("link", name="English").tap()
    expect(page.get_by_role("heading", name="How was your visit?")).to_be_visible()
    page.locator("label[for=sat5]").tap()
    page.locator("label[for=nps10]").tap()
    page.get_by_text("Friendly staff", exact=True).tap()
    _shot(page, "filled-en")
    page.get_by_role("button", name="Submit").tap()
    expect(page.get_by_role("heading", name="Thank you for your feedback!")).to_be_visible()
    _shot(page, "thanks-en")
    answer, ticket = _answer_and_ticket(seed, order_id)
    assert answer is not None and (answer.satisfaction, answer.lang) == (5, "en")
    assert ticket is None
    page.goto("/s/1.1.forged")
    expect(page.get_by_role("alert")).to_have_text("This survey link is not valid.")
    _shot(page, "forged-en")


def _resolve(seed: Seed, ticket_id: int) -> None:
    """The store resolved the complaint (the ticket pages' own tests walk the flow)."""
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.write() as session:
            session.execute(update(Ticket).where(Ticket.id == ticket_id).values(status="resolved"))
    finally:
        db.dispose()


def test_the_member_answers_the_follow_up_question(phone: BrowserContext, seed: Seed) -> None:
    order_id = _sell(seed)
    page = phone.new_page()
    page.goto(f"/s/{survey_token(order_id, secret=SECRET)}")
    page.locator("label[for=sat2]").tap()
    page.locator("#comment").fill("找零少给了五毛钱")
    page.get_by_role("button", name="提交").tap()
    expect(page.get_by_role("heading", name="感谢您的评价！")).to_be_visible()
    _, ticket = _answer_and_ticket(seed, order_id)
    assert ticket is not None
    link = f"/s/f/{follow_up_token(ticket.id, secret=SECRET)}"
    page.goto(link)
    expect(page.get_by_role("heading", name="我们仍在处理您的投诉。")).to_be_visible()
    _resolve(seed, ticket.id)
    page.goto(link)
    expect(page.get_by_text("您对我们处理投诉的方式满意吗？")).to_be_visible()
    expect(page.get_by_text("找零少给了五毛钱")).to_have_count(0)  # the complaint stays private
    page.locator("label[for=score4]").tap()
    _shot(page, "follow-up-zh")
    page.get_by_role("button", name="提交").tap()
    expect(page.get_by_role("heading", name="谢谢您！您的回答已记录。")).to_be_visible()
    _shot(page, "follow-up-done-zh")
    _, ticket = _answer_and_ticket(seed, order_id)
    assert ticket is not None and ticket.follow_up_score == 4
