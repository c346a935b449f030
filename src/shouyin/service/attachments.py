"""Images on a complaint ticket (a photo of the damaged product, the receipt, ...).

The type is read from the file's first bytes (JPEG, PNG or WebP), never from its name or
the browser's claim: a text file called photo.png is refused. At most 5 MB per image and 10
images per ticket. Images are kept in the database so backups and store nodes carry them.

Who: complaint handlers of the ticket's store (or HQ) upload and download; the person who
opened the ticket may add images while it is still new (a cashier's photo at the till).
Downloads go out with the stored type, ``inline`` with a safe file name, and ``nosniff``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.errors import Conflict, DomainError, NotFound, ValidationFailed
from shouyin.service.models import TicketAttachment
from shouyin.service.ticket_schemas import AttachmentPublic
from shouyin.service.ticket_views import HANDLE, attachments_of, load
from shouyin.service.tickets import add_event
from shouyin.shared import clock

MAX_BYTES = 5 * 1024 * 1024
MAX_PER_TICKET = 10
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass(frozen=True)
class Download:
    content_type: str
    filename: str  # safe for a Content-Disposition header
    data: bytes


def sniff(data: bytes) -> str | None:
    """The image type from the magic bytes, or None when it is not a JPEG, PNG or WebP."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def safe_filename(name: str | None, content_type: str, attachment_id: int | None = None) -> str:
    """ASCII letters, digits, dot, dash and underscore only, with the extension of the real
    type; a name with nothing left becomes image-<id>."""
    stem = (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_.")[:60]
    if not stem:
        stem = f"image-{attachment_id}" if attachment_id else "image"
    return f"{stem}.{EXTENSIONS[content_type]}"


def _may_upload(actor: Principal, opened_by: int | None, status: str) -> None:
    if actor.can(HANDLE):
        return
    if actor.can("complaints.open") and opened_by == actor.user_id and status == "new":
        return
    actor.require(HANDLE)


def upload(
    session: Session, *, ticket_id: int, filename: str | None, data: bytes, actor: Principal
) -> AttachmentPublic:
    """Add one image to the ticket."""
    ticket = load(session, ticket_id, for_update=True)
    actor.require_store(ticket.store_id)
    _may_upload(actor, ticket.opened_by, ticket.status)
    if len(data) > MAX_BYTES:
        raise DomainError(
            "The image is too large: at most 5 MB.", code="ticket.attachment_too_large",
            status=413, details={"limit": MAX_BYTES},
        )  # fmt: skip
    content_type = sniff(data)
    if content_type is None:
        raise ValidationFailed(
            "Only JPEG, PNG or WebP images can be attached.", code="ticket.attachment_type"
        )
    count = session.scalar(
        select(func.count()).where(TicketAttachment.ticket_id == ticket.id)
    )  # the ticket row is locked: two uploads at once cannot both be the tenth
    if int(count or 0) >= MAX_PER_TICKET:
        raise Conflict(
            "A ticket holds at most {limit} images.", code="ticket.attachment_limit",
            details={"limit": MAX_PER_TICKET},
        )  # fmt: skip
    at = clock.utcnow()
    row = TicketAttachment(
        ticket_id=ticket.id, filename=safe_filename(filename, content_type),
        content_type=content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        data=data, uploaded_by=actor.user_id, uploaded_at=at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    add_event(
        session, ticket_id=ticket.id, kind="attachment", user_id=actor.user_id, at=at,
        data={"attachment_id": row.id, "filename": row.filename, "size": row.size},
    )  # fmt: skip
    ticket.updated_at = at
    session.flush()
    return next(x for x in attachments_of(session, ticket.id) if x.id == row.id)


def download(session: Session, *, ticket_id: int, attachment_id: int, actor: Principal) -> Download:
    actor.require(HANDLE)
    ticket = load(session, ticket_id)
    actor.require_store(ticket.store_id)
    row = session.scalars(
        select(TicketAttachment).where(
            TicketAttachment.id == attachment_id, TicketAttachment.ticket_id == ticket.id
        )
    ).first()
    if row is None:
        raise NotFound("No such attachment.", code="ticket.attachment_not_found")
    name = safe_filename(row.filename, row.content_type, row.id)
    return Download(content_type=row.content_type, filename=name, data=row.data)
