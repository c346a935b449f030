"""REST: coupon templates, issuing, a member's coupons, the till's scan, voiding."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.keys import cipher_for
from shouyin.db import ReadDb, WriteDb
from shouyin.loyalty import coupon_templates, coupons
from shouyin.loyalty.coupon_schemas import (
    CouponPage,
    CouponPublic,
    CouponTemplateIn,
    CouponTemplatePublic,
    IssueIn,
    IssueResult,
    VoidIn,
)
from shouyin.shared.clock import utcnow
from shouyin.web.params import ID_MAX, IdPath

router = APIRouter(prefix="/api/v1", tags=["coupons"])
LoyaltyReader = Annotated[Principal, Depends(require("loyalty.read"))]
Configurer = Annotated[Principal, Depends(require("loyalty.configure"))]
Issuer = Annotated[Principal, Depends(require("coupons.issue"))]
CodePath = Annotated[str, Path(min_length=1, max_length=40)]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed"},
    404: {"description": "No such coupon template, coupon or member"},
    409: {"description": "The template is inactive, expired or in use; the coupon is not issued"},
    422: {"description": "Invalid template, members or request"},
}


def cipher(request: Request) -> FieldCipher:
    return cipher_for(request.app.state.settings)


@router.get("/coupon-templates", response_model=list[CouponTemplatePublic], responses=ERRORS)
def list_templates(
    principal: LoyaltyReader, db: ReadDb, active: Annotated[bool | None, Query()] = None
) -> list[CouponTemplatePublic]:
    rows = coupon_templates.list_templates(db, active=active)
    return [CouponTemplatePublic.model_validate(template) for template, _ in rows]


@router.post(
    "/coupon-templates", response_model=CouponTemplatePublic, status_code=201, responses=ERRORS
)
def create_template(
    data: CouponTemplateIn, principal: Configurer, db: WriteDb
) -> CouponTemplatePublic:
    template = coupon_templates.create_template(db, data=data, actor=principal)
    return CouponTemplatePublic.model_validate(template)


@router.get(
    "/coupon-templates/{template_id}", response_model=CouponTemplatePublic, responses=ERRORS
)
def get_template(template_id: IdPath, principal: LoyaltyReader, db: ReadDb) -> CouponTemplatePublic:
    return CouponTemplatePublic.model_validate(
        coupon_templates.get_template(db, template_id=template_id)
    )


@router.put(
    "/coupon-templates/{template_id}", response_model=CouponTemplatePublic, responses=ERRORS
)
def update_template(
    template_id: IdPath, data: CouponTemplateIn, principal: Configurer, db: WriteDb
) -> CouponTemplatePublic:
    """Replace the template. Once coupons were issued only the name, validity for future
    coupons, limit, stacking, rule and active flag may change."""
    template = coupon_templates.update_template(
        db, template_id=template_id, data=data, actor=principal
    )
    return CouponTemplatePublic.model_validate(template)


@router.post("/coupon-templates/{template_id}/issue", response_model=IssueResult, responses=ERRORS)
def issue(
    template_id: IdPath, data: IssueIn, principal: Issuer, db: WriteDb, request: Request
) -> IssueResult:
    """Issue `count` coupons to each of `member_ids`, or to every active member matching
    `filters`; members at the template's per-member limit are skipped and counted."""
    return coupons.issue(
        db, template_id=template_id, actor=principal, at=utcnow(), member_ids=data.member_ids,
        filters=data.filters, count=data.count, cipher=cipher(request),
    )  # fmt: skip


@router.get("/coupon-templates/{template_id}/coupons", response_model=CouponPage, responses=ERRORS)
def template_coupons(
    template_id: IdPath, principal: LoyaltyReader, db: ReadDb,
    status: Annotated[Literal["issued", "redeemed", "void"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> CouponPage:  # fmt: skip
    items, total = coupons.template_coupons(
        db, template_id=template_id, at=utcnow(), status=status, limit=limit, offset=offset
    )
    return CouponPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/members/{member_id}/coupons", response_model=list[CouponPublic], responses=ERRORS)
def member_coupons(member_id: IdPath, principal: LoyaltyReader, db: ReadDb) -> list[CouponPublic]:
    return coupons.member_coupons(db, member_id=member_id, at=utcnow())


@router.get("/coupons/{code}", response_model=CouponPublic, responses=ERRORS)
def get_coupon(code: CodePath, principal: LoyaltyReader, db: ReadDb) -> CouponPublic:
    """The coupon a till scanned; `usable` says whether it can be applied now."""
    return coupons.get_by_code(db, code=code, at=utcnow())


@router.post("/coupons/{code}/void", response_model=CouponPublic, responses=ERRORS)
def void_coupon(code: CodePath, data: VoidIn, principal: Issuer, db: WriteDb) -> CouponPublic:
    return coupons.void(db, code=code, reason=data.reason, actor=principal, at=utcnow())
