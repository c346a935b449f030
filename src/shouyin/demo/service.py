"""Demo customer service: survey answers, complaint tickets with their timelines, and the
notices of the deadlines missed by the tickets still open.

About 3 % of the history's orders were answered (mostly 4-5 stars); every answer at or below
``survey_complaint_at`` opened a complaint, as the survey does, and the stores opened more at
the till and in the office: about two complaints per store and week. Each was worked by the
store's manager through the real flow (assign, start, a note, resolve with an outcome, close)
in opening hours, a few late, so the reports show breaches; the steps after ``now`` have not
happened yet, so the latest tickets are still open. A handful more are open today, one of
them past its response deadline and escalated as the SLA check does it. Rows go in as Core
executemany batches; everything follows from the seed (and ``now``).
"""

from __future__ import annotations

import random
import uuid
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, or_, select
from sqlalchemy.orm import Session

from shouyin.auth.models import User
from shouyin.auth.permissions import Role, permissions_for
from shouyin.config import Settings
from shouyin.demo.service_texts import COMMENTS, COMPLAINTS, NEUTRAL_COMMENTS
from shouyin.demo.service_timeline import (
    OPEN,
    DemoStore,
    Draft,
    finish,
    history,
    pick,
    so_far,
    write,
)
from shouyin.sales.models import Order
from shouyin.service import surveys
from shouyin.service.deadlines import deadlines_for
from shouyin.service.models import ClosedDay, SurveyAnswer
from shouyin.service.survey_schemas import TAGS, SurveySubmit
from shouyin.shared import i18n
from shouyin.shared.clock import as_utc
from shouyin.shared.types import table_of
from shouyin.stores.models import Store

Row = dict[str, Any]
ANSWER_SHARE = 0.03
TICKETS_PER_STORE_WEEK = 2
LATE_SHARE = 0.1  # of the steps that had a deadline
SATISFACTION = ((5, 540), (4, 310), (3, 115), (2, 25), (1, 10))  # stars, per mille
CATEGORIES = (("product", 35), ("service", 30), ("price", 15), ("environment", 12), ("other", 8))
PRIORITIES = (("urgent", 8), ("high", 27), ("normal", 65))
POSITIVE = tuple(code for code, tag in TAGS.items() if tag.positive)
NEGATIVE = tuple(code for code, tag in TAGS.items() if not tag.positive)
# Open today: (store index, priority, hours since opening, status). The first has waited a
# day for an answer and so missed its response deadline.
OPEN_TODAY = (
    (0, "urgent", 26.0, "new"),
    (0, "normal", 20.0, "in_progress"),
    (1, "normal", 0.7, "new"),
    (1, "high", 6.0, "in_progress"),
    (2, "high", 2.5, "assigned"),
)


@dataclass(frozen=True)
class ServiceSummary:
    answers: int
    tickets: int
    open_tickets: int
    events: int
    notices: int


@dataclass(frozen=True)
class DemoOrder:
    id: int
    store_id: int
    cashier_id: int | None
    member_id: int | None
    created_at: datetime


def load_service(
    session: Session, *, seed: int, first: date, last: date, now: datetime,
    settings: Settings | None = None,
) -> ServiceSummary:  # fmt: skip
    """Answers and complaints for the history ``first``..``last`` and for today (``now``)."""
    if settings is None:
        from shouyin.config import get_settings

        settings = get_settings()
    rng = random.Random(f"{seed}-service")
    stores = _stores(session)
    orders = _orders(session)
    answers = _answers(rng, orders, now)
    if answers:
        session.execute(insert(table_of(SurveyAnswer)), answers)
    drafts = _survey_drafts(session, settings, stores)
    drafts += _desk_drafts(rng, stores, orders, first, last, drafts)
    today = _today_drafts(rng, stores, now)
    finished = []
    for draft in sorted(drafts, key=lambda d: d.opened_at):
        if draft.opened_at <= now:
            deadlines = _deadlines(session, draft, settings)
            steps = history(rng, draft, settings)
            finished.append(finish(draft, steps, deadlines, now))
    for draft, status in today:
        deadlines = _deadlines(session, draft, settings)
        finished.append(finish(draft, so_far(rng, draft, status, now), deadlines, now))
    notices = write(session, finished)
    return ServiceSummary(
        answers=len(answers), tickets=len(finished),
        open_tickets=sum(1 for x in finished if x.row["status"] in OPEN),
        events=sum(len(x.steps) for x in finished), notices=notices,
    )  # fmt: skip


