"""The complaint pages of the back office (/office/tickets): the queue and its filters, a
ticket's page with its timeline, the steps of the flow through forms, who may see what, and
forms that keep what was typed when they are refused."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shouyin.service import ticket_flow, tickets
from shouyin.service.models import Ticket, TicketCompensation
from shouyin.service.ticket_schemas import TicketOpen
from shouyin.shared import clock
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
PAGE = "/office/tickets"


def _shop(harness: AppHarness) -> dict[str, Any]:
    store = harness.write(lambda s: factories.make_store(s, shift=False))
    other = harness.write(lambda s: factories.make_store(s, shift=False))
    manager = harness.user("store_manager", store)
    shop: dict[str, Any] = {
        "store": store, "other": other, "manager": manager,
        "as_manager": harness.client(manager),
        "colleague": harness.user("store_manager", store),
        "as_cashier": harness.client(harness.user("cashier", store)),
        "as_other": harness.client(harness.user("store_manager", other)),
        "as_marketer": harness.client(harness.user("hq_marketer")),
    }  # fmt: skip
    body = {"mobile": "13912345678", "name": "张三丰", "consent": True, "store_id": store.id}
    made = shop["as_manager"].post("/api/v1/members", json=body)
    assert made.status_code == 201, made.text
    shop["member"] = made.json()
    return shop


def _open(harness: AppHarness, shop: dict[str, Any], **values: Any) -> Ticket:
    """A ticket opened by the manager through the service (the REST API is not under test)."""
    data = {"store_id": shop["store"].id, "category": "product", "priority": "normal",
            "title": "牛奶过期", "description": "顾客说牛奶过期了", "client_uuid": uuid.uuid4()}  # fmt: skip
    data.update(values)
    actor = factories.principal_of(shop["manager"])
    settings = harness.app.state.settings

    def build(session: Any) -> Ticket:
        made = tickets.open_ticket(
            session, actor=actor, data=TicketOpen(**data), source="office", settings=settings
        )
        found = session.get(Ticket, made.id)
        assert found is not None
        return found

    ticket: Ticket = harness.write(build)
    return ticket


def _numbers(html: str) -> set[str]:
    return set(re.findall(r'<tr data-number="([^"]+)"', html))


@BOTH
def test_the_queue_filters_by_status_priority_category_assignee_and_overdue(
    harness: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = _shop(harness)
    urgent = _open(harness, shop, priority="urgent", category="service", title="收银员态度差")
    mine = _open(harness, shop, member_id=shop["member"]["id"])
    theirs = _open(harness, shop, priority="high", category="price", title="价签不符")
    actor = factories.principal_of(shop["manager"])
    harness.write(lambda s: ticket_flow.assign(s, ticket_id=mine.id, user_id=shop["manager"].id,
                                               actor=actor))  # fmt: skip
    harness.write(lambda s: ticket_flow.assign(s, ticket_id=theirs.id,
                                               user_id=shop["colleague"].id, actor=actor))  # fmt: skip
    client = shop["as_manager"]

    def listed(query: str) -> set[str]:
        response = client.get(f"{PAGE}?{query}")
        assert response.status_code == 200, response.text
        return _numbers(response.text)

    everything = {urgent.number, mine.number, theirs.number}
    assert listed("") == everything  # open tickets by default
    assert listed("priority=urgent") == {urgent.number}
    assert listed("category=price") == {theirs.number}
    assert listed("status=new") == {urgent.number}
    assert listed("assignee=mine") == {mine.number}
    assert listed("assignee=none") == {urgent.number}
    assert listed(f"assignee={shop['colleague'].id}") == {theirs.number}
    assert listed("overdue=1") == set()
    assert listed("status=closed") == set()
    assert listed("q=价签") == {theirs.number}

    # Past the urgent ticket's first-response deadline, unanswered: overdue, in red. The
    # others were answered (assigned) and have days to be resolved.
    later = clock.as_utc(urgent.respond_by) + timedelta(minutes=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    page = client.get(f"{PAGE}?overdue=1")
    assert _numbers(page.text) == {urgent.number}
    assert 'class="late"' in page.text
    # Members show by a masked name only.
    whole = client.get(PAGE).text
    assert "张**" in whole and "张三丰" not in whole


@BOTH
def test_a_store_sees_only_its_own_tickets_and_a_cashier_none(harness: AppHarness) -> None:
    shop = _shop(harness)
    ticket = _open(harness, shop)
    assert _numbers(shop["as_other"].get(PAGE).text) == set()
    assert shop["as_other"].get(f"{PAGE}/{ticket.id}").status_code == 403
    cashier = shop["as_cashier"]
    assert cashier.get(PAGE).status_code == 403
    assert cashier.get(f"{PAGE}/{ticket.id}").status_code == 403
    assert cashier.get(f"{PAGE}/new").status_code == 403
    refused = cashier.post(f"{PAGE}/{ticket.id}/comment", data={"text": "看看"})
    assert refused.status_code == 403


def test_the_ticket_page_shows_the_timeline_and_hides_the_customers_words_from_readers(
    harness: AppHarness,
) -> None:
    shop = _shop(harness)
    ticket = _open(harness, shop, member_id=shop["member"]["id"])
    client = shop["as_manager"]
    url = f"{PAGE}/{ticket.id}"
    assigned = client.post(f"{url}/assign", data={"user_id": str(shop["manager"].id)})
    assert assigned.status_code == 303 and assigned.headers["location"].endswith("saved=assigned")
    assert client.post(f"{url}/start", data={"comment": ""}).status_code == 303
    commented = client.post(f"{url}/comment", data={"text": "已联系顾客，明天退换"})
    assert commented.status_code == 303

    page = client.get(commented.headers["location"])
    assert page.status_code == 200
    html = page.text
    assert "评论已添加" in html or "Comment added" in html
    kinds = re.findall(r'data-kind="(\w+)"', html.split('id="timeline"')[1].split("</ol>")[0])
    assert kinds == ["opened", "assigned", "status", "comment"]
    assert "已联系顾客，明天退换" in html and "顾客说牛奶过期了" in html
    assert 'id="resolve-form"' in html and 'id="assign-form"' in html
    assert "张**" in html and "张三丰" not in html

    # An HQ marketer reads feedback reports: the ticket, not the customer's words, no actions.
    seen = shop["as_marketer"].get(url)
    assert seen.status_code == 200
    assert "顾客说牛奶过期了" not in seen.text and "已联系顾客" not in seen.text
    assert 'class="hidden-text"' in seen.text
    assert '<form method="post" action="/office/tickets/' not in seen.text
    assert shop["as_marketer"].post(f"{url}/comment", data={"text": "x"}).status_code == 403


@BOTH
def test_a_manager_works_a_ticket_to_resolved_with_points(harness: AppHarness) -> None:
    shop = _shop(harness)
    ticket = _open(harness, shop, member_id=shop["member"]["id"])
    client = shop["as_manager"]
    url = f"{PAGE}/{ticket.id}"
    assert (
        client.post(f"{url}/assign", data={"user_id": str(shop["manager"].id)}).status_code == 303
    )
    assert client.post(f"{url}/start", data={}).status_code == 303
    done = client.post(f"{url}/resolve", data={"outcome": "退款并道歉", "kind": "points",
                                               "points": "200"})  # fmt: skip
    assert done.status_code == 303, done.text
    with harness.db.read() as session:
        found = session.get(Ticket, ticket.id)
        assert found is not None and found.status == "resolved" and found.outcome == "退款并道歉"
        given = session.scalars(
            select(TicketCompensation).where(TicketCompensation.ticket_id == ticket.id)
        ).all()
        assert [(c.kind, c.points) for c in given] == [("points", 200)]
    html = client.get(url).text
    assert 'id="close-form"' in html and 'id="reopen-form"' in html
    assert 'id="resolve-form"' not in html and 'id="assign-form"' not in html
    assert client.post(f"{url}/close", data={}).status_code == 303
    reopened = client.post(f"{url}/reopen", data={"reason": "顾客又来电"})
    assert reopened.status_code == 303


def test_refused_forms_keep_what_was_typed(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = shop["as_manager"]
    typed = {"category": "service", "priority": "high", "title": "店员态度<差>",
             "description": "", "member": "", "order_number": ""}  # fmt: skip
    response = client.post(f"{PAGE}/new", data=typed)
    assert response.status_code == 422
    assert 'value="店员态度&lt;差&gt;"' in response.text
    assert '<option value="high" selected>' in response.text
    assert 'class="error"' in response.text

    unknown = client.post(f"{PAGE}/new", data=typed | {"description": "说话很冲",
                                                       "member": "13900000000"})  # fmt: skip
    assert unknown.status_code == 422
    assert "说话很冲" in unknown.text and 'value="13900000000"' in unknown.text

    made = client.post(f"{PAGE}/new", data=typed | {"description": "说话很冲",
                                                    "member": "13912345678"})  # fmt: skip
    assert made.status_code == 303, made.text
    ticket_id = int(made.headers["location"].split("/")[-1].split("?")[0])
    with harness.db.read() as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        assert (found.member_id, found.source) == (shop["member"]["id"], "office")

    # A step the flow does not allow yet, and a resolve without an outcome, say so in place.
    url = f"{PAGE}/{ticket_id}"
    early = client.post(f"{url}/close", data={"comment": "先关掉"})
    assert early.status_code == 409
    assert 'data-code="ticket.bad_transition"' in early.text
    client.post(f"{url}/assign", data={"user_id": str(shop["manager"].id)})
    client.post(f"{url}/start", data={})
    empty = client.post(f"{url}/resolve", data={"outcome": " ", "kind": "points", "points": "abc"})
    assert empty.status_code == 422
    assert 'value="abc"' in empty.text
    resolve_form = empty.text.split('id="resolve-form"')[1].split("</form>")[0]
    assert 'class="error"' in resolve_form
    odd = client.post(f"{url}/resolve", data={"outcome": "好", "kind": "'}; alert(1); {'"})
    assert odd.status_code == 422 and "alert(1)" not in odd.text


# A 1x1 PNG: enough for the thumbnail and the image check.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@BOTH
def test_images_are_attached_and_shown_as_thumbnails(harness: AppHarness) -> None:
    shop = _shop(harness)
    ticket = _open(harness, shop)
    client = shop["as_manager"]
    url = f"{PAGE}/{ticket.id}"
    sent = client.post(f"{url}/attachments", files={"image": ("过期.png", PNG, "image/png")})
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].endswith("saved=uploaded")
    html = client.get(url).text
    thumbs = re.findall(r'<img src="([^"]+)"', html)
    assert len(thumbs) == 1
    image = client.get(thumbs[0])
    assert image.status_code == 200 and image.content == PNG

    refused = client.post(
        f"{url}/attachments", files={"image": ("note.txt", b"hello", "text/plain")}
    )
    assert refused.status_code == 422
    upload_form = refused.text.split('id="upload-form"')[1].split("</form>")[0]
    assert 'data-code="ticket.attachment_type"' in upload_form
    assert len(re.findall(r"<img src=", refused.text)) == 1
    # The timeline notes the one image that was attached.
    assert html.count('data-kind="attachment"') == 1


def test_the_open_queue_pages_newest_first_across_statuses(
    harness: AppHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shouyin.web import pages_tickets

    monkeypatch.setattr(pages_tickets, "PAGE_SIZE", 2)
    shop = _shop(harness)
    made = [_open(harness, shop, title=f"投诉{n}") for n in range(3)]
    actor = factories.principal_of(shop["manager"])
    harness.write(lambda s: ticket_flow.assign(s, ticket_id=made[1].id,
                                               user_id=shop["manager"].id, actor=actor))  # fmt: skip
    client = shop["as_manager"]
    first, second = (client.get(f"{PAGE}?status=open&page={n}").text for n in (1, 2))
    assert _numbers(first) == {made[2].number, made[1].number}
    assert _numbers(second) == {made[0].number}
    assert "共 3 条投诉" in first
