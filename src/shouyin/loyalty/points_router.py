"""REST: a member's loyalty account and ledger, manual points adjustments, gifts for points."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.loyalty import points, service
from shouyin.loyalty.points_schemas import (
    AccountPublic,
    AdjustmentIn,
    AdjustmentPublic,
    GiftCreate,
    GiftPublic,
    GiftRedemptionIn,
    GiftRedemptionPublic,
    GiftUpdate,
    LedgerPage,
    TierChangePublic,
)
from shouyin.web.params import ID_MAX, IdPath

router = APIRouter(prefix="/api/v1", tags=["loyalty"])
LoyaltyReader = Annotated[Principal, Depends(require("loyalty.read"))]
PointsAdjuster = Annotated[Principal, Depends(require("points.adjust"))]
Configurer = Annotated[Principal, Depends(require("loyalty.configure"))]
Seller = Annotated[Principal, Depends(require("sales.sell"))]
Kind = Literal[
    "sale",
    "return",
    "recharge",
    "sv_refund",
    "adjust",
    "expire",
    "gift",
    "merge",
    "compensation",
    "opening",
    "erase",
]
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed"},
    404: {"description": "No such member, gift, store or product"},
    422: {"description": "Invalid request, or not enough points"},
}


@router.get("/members/{member_id}/loyalty", response_model=AccountPublic, responses=ERRORS)
def get_account(member_id: IdPath, principal: LoyaltyReader, db: ReadDb) -> AccountPublic:
    """Tier, progress to the next tier, points (and the soonest to expire), stored value."""
    return service.account_summary(db, member_id=member_id)


@router.get("/members/{member_id}/loyalty/ledger", response_model=LedgerPage, responses=ERRORS)
def get_ledger(
    member_id: IdPath, principal: LoyaltyReader, db: ReadDb,
    kind: Annotated[Kind | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> LedgerPage:  # fmt: skip
    """Every change of the member's balances, newest first."""
    return service.history(db, member_id=member_id, kind=kind, limit=limit, offset=offset)


@router.get(
    "/members/{member_id}/loyalty/tier-changes",
    response_model=list[TierChangePublic],
    responses=ERRORS,
)
def get_tier_changes(
    member_id: IdPath, principal: LoyaltyReader, db: ReadDb
) -> list[TierChangePublic]:
    return service.tier_history(db, member_id=member_id)


@router.post(
    "/members/{member_id}/points/adjustments",
    response_model=AdjustmentPublic,
    status_code=201,
    responses=ERRORS,
)
def adjust_points(
    member_id: IdPath, data: AdjustmentIn, principal: PointsAdjuster, db: WriteDb
) -> AdjustmentPublic:
    """Add points (a new lot) or take them away (oldest first), with a reason; audited."""
    return points.adjust(
        db, member_id=member_id, points=data.points, reason=data.reason, actor=principal
    )


@router.get("/loyalty/gifts", response_model=list[GiftPublic], responses=ERRORS)
def list_gifts(
    principal: LoyaltyReader, db: ReadDb, active: Annotated[bool, Query()] = False
) -> list[GiftPublic]:
    return points.list_gifts(db, active_only=active)


@router.post("/loyalty/gifts", response_model=GiftPublic, status_code=201, responses=ERRORS)
def create_gift(data: GiftCreate, principal: Configurer, db: WriteDb) -> GiftPublic:
    return points.create_gift(db, data=data, actor=principal)


@router.patch("/loyalty/gifts/{gift_id}", response_model=GiftPublic, responses=ERRORS)
def update_gift(
    gift_id: IdPath, data: GiftUpdate, principal: Configurer, db: WriteDb
) -> GiftPublic:
    """Change a gift; retire it with `active: false` (it stays in the members' ledgers)."""
    return points.update_gift(db, gift_id=gift_id, data=data, actor=principal)


GIFT_ERRORS: dict[int | str, dict[str, str]] = {
    **ERRORS,
    200: {"description": "A retry: the result of the first redemption with this client_uuid"},
    409: {"description": "The client_uuid was already used for a different redemption"},
}


@router.post(
    "/members/{member_id}/gift-redemptions",
    response_model=GiftRedemptionPublic,
    status_code=201,
    responses=GIFT_ERRORS,
)
def redeem_gift(
    member_id: IdPath, data: GiftRedemptionIn, principal: Seller, db: WriteDb
) -> JSONResponse:
    """Give the member a gift for points at a store (a product gift leaves its stock).

    Send a new `client_uuid` for each redemption: a retry with the same one returns the
    first result (status 200) and spends nothing more.
    """
    done = points.redeem_gift(db, member_id=member_id, data=data, actor=principal)
    return JSONResponse(done.model_dump(mode="json"), status_code=200 if done.replayed else 201)
