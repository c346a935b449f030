"""Coupons (优惠券): issuing (by hand, in bulk, by rule), codes, reading and voiding.

A coupon carries its code, owner, status and validity window; its terms (kind, value,
minimum spend, scope) stay on the template (see :mod:`shouyin.loyalty.coupon_templates`),
so those terms are frozen once a coupon of the template exists. Redemption belongs to
checkout: it flips ``status`` from issued to redeemed with one conditional UPDATE, and
:func:`void` uses the same condition, so a coupon can never be both voided and redeemed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.customers.crypto import FieldCipher
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.loyalty.coupon_schemas import CouponPublic, IssueResult, MemberFilters
from shouyin.loyalty.coupon_templates import get_template
from shouyin.loyalty.models import Coupon, CouponTemplate, MemberAccount, Tier
from shouyin.shared.clock import as_utc
from shouyin.shared.types import table_of

# Crockford's base32: no I, L, O or U, so a code read aloud or typed cannot be misread.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PREFIX = "CP"
CODE_LENGTH = 10
EVENTS = ("registration", "tier_upgrade")
BATCH = 1000  # members per bulk round: one limit query and one multi-row insert each
_coupons = table_of(Coupon)


def new_code() -> str:
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def clean_code(text: str) -> str:
    """A code as scanned or typed: case, spaces and dashes do not matter."""
    return text.strip().upper().replace(" ", "").replace("-", "")


# --- issuing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One issuing run of a template: what every coupon made in it shares."""

    template: CouponTemplate
    count: int
    valid_from: datetime
    valid_to: datetime
    source: str
    user_id: int | None
    at: datetime


def _window(template: CouponTemplate, at: datetime) -> tuple[datetime, datetime]:
    if template.valid_days is not None:
        return at, at + timedelta(days=template.valid_days)
    assert template.valid_from is not None and template.valid_to is not None
    start, end = max(at, as_utc(template.valid_from)), as_utc(template.valid_to)
    if end <= at:
        raise Conflict(
            "The coupon template's validity window has ended.", code="coupon.template_expired"
        )
    return start, end


def _start_run(
    session: Session, template_id: int, count: int, source: str, user_id: int | None, at: datetime
) -> Run:
    # The row lock serialises issuing runs of one template on PostgreSQL, so two runs cannot
    # both see a member under the per-member limit (SQLite has one writer anyway).
    query = select(CouponTemplate).where(CouponTemplate.id == template_id).with_for_update()
    template = session.scalars(query).first()
    if template is None:
        get_template(session, template_id=template_id)
    assert template is not None
    if not template.active:
        raise Conflict("The coupon template is not active.", code="coupon.template_inactive")
    valid_from, valid_to = _window(template, at)
    return Run(template, count, valid_from, valid_to, source, user_id, at)


def _held(session: Session, template_id: int, member_ids: Sequence[int]) -> dict[int, int]:
    """Coupons of the template each member holds or has used (voided ones do not count)."""
    query = (
        select(Coupon.member_id, func.count())
        .where(
            Coupon.template_id == template_id,
            Coupon.member_id.in_(member_ids),
            Coupon.status != "void",
        )
        .group_by(Coupon.member_id)
    )
    return {int(m): int(n) for m, n in session.execute(query) if m is not None}


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert coupons in one statement, drawing new codes if one was already taken."""
    for attempt in range(3):
        for row in rows:
            row["code"] = new_code()
        try:
            with session.begin_nested():
                session.execute(insert(_coupons), rows)
            return
        except IntegrityError:
            if attempt == 2:
                raise


def _issue_batch(
    session: Session, run: Run, member_ids: Sequence[int]
) -> tuple[list[str], int, int]:
    """Issue to one batch of members; returns (codes, members served, members skipped)."""
    limit = run.template.per_member_limit
    eligible = list(member_ids)
    if limit is not None:
        held = _held(session, run.template.id, eligible)
        eligible = [m for m in eligible if held.get(m, 0) + run.count <= limit]
    rows: list[dict[str, Any]] = [
        {"template_id": run.template.id, "member_id": member_id, "status": "issued",
         "valid_from": run.valid_from, "valid_to": run.valid_to, "source": run.source,
         "issued_by": run.user_id, "issued_at": run.at}
        for member_id in eligible for _ in range(run.count)
    ]  # fmt: skip
    if rows:
        _insert(session, rows)
    return [row["code"] for row in rows], len(eligible), len(member_ids) - len(eligible)


def _known_members(session: Session, member_ids: Sequence[int]) -> list[int]:
    ids = sorted(set(member_ids))
    missing = len(ids) - len(members.active_ids(session, ids=ids))
    if missing:
        raise ValidationFailed(
            "{missing} of the members do not exist or are no longer active.",
            code="coupon.member_unknown",
            details={"missing": missing},
        )
    return ids


def _tier_condition(
    session: Session, tier_id: int, member_id: ColumnElement[int]
) -> ColumnElement[bool]:
    tier = session.get(Tier, tier_id)
    if tier is None:
        raise ValidationFailed(
            "No such tier.", code="coupon.tier_unknown", details={"tier_id": tier_id}
        )
    accounts = select(MemberAccount.member_id)
    in_tier = member_id.in_(accounts.where(MemberAccount.tier_id == tier_id))
    # A member without an account yet is in the entry tier: accounts open on first use.
    return or_(in_tier, member_id.not_in(accounts)) if tier.rank == 0 else in_tier


def _filtered_ids(
    session: Session, filters: MemberFilters, cipher: FieldCipher | None
) -> Select[int]:
    """The member list's filters (see customers.service.member_ids_query) plus the tier."""
    query = members.member_ids_query(
        store_id=filters.store_id, tag=filters.tag, q=filters.q, cipher=cipher
    )
    if filters.tier_id is not None:
        member_id = query.selected_columns[0]
        query = query.where(_tier_condition(session, filters.tier_id, member_id))
    return query