# --- who and what ---------------------------------------------------------------------------


def _stores(session: Session) -> list[DemoStore]:
    users = session.execute(
        select(User.id, User.display_name, User.role, User.store_id)
        .where(User.active.is_(True))
        .order_by(User.id)
    ).all()
    found = []
    for store in session.scalars(select(Store).where(Store.active.is_(True)).order_by(Store.code)):
        # The store's manager; else anyone of the store or HQ who handles complaints.
        handlers = sorted(
            (u for u in users if u.store_id in (None, store.id)
             and "complaints.handle" in permissions_for(u.role)),
            key=lambda u: (u.role != Role.STORE_MANAGER.value, u.store_id is None, u.id),
        )  # fmt: skip
        clerks = [u.id for u in users if u.store_id == store.id and u.role == Role.CASHIER.value]
        found.append(
            DemoStore(
                id=store.id, code=store.code, name=store.name, timezone=store.timezone,
                cutoff=store.day_cutoff_minutes, opens=store.opens_minutes,
                closes=store.closes_minutes,
                closed=_closed_days(session, store.id),
                handler=(handlers[0].id, handlers[0].display_name) if handlers else None,
                clerk=clerks[0] if clerks else (handlers[0].id if handlers else None),
            )
        )  # fmt: skip
    return found


def _closed_days(session: Session, store_id: int) -> frozenset[date]:
    query = select(ClosedDay.day).where(
        or_(ClosedDay.store_id == store_id, ClosedDay.store_id.is_(None))
    )
    return frozenset(session.scalars(query))


def _orders(session: Session) -> list[DemoOrder]:
    query = (
        select(Order.id, Order.store_id, Order.cashier_id, Order.member_id, Order.created_at)
        .where(Order.status == "completed")
        .order_by(Order.id)
    )
    return [DemoOrder(r[0], r[1], r[2], r[3], as_utc(r[4])) for r in session.execute(query)]


# --- survey answers -------------------------------------------------------------------------


def _answers(rng: random.Random, orders: list[DemoOrder], now: datetime) -> list[Row]:
    rows = []
    for order in orders:
        if rng.random() >= ANSWER_SHARE:
            continue
        delay = rng.choice((rng.uniform(5, 120), rng.uniform(120, 1440), rng.uniform(1440, 4320)))
        submitted = order.created_at + timedelta(minutes=delay)
        if submitted > now:
            continue
        stars: int = pick(rng, SATISFACTION)
        tags = _tags(rng, stars)
        rows.append(
            {"order_id": order.id, "store_id": order.store_id, "cashier_id": order.cashier_id,
             "member_id": order.member_id, "satisfaction": stars, "nps": _nps(rng, stars),
             "tags": tags, "comment": _comment(rng, stars, tags), "lang": "zh_CN",
             "submitted_at": submitted}
        )  # fmt: skip
    return rows


def _nps(rng: random.Random, stars: int) -> int | None:
    """Three in ten skip the question; the rest follow their stars, give or take."""
    if rng.random() < 0.3:
        return None
    centre = {5: 9.5, 4: 8.0, 3: 6.0, 2: 3.5, 1: 1.5}[stars]
    return max(0, min(10, round(rng.gauss(centre, 1.2))))


def _tags(rng: random.Random, stars: int) -> list[str]:
    if stars >= 4:
        pool, count = POSITIVE, rng.choice((0, 1, 1, 2, 2, 3))
    elif stars == 3:
        pool, count = rng.choice((POSITIVE, NEGATIVE)), rng.choice((0, 1))
    else:
        pool, count = NEGATIVE, rng.choice((1, 1, 2))
    return rng.sample(pool, k=count)


def _comment(rng: random.Random, stars: int, tags: list[str]) -> str | None:
    if rng.random() >= (0.75 if stars <= 2 else 0.3):
        return None
    if tags:
        return rng.choice(COMMENTS[rng.choice(tags)])
    return rng.choice(NEUTRAL_COMMENTS) if stars == 3 else None


# --- the tickets ----------------------------------------------------------------------------


