"""Promotions (特价, 第二件半价, 买X送Y, 满减): validation, listing and changes.

What is accepted is exactly what :mod:`shouyin.sales.offers` knows how to apply, so a
saved promotion never surprises the till. Every change is audited and drops the checkout's
cached snapshot.
"""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.errors import NotFound, ValidationFailed
from shouyin.loyalty.admin import check_scope, forget_catalogue, list_tiers
from shouyin.loyalty.admin_schemas import (
    MAX_FEN,
    PromotionCreate,
    PromotionPage,
    PromotionPublic,
    PromotionUpdate,
)
from shouyin.loyalty.models import Promotion
from shouyin.shared.clock import as_utc, utcnow
from shouyin.stores import service as stores

FIELDS = tuple(PromotionCreate.model_fields)
PARAMS_INVALID = "promotion.params_invalid"
MAX_COUNT = 100  # n, buy and get: "the 101st item" is a typo, not a promotion
MAX_THRESHOLDS = 10
DAY_MINUTES = 24 * 60
# Beyond these years a date is a typo, and moving it to UTC could leave the datetime range.
FIRST_YEAR, LAST_YEAR = 1970, 2999


# --- parameters per kind (pure) -----------------------------------------------------------


def _whole(params: dict[str, Any], key: str, low: int, high: int) -> int | None:
    """``params[key]`` when it is a whole number from ``low`` to ``high``, else None."""
    value = params.get(key)
    # bool is an int in Python; a JSON true is never a count or an amount.
    if type(value) is not int or not low <= value <= high:
        return None
    return value


def _exact_keys(params: dict[str, Any], keys: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - set(keys))
    if unknown:
        raise ValidationFailed(
            "Unknown setting {unknown} for this kind of promotion; it takes {keys}.",
            code=PARAMS_INVALID, details={"unknown": ", ".join(unknown), "keys": ", ".join(keys)},
        )  # fmt: skip


def _thresholds(params: dict[str, Any]) -> list[list[int]]:
    rows: Any = params.get("tiers")
    shaped = isinstance(rows, list) and 1 <= len(rows) <= MAX_THRESHOLDS
    if not shaped or not all(
        isinstance(row, list) and len(row) == 2 and all(type(v) is int for v in row) for row in rows
    ):
        raise ValidationFailed(
            "A 满减 promotion needs 1 to {most} steps, each [minimum spend, amount off] in fen.",
            code=PARAMS_INVALID, details={"most": MAX_THRESHOLDS},
        )  # fmt: skip
    steps = sorted([least, off] for least, off in rows)
    for least, off in steps:
        if not (1 <= off <= least <= MAX_FEN):
            raise ValidationFailed(
                "Each 满减 step takes off at least 1 fen and no more than its minimum spend.",
                code=PARAMS_INVALID, details={"least": least, "off": off},
            )  # fmt: skip
    for (low, low_off), (high, high_off) in pairwise(steps):
        if high == low or high_off <= low_off:
            raise ValidationFailed(
                "Each higher 满减 step must need more and take off more than the one below.",
                code=PARAMS_INVALID, details={"least": high, "off": high_off},
            )  # fmt: skip
    return steps


def _special_price(params: dict[str, Any]) -> dict[str, Any]:
    price = _whole(params, "price", 0, MAX_FEN)
    if price is None:
        raise ValidationFailed(
            "A special price needs a price in fen from 0 to {high}.", code=PARAMS_INVALID,
            details={"high": MAX_FEN},
        )  # fmt: skip
    return {"price": price}


def _nth_discount(params: dict[str, Any]) -> dict[str, Any]:
    every, off = _whole(params, "n", 1, MAX_COUNT), _whole(params, "percent_off", 1, 10_000)
    if every is None:
        raise ValidationFailed(
            "Which item is discounted (n) is a whole number from 1 to {high}.",
            code=PARAMS_INVALID, details={"high": MAX_COUNT},
        )  # fmt: skip
    if off is None:
        raise ValidationFailed(
            "The discount (percent_off) is in basis points from 1 to 10000: 5000 = half price.",
            code=PARAMS_INVALID,
        )
    return {"n": every, "percent_off": off}


