"""Back office: a member's loyalty page (tier, balances, ledger, coupons, adjustments, gifts)
and the gift catalogue."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.customers import service as members
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.loyalty import points, service
from shouyin.loyalty.models import Coupon, CouponTemplate
from shouyin.loyalty.points_schemas import AccountPublic, GiftCreate, GiftRedemptionIn, GiftUpdate
from shouyin.stores import service as stores
from shouyin.web.office_common import PAGE_SIZE, _, error_of, page_count, parse_id
from shouyin.web.office_common import validated as validated_form
from shouyin.web.pages_members import member_cipher
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
LoyaltyReader = Annotated[Principal, Depends(require("loyalty.read"))]
PointsAdjuster = Annotated[Principal, Depends(require("points.adjust"))]
Seller = Annotated[Principal, Depends(require("sales.sell"))]
Configurer = Annotated[Principal, Depends(require("loyalty.configure"))]
MemberId = Annotated[int, Path(ge=1, le=ID_MAX)]
KIND_LABELS = {
    "sale": _("Sale"),
    "return": _("Return"),
    "recharge": _("Recharge"),
    "sv_refund": _("Stored value refund"),
    "adjust": _("Manual adjustment"),
    "expire": _("Expired"),
    "gift": _("Gift redemption"),
    "merge": _("Merge"),
    "compensation": _("Compensation"),
    "opening": _("Opening balance"),
    "erase": _("Written off at erasure"),
}
TIER_REASON_LABELS = {
    "upgrade": _("Upgrade"),
    "review": _("Review"),
    "manual": _("By hand"),
    "merge": _("Merge"),
    "return": _("Return"),
}
COUPON_STATUS_LABELS = {"issued": _("Issued"), "redeemed": _("Redeemed"), "void": _("Void")}
GIFT_MESSAGES = {
    "name": (_("A gift needs a name of 1 to 60 characters."), "gift.name_invalid"),
    "points": (_("A gift costs from 1 to 1,000,000 points."), "gift.points_invalid"),
    "product_id": (_("Choose a product by its number, or leave it blank."), "gift.product_invalid"),
}


def _whole_number(text: str, code: str) -> int:
    from shouyin.web.office_common import parse_whole

    text = text.strip().replace(",", "")
    number = parse_whole(text)
    if number is None:
        raise ValidationFailed("Enter a whole number.", code=code, details={"value": text})
    return number


def _form_uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise ValidationFailed(
            "This form is out of date: reload the page and try again.", code="gift.form_stale"
        ) from None


def _coupons(session: Session, member_id: int) -> list[Any]:
    query = (
        select(Coupon.code, Coupon.status, Coupon.valid_to, CouponTemplate.name)
        .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .where(Coupon.member_id == member_id)
        .order_by(Coupon.issued_at.desc(), Coupon.id.desc())
        .limit(100)
    )
    return list(session.execute(query))


def _progress(account: AccountPublic) -> int:
    """Percent of the way from the current tier's threshold to the next one's."""
    if account.next_tier is None:
        return 100
    floor = account.tier.threshold if account.tier else 0
    span = max(1, account.next_tier.threshold - floor)
    return max(0, min(100, (account.growth_window - floor) * 100 // span))


def render_loyalty_page(
    request: Request, db: Session, principal: Principal, member_id: int, *,
    kind: str = "", page: int = 1, error: dict[str, Any] | None = None,
    form: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    member = members.summary(members.get_member(db, member_id=member_id), member_cipher(request))
    account = service.account_summary(db, member_id=member_id)
    ledger = service.history(
        db, member_id=member_id, kind=kind or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    can_give = principal.can("sales.sell")
    context = {
        "member": member, "account": account, "progress": _progress(account), "ledger": ledger,
        "kind": kind, "page": page, "pages": page_count(ledger.total),
        "tier_changes": service.tier_history(db, member_id=member_id),
        "coupons": _coupons(db, member_id), "kind_labels": KIND_LABELS,
        "tier_reason_labels": TIER_REASON_LABELS, "coupon_labels": COUPON_STATUS_LABELS,
        "can_adjust": principal.can("points.adjust"), "can_give": can_give,
        "gifts": points.list_gifts(db, active_only=True) if can_give else [],
        "stores": stores.list_stores(db, store_id=principal.store_id) if can_give else [],
        "error": error, "form": form or {}, "done": request.query_params.get("done"),
        # A new one each time the form is shown: submitting it twice gives one gift.
        "gift_uuid": str(uuid.uuid4()),
    }  # fmt: skip
    return render(request, "loyalty/member_loyalty.html", context, status_code=status)


@router.get("/office/members/{member_id}/loyalty")
def member_loyalty_page(
    request: Request, principal: LoyaltyReader, db: ReadDb, member_id: MemberId,
    kind: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:  # fmt: skip
    kind = kind if kind in KIND_LABELS else ""
    return render_loyalty_page(request, db, principal, member_id, kind=kind, page=page)


@router.post("/office/members/{member_id}/loyalty/adjust")
def adjust_submit(
    request: Request, principal: PointsAdjuster, db: WriteDb, member_id: MemberId,
    points_text: Annotated[str, Form(alias="points", max_length=20)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:  # fmt: skip
    try:
        amount = _whole_number(points_text, "points.not_a_number")
        points.adjust(db, member_id=member_id, points=amount, reason=reason, actor=principal)
    except DomainError as exc:
        db.rollback()
        form = {"points": points_text, "reason": reason}
        return render_loyalty_page(
            request, db, principal, member_id, error=error_of(request, exc), form=form,
            status=exc.status,
        )  # fmt: skip
    return RedirectResponse(f"/office/members/{member_id}/loyalty?done=adjusted", status_code=303)


@router.post("/office/members/{member_id}/loyalty/gift")
def gift_submit(
    request: Request, principal: Seller, db: WriteDb, member_id: MemberId,
    gift_id: Annotated[str, Form(max_length=12)] = "",
    store_id: Annotated[str, Form(max_length=12)] = "",
    client_uuid: Annotated[str, Form(max_length=40)] = "",
) -> Response:  # fmt: skip
    try:
        chosen_store = parse_id(store_id) or principal.store_id
        gift = parse_id(gift_id)
        if gift is None or chosen_store is None:
            raise ValidationFailed("Choose a gift and a store.", code="gift.choice_missing")
        data = GiftRedemptionIn(
            client_uuid=_form_uuid(client_uuid), gift_id=gift, store_id=chosen_store
        )
        points.redeem_gift(db, member_id=member_id, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        return render_loyalty_page(
            request, db, principal, member_id, error=error_of(request, exc), status=exc.status
        )
    return RedirectResponse(f"/office/members/{member_id}/loyalty?done=gift", status_code=303)


# --- the gift catalogue ----------------------------------------------------------------------


def _gifts_page(
    request: Request, db: Session, principal: Principal, *,
    error: dict[str, Any] | None = None, form: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    gifts = points.list_gifts(db)
    ids = {g.product_id for g in gifts if g.product_id is not None}
    products = {p.id: p.name for p in catalog.products_for_sale(db, product_ids=ids).values()}
    context = {
        "gifts": gifts, "products": products, "can_configure": principal.can("loyalty.configure"),
        "error": error, "form": form or {}, "done": request.query_params.get("done"),
    }  # fmt: skip
    return render(request, "loyalty/gifts.html", context, status_code=status)


@router.get("/office/loyalty/gifts")
def gifts_page(request: Request, principal: LoyaltyReader, db: ReadDb) -> Response:
    return _gifts_page(request, db, principal)


@router.post("/office/loyalty/gifts")
def gift_create_submit(
    request: Request, principal: Configurer, db: WriteDb,
    name: Annotated[str, Form(max_length=200)] = "",
    points_text: Annotated[str, Form(alias="points", max_length=20)] = "",
    product_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:  # fmt: skip
    form = {"name": name, "points": points_text, "product_id": product_id}
    try:
        cost = _whole_number(points_text, "gift.points_invalid")
        product = _whole_number(product_id, "gift.product_invalid") if product_id.strip() else None
        data = validated_form(
            GiftCreate, {"name": name.strip(), "points": cost, "product_id": product}, GIFT_MESSAGES
        )
        points.create_gift(db, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _gifts_page(request, db, principal, error=error, form=form, status=exc.status)
    return RedirectResponse("/office/loyalty/gifts?done=created", status_code=303)


@router.post("/office/loyalty/gifts/{gift_id}/active")
def gift_active_submit(
    request: Request, principal: Configurer, db: WriteDb, gift_id: MemberId,
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:  # fmt: skip
    try:
        data = GiftUpdate(active=active == "1")
        points.update_gift(db, gift_id=gift_id, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        return _gifts_page(request, db, principal, error=error_of(request, exc), status=exc.status)
    return RedirectResponse("/office/loyalty/gifts?done=changed", status_code=303)
