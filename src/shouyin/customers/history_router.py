"""REST: a member's purchase history (消费记录)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from shouyin.analytics.member_history import MemberHistory, member_history
from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.customers import service
from shouyin.db import ReadDb
from shouyin.web.params import IdPath

router = APIRouter(prefix="/api/v1/members", tags=["members"])
MemberReader = Annotated[Principal, Depends(require("members.read"))]


@router.get(
    "/{member_id}/history",
    response_model=MemberHistory,
    responses={403: {"description": "Not allowed"}, 404: {"description": "No such member"}},
)
def get_member_history(
    member_id: IdPath,
    principal: MemberReader,
    db: ReadDb,
    limit: Annotated[int, Query(ge=1, le=100, description="How many recent orders")] = 20,
) -> MemberHistory:
    service.get_member(db, member_id=member_id)
    return member_history(db, member_id=member_id, limit=limit)
