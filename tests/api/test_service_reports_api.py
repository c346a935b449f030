"""Service reports through HTTP: figures as JSON, the tables behind the charts as CSV and
Excel, who may see what (no free text for feedback.read), bad periods; and the page."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from shouyin.customers.keys import cipher_for
from shouyin.service import analytics
from shouyin.shared.tabular import decode_text
from tests import factories
from tests.conftest import AppHarness
from tests.service_factories import make_answer, make_named_member, make_ticket

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
URL = "/api/v1/service-reports"
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analytics, "utcnow", lambda: NOW)


def _world(harness: AppHarness) -> dict[str, Any]:
    cipher = cipher_for(harness.app.state.settings)

    def build(session: Any) -> dict[str, Any]:
        a, b = (factories.make_store(session, shift=False) for _ in range(2))
        cashier = factories.make_user(session, role="cashier", store=a)
        other = factories.make_user(session, role="cashier", store=b)
        make_answer(session, a, cashier, datetime(2026, 11, 20, 2, tzinfo=UTC), satisfaction=5,
                    nps=10, tags=["friendly_staff"])  # fmt: skip
        make_answer(session, a, cashier, datetime(2026, 11, 21, 2, tzinfo=UTC), satisfaction=2,
                    nps=3, tags=["long_queue"], comment="=排队太久了")  # fmt: skip
        make_answer(session, b, other, datetime(2026, 11, 21, 3, tzinfo=UTC), satisfaction=4)
        wang = make_named_member(session, cipher, "王小明", "13712345678")
        for day, hours in ((20, 2.0), (21, 4.0)):
            make_ticket(session, a, datetime(2026, 11, day, 1, tzinfo=UTC), category="product",
                        responded_after=hours, member=wang,
                        description="牛奶过期了")  # fmt: skip
        return {"a": a, "b": b}

    world: dict[str, Any] = harness.write(build)
    world["hq"] = harness.client(harness.user("hq_admin"))
    world["marketer"] = harness.client(harness.user("hq_marketer"))
    world["manager"] = harness.client(harness.user("store_manager", world["a"]))
    return world


@BOTH
def test_feedback_and_complaints_as_json(harness: AppHarness) -> None:
    w = _world(harness)
    feedback = w["hq"].get(f"{URL}/feedback", params={"group": "week"})
    assert feedback.status_code == 200, feedback.text
    body = feedback.json()
    summary = body["summary"]
    assert (summary["answers"], summary["satisfaction_avg"], summary["nps"]) == (3, 3.67, 0.0)
    assert [p["bucket"] for p in body["trend"]][-2:] == ["2026-11-16", "2026-11-23"]
    complaints = w["hq"].get(f"{URL}/complaints", params={"store_id": w["a"].id}).json()
    assert complaints["summary"]["tickets"] == 2
    assert complaints["summary"]["response"]["median_hours"] == 3.0
    assert complaints["repeat"][0]["name"] == "王小明"
    mine = w["manager"].get(f"{URL}/feedback").json()
    assert (mine["period"]["store_id"], mine["summary"]["answers"]) == (w["a"].id, 2)


@BOTH
def test_exports_decode_as_csv_and_open_as_excel(harness: AppHarness) -> None:
    w = _world(harness)
    params = {"from": "2026-11-20", "to": "2026-11-22", "format": "csv", "table": "trend"}
    csv = w["hq"].get(f"{URL}/feedback", params=params)
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="service-feedback-trend-all-stores-20261120-20261122.csv"' in (
        csv.headers["content-disposition"]
    )  # fmt: skip
    text = decode_text(csv.content)
    assert text is not None
    lines = text.splitlines()
    assert lines[0].split(",")[:3] == ["期间", "答卷数", "平均满意度"]
    # A negative NPS is a plain number in the CSV, not a formula to disarm.
    assert lines[1:] == ["2026-11-20,1,5.0,1,1,0,0,100.0", "2026-11-21,2,3.0,1,0,0,1,-100.0",
                         "2026-11-22,0,,0,0,0,0,"]  # fmt: skip
    xlsx = w["hq"].get(f"{URL}/complaints", params={**params, "format": "xlsx", "table": "stores"})
    assert xlsx.status_code == 200, xlsx.text
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    rows = [[c.value for c in line] for line in sheet.iter_rows()]
    assert rows[0][:4] == ["门店编码", "门店", "投诉", "商品"]
    assert rows[1][:4] == [w["a"].code, w["a"].name, "2", "2"]
    words = w["hq"].get(f"{URL}/words", params={"format": "csv"})
    words_text = decode_text(words.content) or ""
    # Most frequent first; ties in the order first read (comments, then descriptions).
    assert words_text.splitlines() == ["词语,出现次数", "牛奶,2", "过期,2", "排队,1", "太久,1"]


@BOTH
def test_feedback_readers_get_no_words_comments_or_names(harness: AppHarness) -> None:
    w = _world(harness)
    marketer = w["marketer"]
    assert marketer.get(f"{URL}/words").status_code == 403
    assert marketer.get(f"{URL}/words", params={"format": "csv"}).status_code == 403
    feedback = marketer.get(f"{URL}/feedback")
    assert feedback.status_code == 200
    assert "排队" not in feedback.text
    complaints = marketer.get(f"{URL}/complaints")
    assert complaints.status_code == 200
    assert "王小明" not in complaints.text and "过期" not in complaints.text
    assert complaints.json()["repeat"][0] | {"last_opened_at": None} == {
        "member_id": None, "name": "王**", "mobile_masked": "137****5678", "tickets": 2,
        "last_opened_at": None,
    }  # fmt: skip
    exports = [("feedback", t) for t in ("trend", "stores", "cashiers", "tags")] + [
        ("complaints", t) for t in ("trend", "stores", "categories", "repeat")
    ]
    for kind, table in exports:
        got = marketer.get(f"{URL}/{kind}", params={"format": "csv", "table": table})
        text = decode_text(got.content) or ""
        assert got.status_code == 200, (kind, table)
        for private in ("太久", "牛奶", "王小明"):  # a comment, a description, a name
            assert private not in text, (kind, table, private)
    page = marketer.get("/office/service-reports")
    assert page.status_code == 200
    assert 'id="top-words"' not in page.text and "王小明" not in page.text
    handler_page = w["manager"].get("/office/service-reports")
    assert 'id="top-words"' in handler_page.text and 'data-word="过期"' in handler_page.text
    assert harness.client(harness.user("cashier", w["a"])).get(f"{URL}/feedback").status_code == 403


@BOTH
def test_bad_periods_and_other_stores_are_refused(harness: AppHarness) -> None:
    w = _world(harness)
    reversed_ = w["hq"].get(f"{URL}/feedback", params={"from": "2026-11-20", "to": "2026-11-01"})
    assert reversed_.status_code == 422
    assert reversed_.json()["code"] == "service_report.period_reversed"
    too_long = w["hq"].get(f"{URL}/complaints", params={"from": "2025-01-01", "to": "2026-01-02"})
    assert (too_long.status_code, too_long.json()["code"]) == (
        422, "service_report.period_too_long",
    )  # fmt: skip
    other = w["manager"].get(f"{URL}/complaints", params={"store_id": w["b"].id})
    assert other.status_code == 403
    assert w["hq"].get(f"{URL}/feedback", params={"store_id": 2**31 - 1}).status_code == 404
    page = w["hq"].get("/office/service-reports", params={"from": "2026-11-20", "to": "2026-11-01"})
    assert page.status_code == 422
    assert "统计期间的结束日早于开始日" in page.text