def _buy_x_get_y(params: dict[str, Any]) -> dict[str, Any]:
    buy, get = _whole(params, "buy", 1, MAX_COUNT), _whole(params, "get", 1, MAX_COUNT)
    if buy is None or get is None:
        raise ValidationFailed(
            "Buy X get Y needs buy and get, each a whole number from 1 to {high}.",
            code=PARAMS_INVALID, details={"high": MAX_COUNT},
        )  # fmt: skip
    return {"buy": buy, "get": get}


KEYS = {
    "special_price": ("price",),
    "nth_discount": ("n", "percent_off"),
    "buy_x_get_y": ("buy", "get"),
    "order_threshold": ("tiers",),
}


def check_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a promotion of ``kind``, checked and in their stored form."""
    _exact_keys(params, KEYS[kind])
    if kind == "special_price":
        return _special_price(params)
    if kind == "nth_discount":
        return _nth_discount(params)
    if kind == "buy_x_get_y":
        return _buy_x_get_y(params)
    return {"tiers": _thresholds(params)}


# --- the rest of a promotion ----------------------------------------------------------------


def _check_window(values: dict[str, Any]) -> None:
    weekdays = values["weekdays"]
    if any(not 1 <= day <= 7 for day in weekdays):
        raise ValidationFailed(
            "Weekdays are 1 (Monday) to 7 (Sunday).", code="promotion.weekdays_invalid"
        )
    values["weekdays"] = sorted(set(weekdays))
    start, end = values["start_minute"], values["end_minute"]
    if (start is None) != (end is None) or (
        start is not None and not 0 <= start < end <= DAY_MINUTES
    ):
        raise ValidationFailed(
            "A time of day runs from a start to a later end on the same day (00:00 to 24:00).",
            code="promotion.time_invalid",
        )
    given = (values["valid_from"], values["valid_to"])
    if any(v is not None and not FIRST_YEAR <= v.year <= LAST_YEAR for v in given):
        raise ValidationFailed(
            "Promotion dates must fall between 1970 and 2999.", code="promotion.dates_invalid"
        )
    begins, ends = (as_utc(v) if v else None for v in given)
    if begins is not None and ends is not None and not begins < ends:
        raise ValidationFailed(
            "A promotion must end after it starts.", code="promotion.dates_invalid"
        )
    values["valid_from"], values["valid_to"] = begins, ends
    if not -1000 <= values["priority"] <= 1000:
        raise ValidationFailed(
            "The priority is from -1000 to 1000.", code="promotion.priority_invalid"
        )


def _check_ids(session: Session, values: dict[str, Any]) -> None:
    store_ids = sorted(set(values["store_ids"]))
    known_stores = {s.id for s in stores.list_stores(session)}
    missing = [i for i in store_ids if i not in known_stores]
    if missing:
        raise ValidationFailed(
            "These stores do not exist: {missing}.", code="promotion.stores_invalid",
            details={"missing": ", ".join(map(str, missing))},
        )  # fmt: skip
    tier_ids = sorted(set(values["tier_ids"]))
    known_tiers = {t.id for t in list_tiers(session)}
    missing = [i for i in tier_ids if i not in known_tiers]
    if missing:
        raise ValidationFailed(
            "These tiers do not exist: {missing}.", code="promotion.tiers_invalid",
            details={"missing": ", ".join(map(str, missing))},
        )  # fmt: skip
    values["store_ids"], values["tier_ids"] = store_ids, tier_ids


def _checked(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    values["params"] = check_params(values["kind"], values["params"])
    values["scope_ids"] = check_scope(
        session, scope=values["scope"], scope_ids=values["scope_ids"],
        code="promotion.scope_invalid",
    )  # fmt: skip
    _check_window(values)
    _check_ids(session, values)
    return values


# --- status and listing ---------------------------------------------------------------------


def status_of(promotion: Promotion, now: datetime) -> str:
    if not promotion.active:
        return "inactive"
    if promotion.valid_from is not None and now < promotion.valid_from:
        return "upcoming"
    if promotion.valid_to is not None and now >= promotion.valid_to:
        return "ended"
    return "active"


def _status_clause(status: str, now: datetime) -> ColumnElement[bool]:
    started = or_(Promotion.valid_from.is_(None), Promotion.valid_from <= now)
    ended = and_(Promotion.valid_to.is_not(None), Promotion.valid_to <= now)
    on = Promotion.active.is_(True)
    clauses = {
        "active": and_(on, started, ~ended),
        "upcoming": and_(on, ~started),
        "ended": and_(on, started, ended),
        "inactive": Promotion.active.is_(False),
    }
    return clauses.get(status, true() if status == "all" else false())


def public_of(promotion: Promotion, now: datetime) -> PromotionPublic:
    values = {name: getattr(promotion, name) for name in FIELDS}
    return PromotionPublic(
        id=promotion.id, created_at=promotion.created_at, status=status_of(promotion, now),
        **values,
    )  # fmt: skip


def list_promotions(
    session: Session, *, status: str = "all", limit: int = 50, offset: int = 0,
    now: datetime | None = None,
) -> PromotionPage:  # fmt: skip
    now = now or utcnow()
    where = _status_clause(status, now)
    query = select(Promotion).where(where).order_by(Promotion.priority.desc(), Promotion.id)
    rows = session.scalars(query.limit(limit).offset(offset)).all()
    total = session.scalar(select(func.count()).select_from(Promotion).where(where)) or 0
    items = [public_of(row, now) for row in rows]
    return PromotionPage(items=items, total=total, limit=limit, offset=offset)


def count_running(session: Session, *, now: datetime | None = None) -> int:
    where = _status_clause("active", now or utcnow())
    return session.scalar(select(func.count()).select_from(Promotion).where(where)) or 0


def get_promotion(session: Session, *, promotion_id: int) -> Promotion:
    promotion = session.get(Promotion, promotion_id)
    if promotion is None:
        raise NotFound(
            "No such promotion.", code="promotion.not_found",
            details={"promotion_id": promotion_id},
        )  # fmt: skip
    return promotion


# --- changes --------------------------------------------------------------------------------


def _snapshot(promotion: Promotion) -> dict[str, Any]:
    return {name: getattr(promotion, name) for name in FIELDS}


def create_promotion(
    session: Session, *, data: PromotionCreate, actor: Principal | None
) -> Promotion:
    values = _checked(session, data.model_dump())
    promotion = Promotion(**values)
    session.add(promotion)
    session.flush()
    audit.record(
        session, actor=actor, action="promotion.create", entity="promotion",
        entity_id=promotion.id, after=values, actor_name="system",
    )  # fmt: skip
    forget_catalogue(session)
    return promotion


def update_promotion(
    session: Session, *, promotion_id: int, data: PromotionUpdate, actor: Principal | None
) -> Promotion:
    promotion = get_promotion(session, promotion_id=promotion_id)
    before = _snapshot(promotion)
    given = data.model_dump(exclude_unset=True)
    # Null clears a window field; for the others it means "leave as is".
    clearable = {"start_minute", "end_minute", "valid_from", "valid_to"}
    given = {k: v for k, v in given.items() if v is not None or k in clearable}
    if given.get("scope") == "all" and "scope_ids" not in given:
        given["scope_ids"] = []
    values = _checked(session, before | given)
    for name, value in values.items():
        setattr(promotion, name, value)
    session.flush()
    changed = [k for k in values if before[k] != values[k]]
    audit.record(
        session, actor=actor, action="promotion.update", entity="promotion",
        entity_id=promotion.id, before={k: before[k] for k in changed},
        after={k: values[k] for k in changed}, actor_name="system",
    )  # fmt: skip
    forget_catalogue(session)
    return promotion


def deactivate_promotion(
    session: Session, *, promotion_id: int, actor: Principal | None
) -> Promotion:
    return update_promotion(
        session, promotion_id=promotion_id, data=PromotionUpdate(active=False), actor=actor
    )
