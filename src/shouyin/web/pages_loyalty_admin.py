"""Back office: the loyalty hub, membership tiers and the loyalty settings.

Amounts are typed in yuan and tier discounts in 折 (9 = 10% off), the way shop staff
say them; the services keep fen and basis points. The scope helpers here are shared with
the promotion pages.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, NotFound, ValidationFailed
from shouyin.loyalty import admin, promotions
from shouyin.loyalty.admin_schemas import LoyaltySettingsIn, TierCreate, TierUpdate
from shouyin.loyalty.models import Tier
from shouyin.shared.money import Money
from shouyin.web.office_common import _, error_of, parse_id, validated
from shouyin.web.params import IdPath
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
Reader = Annotated[Principal, Depends(require("loyalty.read"))]
Configurer = Annotated[Principal, Depends(require("loyalty.configure"))]
Ids = Annotated[list[str] | None, Form()]
_WHOLE = re.compile(r"[0-9]{1,9}", re.ASCII)
_HUNDREDTHS = re.compile(r"([0-9]{1,5})(?:\.([0-9]{1,2}))?", re.ASCII)
SCOPE_LABELS = {
    "all": _("Everything"),
    "categories": _("Chosen categories"),
    "products": _("Chosen products"),
}
TIER_MESSAGES = {
    "code": (_("A tier code is 1 to 16 letters, digits, - or _."), "tier.code_invalid"),
    "name": (_("A tier needs a name of at most 40 characters."), "tier.name_invalid"),
    "rank": (_("The rank is a whole number from 0 to 1000."), "tier.rank_invalid"),
    "threshold": (_("The threshold is from 0 to 1,000,000 yuan."), "tier.threshold_invalid"),
    "discount_bp": (_("The discount is from 1折 to 10折 (no discount)."), "tier.discount_invalid"),
    "points_multiplier": (
        _("The points multiplier is from 0% to 1000%."),
        "tier.multiplier_invalid",
    ),
}
EXPIRY_LABELS = {
    "end_of_next_year": _("At the end of the year after they were earned"),
    "days": _("A number of days after they were earned"),
    "never": _("Never"),
}
SPEND_LABELS = {
    "principal_first": _("Principal first, then bonus"),
    "bonus_first": _("Bonus first, then principal"),
    "proportional": _("Principal and bonus in proportion"),
}
CONFLICT_LABELS = {
    "best": _("The best one for the customer"),
    "priority": _("The one with the highest priority"),
}
LINKS = (
    ("/office/loyalty/tiers", _("Tiers"), _("Discounts and points multipliers by tier.")),
    ("/office/loyalty/promotions", _("Promotions"), _("Special prices, 第二件半价, 买X送Y, 满减.")),
    ("/office/loyalty/coupons", _("Coupons"), _("Coupon templates and issued coupons.")),
    ("/office/loyalty/stored-value", _("Stored value"), _("Recharges and recharge rules.")),
    ("/office/loyalty/liability", _("Liability report"), _("Outstanding stored value.")),
    ("/office/loyalty/gifts", _("Gifts"), _("The points gift catalogue.")),
    ("/office/loyalty/settings", _("Settings"), _("Points, expiry, tiers and promotion rules.")),
)


# --- form values shared with the promotion pages -------------------------------------------


def parse_hundredths(text: str, *, code: str, message: str) -> int:
    """A number with at most two decimals ("8.5", "50") in hundredths (850, 5000)."""
    match = _HUNDREDTHS.fullmatch(text.strip())
    if match is None:
        raise ValidationFailed(message, code=code, details={"value": text.strip()})
    whole, decimals = match.groups()
    return int(whole) * 100 + int((decimals or "0").ljust(2, "0"))


def format_hundredths(value: int) -> str:
    whole, part = divmod(value, 100)
    return str(whole) if part == 0 else f"{whole}.{part:02d}".rstrip("0")


def whole(text: str) -> int:
    """A whole number as typed; anything else is -1, which the schema or service refuses."""
    text = text.strip()
    return int(text) if _WHOLE.fullmatch(text) else -1


def fen(text: str) -> int:
    return Money.from_yuan(text or "0").fen


def yuan(value: int) -> str:
    return Money(value).yuan_str()


def parse_ids(values: list[str] | None) -> list[int]:
    # parse_id trusts str.isdigit, which also says yes to digits int() cannot read ("①").
    ids = (parse_id(v) for v in values or [] if v.isascii())
    return sorted({i for i in ids if i is not None})


def product_ids(session: Session, codes: str) -> list[int]:
    """Product ids from SKUs or barcodes typed one per line (or separated by commas)."""
    found = set()
    for code in re.split(r"[\s,，]+", codes.strip()):
        if not code:
            continue
        try:
            found.add(catalog.lookup(session, code=code).id)
        except NotFound:
            raise ValidationFailed(
                "No product has the SKU or barcode {code}.", code="scope.product_unknown",
                details={"code": code},
            ) from None  # fmt: skip
    return sorted(found)


def product_codes(session: Session, ids: list[int]) -> str:
    skus = []
    for product_id in ids:
        try:
            skus.append(catalog.get_product(session, product_id=product_id).sku)
        except NotFound:  # deleted since; saving the form again drops it
            continue
    return "\n".join(skus)


def scope_ids(session: Session, scope: str, category_ids: list[int], codes: str) -> list[int]:
    if scope == "categories":
        return category_ids
    if scope == "products":
        return product_ids(session, codes)
    return []


def scope_context(session: Session) -> dict[str, Any]:
    return {"categories": catalog.list_categories(session), "scope_labels": SCOPE_LABELS}


# --- hub ------------------------------------------------------------------------------------


@router.get("/office/loyalty")
def hub_page(request: Request, principal: Reader, db: ReadDb) -> Response:
    counts = admin.count_members(db)
    context = {
        "links": LINKS, "tiers": admin.list_tiers(db), "members": counts,
        "unassigned": counts.get(None, 0), "running": promotions.count_running(db),
    }  # fmt: skip
    return render(request, "loyalty/hub.html", context)


# --- tiers ----------------------------------------------------------------------------------


def tier_form_of(session: Session, tier: Tier) -> dict[str, Any]:
    return {
        "code": tier.code, "name": tier.name, "rank": str(tier.rank),
        "threshold": yuan(tier.threshold), "zhe": format_hundredths((10_000 - tier.discount_bp) // 10),
        "multiplier": str(tier.points_multiplier), "scope": tier.scope,
        "category_ids": tier.scope_ids if tier.scope == "categories" else [],
        "product_codes": product_codes(session, tier.scope_ids) if tier.scope == "products" else "",
        "active": tier.active,
    }  # fmt: skip


class TierForm:
    def __init__(
        self,
        code: Annotated[str, Form(max_length=100)] = "",
        name: Annotated[str, Form(max_length=200)] = "",
        rank: Annotated[str, Form(max_length=20)] = "",
        threshold: Annotated[str, Form(max_length=30)] = "0",
        zhe: Annotated[str, Form(max_length=20)] = "10",
        multiplier: Annotated[str, Form(max_length=20)] = "100",
        scope: Annotated[str, Form(max_length=20)] = "all",
        category_ids: Ids = None,
        product_codes: Annotated[str, Form(max_length=20_000)] = "",
        active: Annotated[str, Form(max_length=5)] = "",
    ) -> None:
        self.code, self.name, self.rank = code.strip(), name.strip(), rank.strip()
        self.threshold, self.zhe, self.multiplier = threshold.strip(), zhe.strip(), multiplier
        self.scope, self.product_codes, self.active = scope, product_codes, bool(active)
        self.category_ids = parse_ids(category_ids)

    def values(self, session: Session) -> dict[str, Any]:
        zhe = parse_hundredths(
            self.zhe or "10", code="tier.discount_invalid",
            message=_("The discount is from 1折 to 10折 (no discount)."),
        )  # fmt: skip
        return {
            "code": self.code, "name": self.name, "rank": whole(self.rank),
            "threshold": fen(self.threshold), "discount_bp": 10_000 - zhe * 10,
            "points_multiplier": whole(self.multiplier),
            "scope": self.scope,
            "scope_ids": scope_ids(session, self.scope, self.category_ids, self.product_codes),
            "active": self.active,
        }  # fmt: skip


def _tiers_page(
    request: Request, db: Session, principal: Principal, *, form: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None, status: int = 200, editing: Tier | None = None,
) -> Response:  # fmt: skip
    blank = {"scope": "all", "zhe": "10", "multiplier": "100", "threshold": "0", "active": True}
    context = {
        "tiers": admin.list_tiers(db), "members": admin.count_members(db), "error": error,
        "form": form or blank, "editing": editing, "saved": request.query_params.get("saved"),
        "can_configure": principal.can("loyalty.configure"), "zhe_of": format_hundredths,
        **scope_context(db),
    }  # fmt: skip
    name = "loyalty/tiers_edit.html" if editing else "loyalty/tiers.html"
    return render(request, name, context, status_code=status)


@router.get("/office/loyalty/tiers")
def tiers_page(request: Request, principal: Reader, db: ReadDb) -> Response:
    return _tiers_page(request, db, principal)


@router.post("/office/loyalty/tiers")
def create_tier_submit(
    request: Request, principal: Configurer, db: WriteDb, form: Annotated[TierForm, Depends()]
) -> Response:
    try:
        data = validated(TierCreate, form.values(db), TIER_MESSAGES)
        admin.create_tier(db, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _tiers_page(request, db, principal, form=vars(form), error=error, status=exc.status)
    return RedirectResponse("/office/loyalty/tiers?saved=1", status_code=303)


@router.get("/office/loyalty/tiers/{tier_id}")
def tier_page(request: Request, principal: Reader, db: ReadDb, tier_id: IdPath) -> Response:
    tier = admin.get_tier(db, tier_id=tier_id)
    return _tiers_page(request, db, principal, form=tier_form_of(db, tier), editing=tier)


@router.post("/office/loyalty/tiers/{tier_id}")
def update_tier_submit(
    request: Request, principal: Configurer, db: WriteDb, tier_id: IdPath,
    form: Annotated[TierForm, Depends()],
) -> Response:  # fmt: skip
    admin.get_tier(db, tier_id=tier_id)
    try:
        data = validated(TierUpdate, form.values(db), TIER_MESSAGES)
        admin.update_tier(db, tier_id=tier_id, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        tier = admin.get_tier(db, tier_id=tier_id)
        error = error_of(request, exc)
        return _tiers_page(
            request, db, principal, form=vars(form), error=error, status=exc.status, editing=tier
        )
    return RedirectResponse("/office/loyalty/tiers?saved=1", status_code=303)


# --- settings -------------------------------------------------------------------------------


class SettingsForm:
    def __init__(
        self,
        earn_yuan: Annotated[str, Form(max_length=30)] = "",
        point_value: Annotated[str, Form(max_length=30)] = "",
        redeem_cap_percent: Annotated[str, Form(max_length=10)] = "",
        points_expiry: Annotated[str, Form(max_length=30)] = "",
        points_expiry_days: Annotated[str, Form(max_length=10)] = "",
        growth_window_days: Annotated[str, Form(max_length=10)] = "",
        tier_review_day: Annotated[str, Form(max_length=10)] = "",
        stored_value_cap: Annotated[str, Form(max_length=30)] = "",
        stored_value_spend: Annotated[str, Form(max_length=30)] = "",
        promotion_conflict: Annotated[str, Form(max_length=30)] = "",
        tier_on_promoted_items: Annotated[str, Form(max_length=5)] = "",
    ) -> None:
        # Every field as typed, so a refused form comes back as the user left it.
        self.typed = {
            k: v.strip() for k, v in locals().items() if isinstance(v, str) and k != "self"
        }

    def values(self) -> dict[str, Any]:
        t = self.typed
        return {
            "earn_fen_per_point": fen(t["earn_yuan"]), "redeem_fen_per_point": fen(t["point_value"]),
            "redeem_cap_percent": whole(t["redeem_cap_percent"]), "points_expiry": t["points_expiry"],
            "points_expiry_days": whole(t["points_expiry_days"]),
            "growth_window_days": whole(t["growth_window_days"]),
            "tier_review_day": whole(t["tier_review_day"]),
            "stored_value_cap": fen(t["stored_value_cap"]),
            "stored_value_spend": t["stored_value_spend"],
            "promotion_conflict": t["promotion_conflict"],
            "tier_on_promoted_items": bool(t["tier_on_promoted_items"]),
        }  # fmt: skip


SETTINGS_MESSAGES = {
    "earn_fen_per_point": (
        _("The spend per point is from 0.01 to 10,000 yuan."),
        "settings.invalid",
    ),
    "redeem_fen_per_point": (_("A point is worth from 0.01 to 100 yuan."), "settings.invalid"),
    "redeem_cap_percent": (_("The redemption cap is from 0% to 100%."), "settings.invalid"),
    "points_expiry": (_("Choose when points expire."), "settings.invalid"),
    "points_expiry_days": (_("Points expire after 1 to 3650 days."), "settings.invalid"),
    "growth_window_days": (_("The growth window is 1 to 3650 days."), "settings.invalid"),
    "tier_review_day": (
        _("The review day is a day of the month from 1 to 28."),
        "settings.invalid",
    ),
    "stored_value_cap": (
        _("The stored-value cap is from 0 to 1,000,000 yuan."),
        "settings.invalid",
    ),
    "stored_value_spend": (_("Choose which part of stored value pays first."), "settings.invalid"),
    "promotion_conflict": (_("Choose how competing promotions are settled."), "settings.invalid"),
}


def _settings_page(
    request: Request, db: Session, principal: Principal, *, form: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    current = admin.get_settings(db)
    shown = form or current.model_dump() | {
        "earn_yuan": yuan(current.earn_fen_per_point),
        "point_value": yuan(current.redeem_fen_per_point),
        "stored_value_cap": yuan(current.stored_value_cap),
    }
    context = {
        "form": shown, "error": error, "saved": request.query_params.get("saved"),
        "can_configure": principal.can("loyalty.configure"), "expiry_labels": EXPIRY_LABELS,
        "spend_labels": SPEND_LABELS, "conflict_labels": CONFLICT_LABELS,
    }  # fmt: skip
    return render(request, "loyalty/settings.html", context, status_code=status)


@router.get("/office/loyalty/settings")
def settings_page(request: Request, principal: Reader, db: ReadDb) -> Response:
    return _settings_page(request, db, principal)


@router.post("/office/loyalty/settings")
def settings_submit(
    request: Request, principal: Configurer, db: WriteDb,
    form: Annotated[SettingsForm, Depends()],
) -> Response:  # fmt: skip
    try:
        data = validated(LoyaltySettingsIn, form.values(), SETTINGS_MESSAGES)
        admin.update_settings(db, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        typed = form.typed | {"tier_on_promoted_items": bool(form.typed["tier_on_promoted_items"])}
        error = error_of(request, exc)
        return _settings_page(request, db, principal, form=typed, error=error, status=exc.status)
    return RedirectResponse("/office/loyalty/settings?saved=1", status_code=303)
