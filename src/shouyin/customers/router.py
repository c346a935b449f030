"""REST: register, find, read, change and tag members; record consent."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.customers import duplicates, privacy, service
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.keys import cipher_for
from shouyin.customers.schemas import (
    ConsentIn,
    DuplicatePublic,
    MemberCreate,
    MemberPage,
    MemberPublic,
    MemberSummary,
    MemberUpdate,
    MergeIn,
    TagChange,
)
from shouyin.db import ReadDb, WriteDb
from shouyin.web.params import ID_MAX, IdPath

router = APIRouter(prefix="/api/v1/members", tags=["members"])
MemberReader = Annotated[Principal, Depends(require("members.read"))]
MemberWriter = Annotated[Principal, Depends(require("members.write"))]
MemberExporter = Annotated[Principal, Depends(require("members.export"))]
MemberEraser = Annotated[Principal, Depends(require("members.erase"))]
MemberMerger = Annotated[Principal, Depends(require("members.merge"))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS: dict[int | str, dict[str, str]] = {
    403: {"description": "Not allowed"},
    404: {"description": "No such member"},
    409: {"description": "The mobile number belongs to another member"},
    422: {"description": "Invalid member data"},
}


def cipher(request: Request) -> FieldCipher:
    return cipher_for(request.app.state.settings)


Cipher = Annotated[FieldCipher, Depends(cipher)]


def _profile(
    db: ReadDb | WriteDb, member_id: int, principal: Principal, cipher: FieldCipher
) -> MemberPublic:
    member = service.get_member(db, member_id=member_id)
    tags = service.tags_of(db, [member.id]).get(member.id, [])
    return service.public(member, tags, cipher, personal=principal.can("members.personal"))


@router.get("/lookup", response_model=list[MemberSummary], responses=ERRORS)
def lookup(
    principal: MemberReader, db: ReadDb, cipher: Cipher, response: Response,
    q: Annotated[str, Query(min_length=1, max_length=40, description="Card, mobile, last 4, name or initials")],
) -> list[MemberSummary]:  # fmt: skip
    """At most 50 matches, newest first; the `X-Total-Count` header says how many there are,
    so the till can ask for a full mobile or name when the last 4 digits are not enough."""
    found = service.lookup(db, query=q, cipher=cipher)
    total = len(found)
    if total >= service.LOOKUP_LIMIT:
        total = service.count_matches(db, query=q, cipher=cipher)
    response.headers["X-Total-Count"] = str(total)
    return [service.summary(m, cipher) for m in found]


@router.get("", response_model=MemberPage, responses=ERRORS)
def list_members(
    principal: MemberReader, db: ReadDb, cipher: Cipher,
    store_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    tag: Annotated[str | None, Query(max_length=30)] = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=ID_MAX)] = 0,
) -> MemberPage:  # fmt: skip
    rows, total = service.list_members(
        db, store_id=store_id, tag=tag, q=q, limit=limit, offset=offset, cipher=cipher
    )
    items = [service.summary(m, cipher) for m in rows]
    return MemberPage(items=items, total=total, limit=limit, offset=offset)


@router.post("", response_model=MemberPublic, status_code=201, responses=ERRORS)
def register(
    data: MemberCreate, principal: MemberWriter, db: WriteDb, cipher: Cipher, request: Request
) -> MemberPublic:
    version = request.app.state.settings.privacy_notice_version
    member = service.register(db, data=data, actor=principal, cipher=cipher, notice_version=version)
    return _profile(db, member.id, principal, cipher)


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}}, **ERRORS},
)
def export_members(
    principal: MemberExporter, db: WriteDb, cipher: Cipher,
    format: Annotated[Literal["csv", "xlsx"], Query()] = "csv",
    store_id: Annotated[int | None, Query(ge=1, le=ID_MAX)] = None,
    tag: Annotated[str | None, Query(max_length=30)] = None,
) -> Response:  # fmt: skip
    # A write session: the export itself is recorded in the audit log.
    body = privacy.export_members(
        db, actor=principal, cipher=cipher, fmt=format, store_id=store_id, tag=tag
    )
    media = XLSX if format == "xlsx" else "text/csv; charset=utf-8"
    headers = {"Content-Disposition": f'attachment; filename="members.{format}"'}
    return Response(body, media_type=media, headers=headers)


@router.post("/{member_id}/erase", response_model=MemberSummary, responses=ERRORS)
def erase_member(
    member_id: IdPath, principal: MemberEraser, db: WriteDb, cipher: Cipher
) -> MemberSummary:
    return service.summary(
        privacy.erase(db, member_id=member_id, actor=principal, cipher=cipher), cipher
    )


@router.get("/duplicates", response_model=list[DuplicatePublic], responses=ERRORS)
def list_duplicates(principal: MemberMerger, db: ReadDb, cipher: Cipher) -> list[DuplicatePublic]:
    groups = duplicates.find_duplicates(db, cipher=cipher)
    return [DuplicatePublic(reason=g.reason, member_ids=list(g.member_ids)) for g in groups]


@router.post("/{member_id}/merge", response_model=MemberPublic, responses=ERRORS)
def merge_member(
    member_id: IdPath, data: MergeIn, principal: MemberMerger, db: WriteDb, cipher: Cipher
) -> MemberPublic:
    """Merge the duplicate `data.duplicate_id` into this member (the survivor)."""
    duplicates.merge(db, survivor_id=member_id, duplicate_id=data.duplicate_id, actor=principal)
    return _profile(db, member_id, principal, cipher)


@router.get("/{member_id}", response_model=MemberPublic, responses=ERRORS)
def get_member(
    member_id: IdPath, principal: MemberReader, db: ReadDb, cipher: Cipher
) -> MemberPublic:
    return _profile(db, member_id, principal, cipher)


@router.patch("/{member_id}", response_model=MemberPublic, responses=ERRORS)
def update_member(
    member_id: IdPath, data: MemberUpdate, principal: MemberWriter, db: WriteDb, cipher: Cipher,
    request: Request,
) -> MemberPublic:  # fmt: skip
    service.update(
        db, member_id=member_id, data=data, actor=principal, cipher=cipher,
        notice_version=request.app.state.settings.privacy_notice_version,
    )  # fmt: skip
    return _profile(db, member_id, principal, cipher)


@router.post("/tags", responses=ERRORS)
def change_tags(data: TagChange, principal: MemberWriter, db: WriteDb) -> dict[str, int]:
    count = service.change_tags(
        db, member_ids=data.member_ids, add=data.add, remove=data.remove, actor=principal
    )
    return {"members": count}


@router.post("/{member_id}/consents", status_code=201, responses=ERRORS)
def record_consent(
    member_id: IdPath, data: ConsentIn, principal: MemberWriter, db: WriteDb, request: Request
) -> dict[str, bool]:
    service.record_consent(
        db, member_id=member_id, purpose=data.purpose, granted=data.granted, actor=principal,
        version=request.app.state.settings.privacy_notice_version,
    )  # fmt: skip
    return {"granted": data.granted}
