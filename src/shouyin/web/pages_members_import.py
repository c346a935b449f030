"""Back office: importing members from another system's file, with a per-row report."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from shouyin.auth.principal import Principal
from shouyin.catalog.importer import read_limited
from shouyin.customers import importer
from shouyin.db import WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.web.office_common import (
    error_of,
    is_htmx,
)
from shouyin.web.pages_members import (
    MemberWriter,
    member_cipher,
)
from shouyin.web.templating import render, request_language

pages = APIRouter(include_in_schema=False)


_MAPPING_SPLIT = re.compile(r"[,，;；\n]+")


async def _bulk_loader(principal: MemberWriter) -> Principal:
    # Loading personal data in bulk is for HQ and store managers, not cashiers.
    principal.require("members.merge")
    return principal


MemberLoader = Annotated[Principal, Depends(_bulk_loader)]


def parse_mapping(text: str) -> dict[str, str] | None:
    """'客户名=name,手机=mobile' -> {"客户名": "name", "手机": "mobile"}; blank -> None."""
    mapping: dict[str, str] = {}
    for pair in _MAPPING_SPLIT.split(text):
        if not pair.strip():
            continue
        source, sep, target = pair.replace("＝", "=").partition("=")
        if not sep or not source.strip() or not target.strip():
            raise ValidationFailed(
                "Write the column mapping as file header=field, separated by commas.",
                code="member.import_mapping_format",
            )
        mapping[source.strip()] = target.strip()
    return mapping or None


@dataclass(frozen=True)
class ImportIssue:
    row: int
    reason: str
    mobile_masked: str


def _issues(found: list[importer.RowError], lang: str) -> list[ImportIssue]:
    return [ImportIssue(e.row, e.translated(lang), str(e.details.get("mobile", ""))) for e in found]


@pages.get("/office/members/import")
def import_page(request: Request, principal: MemberLoader) -> Response:
    return render(request, "members/import.html", {"report": None, "error": None, "mapping": ""})


@pages.post("/office/members/import")
def import_submit(
    request: Request,
    principal: MemberLoader,
    db: WriteDb,
    file: Annotated[UploadFile | None, File()] = None,
    mapping: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    settings = request.app.state.settings
    report, error, status = None, None, 200
    try:
        if file is None or not file.filename:
            raise ValidationFailed("Choose a file to import.", code="member.import_no_file")
        report = importer.import_members(
            db, data=read_limited(file.file), filename=file.filename, actor=principal,
            cipher=member_cipher(request), notice_version=settings.privacy_notice_version,
            mapping=parse_mapping(mapping),
        )  # fmt: skip
    except DomainError as exc:
        db.rollback()
        error, status = error_of(request, exc), exc.status
    lang = request_language(request)
    context = {
        "report": report, "error": error, "mapping": mapping,
        "errors": _issues(report.errors, lang) if report else [],
        "duplicates": _issues(report.skipped_duplicates, lang) if report else [],
    }  # fmt: skip
    template = "members/_import_report.html" if is_htmx(request) else "members/import.html"
    return render(request, template, context, status_code=status)


# --- likely duplicates and merging ---------------------------------------------------------


router = pages