def _filtered_batches(session: Session, query: Select[int]) -> Iterator[list[int]]:
    member_id = query.selected_columns[0]
    last = 0
    while True:
        page = query.where(member_id > last).order_by(member_id).limit(BATCH)
        ids = list(session.scalars(page))
        if not ids:
            return
        yield ids
        last = ids[-1]


def issue(
    session: Session, *, template_id: int, actor: Principal, at: datetime,
    member_ids: Sequence[int] | None = None, filters: MemberFilters | None = None,
    count: int = 1, cipher: FieldCipher | None = None,
) -> IssueResult:  # fmt: skip
    """Issue ``count`` coupons to each listed or matching active member, in batches.

    Members who would pass the template's per-member limit are skipped, not half-served.
    Store-bound staff issue by filter only to members registered in their store.
    """
    if (member_ids is None) == (filters is None):
        raise ValidationFailed(
            "Issue either to a list of members or to a member filter.",
            code="coupon.target_invalid",
        )
    run = _start_run(session, template_id, count, "manual", actor.user_id, at)
    if member_ids is not None:
        ids = _known_members(session, member_ids)
        batches: Iterator[list[int]] = (ids[i : i + BATCH] for i in range(0, len(ids), BATCH))
        target: dict[str, Any] = {"member_ids": len(ids)}
    else:
        assert filters is not None
        store_id = actor.scope_store(filters.store_id)
        filters = filters.model_copy(update={"store_id": store_id})
        batches = _filtered_batches(session, _filtered_ids(session, filters, cipher))
        # What was searched for may be a mobile or a name: the audit says only that it was.
        target = {"filters": filters.model_dump(exclude_none=True, exclude={"q"}),
                  "searched": bool(filters.q)}  # fmt: skip
    served = skipped = 0
    for batch in batches:
        _codes, got, missed = _issue_batch(session, run, batch)
        served, skipped = served + got, skipped + missed
    result = IssueResult(issued=served * count, members=served, skipped=skipped)
    audit.record(
        session, actor=actor, action="coupon.issue", entity="coupon_template",
        entity_id=template_id, after={**target, "count": count, **result.model_dump()},
    )  # fmt: skip
    return result


def issue_one(
    session: Session, *, template_id: int, member_id: int, source: str, user_id: int | None,
    at: datetime,
) -> Coupon | None:  # fmt: skip
    """One coupon of a template to one member (a complaint's compensation, for instance):
    the template's window and per-member limit hold; None when the member is at the limit."""
    run = _start_run(session, template_id, 1, source, user_id, at)
    codes = _issue_batch(session, run, [member_id])[0]
    if not codes:
        return None
    return session.scalars(select(Coupon).where(Coupon.code == codes[0])).one()


