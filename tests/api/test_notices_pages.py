"""Pages: notices for managers (list, link to the complaint, mark read, the unread badge),
closed days (add a span, errors inline, delete), and a store's opening hours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from shouyin.service import notices
from shouyin.service.models import ClosedDay, Notice
from shouyin.stores.models import Store
from tests.conftest import AppHarness
from tests.factories import make_store
from tests.integration.test_sla import add_ticket

AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        store = make_store(session, shift=False)
        ticket = add_ticket(session, store, respond_in=-1, resolve_in=5)
        notices.notify(
            session, store_id=store.id, kind="sla.response_breached", ticket_id=ticket.id,
            message="Complaint {number} ({store}) missed its response deadline of {due}.",
            params={"number": ticket.number, "store": store.code, "due": "2026-11-23 13:00"},
            at=AT,
        )  # fmt: skip
        return {"store": store, "ticket": ticket.id, "number": ticket.number}

    shop: dict[str, Any] = harness.write(build)
    shop["manager"] = harness.client(harness.user("store_manager", shop["store"]))
    return shop


def test_notice_list_links_to_the_complaint_and_marks_read(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = shop["manager"]
    badge = client.get("/office/notices/badge")
    assert badge.status_code == 200 and ">1</span>" in badge.text
    page = client.get("/office/notices")
    assert page.status_code == 200
    assert f"投诉 {shop['number']}" in page.text and "已超过回复期限" in page.text
    with harness.db.read() as session:
        notice_id = session.scalars(select(Notice.id)).one()
    opened = client.post(f"/office/notices/{notice_id}/read", data={"back": "ticket"})
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/office/tickets/{shop['ticket']}"
    assert client.get("/office/notices/badge").text == ""
    assert "No notices" not in client.get("/office/notices").text
    assert "没有提醒" in client.get("/office/notices?unread=1").text


def test_hq_sees_its_own_notices_and_reads_all(harness: AppHarness) -> None:
    shop = _shop(harness)
    hq = harness.client(harness.user("hq_admin"))
    assert "没有提醒" in hq.get("/office/notices").text  # the store's notice is not HQ's
    harness.write(lambda s: notices.notify(
        s, store_id=None, kind="sla.response_breached", ticket_id=shop["ticket"],
        message="Complaint {number} ({store}) missed its response deadline of {due}.",
        params={"number": shop["number"], "store": "S", "due": "x"}, at=AT,
    ))  # fmt: skip
    assert shop["number"] in hq.get("/office/notices").text
    done = hq.post("/office/notices/read-all")
    assert done.status_code == 303
    assert hq.get("/office/notices/badge").text == ""


def test_cashiers_have_no_notices(harness: AppHarness) -> None:
    cashier = harness.client(harness.user("cashier"))
    assert cashier.get("/office/notices").status_code == 403
    assert cashier.get("/office/notices/badge").status_code == 403


def test_closed_days_page_adds_a_span_shows_errors_and_deletes(harness: AppHarness) -> None:
    store = harness.write(lambda s: make_store(s, shift=False))
    hq = harness.client(harness.user("hq_admin"))
    page = hq.get("/office/closed-days")
    assert page.status_code == 200 and 'id="closed-day-form"' in page.text
    added = hq.post("/office/closed-days",
                    data={"store_id": "", "day": "2027-02-05", "until": "2027-02-07",
                          "name": "春节"})  # fmt: skip
    assert added.status_code == 303
    listed = hq.get("/office/closed-days").text
    assert listed.count("春节") >= 3 and "所有门店" in listed
    bad = hq.post("/office/closed-days",
                  data={"store_id": str(store.id), "day": "2027-02-07", "until": "2027-02-01",
                        "name": "盘点"})  # fmt: skip
    assert bad.status_code == 422 and 'data-code="closed_day.span_invalid"' in bad.text
    assert 'value="盘点"' in bad.text  # the form comes back as typed
    no_day = hq.post("/office/closed-days", data={"day": "", "name": "x"})
    assert no_day.status_code == 422
    with harness.db.read() as session:
        first = session.scalars(select(ClosedDay).order_by(ClosedDay.day)).first()
    assert first is not None
    gone = hq.post(f"/office/closed-days/{first.id}/delete")
    assert gone.status_code == 303
    with harness.db.read() as session:
        assert len(session.scalars(select(ClosedDay)).all()) == 2
    manager = harness.client(harness.user("store_manager", store))
    seen = manager.get("/office/closed-days")
    assert seen.status_code == 200 and "春节" in seen.text and "closed-day-form" not in seen.text
    assert manager.post(f"/office/closed-days/{first.id}/delete").status_code == 403


def test_store_page_opening_hours(harness: AppHarness) -> None:
    store = harness.write(lambda s: make_store(s, shift=False))
    hq = harness.client(harness.user("hq_admin"))
    page = hq.get(f"/office/stores/{store.id}").text
    assert 'name="opens" value="09:00"' in page and 'name="closes" value="21:00"' in page
    form = {"name": store.name, "address": "", "timezone": "Asia/Shanghai", "cutoff": "00:00",
            "rounding": "none", "opens": "07:30", "closes": "24:00", "active": "1"}  # fmt: skip
    assert hq.post(f"/office/stores/{store.id}", data=form).status_code == 303
    with harness.db.read() as session:
        saved = session.get(Store, store.id)
        assert saved is not None and (saved.opens_minutes, saved.closes_minutes) == (450, 1440)
    assert 'name="closes" value="24:00"' in hq.get(f"/office/stores/{store.id}").text
    backwards = hq.post(f"/office/stores/{store.id}", data=form | {"closes": "07:00"})
    assert backwards.status_code == 422 and 'data-code="store.hours_invalid"' in backwards.text
    assert "打烊时间须晚于开门时间" in backwards.text
    nonsense = hq.post(f"/office/stores/{store.id}", data=form | {"opens": "25:00"})
    assert nonsense.status_code == 422 and "营业时间须为" in nonsense.text
    made = hq.post("/office/stores", data=form | {"code": "N1", "opens": "10:00",
                                                   "closes": "22:00"})  # fmt: skip
    assert made.status_code == 303
    with harness.db.read() as session:
        new = session.scalars(select(Store).where(Store.code == "N1")).one()
        assert (new.opens_minutes, new.closes_minutes) == (600, 1320)
