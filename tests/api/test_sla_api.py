"""REST of the SLA part (/api/v1/service): notices by audience, marking read, closed days
with their rights, the due list and running the check; store opening hours. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shouyin.audit.models import AuditEntry
from shouyin.service import notices
from shouyin.service.models import ClosedDay, Notice
from shouyin.shared.clock import utcnow
from tests.conftest import AppHarness
from tests.factories import make_store
from tests.integration.test_sla import add_ticket

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
URL = "/api/v1/service"
AT = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def _shops(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        a, b = make_store(session, shift=False), make_store(session, shift=False)
        for store_id in (a.id, b.id, None):
            notices.notify(
                session, store_id=store_id, kind="sla.response_breached", ticket_id=None,
                message="Complaint {number} ({store}) missed its response deadline of {due}.",
                params={"number": f"TK-{store_id}", "store": "S", "due": "2026-11-23 13:00"},
                at=AT,
            )  # fmt: skip
        return {"a": a, "b": b}

    shops: dict[str, Any] = harness.write(build)
    shops["a_manager"] = harness.client(harness.user("store_manager", shops["a"]))
    shops["b_manager"] = harness.client(harness.user("store_manager", shops["b"]))
    shops["hq"] = harness.client(harness.user("hq_admin"))
    shops["cashier"] = harness.client(harness.user("cashier", shops["a"]))
    shops["marketer"] = harness.client(harness.user("hq_marketer"))
    return shops


@BOTH
def test_each_reader_sees_their_audience_and_marks_read(harness: AppHarness) -> None:
    shops = _shops(harness)
    page = shops["a_manager"].get(f"{URL}/notices").json()
    assert [x["text"] for x in page["items"]] == [
        f"投诉 TK-{shops['a'].id}（S）已超过回复期限 2026-11-23 13:00。"
    ]
    assert (page["total"], page["unread"]) == (1, 1)
    shops["hq"].cookies.set("lang", "en")
    hq = shops["hq"].get(f"{URL}/notices").json()
    assert [(x["store_id"], x["text"]) for x in hq["items"]] == [
        (None, "Complaint TK-None (S) missed its response deadline of 2026-11-23 13:00.")
    ]
    notice_id = page["items"][0]["id"]
    # Another store's manager cannot touch it.
    assert shops["b_manager"].post(f"{URL}/notices/{notice_id}/read").status_code == 404
    done = shops["a_manager"].post(f"{URL}/notices/{notice_id}/read")
    assert done.status_code == 200 and done.json()["read_at"] is not None
    assert shops["a_manager"].get(f"{URL}/notices/unread-count").json() == {"unread": 0}
    assert shops["a_manager"].get(f"{URL}/notices?unread=true").json()["items"] == []
    assert shops["b_manager"].get(f"{URL}/notices/unread-count").json() == {"unread": 1}
    assert shops["hq"].post(f"{URL}/notices/read-all").json() == {"marked": 1}
    assert shops["hq"].get(f"{URL}/notices/unread-count").json() == {"unread": 0}


def test_notices_need_the_right_to_handle_complaints(harness: AppHarness) -> None:
    shops = _shops(harness)
    for who in ("cashier", "marketer"):
        assert shops[who].get(f"{URL}/notices").status_code == 403
        assert shops[who].post(f"{URL}/notices/read-all").status_code == 403
    assert shops["hq"].post(f"{URL}/notices/99999/read").status_code == 404
    assert shops["hq"].get(f"{URL}/notices?limit=0").status_code == 422


@BOTH
def test_hq_closes_days_for_every_store_and_for_one(harness: AppHarness) -> None:
    shops = _shops(harness)
    chain = shops["hq"].post(
        f"{URL}/closed-days", json={"day": "2027-02-05", "until": "2027-02-08", "name": "春节"}
    )
    assert chain.status_code == 201, chain.text
    assert [x["day"] for x in chain.json()] == ["2027-02-05", "2027-02-06", "2027-02-07",
                                                "2027-02-08"]  # fmt: skip
    assert all(x["store_id"] is None for x in chain.json())
    own = shops["hq"].post(
        f"{URL}/closed-days", json={"store_id": shops["a"].id, "day": "2027-03-01", "name": "盘点"}
    )
    assert own.status_code == 201  # fmt: skip
    # The same day again: nothing new, a conflict.
    again = shops["hq"].post(f"{URL}/closed-days", json={"day": "2027-02-06", "name": "春节"})
    assert again.status_code == 409 and again.json()["code"] == "closed_day.exists"
    # A span overlapping the holiday adds only the new days.
    longer = shops["hq"].post(
        f"{URL}/closed-days", json={"day": "2027-02-08", "until": "2027-02-09", "name": "春节"}
    )
    assert [x["day"] for x in longer.json()] == ["2027-02-09"]
    a_days = shops["a_manager"].get(f"{URL}/closed-days").json()
    assert len(a_days) == 6  # the chain's five and its own
    b_days = shops["b_manager"].get(f"{URL}/closed-days").json()
    assert {x["store_id"] for x in b_days} == {None}
    # Store managers read but do not change them.
    blocked = shops["a_manager"].post(f"{URL}/closed-days",
                                      json={"store_id": shops["a"].id, "day": "2027-04-01",
                                            "name": "x"})  # fmt: skip
    assert blocked.status_code == 403
    day_id = own.json()[0]["id"]
    assert shops["a_manager"].delete(f"{URL}/closed-days/{day_id}").status_code == 403
    assert shops["hq"].delete(f"{URL}/closed-days/{day_id}").status_code == 204
    assert shops["hq"].delete(f"{URL}/closed-days/{day_id}").status_code == 404
    with harness.db.read() as session:
        assert len(session.scalars(select(ClosedDay)).all()) == 5
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("closed_day.%"))
        ).all()
    assert sorted(actions) == ["closed_day.create"] * 3 + ["closed_day.delete"]


@pytest.mark.parametrize(
    "body",
    [
        {"day": "2027-02-05", "until": "2027-02-04", "name": "x"},  # ends before it starts
        {"day": "2027-02-01", "until": "2027-03-05", "name": "x"},  # more than 31 days
        {"day": "2027-02-05", "name": ""},
        {"day": "2027-02-05", "name": "x", "store_id": "1"},
        {"day": "2027-02-05", "name": "x", "extra": 1},
        {"day": "not a day", "name": "x"},
        {"day": "9999-12-31", "until": "9999-12-31", "name": "x"},
    ],
)
def test_bad_closed_days_refused(harness: AppHarness, body: dict[str, Any]) -> None:
    hq = harness.client(harness.user("hq_admin"))
    assert hq.post(f"{URL}/closed-days", json=body).status_code == 422
    with harness.db.read() as session:
        assert session.scalars(select(ClosedDay)).all() == []


def test_closed_day_for_an_unknown_store(harness: AppHarness) -> None:
    hq = harness.client(harness.user("hq_admin"))
    body = {"store_id": 999999, "day": "2027-02-05", "name": "x"}
    assert hq.post(f"{URL}/closed-days", json=body).status_code == 404


@BOTH
def test_due_list_and_check_now(harness: AppHarness) -> None:
    now = utcnow()

    def build(session: Any) -> dict[str, Any]:
        a, b = make_store(session, shift=False), make_store(session, shift=False)
        late = add_ticket(session, a, respond_in=-1, resolve_in=5, now=now)
        add_ticket(session, b, respond_in=-1, resolve_in=5, now=now)
        return {"a": a, "late": late.id}

    shop = harness.write(build)
    manager = harness.client(harness.user("store_manager", shop["a"]))
    hq = harness.client(harness.user("hq_admin"))
    due = manager.get(f"{URL}/sla/due").json()
    assert [(x["ticket_id"], x["deadline"], x["breached"]) for x in due] == [
        (shop["late"], "response", True)
    ]
    assert len(hq.get(f"{URL}/sla/due").json()) == 2
    assert manager.get(f"{URL}/sla/due?store_id={shop['a'].id + 1}").status_code == 403
    done = hq.post(f"{URL}/sla/check").json()
    assert (done["escalated"], done["emailed"]) == (2, 0)
    assert hq.post(f"{URL}/sla/check").json()["escalated"] == 0
    assert manager.get(f"{URL}/sla/due").json()[0]["escalated"] is True
    with harness.db.read() as session:
        assert len(session.scalars(select(Notice)).all()) == 4
    cashier = harness.client(harness.user("cashier", shop["a"]))
    assert cashier.post(f"{URL}/sla/check").status_code == 403


@BOTH
def test_store_opening_hours(harness: AppHarness) -> None:
    hq = harness.client(harness.user("hq_admin"))
    made = hq.post("/api/v1/stores", json={"code": "H24", "name": "通宵店", "opens_minutes": 0,
                                           "closes_minutes": 1440})  # fmt: skip
    assert made.status_code == 201, made.text
    assert (made.json()["opens_minutes"], made.json()["closes_minutes"]) == (0, 1440)
    store_id = made.json()["id"]
    default = hq.post("/api/v1/stores", json={"code": "D1", "name": "默认"}).json()
    assert (default["opens_minutes"], default["closes_minutes"]) == (540, 1260)
    bad = hq.post("/api/v1/stores", json={"code": "X1", "name": "x", "opens_minutes": 600,
                                          "closes_minutes": 600})  # fmt: skip
    assert bad.status_code == 422
    # One of the two alone is checked against the stored other.
    late_open = hq.patch(f"/api/v1/stores/{default['id']}", json={"opens_minutes": 1300})
    assert late_open.status_code == 422 and late_open.json()["code"] == "store.hours_invalid"
    fine = hq.patch(f"/api/v1/stores/{store_id}", json={"opens_minutes": 480})
    assert fine.status_code == 200 and fine.json()["opens_minutes"] == 480
    assert hq.patch(f"/api/v1/stores/{store_id}", json={"closes_minutes": 1441}).status_code == 422


def test_warning_dates_in_the_past_are_still_listed(harness: AppHarness) -> None:
    """A ticket breached days ago (the server was off) is listed and escalated."""
    now = utcnow()

    def build(session: Any) -> int:
        store = make_store(session, shift=False)
        return add_ticket(session, store, respond_in=-72, resolve_in=-48, now=now).id

    ticket_id = harness.write(build)
    hq = harness.client(harness.user("hq_admin"))
    due = hq.get(f"{URL}/sla/due").json()
    assert {x["ticket_id"] for x in due} == {ticket_id}
    assert all(datetime.fromisoformat(x["due_at"]) < now - timedelta(hours=47) for x in due)
