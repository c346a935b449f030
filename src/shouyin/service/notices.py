"""In-app notices (提醒) for a store's managers (store_id set) or for HQ (store_id None).

A notice keeps its text as an English message id with placeholders, so each reader sees it
in their own language. Store-bound users read their store's notices; HQ users read HQ's.
Who reads them: users who handle complaints (the notices are about tickets).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.errors import NotFound
from shouyin.service.models import Notice
from shouyin.shared import i18n

PERMISSION = "complaints.handle"


@dataclass(frozen=True)
class NoticeView:
    id: int
    store_id: int | None
    kind: str
    ticket_id: int | None
    text: str
    created_at: datetime
    read_at: datetime | None


def notify(
    session: Session, *, store_id: int | None, kind: str, ticket_id: int | None, message: str,
    params: dict[str, Any], at: datetime,
) -> None:  # fmt: skip
    session.add(
        Notice(store_id=store_id, kind=kind, ticket_id=ticket_id, message=message,
               params=params, created_at=at)
    )  # fmt: skip
    session.flush()


def _audience(actor: Principal) -> Any:
    """Store-bound users read their store's notices; HQ users HQ's."""
    if actor.store_id is not None:
        return Notice.store_id == actor.store_id
    return Notice.store_id.is_(None)


def unread_count(session: Session, *, actor: Principal) -> int:
    if not actor.can(PERMISSION):
        return 0
    query = select(func.count()).where(_audience(actor), Notice.read_at.is_(None))
    return int(session.scalar(query) or 0)


def list_notices(
    session: Session, *, actor: Principal, lang: str, unread_only: bool = False,
    limit: int = 50, offset: int = 0,
) -> tuple[list[NoticeView], int]:  # fmt: skip
    """Newest first, in the reader's language; and how many there are in all."""
    actor.require(PERMISSION)
    where = [_audience(actor)]
    if unread_only:
        where.append(Notice.read_at.is_(None))
    total = int(session.scalar(select(func.count()).where(*where)) or 0)
    query = select(Notice).where(*where).order_by(Notice.id.desc()).limit(limit).offset(offset)
    return [view_of(x, lang) for x in session.scalars(query)], total


def view_of(notice: Notice, lang: str) -> NoticeView:
    return NoticeView(
        id=notice.id, store_id=notice.store_id, kind=notice.kind, ticket_id=notice.ticket_id,
        text=i18n.translate_error(lang, notice.message, notice.params or {}),
        created_at=notice.created_at, read_at=notice.read_at,
    )  # fmt: skip


def mark_read(session: Session, *, actor: Principal, notice_id: int, at: datetime) -> Notice:
    actor.require(PERMISSION)
    notice = session.scalar(select(Notice).where(Notice.id == notice_id, _audience(actor)))
    if notice is None:
        raise NotFound("No such notice.", code="notice.not_found")
    if notice.read_at is None:
        notice.read_at, notice.read_by = at, actor.user_id
        session.flush()
    return notice


def mark_all_read(session: Session, *, actor: Principal, at: datetime) -> int:
    """Every unread notice of the reader's audience; how many were marked."""
    actor.require(PERMISSION)
    done = session.execute(
        update(Notice)
        .where(_audience(actor), Notice.read_at.is_(None))
        .values(read_at=at, read_by=actor.user_id)
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def exists_for(session: Session, *, kind: str, ticket_ids: list[int]) -> list[Notice]:
    """Notices of a kind about these tickets (the SLA check warns once per deadline)."""
    if not ticket_ids:
        return []
    query = select(Notice).where(Notice.kind == kind, Notice.ticket_id.in_(ticket_ids))
    return list(session.scalars(query))
