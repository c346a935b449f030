"""The demo complaints' timelines: how each ticket was worked, what stands at ``now``, and
writing the tickets, their events and the notices of open breaches.

A ticket's life is planned whole (opened, assigned, started, a note, resolved, closed,
sometimes reopened once, the member's follow-up answer), in the store's opening hours; the
steps after ``now`` have not happened yet, so the latest tickets are still open. A deadline
missed is escalated as the SLA check does it, a minute after it passed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from shouyin.config import Settings
from shouyin.demo.service_texts import HANDLER_NOTES, OUTCOMES, REOPEN_REASONS
from shouyin.service.business_hours import add_business_hours
from shouyin.service.deadlines import parse_deadlines
from shouyin.service.models import Notice, Ticket, TicketEvent
from shouyin.service.sla import BREACHED
from shouyin.shared.clock import as_utc, business_date, to_local
from shouyin.shared.types import table_of

Row = dict[str, Any]
OPEN = ("new", "assigned", "in_progress")


def pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


@dataclass(frozen=True)
class DemoStore:
    id: int
    code: str
    name: str
    timezone: str
    cutoff: int
    opens: int
    closes: int
    closed: frozenset[date]
    handler: tuple[int, str] | None  # who works the complaints: (user id, display name)
    clerk: int | None  # who opens them at the till

    def later(self, at: datetime, hours: float) -> datetime:
        """``hours`` of opening time after ``at``."""
        try:
            return add_business_hours(
                at, timedelta(hours=hours), timezone=self.timezone, opens=self.opens,
                closes=self.closes, closed=self.closed,
            )  # fmt: skip
        except ValueError:  # no opening hours left: around the clock
            return as_utc(at) + timedelta(hours=hours)


@dataclass
class Draft:
    """A ticket before its timeline: what it is about and who opened it."""

    store: DemoStore
    opened_at: datetime
    category: str
    priority: str
    source: str
    title: str
    description: str
    opened_by: int | None
    member_id: int | None = None
    order_id: int | None = None
    survey_answer_id: int | None = None
    client_uuid: str | None = None
    late_response: bool = False
    late_resolution: bool = False


@dataclass
class Step:
    at: datetime
    kind: str
    user_id: int | None
    from_status: str | None = None
    to_status: str | None = None
    comment: str | None = None
    data: dict[str, Any] | None = None
    resolve_by: datetime | None = None  # a reopen's new resolution deadline
    outcome: str | None = None  # a resolution's, kept on the ticket


@dataclass(frozen=True)
class Finished:
    """A ticket as it stands now: its row (without its number), timeline and notices."""

    draft: Draft
    row: Row
    steps: list[Step]
    marks: dict[str, datetime]  # breaches of an open ticket, to be noticed


# --- the timelines --------------------------------------------------------------------------


def history(rng: random.Random, draft: Draft, settings: Settings) -> list[Step]:
    """The whole life of a ticket, worked in opening hours: assigned, started, a note,
    resolved, closed (sometimes reopened once); the follow-up answer from some members."""
    store, opened = draft.store, draft.opened_at
    respond_hours, resolve_hours = parse_deadlines(settings.complaint_deadlines)[draft.priority]
    steps = [Step(opened, "opened", draft.opened_by, to_status="new",
                  data={"source": draft.source})]  # fmt: skip
    if store.handler is None:
        return steps
    share = rng.uniform(1.15, 2.0) if draft.late_response else rng.uniform(0.05, 0.8)
    steps += _work(rng, draft, store.later(opened, share * respond_hours))
    share = rng.uniform(1.1, 1.5) if draft.late_resolution else rng.uniform(0.15, 0.85)
    steps += _resolve(rng, draft, max(store.later(opened, share * resolve_hours),
                                      store.later(steps[-1].at, 0.5)))  # fmt: skip
    if rng.random() < 0.05:
        calendar = settings.complaint_hours == "calendar"
        steps += _reopen(rng, draft, steps[-1].at, resolve_hours, calendar)
    closing = store.later(steps[-1].at, rng.uniform(2, 30))
    steps.append(Step(closing, "status", store.handler[0], "resolved", "closed"))
    if draft.member_id is not None and rng.random() < 0.4:
        score: int = pick(rng, ((5, 40), (4, 30), (3, 15), (2, 10), (1, 5)))
        answered = steps[-2].at + timedelta(hours=rng.uniform(1, 30))
        steps.append(Step(answered, "follow_up", None, data={"score": score}))
    return steps


def _work(rng: random.Random, draft: Draft, at: datetime) -> list[Step]:
    """The manager takes the ticket, starts on it and writes a note."""
    store = draft.store
    assert store.handler is not None
    user, name = store.handler
    started = store.later(at, rng.uniform(0.1, 1.5))
    noted = store.later(started, rng.uniform(0.2, 3))
    return [
        Step(at, "assigned", user, "new", "assigned",
             data={"assignee_id": user, "assignee_name": name, "previous_id": None}),
        Step(started, "status", user, "assigned", "in_progress"),
        Step(noted, "comment", user, comment=rng.choice(HANDLER_NOTES)),
    ]  # fmt: skip


def _resolve(rng: random.Random, draft: Draft, at: datetime) -> list[Step]:
    assert draft.store.handler is not None
    outcome = rng.choice(OUTCOMES[draft.category])
    return [Step(at, "status", draft.store.handler[0], "in_progress", "resolved",
                 outcome=outcome)]  # fmt: skip


def _reopen(
    rng: random.Random, draft: Draft, resolved: datetime, hours: int, calendar: bool
) -> list[Step]:
    """The customer was not satisfied: reopened, worked again and resolved again in time;
    the resolution deadline counts again from the reopen."""
    store = draft.store
    assert store.handler is not None
    user = store.handler[0]
    at = store.later(resolved, rng.uniform(1, 20))
    deadline = (lambda t, h: as_utc(t) + timedelta(hours=h)) if calendar else store.later
    again = store.later(at, rng.uniform(0.5, 2))
    return [
        Step(at, "status", user, "resolved", "assigned", comment=rng.choice(REOPEN_REASONS),
             data={"action": "reopen"}, resolve_by=deadline(at, hours)),
        Step(again, "status", user, "assigned", "in_progress"),
        *_resolve(rng, draft, store.later(again, rng.uniform(0.1, 0.5) * hours)),
    ]  # fmt: skip


def so_far(rng: random.Random, draft: Draft, status: str, now: datetime) -> list[Step]:
    """A ticket open now, worked up to ``status``."""
    opened = draft.opened_at
    steps = [Step(opened, "opened", draft.opened_by, to_status="new",
                  data={"source": draft.source})]  # fmt: skip
    if status == "new" or draft.store.handler is None:
        return steps
    span = as_utc(now) - opened
    worked = _work(rng, draft, opened + span * 0.15)
    worked[1].at, worked[2].at = opened + span * 0.35, opened + span * 0.6
    return steps + (worked[:1] if status == "assigned" else worked)


def finish(
    draft: Draft, steps: list[Step], deadlines: tuple[datetime, datetime], now: datetime
) -> Finished:
    """The ticket as it stands at ``now``: the steps up to then, and the breaches the SLA
    check would have escalated (a minute after the deadline)."""
    kept = [s for s in steps if s.at <= now]
    status = [s.to_status for s in kept if s.to_status][-1]
    staff = [s for s in kept[1:] if s.user_id is not None]
    resolved = [s for s in kept if s.to_status == "resolved"]
    closed = [s for s in kept if s.to_status == "closed"]
    reopens = [s.resolve_by for s in kept if s.resolve_by is not None]
    assigned = [s for s in kept if s.kind == "assigned"]
    follow_up = [s for s in kept if s.kind == "follow_up"]
    updated = max(s.at for s in kept if s.kind in ("opened", "assigned", "status", "comment"))
    first_response = staff[0].at if staff else None
    marks = _breaches(kept, deadlines, first_response, now)
    row = {
        "client_uuid": draft.client_uuid, "store_id": draft.store.id,
        "category": draft.category, "priority": draft.priority, "status": status,
        "source": draft.source, "title": draft.title, "description": draft.description,
        "member_id": draft.member_id, "order_id": draft.order_id,
        "survey_answer_id": draft.survey_answer_id,
        "assignee_id": assigned[-1].user_id if assigned else None,
        "opened_by": draft.opened_by, "opened_at": draft.opened_at,
        "respond_by": deadlines[0], "resolve_by": reopens[-1] if reopens else deadlines[1],
        "first_response_at": first_response,
        "resolved_at": resolved[-1].at if status in ("resolved", "closed") else None,
        "closed_at": closed[-1].at if status == "closed" else None,
        "response_breached_at": marks.get("response"),
        "resolution_breached_at": marks.get("resolution"),
        "reopened": len(reopens), "outcome": resolved[-1].outcome if resolved else None,
        "follow_up_score": (follow_up[0].data or {}).get("score") if follow_up else None,
        "follow_up_at": follow_up[0].at if follow_up else None, "updated_at": updated,
    }  # fmt: skip
    kept.sort(key=lambda s: s.at)
    return Finished(draft=draft, row=row, steps=kept, marks=marks if status in OPEN else {})


def _breaches(
    kept: list[Step],
    deadlines: tuple[datetime, datetime],
    first_response: datetime | None,
    now: datetime,
) -> dict[str, datetime]:
    """Escalate each missed deadline, adding the "escalated" steps to ``kept``; returns the
    breach marks that stand now (a reopen clears the resolution's and sets a new deadline)."""
    windows: list[tuple[str, datetime, datetime | None]] = [
        ("response", deadlines[0], first_response)
    ]
    due: datetime | None = deadlines[1]
    for step in list(kept):
        if step.to_status == "resolved" and due is not None:
            windows.append(("resolution", due, step.at))
            due = None
        elif step.resolve_by is not None:
            due = step.resolve_by
    if due is not None:
        windows.append(("resolution", due, None))
    marks: dict[str, datetime] = {}
    for deadline, due_at, done in windows:
        mark = min(due_at + timedelta(minutes=1), now)
        if due_at >= now or (done is not None and done <= mark):
            marks.pop(deadline, None)
            continue
        kept.append(Step(mark, "escalated", None,
                         data={"deadline": deadline, "due": due_at.isoformat()}))  # fmt: skip
        marks[deadline] = mark
    return marks


# --- writing --------------------------------------------------------------------------------


def write(session: Session, finished: list[Finished]) -> int:
    """Numbers of the store's business day in the order the tickets opened; then the rows,
    timelines and notices in one batch each. Returns the notices written."""
    finished = sorted(finished, key=lambda x: x.row["opened_at"])
    counts: dict[str, int] = {}
    for item in finished:
        store = item.draft.store
        day = business_date(item.row["opened_at"], store.timezone, store.cutoff)
        stem = f"TK-{store.code}-{day:%Y%m%d}-"
        counts[stem] = counts.get(stem, 0) + 1
        item.row["number"] = f"{stem}{counts[stem]:03d}"
    if not finished:
        return 0
    session.execute(insert(table_of(Ticket)), [item.row for item in finished])
    ids = dict(session.execute(select(Ticket.number, Ticket.id)).all())
    events, notices = [], []
    for item in finished:
        ticket_id = ids[item.row["number"]]
        events += [
            {"ticket_id": ticket_id, "at": s.at, "user_id": s.user_id, "kind": s.kind,
             "from_status": s.from_status, "to_status": s.to_status, "comment": s.comment,
             "data": s.data}
            for s in item.steps
        ]  # fmt: skip
        notices += _notices(item, ticket_id)
    session.execute(insert(table_of(TicketEvent)), events)
    if notices:
        session.execute(insert(table_of(Notice)), notices)
    return len(notices)


def _notices(item: Finished, ticket_id: int) -> list[Row]:
    """What the SLA check tells the store's managers and HQ of a breach (unread)."""
    store = item.draft.store
    rows = []
    for deadline, mark in item.marks.items():
        due = item.row["respond_by" if deadline == "response" else "resolve_by"]
        params = {"number": item.row["number"], "store": f"{store.code} {store.name}",
                  "due": to_local(due, store.timezone).strftime("%Y-%m-%d %H:%M")}  # fmt: skip
        rows += [
            {"store_id": audience, "kind": f"sla.{deadline}_breached", "ticket_id": ticket_id,
             "message": BREACHED[deadline], "params": params, "created_at": mark,
             "read_at": None, "read_by": None}
            for audience in (store.id, None)
        ]  # fmt: skip
    return rows
