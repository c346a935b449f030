"""The survey over HTTP, without a login: the REST API (/api/v1/surveys/{token}), the public
page a receipt's QR code opens (/s/{token}) and the complaint follow-up question (/s/f/...),
on both databases."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from shouyin.service.models import SurveyAnswer, Ticket
from shouyin.service.survey_links import follow_up_token, survey_token
from shouyin.shared.clock import utcnow
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
SECRET = "test-secret"
API = "/api/v1/surveys"


def _sold(harness: AppHarness, *, member: bool = True) -> dict[str, Any]:
    """A real order made by a cashier through the API, and its survey token."""

    def build(session: Any) -> dict[str, Any]:
        store = factories.make_store(session)
        return {
            "store": store, "register": factories.register_of(session, store),
            "product": factories.make_product(session, price=1200, stock={store.id: 20}),
            "member": factories.make_member(session) if member else None,
        }  # fmt: skip

    shop: dict[str, Any] = harness.write(build)
    cashier = harness.user("cashier", shop["store"])
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id,
        "member_id": shop["member"].id if shop["member"] else None,
        "lines": [{"product_id": shop["product"].id, "quantity": 1}],
        "payments": [{"method": "cash", "amount": 2000}],
    }  # fmt: skip
    made = harness.client(cashier).post("/api/v1/orders", json=body)
    assert made.status_code == 201, made.text
    order = made.json()
    shop.update(cashier=cashier, order=order, token=survey_token(order["id"], secret=SECRET))
    return shop


def _count(harness: AppHarness, model: Any) -> int:
    with harness.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@BOTH
def test_a_customer_reads_and_answers_the_survey_once(harness: AppHarness) -> None:
    shop = _sold(harness)
    client = harness.client()  # nobody logged in
    shown = client.get(f"{API}/{shop['token']}")
    assert shown.status_code == 200, shown.text
    survey = shown.json()
    # The store and the day, the tags to choose from: nothing about the member or the order.
    assert set(survey) == {"store_name", "purchase_date", "answered", "tags"}
    assert survey["store_name"] == shop["store"].name and survey["answered"] is False
    assert survey["purchase_date"] == shop["order"]["business_date"]
    labels = {t["code"]: t["label"] for t in survey["tags"]}
    assert labels["long_queue"] == "排队时间长" and len(labels) == 11
    body = {"satisfaction": 4, "nps": 8, "tags": ["clean_store"], "comment": "下次还来"}
    answered = client.post(f"{API}/{shop['token']}", json=body)
    assert answered.status_code == 201, answered.text
    assert answered.json()["complaint"] is False
    assert client.get(f"{API}/{shop['token']}").json()["answered"] is True
    again = client.post(f"{API}/{shop['token']}", json={"satisfaction": 1})
    assert again.status_code == 409 and again.json()["code"] == "survey.answered"
    with harness.db.read() as session:
        [answer] = session.scalars(select(SurveyAnswer)).all()
    assert (answer.order_id, answer.store_id, answer.cashier_id, answer.member_id) == (
        shop["order"]["id"], shop["store"].id, shop["cashier"].id, shop["member"].id,
    )  # fmt: skip
    assert (answer.satisfaction, answer.tags, answer.comment) == (4, ["clean_store"], "下次还来")
    assert _count(harness, Ticket) == 0


@BOTH
def test_bad_answers_are_refused_and_nothing_is_written(harness: AppHarness) -> None:
    shop = _sold(harness)
    client = harness.client()
    bad: list[dict[str, Any]] = [
        {}, {"satisfaction": 0}, {"satisfaction": 6}, {"satisfaction": "3"},
        {"satisfaction": True}, {"satisfaction": 3.5}, {"satisfaction": 3, "nps": 11},
        {"satisfaction": 3, "nps": -1}, {"satisfaction": 3, "tags": ["rude_cat"]},
        {"satisfaction": 3, "tags": ["long_queue", "long_queue"]},
        {"satisfaction": 3, "comment": "差" * 501}, {"satisfaction": 3, "member_id": 1},
        {"satisfaction": 3, "tags": "long_queue"},
    ]  # fmt: skip
    for body in bad:
        response = client.post(f"{API}/{shop['token']}", json=body)
        assert response.status_code == 422, (body, response.text)
    assert client.post(f"{API}/{shop['token']}", content=b"{", headers={
        "Content-Type": "application/json"}).status_code == 422  # fmt: skip
    assert _count(harness, SurveyAnswer) == 0
    # The longest comment allowed goes through.
    ok = client.post(f"{API}/{shop['token']}", json={"satisfaction": 3, "comment": "好" * 500})
    assert ok.status_code == 201, ok.text


@BOTH
def test_forged_and_expired_links_are_refused(harness: AppHarness) -> None:
    shop = _sold(harness)
    client, order_id = harness.client(), shop["order"]["id"]
    old = survey_token(order_id, secret=SECRET, issued=utcnow().date() - timedelta(days=31))
    cases = [
        (shop["token"][:-2] + ("AA" if not shop["token"].endswith("AA") else "BB"), 404),
        (survey_token(order_id, secret="forger"), 404),
        (follow_up_token(order_id, secret=SECRET), 404),  # a follow-up token is no survey
        ("x" * 81, 422),
        (old, 410),
    ]
    for token, status in cases:
        for response in (client.get(f"{API}/{token}"),
                         client.post(f"{API}/{token}", json={"satisfaction": 5})):  # fmt: skip
            assert response.status_code == status, (token, response.text)
            if status != 422:
                code = "survey.expired" if status == 410 else "survey.invalid"
                assert response.json()["code"] == code
    assert _count(harness, SurveyAnswer) == 0


@BOTH
def test_a_low_score_opens_a_complaint_for_the_store(harness: AppHarness) -> None:
    pytest.importorskip("shouyin.service.tickets")
    shop = _sold(harness)
    client = harness.client()
    client.cookies.set("lang", "en")
    body = {"satisfaction": 1, "nps": 0, "tags": ["unfriendly_staff"], "comment": "收银员很凶"}
    answered = client.post(f"{API}/{shop['token']}", json=body)
    assert answered.status_code == 201 and answered.json()["complaint"] is True
    with harness.db.read() as session:
        ticket = session.scalars(select(Ticket)).one()
        answer = session.scalars(select(SurveyAnswer)).one()
    assert (ticket.survey_answer_id, ticket.store_id, ticket.member_id, ticket.order_id) == (
        answer.id, shop["store"].id, shop["member"].id, shop["order"]["id"],
    )  # fmt: skip
    assert (ticket.category, ticket.priority, ticket.source) == ("service", "high", "survey")
    assert ticket.description == "收银员很凶" and answer.lang == "en"


def test_the_ticket_page_names_the_survey_tags_and_shows_the_comment_once(
    harness: AppHarness,
) -> None:
    shop = _sold(harness, member=False)
    body = {"satisfaction": 2, "tags": ["unfriendly_staff", "long_queue"], "comment": "太慢了"}
    assert harness.client().post(f"{API}/{shop['token']}", json=body).status_code == 201
    with harness.db.read() as session:
        ticket_id = session.scalars(select(Ticket.id)).one()
    manager = harness.client(harness.user("store_manager", shop["store"]))
    page = manager.get(f"/office/tickets/{ticket_id}")
    assert page.status_code == 200
    assert "店员态度不好、排队时间长" in page.text and "unfriendly_staff" not in page.text
    assert page.text.count("太慢了") == 1  # the comment is the complaint's description


@BOTH
def test_the_threshold_setting_decides_what_opens_a_complaint(harness: AppHarness) -> None:
    settings = harness.app.state.settings
    harness.app.state.settings = settings.model_copy(update={"survey_complaint_at": 0})
    shop = _sold(harness)
    answered = harness.client().post(f"{API}/{shop['token']}", json={"satisfaction": 1})
    assert answered.status_code == 201 and answered.json()["complaint"] is False
    assert _count(harness, Ticket) == 0


# --- the public page -----------------------------------------------------------------------


@BOTH
def test_the_page_shows_the_store_and_day_only_and_takes_a_form_post(harness: AppHarness) -> None:
    shop = _sold(harness)
    client = harness.client()
    page = client.get(f"/s/{shop['token']}")
    assert page.status_code == 200
    html = page.text
    assert shop["store"].name in html and shop["order"]["business_date"] in html
    assert "这次购物体验如何" in html and 'lang="zh-CN"' in html
    # No office layout, nothing about the member, the order's number or its total.
    assert "mainnav" not in html and "/office" not in html
    assert shop["order"]["number"] not in html and "12.00" not in html
    form = {"satisfaction": "5", "nps": "10", "tags": ["friendly_staff", "clean_store"],
            "comment": "很好"}  # fmt: skip
    sent = client.post(f"/s/{shop['token']}", data=form)
    assert sent.status_code == 303 and sent.headers["location"] == f"/s/{shop['token']}/thanks"
    thanks = client.get(sent.headers["location"])
    assert thanks.status_code == 200 and "感谢您的评价" in thanks.text
    # The same form sent twice (a double tap) still thanks; another answer is refused.
    assert client.post(f"/s/{shop['token']}", data=form).status_code == 303
    other = client.post(f"/s/{shop['token']}", data={**form, "satisfaction": "1"})
    assert other.status_code == 409 and "该问卷已经填写过了" in other.text
    revisit = client.get(f"/s/{shop['token']}")
    assert revisit.status_code == 200 and "该问卷已经填写过了" in revisit.text
    with harness.db.read() as session:
        [answer] = session.scalars(select(SurveyAnswer)).all()
    assert answer.tags == ["friendly_staff", "clean_store"] and answer.nps == 10


def test_the_page_speaks_english_after_the_switch(harness: AppHarness) -> None:
    shop = _sold(harness, member=False)
    client = harness.client()
    switched = client.get(f"/lang/en?back=/s/{shop['token']}")
    assert switched.status_code == 303 and switched.headers["location"] == f"/s/{shop['token']}"
    page = client.get(f"/s/{shop['token']}")
    assert "How was your visit?" in page.text and "Long queue" in page.text
    assert 'lang="en"' in page.text


def test_a_form_without_a_score_comes_back_with_the_answers_kept(harness: AppHarness) -> None:
    shop = _sold(harness, member=False)
    client = harness.client()
    sent = client.post(f"/s/{shop['token']}", data={"nps": "7", "tags": ["long_queue"],
                                                    "comment": "排队太久"})  # fmt: skip
    assert sent.status_code == 422
    assert "请选择您的满意度" in sent.text and "排队太久" in sent.text
    assert 'value="long_queue" checked' in sent.text and 'value="7" checked' in sent.text
    assert _count(harness, SurveyAnswer) == 0
    thanks = client.get(f"/s/{shop['token']}/thanks")  # nothing to thank for yet
    assert thanks.status_code == 303 and thanks.headers["location"] == f"/s/{shop['token']}"


def test_forged_and_expired_pages_say_so(harness: AppHarness) -> None:
    shop = _sold(harness, member=False)
    client, order_id = harness.client(), shop["order"]["id"]
    old = survey_token(order_id, secret=SECRET, issued=utcnow().date() - timedelta(days=40))
    forged = client.get(f"/s/{shop['token']}x")
    assert forged.status_code == 404 and "该问卷链接无效" in forged.text
    assert "mainnav" not in forged.text
    assert client.get(f"/s/{'9' * 200}").status_code == 404
    expired = client.get(f"/s/{old}")
    assert expired.status_code == 410 and "该问卷链接已过期" in expired.text
    posted = client.post(f"/s/{old}", data={"satisfaction": "5"})
    assert posted.status_code == 410
    assert _count(harness, SurveyAnswer) == 0


# --- the follow-up question ----------------------------------------------------------------


def _resolved_ticket(harness: AppHarness, *, status: str = "resolved") -> tuple[int, str]:
    """A complaint opened from a low survey answer and then set to ``status``."""
    shop = _sold(harness)
    body = {"satisfaction": 1, "comment": "秘密的投诉内容"}
    assert harness.client().post(f"{API}/{shop['token']}", json=body).status_code == 201

    def settle(session: Any) -> int:
        ticket_id = int(session.scalar(select(Ticket.id)))
        session.execute(update(Ticket).where(Ticket.id == ticket_id).values(status=status))
        return ticket_id

    ticket_id = harness.write(settle)
    return ticket_id, follow_up_token(ticket_id, secret=SECRET)


@BOTH
def test_the_follow_up_question_is_answered_once(harness: AppHarness) -> None:
    pytest.importorskip("shouyin.service.tickets")
    ticket_id, token = _resolved_ticket(harness)
    client = harness.client()
    page = client.get(f"/s/f/{token}")
    assert page.status_code == 200 and "您对我们处理投诉的方式满意吗" in page.text
    assert "秘密的投诉内容" not in page.text and "TK-" not in page.text
    assert client.post(f"/s/f/{token}", data={"score": "9"}).status_code == 422
    sent = client.post(f"/s/f/{token}", data={"score": "4"})
    assert sent.status_code == 303 and sent.headers["location"] == f"/s/f/{token}"
    assert "您的回答已记录" in client.get(f"/s/f/{token}").text
    again = client.post(f"/s/f/{token}", data={"score": "1"})
    assert again.status_code == 409
    with harness.db.read() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.follow_up_score == 4


def test_the_follow_up_waits_for_the_resolution_and_refuses_survey_tokens(
    harness: AppHarness,
) -> None:
    pytest.importorskip("shouyin.service.tickets")
    ticket_id, token = _resolved_ticket(harness, status="in_progress")
    client = harness.client()
    assert "我们仍在处理您的投诉" in client.get(f"/s/f/{token}").text
    assert client.post(f"/s/f/{token}", data={"score": "5"}).status_code == 409
    # A survey token (even of the same number) is not a follow-up token, and vice versa.
    assert client.get(f"/s/f/{survey_token(ticket_id, secret=SECRET)}").status_code == 404
    assert client.get(f"/s/{token}").status_code == 404
    with harness.db.read() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.follow_up_score is None
