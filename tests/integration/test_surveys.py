"""Survey answers against both databases: one answer per order even under a race, the answer
linked to the order's store, cashier and member, and a low score opening a complaint in the
same transaction (nothing half-written when that fails)."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from shouyin.config import Settings
from shouyin.db import Database
from shouyin.errors import Conflict, DomainError
from shouyin.sales.schemas import LineIn, OrderCreate, PaymentIn
from shouyin.sales.service import checkout
from shouyin.service import surveys
from shouyin.service.models import SurveyAnswer, Ticket
from shouyin.service.survey_links import follow_up_token, survey_token
from shouyin.service.survey_schemas import SurveySubmit
from shouyin.shared.clock import utcnow
from tests import factories
from tests.conftest import make_settings

SECRET = "test-secret"


def sell(session: Session, *, with_member: bool = True) -> dict[str, Any]:
    """A real order through the checkout service: a store, its cashier, maybe a member."""
    store = factories.make_store(session)
    cashier = factories.make_user(session, role="cashier", store=store)
    member = factories.make_member(session) if with_member else None
    product = factories.make_product(session, price=500, stock={store.id: 10})
    data = OrderCreate(
        client_uuid=uuid.uuid4(), store_id=store.id,
        register_id=factories.register_of(session, store).id,
        member_id=member.id if member else None,
        lines=[LineIn(product_id=product.id, quantity=1)],
        payments=[PaymentIn(method="cash", amount=500)],
    )  # fmt: skip
    order, _ = checkout(
        session, data=data, actor=factories.principal_of(cashier), discount_audit_percent=100
    )
    return {"order_id": order.id, "store": store, "cashier": cashier, "member": member,
            "token": survey_token(order.id, secret=SECRET)}  # fmt: skip


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings("sqlite://", tmp_path)


def _answers(db: Database) -> list[SurveyAnswer]:
    with db.read() as session:
        return list(session.scalars(select(SurveyAnswer)))


def _tickets(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Ticket)) or 0)


def test_an_answer_is_linked_to_the_order_store_cashier_and_member(
    database: Database, settings: Settings
) -> None:
    with database.write() as session:
        sale = sell(session)
    good = SurveySubmit(satisfaction=5, nps=9, tags=["friendly_staff", "fast_checkout"],
                        comment="  店员很热情  ")  # fmt: skip
    with database.write() as session:
        result = surveys.submit(
            session, token=sale["token"], data=good, settings=settings, lang="en"
        )
    assert result.complaint is False
    [answer] = _answers(database)
    assert (answer.order_id, answer.store_id, answer.cashier_id, answer.member_id) == (
        sale["order_id"], sale["store"].id, sale["cashier"].id, sale["member"].id,
    )  # fmt: skip
    assert (answer.satisfaction, answer.nps, answer.tags, answer.comment, answer.lang) == (
        5, 9, ["friendly_staff", "fast_checkout"], "店员很热情", "en",
    )  # fmt: skip
    with database.read() as session:
        shown = surveys.view(session, token=sale["token"], settings=settings, lang="zh_CN")
    assert shown.answered and shown.store_name == sale["store"].name
    assert _tickets(database) == 0


def test_a_second_answer_is_refused_and_changes_nothing(
    database: Database, settings: Settings
) -> None:
    with database.write() as session:
        sale = sell(session, with_member=False)
    with database.write() as session:
        surveys.submit(session, token=sale["token"], data=SurveySubmit(satisfaction=4),
                       settings=settings, lang="zh_CN")  # fmt: skip
    with pytest.raises(Conflict) as caught, database.write() as session:
        surveys.submit(session, token=sale["token"], data=SurveySubmit(satisfaction=1),
                       settings=settings, lang="zh_CN")  # fmt: skip
    assert caught.value.code == "survey.answered"
    [answer] = _answers(database)
    assert answer.satisfaction == 4 and answer.member_id is None
    assert _tickets(database) == 0


def test_forged_expired_and_follow_up_tokens_are_refused(
    database: Database, settings: Settings
) -> None:
    with database.write() as session:
        sale = sell(session)
    old = survey_token(sale["order_id"], secret=SECRET, issued=utcnow().date() - timedelta(31))
    cases = [
        (sale["token"][:-3] + "AAA", 404, "survey.invalid"),
        (survey_token(sale["order_id"], secret="another-secret"), 404, "survey.invalid"),
        (follow_up_token(sale["order_id"], secret=SECRET), 404, "survey.invalid"),
        (survey_token(2**31 - 1, secret=SECRET), 404, "survey.invalid"),  # no such order
        (old, 410, "survey.expired"),
    ]
    for token, status, code in cases:
        with pytest.raises(DomainError) as caught, database.write() as session:
            surveys.submit(session, token=token, data=SurveySubmit(satisfaction=3),
                           settings=settings, lang="zh_CN")  # fmt: skip
        assert (caught.value.status, caught.value.code) == (status, code), token
    assert _answers(database) == []


def _race(database: Database, settings: Settings, token: str) -> list[str]:
    """Two submits of the same survey started together: what each one got."""
    start, outcomes = threading.Barrier(2), []

    def answer(score: int) -> None:
        start.wait()
        try:
            with database.write() as session:
                surveys.submit(session, token=token, data=SurveySubmit(satisfaction=score),
                               settings=settings, lang="zh_CN")  # fmt: skip
            outcomes.append("created")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=answer, args=(s,)) for s in (3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_two_submits_at_once_give_one_answer_and_one_conflict(
    database: Database, settings: Settings
) -> None:
    with database.write() as session:
        sale = sell(session)
    assert _race(database, settings, sale["token"]) == ["created", "survey.answered"]
    assert len(_answers(database)) == 1


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_unique_order_decides_when_both_read_before_either_writes(
    database: Database, settings: Settings
) -> None:
    """The race the read-then-insert leaves open on PostgreSQL: the second INSERT waits for
    the first transaction and then fails on the unique order id, and gets a 409."""
    with database.write() as session:
        sale = sell(session)
    first = database.write()
    session = first.__enter__()
    # Answered in the first transaction, not committed yet.
    surveys.submit(session, token=sale["token"], data=SurveySubmit(satisfaction=5),
                   settings=settings, lang="zh_CN")  # fmt: skip
    second: list[str] = []

    def late() -> None:
        try:
            with database.write() as other:
                surveys.submit(other, token=sale["token"], data=SurveySubmit(satisfaction=1),
                               settings=settings, lang="zh_CN")  # fmt: skip
            second.append("created")
        except Conflict as exc:
            second.append(exc.code)

    thread = threading.Thread(target=late)
    thread.start()
    _wait_for_a_lock_wait(database)  # the late INSERT is blocked on the first one's row
    first.__exit__(None, None, None)  # commit
    thread.join()
    assert second == ["survey.answered"]
    [answer] = _answers(database)
    assert answer.satisfaction == 5 and _tickets(database) == 0


def _wait_for_a_lock_wait(database: Database) -> None:
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database()"
    )
    with database.engine.connect() as conn:
        while not conn.execute(query).scalar():
            conn.rollback()  # a fresh snapshot of the activity view each time
            time.sleep(0.01)  # polling, not timing: the test waits for the state, however long


# --- complaints from low scores ------------------------------------------------------------


def test_low_scores_open_a_complaint_of_the_right_kind(
    database: Database, settings: Settings
) -> None:
    pytest.importorskip("shouyin.service.tickets")
    cases = [
        (SurveySubmit(satisfaction=1, tags=["wrong_price", "long_queue"]), "price", "high",
         "价格标错、排队时间长"),
        (SurveySubmit(satisfaction=2, tags=["out_of_stock"], comment="没有货了"), "product",
         "normal", "没有货了"),
        (SurveySubmit(satisfaction=2, nps=0), "service", "normal", "顾客在问卷中没有留言。"),
    ]  # fmt: skip
    for data, category, priority, description in cases:
        with database.write() as session:
            sale = sell(session)
        with database.write() as session:
            result = surveys.submit(
                session, token=sale["token"], data=data, settings=settings, lang="en"
            )
        assert result.complaint is True
        with database.read() as session:
            answer_id = session.scalar(
                select(SurveyAnswer.id).where(SurveyAnswer.order_id == sale["order_id"])
            )
            ticket = session.scalars(
                select(Ticket).where(Ticket.survey_answer_id == answer_id)
            ).one()
        assert (ticket.category, ticket.priority, ticket.source, ticket.status) == (
            category, priority, "survey", "new",
        )  # fmt: skip
        assert ticket.title == f"问卷：满意度 {data.satisfaction}/5"
        assert ticket.description == description
        assert (ticket.store_id, ticket.member_id, ticket.order_id, ticket.opened_by) == (
            sale["store"].id, sale["member"].id, sale["order_id"], None,
        )  # fmt: skip


def test_no_complaint_above_the_threshold_or_when_switched_off(
    database: Database, tmp_path: Path
) -> None:
    for threshold, score in ((2, 3), (0, 1)):
        settings = make_settings("sqlite://", tmp_path, survey_complaint_at=threshold)
        with database.write() as session:
            sale = sell(session)
        with database.write() as session:
            result = surveys.submit(session, token=sale["token"],
                                    data=SurveySubmit(satisfaction=score), settings=settings,
                                    lang="zh_CN")  # fmt: skip
        assert result.complaint is False
    assert len(_answers(database)) == 2 and _tickets(database) == 0


def test_an_answer_is_not_kept_when_its_complaint_cannot_open(
    database: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = pytest.importorskip("shouyin.service.tickets")

    def broken(*_args: object, **_kwargs: object) -> None:
        raise DomainError("The store is closed for good.", code="store.gone", status=409)

    monkeypatch.setattr(tickets, "open_ticket", broken)
    with database.write() as session:
        sale = sell(session)
    with pytest.raises(DomainError), database.write() as session:
        surveys.submit(session, token=sale["token"], data=SurveySubmit(satisfaction=1),
                       settings=settings, lang="zh_CN")  # fmt: skip
    assert _answers(database) == [] and _tickets(database) == 0


def test_complaint_category_follows_the_negative_tags() -> None:
    assert surveys.complaint_category([]) == "service"
    assert surveys.complaint_category(["unfriendly_staff", "long_queue"]) == "service"
    assert surveys.complaint_category(["good_prices", "poor_quality"]) == "product"
    assert surveys.complaint_category(["wrong_price", "out_of_stock"]) == "product"
    # A positive tag about prices is praise, not a price complaint.
    assert surveys.complaint_category(["good_prices"]) == "service"


def test_every_tag_and_form_message_has_a_chinese_translation() -> None:
    # These texts reach gettext through variables, so the extraction test cannot see them.
    from shouyin.service.survey_schemas import TAGS
    from shouyin.shared import i18n

    texts = [tag.label for tag in TAGS.values()] + [
        "Please choose how satisfied you are (1 to 5 stars).",
        "Please keep your comment to 500 characters or fewer.",
        "Please check your answer.", "Please choose 1 to 5 stars.",
        "Survey: satisfaction {score}/5", "No comment was left with the survey.",
    ]  # fmt: skip
    untranslated = [t for t in texts if i18n.gettext("zh_CN", t) == t]
    assert untranslated == []
