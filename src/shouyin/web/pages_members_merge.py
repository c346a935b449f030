"""Back office: likely duplicates, merging two records of one person, and erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.customers import duplicates, privacy, rules
from shouyin.customers import service as members
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.models import Member
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, NotFound, ValidationFailed
from shouyin.sales.models import Order
from shouyin.web.office_common import (
    error_of,
    parse_id,
)
from shouyin.web.pages_members import (
    REASON_LABELS,
    MemberEraser,
    MemberId,
    MemberMerger,
    member_cipher,
    render_member_page,
)
from shouyin.web.templating import render

pages = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class DuplicateRow:
    id: int
    name: str
    mobile_masked: str | None
    card_no: str
    created_at: datetime
    orders: int


@dataclass(frozen=True)
class DuplicateView:
    reason: str
    members: list[DuplicateRow]


def duplicate_views(session: Session, cipher: FieldCipher) -> list[DuplicateView]:
    """The duplicates report with what a manager needs to pick the survivor."""
    groups = duplicates.find_duplicates(session, cipher=cipher)
    ids = {member_id for group in groups for member_id in group.member_ids}
    if not ids:
        return []
    found = {m.id: m for m in session.scalars(select(Member).where(Member.id.in_(ids)))}
    counts: dict[int, int] = {
        member_id: count
        for member_id, count in session.execute(
            select(Order.member_id, func.count())
            .where(Order.member_id.in_(ids))
            .group_by(Order.member_id)
        )
        if member_id is not None
    }
    views: list[DuplicateView] = []
    for group in groups:
        rows = []
        for member_id in group.member_ids:
            member = found.get(member_id)
            if member is None:
                continue
            s = members.summary(member, cipher)
            orders = counts.get(member_id, 0)
            row = DuplicateRow(s.id, s.name, s.mobile_masked, s.card_no, member.created_at, orders)
            rows.append(row)
        if len(rows) > 1:
            views.append(DuplicateView(group.reason, rows))
    return views


def _duplicates_page(
    request: Request, db: Session, *, error: dict[str, Any] | None = None, status: int = 200
) -> Response:
    context = {
        "groups": duplicate_views(db, member_cipher(request)), "reason_labels": REASON_LABELS,
        "error": error,
    }  # fmt: skip
    return render(request, "members/duplicates.html", context, status_code=status)


@pages.get("/office/members/duplicates")
def duplicates_page(request: Request, principal: MemberMerger, db: ReadDb) -> Response:
    return _duplicates_page(request, db)


@pages.post("/office/members/duplicates/merge")
def duplicates_merge_submit(
    request: Request,
    principal: MemberMerger,
    db: WriteDb,
    survivor_id: Annotated[str, Form(max_length=12)] = "",
    duplicate_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    survivor, duplicate = parse_id(survivor_id), parse_id(duplicate_id)
    try:
        if survivor is None or duplicate is None:
            raise NotFound("No such member.", code="member.not_found")
        duplicates.merge(db, survivor_id=survivor, duplicate_id=duplicate, actor=principal)
    except DomainError as exc:
        db.rollback()
        return _duplicates_page(request, db, error=error_of(request, exc), status=exc.status)
    return RedirectResponse(f"/office/members/{survivor}?merged=1", status_code=303)


# --- the profile and its edit form ----------------------------------------------------------


def _other_member(db: Session, cipher: FieldCipher, text: str) -> int:
    """The one member a card number or full mobile stands for; never a name or last 4 digits,
    which could pick the wrong person."""
    if rules.lookup_kind(text) not in ("card", "mobile"):
        raise ValidationFailed(
            "Enter the card number or mobile of the member to merge.", code="member.merge_query"
        )
    found = members.lookup(db, query=text, cipher=cipher, limit=2)
    if not found:
        raise NotFound("No member has this card number or mobile.", code="member.not_found")
    if len(found) > 1:
        raise ValidationFailed(
            "Several members match: enter the full mobile or the card number.",
            code="member.merge_ambiguous",
        )
    return found[0].id


@pages.post("/office/members/{member_id}/merge")
def merge_into_submit(
    request: Request,
    principal: MemberMerger,
    db: WriteDb,
    member_id: MemberId,
    other: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    members.get_member(db, member_id=member_id)
    text = other.strip()
    try:
        duplicate_id = _other_member(db, member_cipher(request), text)
        duplicates.merge(db, survivor_id=member_id, duplicate_id=duplicate_id, actor=principal)
    except DomainError as exc:
        db.rollback()
        return render_member_page(
            request, db, principal, member_id, error=error_of(request, exc), status=exc.status,
            merge_query=text,
        )  # fmt: skip
    return RedirectResponse(f"/office/members/{member_id}?merged=1", status_code=303)


@pages.post("/office/members/{member_id}/erase")
def erase_submit(
    request: Request,
    principal: MemberEraser,
    db: WriteDb,
    member_id: MemberId,
    confirm: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    members.get_member(db, member_id=member_id)
    try:
        if not confirm:
            raise ValidationFailed(
                "Tick the box to confirm the erasure.", code="member.erase_unconfirmed"
            )
        privacy.erase(db, member_id=member_id, actor=principal, cipher=member_cipher(request))
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return render_member_page(request, db, principal, member_id, error=error, status=exc.status)
    return RedirectResponse("/office/members?erased=1", status_code=303)


router = pages
