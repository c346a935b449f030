"""The SLA check (超时升级): complaint deadlines about to pass or passed.

:func:`due` finds the open tickets whose first response (status new, not answered) or
resolution (not resolved or closed) is due within the warning time or overdue: two index
range queries over (status, deadline), never arithmetic over every ticket.

:func:`check` escalates each breach once: a conditional UPDATE sets the breach time only
while it is unset, so of two checks at once (two servers, the scheduler and the command) one
escalates. An escalation adds an "escalated" event to the ticket's timeline, a notice to the
store's managers and to HQ, the configured compensation (once per ticket and deadline, see
TicketCompensation), and a line in an email to ``complaint_alert_to``, sent by :func:`run`
after the commit. Tickets about to breach get a warning notice, once per deadline.

The server runs :func:`run` every minute (:func:`schedule`); ``shouyin service check-sla``
runs it by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shouyin.config import Settings
from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.service import compensation, notices, tickets
from shouyin.service.deadlines import parse_compensation
from shouyin.service.models import Ticket
from shouyin.shared.clock import as_utc, to_local, utcnow
from shouyin.stores.models import Store

log = logging.getLogger(__name__)
EVERY_SECONDS = 60.0
OPEN = ("new", "assigned", "in_progress")
Deadline = Literal["response", "resolution"]


def _(text: str) -> str:
    """Marks a notice text for translation: it is stored as is and shown translated."""
    return text


BREACHED = {
    "response": _("Complaint {number} ({store}) missed its response deadline of {due}."),
    "resolution": _("Complaint {number} ({store}) missed its resolution deadline of {due}."),
}
DUE_SOON = {
    "response": _("Complaint {number} must be answered by {due}."),
    "resolution": _("Complaint {number} must be resolved by {due}."),
}


@dataclass(frozen=True)
class DueTicket:
    ticket_id: int
    number: str
    store_id: int
    priority: str
    status: str
    deadline: Deadline
    due_at: datetime
    breached: bool  # the deadline has passed
    escalated: bool  # and the breach was escalated already


@dataclass(frozen=True)
class Escalation:
    ticket_id: int
    number: str
    store: str
    deadline: Deadline
    due: str  # local time of the store
    compensated: bool


@dataclass
class SlaResult:
    due: int = 0
    escalated: list[Escalation] = field(default_factory=list)
    warned: int = 0
    emailed: int = 0

    @property
    def compensated(self) -> int:
        return sum(1 for x in self.escalated if x.compensated)


def due(
    session: Session, *, now: datetime, warn_minutes: int, store_id: int | None = None
) -> list[DueTicket]:
    """Open tickets whose response or resolution deadline is within ``warn_minutes`` or past,
    by ticket and deadline."""
    now = as_utc(now)
    horizon = now + timedelta(minutes=warn_minutes)
    columns = (Ticket.id, Ticket.number, Ticket.store_id, Ticket.priority, Ticket.status)
    respond = select(*columns, Ticket.respond_by, Ticket.response_breached_at).where(
        Ticket.status == "new", Ticket.respond_by <= horizon, Ticket.first_response_at.is_(None)
    )
    resolve = select(*columns, Ticket.resolve_by, Ticket.resolution_breached_at).where(
        Ticket.status.in_(OPEN), Ticket.resolve_by <= horizon
    )
    if store_id is not None:
        respond = respond.where(Ticket.store_id == store_id)
        resolve = resolve.where(Ticket.store_id == store_id)
    found: list[DueTicket] = []
    for deadline, query in (("response", respond), ("resolution", resolve)):
        for row in session.execute(query):
            at = as_utc(row[5])
            found.append(
                DueTicket(ticket_id=row[0], number=row[1], store_id=row[2], priority=row[3],
                          status=row[4], deadline=deadline,  # type: ignore[arg-type]
                          due_at=at, breached=at <= now, escalated=row[6] is not None)
            )  # fmt: skip
    found.sort(key=lambda x: (x.ticket_id, x.deadline != "response"))
    return found


def check(session: Session, *, now: datetime, settings: Settings) -> SlaResult:
    """Escalate new breaches once and warn of deadlines close ahead. The caller commits, then
    emails (:func:`run`)."""
    now = as_utc(now)
    rows = due(session, now=now, warn_minutes=settings.complaint_warn_minutes)
    result = SlaResult(due=len(rows))
    places = _stores(session, {x.store_id for x in rows})
    for row in rows:
        if row.breached and not row.escalated and _claim(session, row, now):
            result.escalated.append(_escalate(session, row, places[row.store_id], now, settings))
    soon = [x for x in rows if not x.breached]
    result.warned = _warn(session, soon, places, now)
    return result


def _stores(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    """Store id -> (label, time zone)."""
    if not ids:
        return {}
    query = select(Store.id, Store.code, Store.name, Store.timezone).where(Store.id.in_(ids))
    return {row[0]: (f"{row[1]} {row[2]}", row[3]) for row in session.execute(query)}


def _claim(session: Session, row: DueTicket, now: datetime) -> bool:
    """Mark the breach if nobody has (and the ticket is still late): True when this check
    did, so it escalates."""
    if row.deadline == "response":
        mark, late = Ticket.response_breached_at, Ticket.status == "new"
        late = late & (Ticket.respond_by <= now) & Ticket.first_response_at.is_(None)
    else:
        mark, late = Ticket.resolution_breached_at, Ticket.status.in_(OPEN)
        late = late & (Ticket.resolve_by <= now)
    done = session.execute(
        update(Ticket).where(Ticket.id == row.ticket_id, mark.is_(None), late)
        .values({mark: now}).execution_options(synchronize_session=False)
    )  # fmt: skip
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def _local(moment: datetime, timezone: str) -> str:
    return to_local(moment, timezone).strftime("%Y-%m-%d %H:%M")


def _escalate(
    session: Session, row: DueTicket, place: tuple[str, str], now: datetime, settings: Settings
) -> Escalation:
    store, timezone = place
    due_text = _local(row.due_at, timezone)
    _event(session, row, now)
    params = {"number": row.number, "store": store, "due": due_text}
    for audience in (row.store_id, None):
        notices.notify(
            session, store_id=audience, kind=f"sla.{row.deadline}_breached",
            ticket_id=row.ticket_id, message=BREACHED[row.deadline], params=params, at=now,
        )  # fmt: skip
    compensated = _compensate(session, row, now, settings)
    return Escalation(ticket_id=row.ticket_id, number=row.number, store=store,
                      deadline=row.deadline, due=due_text, compensated=compensated)  # fmt: skip


def _event(session: Session, row: DueTicket, now: datetime) -> None:
    tickets.add_event(
        session, ticket_id=row.ticket_id, kind="escalated", user_id=None, at=now,
        data={"deadline": row.deadline, "due": row.due_at.isoformat()},
    )  # fmt: skip


def _compensate(session: Session, row: DueTicket, now: datetime, settings: Settings) -> bool:
    """The configured compensation for the breach; a failure (a coupon template gone, say) is
    logged and does not hold up the escalation."""
    wanted = parse_compensation(settings.complaint_breach_compensation)
    if wanted is None:
        return False
    kind, value = wanted
    try:
        with session.begin_nested():
            granted = compensation.grant(
                session, ticket_id=row.ticket_id, kind=kind, reason=f"breach_{row.deadline}",
                actor=None, at=now, points=value if kind == "points" else None,
                coupon_template_id=value if kind == "coupon" else None,
            )  # fmt: skip
    except DomainError:
        log.exception("compensation for complaint %s failed", row.number)
        return False
    return granted is not None


def _warn(
    session: Session, rows: list[DueTicket], places: dict[int, tuple[str, str]], now: datetime
) -> int:
    """A notice to the store for each deadline close ahead, once per ticket and deadline."""
    if not rows:
        return 0
    ids = sorted({x.ticket_id for x in rows})
    # Two checks at once: the second waits here and then sees the first one's notices.
    session.execute(select(Ticket.id).where(Ticket.id.in_(ids)).with_for_update())
    sent = 0
    for deadline in ("response", "resolution"):
        kind = f"sla.{deadline}_due"
        told = {(x.ticket_id, (x.params or {}).get("due_at")) for x in
                notices.exists_for(session, kind=kind, ticket_ids=ids)}  # fmt: skip
        for row in (x for x in rows if x.deadline == deadline):
            if (row.ticket_id, row.due_at.isoformat()) in told:
                continue
            due_text = _local(row.due_at, places[row.store_id][1])
            notices.notify(
                session, store_id=row.store_id, kind=kind, ticket_id=row.ticket_id,
                message=DUE_SOON[deadline], at=now,
                params={"number": row.number, "due": due_text, "due_at": row.due_at.isoformat()},
            )  # fmt: skip
            sent += 1
    return sent


def run(db: Database, settings: Settings, *, now: datetime | None = None) -> SlaResult:
    """Check in one write, then email the escalations (outside the transaction)."""
    from shouyin.service.sla_mail import email_escalations

    moment = as_utc(now) if now is not None else utcnow()
    with db.write() as session:
        result = check(session, now=moment, settings=settings)
    result.emailed = email_escalations(settings, result.escalated)
    return result


def schedule(scheduler: Any, db: Database, settings: Settings) -> None:
    """Run the check in the server's scheduler (loyalty/jobs.py): soon after start, then
    every minute."""
    from apscheduler.triggers.interval import IntervalTrigger

    scheduler.add_job(
        run_check, IntervalTrigger(seconds=EVERY_SECONDS), args=(db, settings),
        id="sla-check", next_run_time=datetime.now(UTC) + timedelta(seconds=20),
        coalesce=True, max_instances=1, replace_existing=True,
    )  # fmt: skip


def run_check(db: Database, settings: Settings) -> None:
    try:
        done = run(db, settings)
        if done.escalated or done.warned:
            log.info(
                "SLA check: %d escalated, %d warned, %d emailed",
                len(done.escalated), done.warned, done.emailed,
            )  # fmt: skip
    except Exception:
        log.exception("SLA check failed")
