"""Service analytics against a real database (SQLite and PostgreSQL) with known answers:
feedback scores and NPS by day, store and cashier; complaint volumes, times, breach, reopen
and repeat complainants; top words; who may see what."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shouyin.customers.crypto import FieldCipher, KeyRing
from shouyin.errors import Forbidden, ValidationFailed
from shouyin.service import analytics
from shouyin.service.analytics import ReportQuery
from tests import factories
from tests.service_factories import make_answer, make_named_member, make_ticket

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
CIPHER = FieldCipher(KeyRing.generate())


def at(day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analytics, "utcnow", lambda: NOW)


def _feedback_world(session: Session) -> dict[str, Any]:
    a, b = factories.make_store(session, shift=False), factories.make_store(session, shift=False)
    a1, a2 = (factories.make_user(session, role="cashier", store=a) for _ in range(2))
    b1 = factories.make_user(session, role="cashier", store=b)
    # 20 Nov in Shanghai (15:59 UTC is 23:59 there), 21 Nov, 22 Nov; one before the period.
    make_answer(session, a, a1, at(20, 2), satisfaction=5, nps=10,
                tags=["friendly_staff", "fast_checkout"])  # fmt: skip
    make_answer(session, a, a1, datetime(2026, 11, 20, 15, 59, tzinfo=UTC), satisfaction=4,
                nps=8, tags=["friendly_staff"])  # fmt: skip
    make_answer(session, a, a2, datetime(2026, 11, 20, 16, 0, tzinfo=UTC), satisfaction=1,
                nps=2, tags=["long_queue"], comment="排队太久，收银员态度很差")  # fmt: skip
    make_answer(session, a, a2, at(21, 9), satisfaction=2, comment="排队太久")
    make_answer(session, b, b1, at(22, 3), satisfaction=3, nps=9)
    make_answer(session, a, a1, at(24, 3, month=10), satisfaction=5, nps=10)  # 24 Oct: before
    return {"a": a, "b": b, "a1": a1, "a2": a2, "b1": b1}


def _principal(session: Session, role: str, store: Any = None) -> Any:
    return factories.principal_of(factories.make_user(session, role=role, store=store))


def test_feedback_scores_and_nps_by_day_store_and_cashier(session: Session) -> None:
    w = _feedback_world(session)
    hq = _principal(session, "hq_marketer")
    found = analytics.feedback(session, query=ReportQuery(), actor=hq)
    assert (found.period.start, found.period.end) == (date(2026, 10, 25), date(2026, 11, 23))
    s = found.summary
    assert (s.answers, s.satisfaction_avg, s.nps_answers) == (5, 3.0, 4)
    assert (s.promoters, s.passives, s.detractors, s.nps) == (2, 1, 1, 25.0)
    by_day = {p.bucket: p.answers for p in found.trend if p.answers}
    assert by_day == {"2026-11-20": 2, "2026-11-21": 2, "2026-11-22": 1}
    assert len(found.trend) == 30  # empty days included: the chart's axis is continuous
    stores = {x.store_id: x.figures for x in found.stores}
    assert (stores[w["a"].id].answers, stores[w["a"].id].nps) == (4, 0.0)
    assert (stores[w["b"].id].answers, stores[w["b"].id].nps) == (1, 100.0)
    cashiers = {x.cashier_id: x.figures for x in found.cashiers}
    assert (cashiers[w["a1"].id].satisfaction_avg, cashiers[w["a1"].id].nps) == (4.5, 50.0)
    assert (cashiers[w["a2"].id].satisfaction_avg, cashiers[w["a2"].id].nps) == (1.5, -100.0)
    assert cashiers[w["a2"].id].nps_answers == 1  # one answer gave no NPS score
    assert [(t.tag, t.count) for t in found.tags] == [
        ("friendly_staff", 2), ("fast_checkout", 1), ("long_queue", 1),
    ]  # fmt: skip
    assert "排队" not in found.model_dump_json()  # scores and counts, never comments


def test_feedback_by_week_and_month_and_for_one_store(session: Session) -> None:
    w = _feedback_world(session)
    hq = _principal(session, "hq_admin")
    weeks = analytics.feedback(
        session, query=ReportQuery(start=date(2026, 11, 1), end=date(2026, 11, 23),
                                   group="week"), actor=hq,
    )  # fmt: skip
    assert [(p.bucket, p.answers) for p in weeks.trend] == [
        ("2026-11-01", 0), ("2026-11-02", 0), ("2026-11-09", 0), ("2026-11-16", 5),
        ("2026-11-23", 0),
    ]  # fmt: skip
    months = analytics.feedback(
        session, query=ReportQuery(start=date(2026, 10, 1), group="month"), actor=hq
    )
    assert [(p.bucket, p.answers) for p in months.trend] == [("2026-10", 1)]  # to 30 Oct
    manager = _principal(session, "store_manager", w["a"])
    mine = analytics.feedback(session, query=ReportQuery(), actor=manager)
    assert mine.period.store_id == w["a"].id
    assert (mine.summary.answers, {c.cashier_id for c in mine.cashiers}) == (
        4, {w["a1"].id, w["a2"].id},
    )  # fmt: skip
    with pytest.raises(Forbidden):
        analytics.feedback(session, query=ReportQuery(store_id=w["b"].id), actor=manager)


def test_a_reversed_or_overlong_period_is_refused(session: Session) -> None:
    hq = _principal(session, "hq_admin")
    with pytest.raises(ValidationFailed) as reversed_:
        analytics.feedback(session, query=ReportQuery(start=date(2026, 11, 5),
                                                      end=date(2026, 11, 1)), actor=hq)  # fmt: skip
    assert reversed_.value.code == "service_report.period_reversed"
    with pytest.raises(ValidationFailed):
        analytics.complaints(session, query=ReportQuery(start=date(2025, 1, 1),
                                                        end=date(2026, 1, 2)),
                             actor=hq, cipher=CIPHER)  # fmt: skip


def _complaint_world(session: Session) -> dict[str, Any]:
    a, b = factories.make_store(session, shift=False), factories.make_store(session, shift=False)
    zhang = make_named_member(session, CIPHER, "张三", "13812345678")
    li = make_named_member(session, CIPHER, "李四", "13900001111")
    # On time: responded in 1 h, resolved in 10 h; both deadlines have passed.
    make_ticket(session, a, at(20, 2), category="product", responded_after=1, resolved_after=10,
                member=zhang, description="牛奶过期，要求退款")  # fmt: skip
    # Responded 30 h after opening: 6 h past the 24 h deadline.
    make_ticket(session, a, at(21, 2), responded_after=30, member=zhang,
                description="收银员态度很差")  # fmt: skip
    # No response and the deadline (23 Nov 02:00) has passed: missed, though not yet flagged.
    make_ticket(session, a, at(22, 2), member=li, description="排队太久")
    # Store B: responded in 3 h, resolved in 15 h and reopened; no deadline passed yet.
    make_ticket(session, b, at(22, 10), category="price", responded_after=3, resolved_after=15,
                reopened=1, member=li, description="价格标签错误")  # fmt: skip
    # Flagged by the SLA scan: a 1 h deadline, answered after 2 h (04:00 on 23 Nov locally).
    make_ticket(session, a, at(22, 20), category="product", respond_hours=1, responded_after=2,
                response_breached_at=at(22, 21), member=zhang,
                description="商品过期")  # fmt: skip
    make_ticket(session, a, at(1, 2, month=10), member=li)  # 1 Oct: before the period
    return {"a": a, "b": b, "zhang": zhang, "li": li}


def test_complaint_volumes_times_breaches_and_reopens(session: Session) -> None:
    w = _complaint_world(session)
    hq = _principal(session, "hq_admin")
    found = analytics.complaints(session, query=ReportQuery(), actor=hq, cipher=CIPHER)
    s = found.summary
    assert s.tickets == 5
    assert [(c.category, c.count) for c in found.categories] == [
        ("product", 2), ("service", 2), ("price", 1),
    ]  # fmt: skip
    # Hours to respond: 1, 2, 3, 30. Median 2.5; p90 at rank 2.7: 3 + 0.7 * 27.
    assert (s.response.count, s.response.median_hours, s.response.p90_hours) == (4, 2.5, 21.9)
    assert (s.resolution.count, s.resolution.median_hours, s.resolution.p90_hours) == (
        2, 12.5, 14.5,
    )  # fmt: skip
    assert (s.response_due, s.response_breached, s.response_breach_rate) == (4, 3, 75.0)
    assert (s.resolution_due, s.resolution_breached, s.resolution_breach_rate) == (1, 0, 0.0)
    assert (s.resolved_once, s.reopened, s.reopen_rate) == (2, 1, 50.0)
    by_day = {p.bucket: p.tickets for p in found.trend if p.tickets}
    assert by_day == {"2026-11-20": 1, "2026-11-21": 1, "2026-11-22": 2, "2026-11-23": 1}
    stores = {x.store_id: x for x in found.stores}
    a = stores[w["a"].id]
    assert (a.figures.tickets, a.categories["product"], a.categories["service"]) == (4, 2, 2)
    assert (a.figures.response.median_hours, a.figures.response.p90_hours) == (2.0, 24.4)
    assert stores[w["b"].id].figures.reopen_rate == 100.0
    assert "过期" not in found.model_dump_json()  # no descriptions in the report


def test_repeat_complainants_are_named_only_for_complaint_handlers(session: Session) -> None:
    w = _complaint_world(session)
    handler = _principal(session, "hq_admin")
    named = analytics.complaints(session, query=ReportQuery(), actor=handler, cipher=CIPHER)
    assert named.repeat_count == 2
    assert [(r.member_id, r.name, r.mobile_masked, r.tickets) for r in named.repeat] == [
        (w["zhang"].id, "张三", "138****5678", 3), (w["li"].id, "李四", "139****1111", 2),
    ]  # fmt: skip
    reader = _principal(session, "hq_marketer")  # feedback.read only
    masked = analytics.complaints(session, query=ReportQuery(), actor=reader, cipher=CIPHER)
    assert not masked.names_shown
    assert [(r.member_id, r.name, r.tickets) for r in masked.repeat] == [
        (None, "张*", 3), (None, "李*", 2),
    ]  # fmt: skip
    assert "张三" not in masked.model_dump_json()
    manager = _principal(session, "store_manager", w["a"])
    mine = analytics.complaints(session, query=ReportQuery(), actor=manager, cipher=CIPHER)
    assert (mine.repeat_count, mine.summary.tickets) == (1, 4)  # 李四's second was in B


def test_top_words_of_comments_and_descriptions_for_handlers_only(session: Session) -> None:
    w = _feedback_world(session)
    _complaint_world(session)
    handler = _principal(session, "hq_admin")
    found = analytics.words(session, query=ReportQuery(), actor=handler, limit=3)
    assert found.texts == 2 + 5  # two comments, five descriptions in the period
    # Ties keep the order first seen: comments come before descriptions.
    assert [(x.word, x.count) for x in found.words] == [("排队", 3), ("太久", 3), ("收银员", 2)]
    every = analytics.words(session, query=ReportQuery(), actor=handler, limit=100)
    assert {x.word: x.count for x in every.words} == {
        "排队": 3, "太久": 3, "收银员": 2, "态度": 2, "很差": 2, "牛奶": 1, "过期": 2,
        "要求": 1, "退款": 1, "价格": 1, "标签": 1, "错误": 1, "商品": 1,
    }  # fmt: skip
    comments = analytics.words(session, query=ReportQuery(), actor=handler, source="comments")
    assert comments.texts == 2
    assert {x.word: x.count for x in comments.words}["收银员"] == 1
    reader = _principal(session, "hq_marketer")
    with pytest.raises(Forbidden):
        analytics.words(session, query=ReportQuery(), actor=reader)
    manager = _principal(session, "store_manager", w["b"])
    theirs = analytics.words(session, query=ReportQuery(), actor=manager)
    assert theirs.texts == 0  # no comments in store B; its ticket is from another world
