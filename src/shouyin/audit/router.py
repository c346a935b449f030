"""REST: read the audit log page by page, and verify its hash chain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict

from shouyin.audit import service
from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
AuditReader = Annotated[Principal, Depends(require("audit.read"))]
MAX_LIMIT = 500


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    at: datetime
    actor_id: int | None
    actor: str
    store_id: int | None
    ip: str | None
    action: str
    entity: str | None
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    total: int
    limit: int
    offset: int


class VerificationPublic(BaseModel):
    ok: bool
    checked: int
    problem: str | None
    entry_id: int | None


@router.get("", response_model=AuditPage, responses={403: {"description": "Not allowed"}})
def list_entries(
    principal: AuditReader,
    db: ReadDb,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> AuditPage:
    entries = service.list_entries(db, limit=limit, offset=offset, action=action or None)
    return AuditPage(
        items=[AuditEntryPublic.model_validate(entry) for entry in entries],
        total=service.count(db, action=action or None),
        limit=limit,
        offset=offset,
    )


@router.get(
    "/verify", response_model=VerificationPublic, responses={403: {"description": "Not allowed"}}
)
def verify(principal: AuditReader, db: ReadDb) -> VerificationPublic:
    result = service.verify(db)
    return VerificationPublic(
        ok=result.ok, checked=result.checked, problem=result.problem, entry_id=result.entry_id
    )
