"""REST: upload a member file from another system (CSV or .xlsx) and get the import report."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from pydantic import BaseModel

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.catalog.importer import read_limited
from shouyin.customers import importer
from shouyin.customers.keys import cipher_for
from shouyin.db import WriteDb
from shouyin.errors import ValidationFailed
from shouyin.web.templating import request_language

router = APIRouter(prefix="/api/v1/members", tags=["members"])


async def _bulk_loader(
    principal: Annotated[Principal, Depends(require("members.write"))],
) -> Principal:
    # Loading personal data in bulk is for HQ and store managers, not cashiers.
    principal.require("members.merge")
    return principal


MemberLoader = Annotated[Principal, Depends(_bulk_loader)]


class RowIssue(BaseModel):
    row: int
    code: str
    reason: str


class MemberImportPublic(BaseModel):
    rows: int
    created: int
    skipped_duplicates: list[RowIssue]
    errors: list[RowIssue]


def _issues(found: list[importer.RowError], lang: str) -> list[RowIssue]:
    return [RowIssue(row=e.row, code=e.code, reason=e.translated(lang)) for e in found]


def _mapping(text: str | None) -> dict[str, str] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationFailed(
            "The column mapping must be a JSON object of file headers to field names.",
            code="member.import_mapping_format",
        )
    return value


@router.post(
    "/import",
    response_model=MemberImportPublic,
    responses={
        403: {"description": "Only HQ and store managers may import members"},
        422: {"description": "The file cannot be read (member.import_encoding, ...)"},
    },
)
def import_members(
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GBK/GB18030) or .xlsx")],
    principal: MemberLoader,
    db: WriteDb,
    request: Request,
    mapping: Annotated[
        str | None, Form(max_length=2000, description='JSON: {"file header": "field"}')
    ] = None,
) -> MemberImportPublic:
    """Good rows are created, duplicates of known mobiles skipped, bad rows reported."""
    settings = request.app.state.settings
    report = importer.import_members(
        db, data=read_limited(file.file), filename=file.filename or "", actor=principal,
        cipher=cipher_for(settings), notice_version=settings.privacy_notice_version,
        mapping=_mapping(mapping),
    )  # fmt: skip
    lang = request_language(request)
    return MemberImportPublic(
        rows=report.rows, created=report.created,
        skipped_duplicates=_issues(report.skipped_duplicates, lang),
        errors=_issues(report.errors, lang),
    )  # fmt: skip
