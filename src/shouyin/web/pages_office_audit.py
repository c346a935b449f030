"""Back office: the audit log, page by page, and a check of its hash chain."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from shouyin.audit import service as audit
from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb
from shouyin.web.office_common import PAGE_SIZE, _, page_count
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
AuditReader = Annotated[Principal, Depends(require("audit.read"))]
# audit.verify reports problems in English words; these are their translatable forms.
PROBLEMS = {
    "a row before this one was deleted": _("A row before this one was deleted."),
    "this row was edited": _("This row was edited."),
    "the newest rows were deleted": _("The newest rows were deleted."),
}


def compact(value: Any) -> str:
    """Before/after values on one line, Chinese left readable."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@router.get("/office/audit")
def audit_page(
    request: Request,
    principal: AuditReader,
    db: ReadDb,
    action: Annotated[str, Query(max_length=64)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    chosen = action.strip() or None
    entries = audit.list_entries(db, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, action=chosen)
    total = audit.count(db, action=chosen)
    context = {
        "entries": entries, "total": total, "page": page, "pages": page_count(total),
        "action": action.strip(), "compact": compact,
    }  # fmt: skip
    return render(request, "office/audit.html", context)


@router.get("/office/audit/verify")
def verify_fragment(request: Request, principal: AuditReader, db: ReadDb) -> Response:
    result = audit.verify(db)
    problem = PROBLEMS.get(result.problem or "", result.problem)
    return render(request, "office/_verify.html", {"result": result, "problem": problem})
