"""Append to and verify the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.audit.chain import GENESIS, canonical, entry_hash
from shouyin.audit.models import AuditEntry, AuditHead
from shouyin.auth.principal import Principal
from shouyin.shared.clock import as_utc, utcnow

HASHED_FIELDS = (
    "at", "actor_id", "actor", "store_id", "ip", "action", "entity", "entity_id", "before", "after",
)  # fmt: skip


def _fields(entry: AuditEntry) -> dict[str, Any]:
    values = {name: getattr(entry, name) for name in HASHED_FIELDS}
    values["at"] = as_utc(entry.at)
    return values


def _locked_head(session: Session) -> AuditHead:
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, last_id=0, last_hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def record(
    session: Session,
    *,
    actor: Principal | None,
    action: str,
    entity: str | None = None,
    entity_id: object = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    store_id: int | None = None,
    actor_name: str | None = None,
    ip: str | None = None,
) -> AuditEntry:
    head = _locked_head(session)
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.user_id if actor else None,
        actor=actor.username if actor else (actor_name or "system"),
        store_id=store_id if store_id is not None else (actor.store_id if actor else None),
        ip=ip or (actor.ip if actor else None),
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        before=canonical(before) if before is not None else None,
        after=canonical(after) if after is not None else None,
        prev_hash=head.last_hash,
    )
    entry.hash = entry_hash(head.last_hash, _fields(entry))
    session.add(entry)
    session.flush()
    head.last_id = entry.id
    head.last_hash = entry.hash
    session.flush()
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    problem: str | None = None
    entry_id: int | None = None


def _entries(session: Session, batch: int = 2000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def verify(session: Session) -> Verification:
    prev, checked, last_id = GENESIS, 0, 0
    for entry in _entries(session):
        if entry.prev_hash != prev:
            return Verification(False, checked, "a row before this one was deleted", entry.id)
        if entry_hash(prev, _fields(entry)) != entry.hash:
            return Verification(False, checked, "this row was edited", entry.id)
        prev, last_id, checked = entry.hash, entry.id, checked + 1
    head = session.get(AuditHead, 1)
    head_hash, head_id = (head.last_hash, head.last_id) if head else (GENESIS, 0)
    if head_hash != prev or head_id != last_id:
        return Verification(False, checked, "the newest rows were deleted", last_id or None)
    return Verification(True, checked)


def count(session: Session, *, action: str | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    return session.scalar(query) or 0


def list_entries(
    session: Session, *, limit: int, offset: int, action: str | None = None
) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))
