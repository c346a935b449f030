"""REST: the loyalty set-up: tiers, promotions and the loyalty settings."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.loyalty import admin, promotions
from shouyin.loyalty.admin_schemas import (
    LoyaltySettingsIn,
    PromotionCreate,
    PromotionPage,
    PromotionPublic,
    PromotionUpdate,
    TierCreate,
    TierPublic,
    TierUpdate,
)
from shouyin.loyalty.models import Tier
from shouyin.loyalty.settings import LoyaltySettings
from shouyin.shared.clock import utcnow
from shouyin.web.params import IdPath

router = APIRouter(prefix="/api/v1", tags=["loyalty set-up"])
Reader = Annotated[Principal, Depends(require("loyalty.read"))]
Configurer = Annotated[Principal, Depends(require("loyalty.configure"))]
INVALID: dict[int | str, dict[str, str]] = {
    403: {"description": "Needs loyalty.configure"},
    409: {"description": "Clashes with another tier, or the tier is in use"},
    422: {"description": "A rule is broken; the code says which"},
}
NOT_FOUND: dict[int | str, dict[str, str]] = {404: {"description": "No such record"}}


# --- tiers ----------------------------------------------------------------------------------


@router.get("/tiers", response_model=list[TierPublic])
def list_tiers(principal: Reader, db: ReadDb) -> list[Tier]:
    return admin.list_tiers(db)


@router.post("/tiers", response_model=TierPublic, status_code=201, responses=INVALID)
def create_tier(data: TierCreate, principal: Configurer, db: WriteDb) -> Tier:
    return admin.create_tier(db, data=data, actor=principal)


@router.get("/tiers/{tier_id}", response_model=TierPublic, responses=NOT_FOUND)
def get_tier(tier_id: IdPath, principal: Reader, db: ReadDb) -> Tier:
    return admin.get_tier(db, tier_id=tier_id)


@router.patch("/tiers/{tier_id}", response_model=TierPublic, responses=INVALID | NOT_FOUND)
def update_tier(tier_id: IdPath, data: TierUpdate, principal: Configurer, db: WriteDb) -> Tier:
    return admin.update_tier(db, tier_id=tier_id, data=data, actor=principal)


# --- promotions -----------------------------------------------------------------------------


@router.get("/promotions", response_model=PromotionPage)
def list_promotions(
    principal: Reader,
    db: ReadDb,
    status: Literal["all", "active", "upcoming", "ended", "inactive"] = "all",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PromotionPage:
    """``active``: switched on and inside its dates now (weekday and hours not considered)."""
    return promotions.list_promotions(db, status=status, limit=limit, offset=offset)


@router.post("/promotions", response_model=PromotionPublic, status_code=201, responses=INVALID)
def create_promotion(data: PromotionCreate, principal: Configurer, db: WriteDb) -> PromotionPublic:
    created = promotions.create_promotion(db, data=data, actor=principal)
    return promotions.public_of(created, utcnow())


@router.get("/promotions/{promotion_id}", response_model=PromotionPublic, responses=NOT_FOUND)
def get_promotion(promotion_id: IdPath, principal: Reader, db: ReadDb) -> PromotionPublic:
    return promotions.public_of(promotions.get_promotion(db, promotion_id=promotion_id), utcnow())


@router.patch(
    "/promotions/{promotion_id}", response_model=PromotionPublic, responses=INVALID | NOT_FOUND
)
def update_promotion(
    promotion_id: IdPath, data: PromotionUpdate, principal: Configurer, db: WriteDb
) -> PromotionPublic:
    changed = promotions.update_promotion(db, promotion_id=promotion_id, data=data, actor=principal)
    return promotions.public_of(changed, utcnow())


@router.post(
    "/promotions/{promotion_id}/deactivate",
    response_model=PromotionPublic,
    responses=INVALID | NOT_FOUND,
)
def deactivate_promotion(
    promotion_id: IdPath, principal: Configurer, db: WriteDb
) -> PromotionPublic:
    changed = promotions.deactivate_promotion(db, promotion_id=promotion_id, actor=principal)
    return promotions.public_of(changed, utcnow())


# --- settings -------------------------------------------------------------------------------


@router.get("/loyalty/settings", response_model=LoyaltySettings)
def get_settings(principal: Reader, db: ReadDb) -> LoyaltySettings:
    return admin.get_settings(db)


@router.put("/loyalty/settings", response_model=LoyaltySettings, responses=INVALID)
def update_settings(data: LoyaltySettingsIn, principal: Configurer, db: WriteDb) -> LoyaltySettings:
    """Change the loyalty rules; fields left out keep their current value."""
    return admin.update_settings(db, data=data, actor=principal)