def _survey_drafts(session: Session, settings: Settings, stores: list[DemoStore]) -> list[Draft]:
    """The complaint each low answer opened, as :func:`surveys.open_complaint` makes it."""
    by_id = {store.id: store for store in stores}
    lang = settings.default_language
    answers = session.execute(
        select(SurveyAnswer.id, SurveyAnswer.order_id, SurveyAnswer.store_id,
               SurveyAnswer.member_id, SurveyAnswer.satisfaction, SurveyAnswer.tags,
               SurveyAnswer.comment, SurveyAnswer.submitted_at)
        .order_by(SurveyAnswer.id)
    ).all()  # fmt: skip
    drafts = []
    for a in answers:
        if not surveys.wants_complaint(a.satisfaction, settings) or a.store_id not in by_id:
            continue
        answer = SurveySubmit(satisfaction=a.satisfaction, tags=a.tags, comment=a.comment)
        title = i18n.gettext(lang, "Survey: satisfaction {score}/5").format(score=a.satisfaction)
        drafts.append(
            Draft(store=by_id[a.store_id], opened_at=as_utc(a.submitted_at),
                  category=surveys.complaint_category(list(a.tags)),
                  priority="high" if a.satisfaction == 1 else "normal", source="survey",
                  title=title, description=surveys.complaint_text(answer, lang), opened_by=None,
                  member_id=a.member_id, order_id=a.order_id, survey_answer_id=a.id,
                  # The key the survey gives the complaint it opens, so a retry finds it.
                  client_uuid=str(uuid.uuid5(surveys._TICKET_NAMESPACE, str(a.id))))
        )  # fmt: skip
    return drafts


def _desk_drafts(
    rng: random.Random, stores: list[DemoStore], orders: list[DemoOrder], first: date,
    last: date, survey: list[Draft],
) -> list[Draft]:  # fmt: skip
    """Complaints made at the till or in the office, up to about two per store and week."""
    days = (last - first).days + 1
    drafts = []
    for store in stores:
        sold = sorted((o for o in orders if o.store_id == store.id), key=lambda o: o.created_at)
        times = [o.created_at for o in sold]
        wanted = round(TICKETS_PER_STORE_WEEK * days / 7 * rng.uniform(0.8, 1.2))
        from_survey = sum(1 for d in survey if d.store is store)
        for _ in range(max(2, wanted - from_survey)):
            day = first + timedelta(days=rng.randrange(days))
            draft = _desk_draft(rng, store, day)
            if rng.random() < 0.5:  # about an order bought a few hours before
                since = bisect_left(times, draft.opened_at - timedelta(hours=8))
                earlier = sold[since : bisect_left(times, draft.opened_at)]
                if earlier:
                    order = rng.choice(earlier)
                    draft.order_id, draft.member_id = order.id, order.member_id
            drafts.append(draft)
    # The reports show breaches: at least one late response and one late resolution.
    if drafts and not any(d.late_response for d in drafts):
        drafts[0].late_response = True
    if drafts and not any(d.late_resolution for d in drafts):
        drafts[-1].late_resolution = True
    return drafts


def _desk_draft(rng: random.Random, store: DemoStore, day: date) -> Draft:
    minute = rng.randrange(store.opens, max(store.opens + 1, store.closes - 30))
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(store.timezone))
    opened = as_utc(midnight + timedelta(minutes=minute))
    category: str = pick(rng, CATEGORIES)
    title, description = rng.choice(COMPLAINTS[category])
    source = rng.choice(("till", "till", "office"))
    return Draft(
        store=store, opened_at=opened, category=category, priority=pick(rng, PRIORITIES),
        source=source, title=title, description=description,
        opened_by=store.clerk if source == "till" else (store.handler or (None, ""))[0],
        client_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        late_response=rng.random() < LATE_SHARE, late_resolution=rng.random() < LATE_SHARE,
    )  # fmt: skip


def _today_drafts(
    rng: random.Random, stores: list[DemoStore], now: datetime
) -> list[tuple[Draft, str]]:
    """The complaints open now (:data:`OPEN_TODAY`)."""
    found = []
    for index, priority, hours, status in OPEN_TODAY:
        if index >= len(stores):
            continue
        store = stores[index]
        category: str = pick(rng, CATEGORIES)
        title, description = rng.choice(COMPLAINTS[category])
        draft = Draft(
            store=store, opened_at=as_utc(now) - timedelta(hours=hours), category=category,
            priority=priority, source="till", title=title, description=description,
            opened_by=store.clerk, client_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        )  # fmt: skip
        found.append((draft, status))
    return found


def _deadlines(session: Session, draft: Draft, settings: Settings) -> tuple[datetime, datetime]:
    return deadlines_for(session, store_id=draft.store.id, priority=draft.priority,
                         start=draft.opened_at, settings=settings)  # fmt: skip
