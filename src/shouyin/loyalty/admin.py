"""Loyalty set-up: membership tiers and the shop's loyalty settings.

Every change is audited and drops the checkout's cached snapshot (catalogue.invalidate),
so the next sale prices with the new rules.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.auth.principal import Principal
from shouyin.catalog import service as catalog
from shouyin.errors import Conflict, NotFound, ValidationFailed
from shouyin.loyalty import catalogue
from shouyin.loyalty import settings as loyalty_settings
from shouyin.loyalty.admin_schemas import LoyaltySettingsIn, TierCreate, TierUpdate
from shouyin.loyalty.models import MemberAccount, Tier
from shouyin.loyalty.settings import LoyaltySettings

TIER_FIELDS = (
    "code", "name", "rank", "threshold", "discount_bp", "points_multiplier", "scope",
    "scope_ids", "active",
)  # fmt: skip


# --- shared with promotions ------------------------------------------------------------------


def forget_catalogue(session: Session) -> None:
    """Drop checkout's snapshot now, and again once this transaction commits.

    A sale in another request that reloads the snapshot before our commit would cache the
    old rules for up to the snapshot's TTL; the second drop closes that gap.
    """
    catalogue.invalidate(session)
    event.listen(session, "after_commit", catalogue.invalidate, once=True)


# --- scope -------------------------------------------------------


def check_scope(session: Session, *, scope: str, scope_ids: Iterable[int], code: str) -> list[int]:
    """The scope's ids, sorted and without repeats, after checking each one exists."""
    ids = sorted(set(scope_ids))
    if scope == "all":
        if ids:
            raise ValidationFailed(
                "A scope of everything takes no categories or products.", code=code
            )
        return ids
    if not ids:
        raise ValidationFailed("Choose at least one category or product for the scope.", code=code)
    if scope == "categories":
        known = {c.id for c in catalog.list_categories(session)}
        missing = ", ".join(str(i) for i in ids if i not in known)
        if missing:
            raise ValidationFailed(
                "These categories do not exist: {missing}.", code=code,
                details={"missing": missing},
            )  # fmt: skip
    else:
        known = set(catalog.products_for_sale(session, product_ids=ids))
        missing = ", ".join(str(i) for i in ids if i not in known)
        if missing:
            raise ValidationFailed(
                "These products do not exist: {missing}.", code=code,
                details={"missing": missing},
            )  # fmt: skip
    return ids


# --- tiers ----------------------------------------------------------------------------------


def list_tiers(session: Session) -> list[Tier]:
    return list(session.scalars(select(Tier).order_by(Tier.rank)))


def get_tier(session: Session, *, tier_id: int) -> Tier:
    tier = session.get(Tier, tier_id)
    if tier is None:
        raise NotFound("No such tier.", code="tier.not_found", details={"tier_id": tier_id})
    return tier


def _snapshot(tier: Tier) -> dict[str, Any]:
    return {name: getattr(tier, name) for name in TIER_FIELDS}


def _check_unique(session: Session, values: dict[str, Any], tier_id: int | None) -> None:
    owner = session.scalar(select(Tier.id).where(Tier.code == values["code"]))
    if owner is not None and owner != tier_id:
        raise Conflict(
            "Another tier already has the code {code}.", code="tier.code_exists",
            details={"code": values["code"]},
        )  # fmt: skip
    owner = session.scalar(select(Tier.id).where(Tier.rank == values["rank"]))
    if owner is not None and owner != tier_id:
        raise Conflict(
            "Another tier already has the rank {rank}.", code="tier.rank_exists",
            details={"rank": values["rank"]},
        )  # fmt: skip