def issue_on_event(
    session: Session, *, member_id: int, event: str, user_id: int | None, at: datetime
) -> list[Coupon]:
    """One coupon of every active template issued automatically on ``event``.

    Called by registration and by tier upgrades; a template whose window has ended, or whose
    per-member limit the member has reached, is passed over.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown coupon event {event!r}")
    query = select(CouponTemplate.id).where(
        CouponTemplate.active.is_(True), CouponTemplate.auto_issue == event
    )
    codes: list[str] = []
    for template_id in session.scalars(query.order_by(CouponTemplate.id)).all():
        try:
            run = _start_run(session, template_id, 1, event, user_id, at)
        except Conflict:
            continue
        codes += _issue_batch(session, run, [member_id])[0]
    if not codes:
        return []
    return list(session.scalars(select(Coupon).where(Coupon.code.in_(codes)).order_by(Coupon.id)))


# --- reading and voiding --------------------------------------------------------------------


def public(coupon: Coupon, template: CouponTemplate, now: datetime) -> CouponPublic:
    usable = (
        coupon.status == "issued"
        and template.active
        and as_utc(coupon.valid_from) <= now < as_utc(coupon.valid_to)
    )
    return CouponPublic(
        code=coupon.code, template_id=template.id, name=template.name, kind=template.kind,
        value=template.value, min_spend=template.min_spend, scope=template.scope,
        scope_ids=list(template.scope_ids or []), gift_product_id=template.gift_product_id,
        stackable=template.stackable, member_id=coupon.member_id, status=coupon.status,
        valid_from=coupon.valid_from, valid_to=coupon.valid_to, issued_at=coupon.issued_at,
        source=coupon.source, order_id=coupon.order_id, redeemed_at=coupon.redeemed_at,
        usable=usable,
    )  # fmt: skip


_WITH_TEMPLATE = select(Coupon, CouponTemplate).join(
    CouponTemplate, CouponTemplate.id == Coupon.template_id
)


def member_coupons(session: Session, *, member_id: int, at: datetime) -> list[CouponPublic]:
    """Every coupon of the member, newest first."""
    members.ensure_active(session, member_id=member_id)
    query = _WITH_TEMPLATE.where(Coupon.member_id == member_id)
    rows = session.execute(query.order_by(Coupon.issued_at.desc(), Coupon.id.desc()))
    return [public(coupon, template, at) for coupon, template in rows]


def get_by_code(session: Session, *, code: str, at: datetime) -> CouponPublic:
    """The coupon a till scanned or typed."""
    row = session.execute(_WITH_TEMPLATE.where(Coupon.code == clean_code(code))).first()
    if row is None:
        raise NotFound(
            "No coupon has the code {code}.", code="coupon.not_found", details={"code": code}
        )
    return public(row[0], row[1], at)


def template_coupons(
    session: Session, *, template_id: int, at: datetime, status: str | None = None,
    limit: int = 50, offset: int = 0,
) -> tuple[list[CouponPublic], int]:  # fmt: skip
    """The coupons issued from a template, newest first, a page at a time."""
    template = get_template(session, template_id=template_id)
    where = [Coupon.template_id == template_id]
    if status is not None:
        where.append(Coupon.status == status)
    total = session.scalar(select(func.count()).select_from(Coupon).where(*where)) or 0
    query = select(Coupon).where(*where).order_by(Coupon.id.desc()).limit(limit).offset(offset)
    return [public(c, template, at) for c in session.scalars(query)], total


def void(
    session: Session, *, code: str, reason: str, actor: Principal, at: datetime
) -> CouponPublic:
    """Void an issued coupon; one being redeemed at this moment wins or loses as a whole."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(
            "Give a reason for voiding the coupon.", code="coupon.reason_required"
        )
    found = get_by_code(session, code=code, at=at)
    voided = session.execute(
        update(_coupons)
        .where(_coupons.c.code == found.code, _coupons.c.status == "issued")
        .values(status="void")
        .returning(_coupons.c.id)
    ).first()
    if voided is None:
        status = session.scalar(select(Coupon.status).where(Coupon.code == found.code))
        raise Conflict(
            "Only an issued coupon can be voided; this one was already used or voided.",
            code="coupon.not_voidable",
            details={"status": status, "code": found.code},
        )
    audit.record(
        session, actor=actor, action="coupon.void", entity="coupon", entity_id=found.code,
        before={"status": "issued"}, after={"status": "void", "reason": reason},
    )  # fmt: skip
    return found.model_copy(update={"status": "void", "usable": False})
