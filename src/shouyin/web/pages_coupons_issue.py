"""Back office: issuing a coupon template's coupons, and the list of coupons issued from it."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.customers.keys import cipher_for
from shouyin.customers.models import Member
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, NotFound, ValidationFailed
from shouyin.loyalty import coupon_templates, coupons
from shouyin.loyalty.coupon_schemas import MemberFilters
from shouyin.loyalty.models import CouponTemplate, Tier
from shouyin.shared.clock import utcnow
from shouyin.stores import service as stores
from shouyin.web.office_common import PAGE_SIZE, error_of, page_count, parse_id, parse_whole
from shouyin.web.pages_coupons import (
    BASE,
    COUPON_STATUS_LABELS,
    Reader,
    TemplateId,
    gift_name,
    page_labels,
)
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Issuer = Annotated[Principal, Depends(require("coupons.issue"))]


# --- issuing --------------------------------------------------------------------------------


def _issue_page(
    request: Request, db: Session, principal: Principal, template: CouponTemplate, *,
    form: dict[str, Any] | None = None, error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    done = {k: request.query_params.get(k) for k in ("issued", "members", "skipped")}
    context = {
        "template": template, "form": form or {"count": "1"}, "error": error,
        "done": done if done["issued"] is not None else None,
        "stores": stores.list_stores(db, store_id=principal.store_id),
        "tiers": db.scalars(select(Tier).where(Tier.active.is_(True)).order_by(Tier.rank)).all(),
        "own_store": principal.store_id, "gift_name": gift_name(db, template), **page_labels(),
    }  # fmt: skip
    return render(request, "loyalty/coupons_issue.html", context, status_code=status)


@router.get(BASE + "/{template_id}/issue")
def issue_page(
    request: Request, principal: Issuer, db: ReadDb, template_id: TemplateId
) -> Response:
    template = coupon_templates.get_template(db, template_id=template_id)
    return _issue_page(request, db, principal, template)


def _one_member(request: Request, db: Session, query: str) -> int:
    if not query.strip():
        raise ValidationFailed("Enter the member's mobile or card number.", code="coupon.no_member")
    found = members.lookup(db, query=query, cipher=cipher_for(request.app.state.settings))
    if not found:
        raise ValidationFailed("No member has this mobile or card number.", code="coupon.no_member")
    if len(found) > 1:
        raise ValidationFailed(
            "Several members match: enter the full mobile or card number.",
            code="coupon.member_ambiguous",
        )
    return found[0].id


@router.post(BASE + "/{template_id}/issue")
def issue_submit(
    request: Request, principal: Issuer, db: WriteDb, template_id: TemplateId,
    mode: Annotated[str, Form(max_length=10)] = "one",
    member: Annotated[str, Form(max_length=40)] = "",
    tag: Annotated[str, Form(max_length=30)] = "",
    store_id: Annotated[str, Form(max_length=12)] = "",
    tier_id: Annotated[str, Form(max_length=12)] = "",
    count: Annotated[str, Form(max_length=5)] = "1",
) -> Response:  # fmt: skip
    template = coupon_templates.get_template(db, template_id=template_id)
    typed = {"mode": mode, "member": member, "tag": tag, "store_id": store_id,
             "tier_id": tier_id, "count": count}  # fmt: skip
    try:
        number = parse_whole(count) or 0
        if not 1 <= number <= 20:
            raise ValidationFailed("Issue 1 to 20 coupons per member.", code="coupon.count_invalid")
        target: dict[str, Any] = (
            {"member_ids": [_one_member(request, db, member)]} if mode == "one" else
            {"filters": MemberFilters(tag=tag.strip() or None, store_id=parse_id(store_id),
                                      tier_id=parse_id(tier_id))}
        )  # fmt: skip
        result = coupons.issue(
            db, template_id=template_id, actor=principal, at=utcnow(), count=number, **target
        )
    except DomainError as exc:
        db.rollback()
        template = coupon_templates.get_template(db, template_id=template_id)
        error = error_of(request, exc)
        return _issue_page(
            request, db, principal, template, form=typed, error=error, status=exc.status
        )
    query = urlencode(result.model_dump())
    return RedirectResponse(f"{BASE}/{template.id}/issue?{query}", status_code=303)


# --- issued coupons -------------------------------------------------------------------------


def masked_name(name: str) -> str:
    return name[:1] + "*" * (len(name) - 1)


def _holders(request: Request, db: Session, member_ids: list[int]) -> dict[int, dict[str, str]]:
    """Masked name and card number of the listed coupons' members, in one query."""
    cipher = cipher_for(request.app.state.settings)
    holders: dict[int, dict[str, str]] = {}
    for member in db.scalars(select(Member).where(Member.id.in_(member_ids))):
        summary = members.summary(member, cipher)
        holders[member.id] = {"name": masked_name(summary.name), "card_no": summary.card_no}
    return holders


def _issued_page(
    request: Request, db: Session, principal: Principal, template: CouponTemplate, *,
    status: str = "", page: int = 1, error: dict[str, Any] | None = None, http_status: int = 200,
) -> Response:  # fmt: skip
    chosen = status if status in COUPON_STATUS_LABELS else None
    rows, total = coupons.template_coupons(
        db, template_id=template.id, at=utcnow(), status=chosen, limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    ids = sorted({c.member_id for c in rows if c.member_id is not None})
    context = {
        "template": template, "rows": rows, "holders": _holders(request, db, ids),
        "total": total, "page": page, "pages": page_count(total), "status": chosen or "",
        "can_void": principal.can("coupons.issue"), "voided": request.query_params.get("voided"),
        "error": error, "gift_name": gift_name(db, template), **page_labels(),
    }  # fmt: skip
    return render(request, "loyalty/coupons_issued.html", context, status_code=http_status)


@router.get(BASE + "/{template_id}/coupons")
def issued_page(
    request: Request, principal: Reader, db: ReadDb, template_id: TemplateId,
    status: Annotated[str, Query(max_length=10)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:  # fmt: skip
    template = coupon_templates.get_template(db, template_id=template_id)
    return _issued_page(request, db, principal, template, status=status, page=page)


@router.post(BASE + "/{template_id}/coupons/void")
def void_submit(
    request: Request, principal: Issuer, db: WriteDb, template_id: TemplateId,
    code: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    coupon_templates.get_template(db, template_id=template_id)
    try:
        found = coupons.get_by_code(db, code=code, at=utcnow())
        if found.template_id != template_id:  # the form lists this template's coupons only
            raise NotFound("No coupon has the code {code}.", code="coupon.not_found",
                           details={"code": code})  # fmt: skip
        coupons.void(db, code=code, reason=reason, actor=principal, at=utcnow())
    except DomainError as exc:
        db.rollback()
        template = coupon_templates.get_template(db, template_id=template_id)
        error = error_of(request, exc)
        return _issued_page(request, db, principal, template, error=error, http_status=exc.status)
    return RedirectResponse(
        f"{BASE}/{template_id}/coupons?{urlencode({'voided': code})}", status_code=303
    )
