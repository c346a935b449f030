"""Back office: promotions (list by status, create, edit, switch off).

The form shows only the fields of the chosen kind (Alpine) and takes amounts in yuan,
discounts in percent, hours as HH:MM and dates in China time; the promotion service
checks everything else.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.loyalty import admin, promotions
from shouyin.loyalty.admin_schemas import PromotionCreate, PromotionUpdate
from shouyin.loyalty.models import Promotion
from shouyin.shared.clock import as_utc, to_local
from shouyin.shared.money import Money
from shouyin.stores import service as stores
from shouyin.web.office_common import FIRST_YEAR, LAST_YEAR, _, error_of, validated
from shouyin.web.pages_loyalty_admin import (
    Ids,
    fen,
    format_hundredths,
    parse_hundredths,
    parse_ids,
    product_codes,
    scope_context,
    scope_ids,
    whole,
    yuan,
)
from shouyin.web.params import IdPath
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("loyalty.read"))]
Configurer = Annotated[Principal, Depends(require("loyalty.configure"))]
TIMEZONE = "Asia/Shanghai"
THRESHOLD_ROWS = 4
_PRIORITY = re.compile(r"-?[0-9]{1,5}", re.ASCII)
_HH_MM = re.compile(r"([01]?[0-9]|2[0-4]):([0-5][0-9])", re.ASCII)
KIND_LABELS = {
    "special_price": _("Special price (特价)"),
    "nth_discount": _("Discount on every nth item (第二件半价)"),
    "buy_x_get_y": _("Buy X get Y free (买X送Y)"),
    "order_threshold": _("Spend and save (满减)"),
}
STATUS_LABELS = {
    "active": _("Running"),
    "upcoming": _("Upcoming"),
    "ended": _("Ended"),
    "inactive": _("Switched off"),
}
WEEKDAY_LABELS = {
    1: _("Mon"), 2: _("Tue"), 3: _("Wed"), 4: _("Thu"), 5: _("Fri"), 6: _("Sat"), 7: _("Sun"),
}  # fmt: skip
PROMOTION_MESSAGES = {
    "name": (_("A promotion needs a name of at most 60 characters."), "promotion.name_invalid"),
    "priority": (_("The priority is from -1000 to 1000."), "promotion.priority_invalid"),
}


def parse_minute(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    match = _HH_MM.fullmatch(text)
    minute = int(match.group(1)) * 60 + int(match.group(2)) if match else -1
    if not 0 <= minute <= 24 * 60:
        raise ValidationFailed(
            "A time of day is written HH:MM, from 00:00 to 24:00.", code="promotion.time_invalid",
            details={"value": text},
        )  # fmt: skip
    return minute


def format_minute(minute: int | None) -> str:
    return "" if minute is None else f"{minute // 60:02d}:{minute % 60:02d}"


def parse_moment(text: str) -> datetime | None:
    """A date and time typed in China time (datetime-local input) as UTC."""
    text = text.strip()
    if not text:
        return None
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            "A date and time is written YYYY-MM-DD HH:MM.", code="promotion.dates_invalid",
            details={"value": text},
        ) from None  # fmt: skip
    if not FIRST_YEAR <= local.year <= LAST_YEAR:  # year 1 in China time is before UTC's year 1
        raise ValidationFailed(
            "Choose a date from 1970 to 2999.", code="promotion.dates_invalid",
            details={"value": text},
        )  # fmt: skip
    return as_utc(local.replace(tzinfo=ZoneInfo(TIMEZONE)))


def format_moment(moment: datetime | None) -> str:
    return "" if moment is None else to_local(moment, TIMEZONE).strftime("%Y-%m-%dT%H:%M")


class PromotionForm:
    """The promotion form as typed, so a refused form comes back as the user left it."""

    def __init__(
        self,
        name: Annotated[str, Form(max_length=200)] = "",
        kind: Annotated[str, Form(max_length=30)] = "special_price",
        price: Annotated[str, Form(max_length=30)] = "",
        n: Annotated[str, Form(max_length=10)] = "2",
        percent_off: Annotated[str, Form(max_length=10)] = "50",
        buy: Annotated[str, Form(max_length=10)] = "2",
        get: Annotated[str, Form(max_length=10)] = "1",
        min_yuan: Annotated[list[str] | None, Form(max_length=30)] = None,
        off_yuan: Annotated[list[str] | None, Form(max_length=30)] = None,
        scope: Annotated[str, Form(max_length=20)] = "all",
        category_ids: Ids = None,
        product_codes: Annotated[str, Form(max_length=20_000)] = "",
        member_only: Annotated[str, Form(max_length=5)] = "",
        tier_ids: Ids = None,
        store_ids: Ids = None,
        weekdays: Ids = None,
        start_time: Annotated[str, Form(max_length=10)] = "",
        end_time: Annotated[str, Form(max_length=10)] = "",
        valid_from: Annotated[str, Form(max_length=30)] = "",
        valid_to: Annotated[str, Form(max_length=30)] = "",
        priority: Annotated[str, Form(max_length=10)] = "0",
        active: Annotated[str, Form(max_length=5)] = "",
    ) -> None:
        self.name, self.kind, self.price = name.strip(), kind, price.strip()
        self.n, self.percent_off, self.buy, self.get = n, percent_off, buy, get
        steps = zip(min_yuan or [], off_yuan or [], strict=False)
        self.steps = [(low.strip(), off.strip()) for low, off in steps][:THRESHOLD_ROWS]
        self.scope, self.category_ids = scope, parse_ids(category_ids)
        self.product_codes, self.member_only = product_codes, bool(member_only)
        self.tier_ids, self.store_ids = parse_ids(tier_ids), parse_ids(store_ids)
        self.weekdays = [d for d in parse_ids(weekdays) if d <= 7]
        self.start_time, self.end_time = start_time.strip(), end_time.strip()
        self.valid_from, self.valid_to = valid_from.strip(), valid_to.strip()
        self.priority, self.active = priority.strip(), bool(active)

    def params(self) -> dict[str, Any]:
        if self.kind == "special_price":
            # Blank is an error here, not ¥0: a forgotten price must not give goods away.
            return {"price": Money.from_yuan(self.price).fen}
        if self.kind == "nth_discount":
            off = parse_hundredths(
                self.percent_off, code="promotion.params_invalid",
                message=_("The discount is a percentage such as 50 (half price)."),
            )  # fmt: skip
            return {"n": whole(self.n), "percent_off": off}
        if self.kind == "buy_x_get_y":
            return {"buy": whole(self.buy), "get": whole(self.get)}
        return {"tiers": [[fen(low), fen(off)] for low, off in self.steps if low or off]}

    def values(self, session: Session) -> dict[str, Any]:
        return {
            "name": self.name, "kind": self.kind, "params": self.params(), "scope": self.scope,
            "scope_ids": scope_ids(session, self.scope, self.category_ids, self.product_codes),
            "member_only": self.member_only, "tier_ids": self.tier_ids,
            "store_ids": self.store_ids, "weekdays": self.weekdays,
            "start_minute": parse_minute(self.start_time),
            "end_minute": parse_minute(self.end_time),
            "valid_from": parse_moment(self.valid_from), "valid_to": parse_moment(self.valid_to),
            # Out of range on purpose when not a number: the service names the rule.
            "priority": int(self.priority) if _PRIORITY.fullmatch(self.priority) else 10_000,
            "active": self.active,
        }  # fmt: skip


def form_of(session: Session, promotion: Promotion) -> dict[str, Any]:
    params, form = promotion.params, PromotionForm(kind=promotion.kind)
    if promotion.kind == "special_price":
        form.price = yuan(params["price"])
    elif promotion.kind == "nth_discount":
        form.n, form.percent_off = str(params["n"]), format_hundredths(params["percent_off"])
    elif promotion.kind == "buy_x_get_y":
        form.buy, form.get = str(params["buy"]), str(params["get"])
    else:
        form.steps = [(yuan(low), yuan(off)) for low, off in params["tiers"]]
    form.name, form.scope, form.member_only = promotion.name, promotion.scope, promotion.member_only
    form.category_ids = promotion.scope_ids if promotion.scope == "categories" else []
    if promotion.scope == "products":
        form.product_codes = product_codes(session, promotion.scope_ids)
    form.tier_ids, form.store_ids = promotion.tier_ids, promotion.store_ids
    form.weekdays, form.priority = promotion.weekdays, str(promotion.priority)
    form.start_time, form.end_time = (
        format_minute(promotion.start_minute), format_minute(promotion.end_minute),
    )  # fmt: skip
    form.valid_from = format_moment(promotion.valid_from)
    form.valid_to, form.active = format_moment(promotion.valid_to), promotion.active
    return vars(form)


def _labels() -> dict[str, Any]:
    return {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS}


@router.get("/office/loyalty/promotions")
def promotions_page(
    request: Request, principal: Reader, db: ReadDb,
    status: Literal["all", "active", "upcoming", "ended", "inactive"] = "all",
) -> Response:  # fmt: skip
    context = {
        "page": promotions.list_promotions(db, status=status, limit=200), "status": status,
        "saved": request.query_params.get("saved"), "format_minute": format_minute,
        "weekday_labels": WEEKDAY_LABELS, "can_configure": principal.can("loyalty.configure"),
        "timezone": TIMEZONE, **_labels(),
    }  # fmt: skip
    return render(request, "loyalty/promotions.html", context)


def _form_page(
    request: Request, db: Session, principal: Principal, *, form: dict[str, Any],
    promotion: Promotion | None = None, error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    form["steps"] = (form["steps"] + [("", "")] * THRESHOLD_ROWS)[:THRESHOLD_ROWS]
    context = {
        "form": form, "promotion": promotion, "error": error, "weekday_labels": WEEKDAY_LABELS,
        "stores": stores.list_stores(db), "tiers": admin.list_tiers(db), "timezone": TIMEZONE,
        "can_configure": principal.can("loyalty.configure"),
        "saved": request.query_params.get("saved"), **scope_context(db), **_labels(),
    }  # fmt: skip
    return render(request, "loyalty/promotion_form.html", context, status_code=status)


def _refused(
    request: Request, db: Session, principal: Principal, form: PromotionForm, exc: DomainError,
    promotion_id: int | None = None,
) -> Response:  # fmt: skip
    db.rollback()
    promotion = promotions.get_promotion(db, promotion_id=promotion_id) if promotion_id else None
    error = error_of(request, exc)
    return _form_page(
        request, db, principal, form=vars(form), promotion=promotion, error=error,
        status=exc.status,
    )  # fmt: skip


@router.get("/office/loyalty/promotions/new")
def new_promotion_page(request: Request, principal: Configurer, db: ReadDb) -> Response:
    return _form_page(request, db, principal, form=vars(PromotionForm(active="1")))


@router.post("/office/loyalty/promotions/new")
def create_promotion_submit(
    request: Request, principal: Configurer, db: WriteDb,
    form: Annotated[PromotionForm, Depends()],
) -> Response:  # fmt: skip
    try:
        data = validated(PromotionCreate, form.values(db), PROMOTION_MESSAGES)
        created = promotions.create_promotion(db, data=data, actor=principal)
    except DomainError as exc:
        return _refused(request, db, principal, form, exc)
    return RedirectResponse(f"/office/loyalty/promotions/{created.id}?saved=1", status_code=303)


@router.get("/office/loyalty/promotions/{promotion_id}")
def promotion_page(
    request: Request, principal: Reader, db: ReadDb, promotion_id: IdPath
) -> Response:
    promotion = promotions.get_promotion(db, promotion_id=promotion_id)
    form = form_of(db, promotion)
    return _form_page(request, db, principal, form=form, promotion=promotion)


@router.post("/office/loyalty/promotions/{promotion_id}")
def update_promotion_submit(
    request: Request, principal: Configurer, db: WriteDb, promotion_id: IdPath,
    form: Annotated[PromotionForm, Depends()],
) -> Response:  # fmt: skip
    promotions.get_promotion(db, promotion_id=promotion_id)
    try:
        data = validated(PromotionUpdate, form.values(db), PROMOTION_MESSAGES)
        promotions.update_promotion(db, promotion_id=promotion_id, data=data, actor=principal)
    except DomainError as exc:
        return _refused(request, db, principal, form, exc, promotion_id)
    return RedirectResponse(f"/office/loyalty/promotions/{promotion_id}?saved=1", status_code=303)


@router.post("/office/loyalty/promotions/{promotion_id}/deactivate")
def deactivate_promotion_submit(
    principal: Configurer, db: WriteDb, promotion_id: IdPath
) -> Response:
    promotions.deactivate_promotion(db, promotion_id=promotion_id, actor=principal)
    return RedirectResponse("/office/loyalty/promotions?saved=1", status_code=303)