def _check_ladder(session: Session, values: dict[str, Any], tier_id: int | None) -> None:
    """The active tiers form a ladder: one entry tier, thresholds rising with rank."""
    others = [t for t in list_tiers(session) if t.id != tier_id and t.active]
    ladder = sorted(
        [(t.rank, t.threshold) for t in others]
        + ([(values["rank"], values["threshold"])] if values["active"] else [])
    )
    if not ladder or ladder[0] != (0, 0):
        raise ValidationFailed(
            "There must be exactly one active entry tier, with rank 0 and a threshold of 0.",
            code="tier.entry_invalid",
        )
    for (low_rank, low), (high_rank, high) in pairwise(ladder):
        if high <= low:
            raise ValidationFailed(
                "A tier of a higher rank needs a higher threshold: rank {high_rank} needs more "
                "than {low} fen of growth value (rank {low_rank}).",
                code="tier.order_invalid",
                details={"high_rank": high_rank, "low_rank": low_rank, "low": low},
            )


def _check_tier(session: Session, values: dict[str, Any], tier: Tier | None) -> dict[str, Any]:
    tier_id = tier.id if tier is not None else None
    _check_unique(session, values, tier_id)
    values["scope_ids"] = check_scope(
        session, scope=values["scope"], scope_ids=values["scope_ids"], code="tier.scope_invalid"
    )
    if tier is not None and tier.active and not values["active"]:
        members = count_members(session).get(tier.id, 0)
        if members:
            raise Conflict(
                "{members} members hold this tier, so it cannot be switched off. "
                "Move them to another tier first.",
                code="tier.in_use", details={"members": members},
            )  # fmt: skip
    _check_ladder(session, values, tier_id)
    return values


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent save took the code or rank first
        raise Conflict(
            "Someone else just saved a tier with the same code or rank. Reload and try again.",
            code="tier.conflict",
        ) from exc


def create_tier(session: Session, *, data: TierCreate, actor: Principal | None) -> Tier:
    values = _check_tier(session, data.model_dump(), None)
    tier = Tier(**values)
    session.add(tier)
    _flush(session)
    audit.record(
        session, actor=actor, action="tier.create", entity="tier", entity_id=tier.id,
        after=values, actor_name="system",
    )  # fmt: skip
    forget_catalogue(session)
    return tier


def update_tier(
    session: Session, *, tier_id: int, data: TierUpdate, actor: Principal | None
) -> Tier:
    tier = get_tier(session, tier_id=tier_id)
    before = _snapshot(tier)
    given = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if given.get("scope") == "all" and "scope_ids" not in given:
        given["scope_ids"] = []  # widening to everything drops the old list
    values = _check_tier(session, before | given, tier)
    for name, value in values.items():
        setattr(tier, name, value)
    _flush(session)
    changed = {k: v for k, v in values.items() if before[k] != v}
    audit.record(
        session, actor=actor, action="tier.update", entity="tier", entity_id=tier.id,
        before={k: before[k] for k in changed}, after=changed, actor_name="system",
    )  # fmt: skip
    forget_catalogue(session)
    return tier


def count_members(session: Session) -> dict[int | None, int]:
    """How many member accounts hold each tier (None: no tier yet)."""
    rows = session.execute(
        select(MemberAccount.tier_id, func.count()).group_by(MemberAccount.tier_id)
    )
    return {tier_id: int(n) for tier_id, n in rows}


# --- settings -------------------------------------------------------------------------------


def get_settings(session: Session) -> LoyaltySettings:
    return loyalty_settings.load(session)


def update_settings(
    session: Session, *, data: LoyaltySettingsIn, actor: Principal | None
) -> LoyaltySettings:
    current = loyalty_settings.load(session)
    merged = LoyaltySettings.model_validate(
        current.model_dump() | data.model_dump(exclude_unset=True)
    )
    loyalty_settings.save(session, merged)
    before, after = current.model_dump(), merged.model_dump()
    changed = [k for k in after if before[k] != after[k]]
    audit.record(
        session, actor=actor, action="loyalty.settings_update", entity="loyalty_settings",
        entity_id=loyalty_settings.SETTINGS_ID, before={k: before[k] for k in changed},
        after={k: after[k] for k in changed}, actor_name="system",
    )  # fmt: skip
    forget_catalogue(session)
    return merged
