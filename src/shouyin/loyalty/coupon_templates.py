"""Coupon templates (优惠券模板): create, update, read and list, and the rules a template obeys.

A template holds a coupon's terms (kind, value, minimum spend, scope, gift); they are frozen
once a coupon of the template exists. Issuing, reading and voiding coupons live in
:mod:`shouyin.loyalty.coupons`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.loyalty.coupon_schemas import CouponTemplateIn
from shouyin.loyalty.models import Coupon, CouponTemplate

# What a coupon promises its holder: fixed once a coupon of the template was issued.
TERMS = ("kind", "value", "min_spend", "scope", "scope_ids", "gift_product_id")
# Beyond these years a date is a typo, and moving it to UTC could leave the datetime range.
FIRST_YEAR, LAST_YEAR = 1970, 2999


def _check_value(data: CouponTemplateIn) -> None:
    if data.kind == "threshold" and not (data.min_spend > 0 and 0 < data.value <= data.min_spend):
        raise ValidationFailed(
            "A threshold coupon needs a minimum spend above 0 and an amount off above 0 and "
            "no larger than the minimum spend.",
            code="coupon.value_invalid",
        )
    if data.kind == "percent" and not 1 <= data.value <= 9999:
        raise ValidationFailed(
            "A percent coupon takes 1 to 9999 basis points off (1500 = 15% off).",
            code="coupon.value_invalid",
        )
    if data.kind == "voucher" and data.value <= 0:
        raise ValidationFailed("A voucher needs an amount above 0.", code="coupon.value_invalid")
    if data.kind == "gift" and (data.value != 0 or data.gift_product_id is None):
        raise ValidationFailed(
            "A gift coupon names its gift product and has no amount.", code="coupon.gift_invalid"
        )
    if data.kind != "gift" and data.gift_product_id is not None:
        raise ValidationFailed(
            "Only a gift coupon names a gift product.", code="coupon.gift_invalid"
        )


def _check_gift(session: Session, product_id: int | None) -> None:
    if product_id is None:
        return
    found = catalog.products_for_sale(session, product_ids=[product_id]).get(product_id)
    if found is None or not found.active:
        raise ValidationFailed(
            "Product {product_id} is unknown or not on sale.",
            code="coupon.gift_product_unknown",
            details={"product_id": product_id},
        )
    if found.weighed:
        # A weighed line is one line whatever it weighs: the coupon would give all of it away.
        raise ValidationFailed(
            "A gift coupon is for an item sold by the piece; {name} is sold by weight.",
            code="coupon.gift_weighed",
            details={"product_id": product_id, "name": found.name},
        )


def _check_scope(session: Session, data: CouponTemplateIn) -> list[int]:
    ids = sorted(set(data.scope_ids))
    if data.scope == "all":
        if ids:
            raise ValidationFailed(
                "A coupon for every product lists no categories or products.",
                code="coupon.scope_invalid",
            )
        return []
    if not ids:
        raise ValidationFailed(
            "Choose the categories or products the coupon applies to.", code="coupon.scope_invalid"
        )
    if data.scope == "categories":
        known = {c.id for c in catalog.list_categories(session)}
    else:
        known = set(catalog.products_for_sale(session, product_ids=ids))
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ValidationFailed(
            "These categories or products do not exist: {ids}.",
            code="coupon.scope_unknown",
            details={"ids": ", ".join(map(str, unknown))},
        )
    return ids


def _check_validity(data: CouponTemplateIn) -> None:
    start, end = data.valid_from, data.valid_to
    if any(m is not None and not FIRST_YEAR <= m.year <= LAST_YEAR for m in (start, end)):
        raise ValidationFailed(
            "Validity dates must fall between 1970 and 2999.", code="coupon.validity_invalid"
        )
    by_days = data.valid_days is not None
    by_window = start is not None and end is not None and start < end
    if by_days == by_window or (by_days and (start is not None or end is not None)):
        raise ValidationFailed(
            "A coupon is valid either for a number of days from issue or from a start to a "
            "later end.",
            code="coupon.validity_invalid",
        )


def _checked(session: Session, data: CouponTemplateIn) -> dict[str, Any]:
    """The template's columns, after every rule has passed."""
    name = data.name.strip()
    if not name:
        raise ValidationFailed(
            "A coupon template needs a name of 1 to 60 characters.", code="coupon.name_invalid"
        )
    _check_value(data)
    _check_validity(data)
    _check_gift(session, data.gift_product_id)
    return data.model_dump() | {"name": name, "scope_ids": _check_scope(session, data)}


def _audit_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def create_template(
    session: Session, *, data: CouponTemplateIn, actor: Principal | None
) -> CouponTemplate:
    values = _checked(session, data)
    template = CouponTemplate(**values)
    session.add(template)
    session.flush()
    audit.record(
        session, actor=actor, action="coupon_template.create", entity="coupon_template",
        entity_id=template.id, after=_audit_values(values),
    )  # fmt: skip
    return template


def get_template(session: Session, *, template_id: int) -> CouponTemplate:
    template = session.get(CouponTemplate, template_id)
    if template is None:
        raise NotFound(
            "No such coupon template.",
            code="coupon.template_not_found",
            details={"template_id": template_id},
        )
    return template


def issued_count(session: Session, *, template_id: int) -> int:
    query = select(func.count()).where(Coupon.template_id == template_id)
    return session.scalar(query) or 0


def update_template(
    session: Session, *, template_id: int, data: CouponTemplateIn, actor: Principal | None
) -> CouponTemplate:
    """Replace a template; its terms only while no coupon of it exists."""
    template = get_template(session, template_id=template_id)
    values = _checked(session, data)
    before = {k: getattr(template, k) for k in values}
    changed = {k: v for k, v in values.items() if before[k] != v}
    if any(k in TERMS for k in changed) and issued_count(session, template_id=template_id):
        raise Conflict(
            "Coupons of this template were issued, so its kind, amounts, scope and gift are "
            "fixed. Make a new template instead.",
            code="coupon.template_in_use",
        )
    for key, value in changed.items():
        setattr(template, key, value)
    session.flush()
    audit.record(
        session, actor=actor, action="coupon_template.update", entity="coupon_template",
        entity_id=template.id, before=_audit_values({k: before[k] for k in changed}),
        after=_audit_values(changed),
    )  # fmt: skip
    return template


def list_templates(
    session: Session, *, active: bool | None = None
) -> list[tuple[CouponTemplate, int]]:
    """Templates, newest first, each with how many coupons were issued from it."""
    counts = (
        select(Coupon.template_id, func.count().label("n")).group_by(Coupon.template_id).subquery()
    )
    query = select(CouponTemplate, func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.template_id == CouponTemplate.id
    )
    if active is not None:
        query = query.where(CouponTemplate.active.is_(active))
    rows = session.execute(query.order_by(CouponTemplate.id.desc()))
    return [(template, int(n)) for template, n in rows]
