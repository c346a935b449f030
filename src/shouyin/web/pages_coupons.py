"""Back office: coupon templates (list, create, edit); issuing is in pages_coupons_issue.

Amounts are typed in yuan; a percent coupon is typed as the 折 number shoppers know (8.5 =
15% off) and stored as basis points off. A fixed validity window is typed as local dates:
from the start of the first day to the end of the last.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.loyalty import coupon_templates
from shouyin.loyalty.coupon_schemas import CouponTemplateIn
from shouyin.loyalty.models import CouponTemplate
from shouyin.shared.clock import to_local
from shouyin.shared.money import Money
from shouyin.web.office_common import _, error_of, parse_id, parse_whole, parse_window_day
from shouyin.web.office_common import validated as validated_form
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("loyalty.read"))]
Configurer = Annotated[Principal, Depends(require("loyalty.configure"))]
TemplateId = Annotated[int, Path(ge=1, le=ID_MAX)]
# Head office sets coupons up for the chain; its dates are read in the default zone.
TIMEZONE = "Asia/Shanghai"
BASE = "/office/loyalty/coupons"
_ZHE = re.compile(r"([0-9])(?:\.([0-9]{1,2}))?", re.ASCII)
KIND_LABELS = {
    "threshold": _("Amount off above a minimum spend (满减)"),
    "percent": _("Percent off (折扣)"),
    "voucher": _("Cash voucher (代金)"),
    "gift": _("Gift (兑换)"),
}
SCOPE_LABELS = {
    "all": _("All products"),
    "categories": _("Some categories"),
    "products": _("Some products"),
}
AUTO_LABELS = {
    "": _("By hand only"),
    "registration": _("On registration (welcome coupon)"),
    "tier_upgrade": _("On moving up a tier"),
}
COUPON_STATUS_LABELS = {"issued": _("Not used"), "redeemed": _("Used"), "void": _("Voided")}
TEMPLATE_MESSAGES = {
    "name": (_("A coupon template needs a name of 1 to 60 characters."), "coupon.name_invalid"),
    "value": (_("The amount off is too large."), "coupon.value_invalid"),
    "min_spend": (_("The minimum spend is too large."), "coupon.min_spend_invalid"),
    "valid_days": (_("Valid days are a whole number from 1 to 3650."), "coupon.days_invalid"),
    "per_member_limit": (
        _("The limit per member is blank or a whole number from 1 to 10000."),
        "coupon.limit_invalid",
    ),
    "scope_ids": (_("Choose at most 500 categories or products."), "coupon.scope_invalid"),
}


def zhe(bp_off: int) -> str:
    """Basis points off as the 折 number: 1500 -> "8.5"."""
    whole, rest = divmod(10_000 - bp_off, 1000)
    return f"{whole}.{rest:03d}".rstrip("0").rstrip(".")


def percent_off(bp_off: int) -> str:
    whole, rest = divmod(bp_off, 100)
    return f"{whole}.{rest:02d}".rstrip("0").rstrip(".") + "%"


def parse_zhe(text: str) -> int:
    match = _ZHE.fullmatch(text.strip())
    hundredths = (
        int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0")) if match else 0
    )
    if not 0 < hundredths < 1000:
        raise ValidationFailed(
            "Enter the discount as 折, from 0.1 to 9.9: 8.5 means 15% off.",
            code="coupon.discount_invalid",
        )
    return 10_000 - hundredths * 10


def _whole(text: str) -> int | str | None:
    """A typed whole number; anything else is passed on for the schema to refuse."""
    text = text.strip()
    number = parse_whole(text)
    return None if not text else text if number is None else number


def _local_start(day: date) -> datetime:
    """The start of a local day, in UTC as it is stored and as the service bounds it."""
    return datetime.combine(day, time(), tzinfo=ZoneInfo(TIMEZONE)).astimezone(UTC)


class TemplateForm:
    """The template form as typed, so a rejected form comes back as the user left it."""

    def __init__(
        self,
        name: Annotated[str, Form(max_length=200)] = "",
        kind: Annotated[str, Form(max_length=20)] = "threshold",
        amount: Annotated[str, Form(max_length=40)] = "",
        discount: Annotated[str, Form(max_length=20)] = "",
        min_spend: Annotated[str, Form(max_length=40)] = "",
        scope: Annotated[str, Form(max_length=20)] = "all",
        category_ids: Annotated[list[str] | None, Form()] = None,
        product_codes: Annotated[str, Form(max_length=4000)] = "",
        gift_code: Annotated[str, Form(max_length=64)] = "",
        validity: Annotated[str, Form(max_length=10)] = "days",
        valid_days: Annotated[str, Form(max_length=20)] = "",
        valid_from: Annotated[str, Form(max_length=20)] = "",
        valid_to: Annotated[str, Form(max_length=20)] = "",
        per_member_limit: Annotated[str, Form(max_length=20)] = "",
        auto_issue: Annotated[str, Form(max_length=20)] = "",
        stackable: Annotated[str, Form(max_length=5)] = "",
        active: Annotated[str, Form(max_length=5)] = "",
    ) -> None:
        self.name, self.kind, self.amount, self.discount = name, kind, amount, discount
        self.min_spend, self.scope, self.product_codes = min_spend, scope, product_codes
        self.category_ids = [c for c in category_ids or [] if c.strip()]
        self.gift_code, self.validity, self.valid_days = gift_code, validity, valid_days
        self.valid_from, self.valid_to, self.auto_issue = valid_from, valid_to, auto_issue
        self.per_member_limit = per_member_limit
        self.stackable, self.active = bool(stackable), bool(active)

    def _value(self) -> int:
        if self.kind == "percent":
            return parse_zhe(self.discount)
        if self.kind in ("threshold", "voucher"):
            return Money.from_yuan(self.amount or "0").fen
        return 0

    def _scope_ids(self, db: Session) -> list[Any]:
        if self.scope == "categories":
            return [i for i in (parse_id(c) for c in self.category_ids) if i is not None]
        if self.scope == "products":
            return [catalog.lookup(db, code=c).id for c in self.product_codes.split()]
        return []

    def _validity(self) -> dict[str, Any]:
        if self.validity != "window":
            return {"valid_days": _whole(self.valid_days)}
        code = "coupon.validity_invalid"
        first = parse_window_day(self.valid_from, code=code)
        last = parse_window_day(self.valid_to, code=code)
        return {
            "valid_from": _local_start(first) if first else None,
            "valid_to": _local_start(last + timedelta(days=1)) if last else None,
        }

    def data(self, db: Session) -> CouponTemplateIn:
        gift = self.gift_code.strip() if self.kind == "gift" else ""
        values = {
            "name": self.name.strip(), "kind": self.kind, "value": self._value(),
            "min_spend": Money.from_yuan(self.min_spend or "0").fen, "scope": self.scope,
            "scope_ids": self._scope_ids(db),
            "gift_product_id": catalog.lookup(db, code=gift).id if gift else None,
            "per_member_limit": _whole(self.per_member_limit), "stackable": self.stackable,
            "auto_issue": self.auto_issue or None, "active": self.active, **self._validity(),
        }  # fmt: skip
        return validated_form(CouponTemplateIn, values, TEMPLATE_MESSAGES)


def _form_of(db: Session, t: CouponTemplate) -> dict[str, Any]:
    gift = catalog.get_product(db, product_id=t.gift_product_id) if t.gift_product_id else None
    products = catalog.products_for_sale(db, product_ids=t.scope_ids or [])
    return {
        "name": t.name, "kind": t.kind, "min_spend": Money(t.min_spend).yuan_str(),
        "amount": Money(t.value).yuan_str() if t.kind in ("threshold", "voucher") else "",
        "discount": zhe(t.value) if t.kind == "percent" else "", "scope": t.scope,
        "category_ids": [str(i) for i in t.scope_ids or []] if t.scope == "categories" else [],
        "product_codes": " ".join(catalog.get_product(db, product_id=i).sku for i in products)
        if t.scope == "products" else "",
        "gift_code": gift.sku if gift else "", "validity": "days" if t.valid_days else "window",
        "valid_days": str(t.valid_days or ""), "valid_to": last_day(t.valid_to),
        "valid_from": to_local(t.valid_from, TIMEZONE).date().isoformat() if t.valid_from else "",
        "per_member_limit": str(t.per_member_limit or ""), "auto_issue": t.auto_issue or "",
        "stackable": t.stackable, "active": t.active,
    }  # fmt: skip


def last_day(valid_to: datetime | None) -> str:
    """The last local day of a window whose end is exclusive."""
    if valid_to is None:
        return ""
    return (to_local(valid_to, TIMEZONE) - timedelta(microseconds=1)).date().isoformat()


def gift_name(db: Session, template: CouponTemplate) -> str | None:
    if template.gift_product_id is None:
        return None
    found = catalog.products_for_sale(db, product_ids=[template.gift_product_id])
    return found[template.gift_product_id].name if found else None


def page_labels() -> dict[str, Any]:
    return {
        "kind_labels": KIND_LABELS, "scope_labels": SCOPE_LABELS, "auto_labels": AUTO_LABELS,
        "status_labels": COUPON_STATUS_LABELS, "zhe": zhe, "percent_off": percent_off,
        "timezone": TIMEZONE, "last_day": last_day,
    }  # fmt: skip


# --- templates ------------------------------------------------------------------------------


@router.get(BASE)
def templates_page(request: Request, principal: Reader, db: ReadDb) -> Response:
    rows = coupon_templates.list_templates(db)
    gift_ids = [t.gift_product_id for t, _n in rows if t.gift_product_id]
    context = {
        "rows": rows, "gifts": catalog.products_for_sale(db, product_ids=gift_ids),
        "can_configure": principal.can("loyalty.configure"),
        "can_issue": principal.can("coupons.issue"), **page_labels(),
    }  # fmt: skip
    return render(request, "loyalty/coupons.html", context)


def _form_page(
    request: Request, db: Session, form: dict[str, Any], *, template: CouponTemplate | None = None,
    error: dict[str, Any] | None = None, saved: bool = False, status: int = 200,
) -> Response:  # fmt: skip
    principal: Principal = request.state.principal
    issued = coupon_templates.issued_count(db, template_id=template.id) if template else 0
    context = {
        "form": form, "template": template, "error": error, "saved": saved, "issued": issued,
        "categories": catalog.list_categories(db),
        "can_configure": principal.can("loyalty.configure"), **page_labels(),
    }  # fmt: skip
    return render(request, "loyalty/coupons_form.html", context, status_code=status)


@router.get(f"{BASE}/new")
def new_template_page(request: Request, principal: Configurer, db: ReadDb) -> Response:
    blank = {"kind": "threshold", "scope": "all", "validity": "days", "valid_days": "30",
             "min_spend": "0", "active": True}  # fmt: skip
    return _form_page(request, db, blank)


@router.post(f"{BASE}/new")
def create_template_submit(
    request: Request, principal: Configurer, db: WriteDb, form: Annotated[TemplateForm, Depends()]
) -> Response:
    try:
        created = coupon_templates.create_template(db, data=form.data(db), actor=principal)
    except DomainError as exc:
        db.rollback()
        return _form_page(request, db, vars(form), error=error_of(request, exc), status=exc.status)
    return RedirectResponse(f"{BASE}/{created.id}?saved=1", status_code=303)


@router.get(BASE + "/{template_id}")
def edit_template_page(
    request: Request, principal: Reader, db: ReadDb, template_id: TemplateId,
    saved: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:  # fmt: skip
    template = coupon_templates.get_template(db, template_id=template_id)
    return _form_page(request, db, _form_of(db, template), template=template, saved=bool(saved))


@router.post(BASE + "/{template_id}")
def update_template_submit(
    request: Request, principal: Configurer, db: WriteDb, template_id: TemplateId,
    form: Annotated[TemplateForm, Depends()],
) -> Response:  # fmt: skip
    coupon_templates.get_template(db, template_id=template_id)
    try:
        coupon_templates.update_template(
            db, template_id=template_id, data=form.data(db), actor=principal
        )
    except DomainError as exc:
        db.rollback()
        template = coupon_templates.get_template(db, template_id=template_id)
        error = error_of(request, exc)
        return _form_page(
            request, db, vars(form), template=template, error=error, status=exc.status
        )
    return RedirectResponse(f"{BASE}/{template_id}?saved=1", status_code=303)
