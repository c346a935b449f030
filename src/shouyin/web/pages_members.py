"""Back office: members (list, search, bulk tags, profile with purchase history, edit);
import, duplicates, merging and erasure live in pages_members_import and pages_members_merge.

``router`` also carries the purchase-history REST router, so the app lists one module.
Full mobile, birthday, age, address and email are shown, and editable, only with
members.personal; everyone else sees the masked mobile and may replace it, never read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.analytics.member_history import member_history
from shouyin.auth.dependencies import require
from shouyin.auth.models import User
from shouyin.auth.principal import Principal
from shouyin.customers import history_router
from shouyin.customers import service as members
from shouyin.customers.crypto import FieldCipher
from shouyin.customers.keys import cipher_for
from shouyin.customers.models import Consent
from shouyin.customers.schemas import MemberUpdate
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, ValidationFailed
from shouyin.stores import service as stores
from shouyin.stores.models import Store
from shouyin.web.office_common import (
    PAGE_SIZE,
    STATUS_LABELS,
    _,
    error_of,
    page_count,
    parse_id,
)
from shouyin.web.office_common import validated as validated_form
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

pages = APIRouter(include_in_schema=False)
MemberReader = Annotated[Principal, Depends(require("members.read"))]
MemberWriter = Annotated[Principal, Depends(require("members.write"))]
MemberMerger = Annotated[Principal, Depends(require("members.merge"))]
MemberEraser = Annotated[Principal, Depends(require("members.erase"))]
MemberId = Annotated[int, Path(ge=1, le=ID_MAX)]
Text = Annotated[str, Query(max_length=40)]
PERSONAL = "members.personal"
_TAG_SPLIT = re.compile(r"[,，、;；\n]+")
GENDER_LABELS = {"m": _("Male"), "f": _("Female"), "u": _("Not given")}
SOURCE_LABELS = {
    "store": _("In store"),
    "mini_program": _("Mini program"),
    "import": _("Imported"),
    "referral": _("Referral"),
}
PURPOSE_LABELS = {"membership": _("Membership"), "marketing": _("Marketing messages")}
REASON_LABELS = {
    "name_birthday": _("Same name and birthday"),
    "name_last4": _("Same name and last 4 digits of the mobile"),
}
MEMBER_MESSAGES = {
    "name": (_("A member needs a name of 1 to 60 characters."), "member.name_invalid"),
    "mobile": (_("Enter the member's mobile number."), "member.mobile_invalid"),
    "gender": (_("Choose a gender."), "member.gender_invalid"),
    "birthday": (_("The birthday is not a real date (YYYY-MM-DD)."), "member.birthday_invalid"),
    "address": (_("An address has at most 200 characters."), "member.address_invalid"),
    "email": (_("The email address is not valid."), "member.email_invalid"),
    "tags": (_("A member has at most 20 tags."), "member.tag_invalid"),
    "notes": (_("Notes have at most 500 characters."), "member.notes_invalid"),
}


def member_cipher(request: Request) -> FieldCipher:
    return cipher_for(request.app.state.settings)


@dataclass(frozen=True)
class ConsentRow:
    purpose: str
    granted: bool
    notice_version: str
    at: datetime
    store_name: str | None
    staff_name: str | None


def consent_history(session: Session, member_id: int) -> list[ConsentRow]:
    """Every consent given or withdrawn, newest first, with where and by whom."""
    query = (
        select(Consent, Store.name, User.display_name)
        .outerjoin(Store, Store.id == Consent.store_id)
        .outerjoin(User, User.id == Consent.user_id)
        .where(Consent.member_id == member_id)
        .order_by(Consent.at.desc(), Consent.id.desc())
    )
    return [
        ConsentRow(c.purpose, c.granted, c.notice_version, c.at, store_name, staff_name)
        for c, store_name, staff_name in session.execute(query)
    ]


def split_tags(text: str) -> list[str]:
    return [tag.strip() for tag in _TAG_SPLIT.split(text) if tag.strip()]


# --- the list and bulk tags -----------------------------------------------------------------


@dataclass(frozen=True)
class ListFilters:
    q: str
    tag: str
    store_id: int | None

    def query(self) -> str:
        return urlencode({"q": self.q, "tag": self.tag, "store_id": self.store_id or ""})


def _list_page(
    request: Request, db: Session, principal: Principal, filters: ListFilters, page: int, *,
    error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    cipher = member_cipher(request)
    rows, total = members.list_members(
        db, store_id=filters.store_id, tag=filters.tag or None, q=filters.q or None,
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, cipher=cipher,
    )  # fmt: skip
    listed = stores.list_stores(db)
    context = {
        "rows": [(m, members.summary(m, cipher)) for m in rows],
        "tags": members.tags_of(db, [m.id for m in rows]), "total": total, "page": page,
        "pages": page_count(total), "filters": filters, "stores": listed,
        "store_names": {s.id: s.name for s in listed},
        "can_pick_store": principal.store_id is None, "can_write": principal.can("members.write"),
        "changed": request.query_params.get("changed"), "error": error,
        "erased": request.query_params.get("erased") == "1",
        "can_merge": principal.can("members.merge"),
        "can_import": principal.can("members.write") and principal.can("members.merge"),
        "export_links": _export_links(filters) if principal.can("members.export") else None,
    }  # fmt: skip
    return render(request, "members/list.html", context, status_code=status)


def _export_links(filters: ListFilters) -> dict[str, str]:
    """The REST export with the list's tag and store filters (the export has no text search)."""
    params = {"tag": filters.tag, "store_id": filters.store_id or ""}
    kept = {key: value for key, value in params.items() if value}
    return {
        fmt: "/api/v1/members/export?" + urlencode({"format": fmt, **kept})
        for fmt in ("csv", "xlsx")
    }


@pages.get("/office/members")
def members_page(
    request: Request,
    principal: MemberReader,
    db: ReadDb,
    q: Text = "",
    tag: Text = "",
    store_id: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    # Members belong to the whole chain; the store filter is for HQ's reports only.
    chosen = parse_id(store_id) if principal.store_id is None else None
    filters = ListFilters(q=q.strip(), tag=tag.strip(), store_id=chosen)
    return _list_page(request, db, principal, filters, page)


@pages.post("/office/members/tags")
def bulk_tags_submit(
    request: Request,
    principal: MemberWriter,
    db: WriteDb,
    member_id: Annotated[list[str] | None, Form()] = None,
    tag: Annotated[str, Form(max_length=100)] = "",
    action: Annotated[str, Form(max_length=10)] = "add",
    q: Annotated[str, Form(max_length=40)] = "",
    filter_tag: Annotated[str, Form(max_length=40)] = "",
    store_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    ids = [found for found in (parse_id(text) for text in member_id or []) if found is not None]
    tags = split_tags(tag)
    chosen = parse_id(store_id) if principal.store_id is None else None
    filters = ListFilters(q=q.strip(), tag=filter_tag.strip(), store_id=chosen)
    try:
        if not ids:
            raise ValidationFailed("Select at least one member.", code="member.none_selected")
        if not tags:
            raise ValidationFailed("Enter a tag.", code="member.tag_invalid")
        add, remove = (tags, []) if action != "remove" else ([], tags)
        count = members.change_tags(db, member_ids=ids, add=add, remove=remove, actor=principal)
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _list_page(request, db, principal, filters, 1, error=error, status=exc.status)
    return RedirectResponse(f"/office/members?{filters.query()}&changed={count}", status_code=303)


# --- import from another system (before /{member_id}, which would take "import" for an id) --


def _form_of(profile: Any) -> dict[str, Any]:
    return {
        "name": profile.name, "mobile": profile.mobile or "", "gender": profile.gender,
        "birthday": profile.birthday.isoformat() if profile.birthday else "",
        "address": profile.address or "", "email": profile.email or "",
        "tags": ", ".join(profile.tags), "notes": profile.notes or "",
        "marketing_opt_in": profile.marketing_opt_in,
    }  # fmt: skip


def render_member_page(
    request: Request, db: Session, principal: Principal, member_id: int, *,
    form: dict[str, Any] | None = None, error: dict[str, Any] | None = None, status: int = 200,
    saved: bool = False, merged: bool = False, merge_query: str = "",
) -> Response:  # fmt: skip
    member = members.get_member(db, member_id=member_id)
    personal = principal.can(PERSONAL)
    tags = members.tags_of(db, [member.id]).get(member.id, [])
    profile = members.public(member, tags, member_cipher(request), personal=personal)
    store = db.get(Store, member.store_id) if member.store_id else None
    context = {
        "member": profile, "store_name": store.name if store else None,
        "personal": personal, "can_write": principal.can("members.write"),
        "form": form or _form_of(profile), "error": error, "saved": saved,
        "merged": merged, "merge_query": merge_query,
        "can_merge": principal.can("members.merge"), "can_erase": principal.can("members.erase"),
        "consents": consent_history(db, member.id),
        "history": member_history(db, member_id=member.id),
        "gender_labels": GENDER_LABELS, "source_labels": SOURCE_LABELS,
        "purpose_labels": PURPOSE_LABELS, "status_labels": STATUS_LABELS,
    }  # fmt: skip
    return render(request, "members/detail.html", context, status_code=status)


@pages.get("/office/members/{member_id}")
def member_page(
    request: Request,
    principal: MemberReader,
    db: ReadDb,
    member_id: MemberId,
    saved: Annotated[int, Query(ge=0, le=1)] = 0,
    merged: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    return render_member_page(
        request, db, principal, member_id, saved=bool(saved), merged=bool(merged)
    )


class MemberForm:
    """The edit form as typed, so a rejected form comes back as the user left it."""

    def __init__(
        self,
        name: Annotated[str, Form(max_length=200)] = "",
        mobile: Annotated[str, Form(max_length=64)] = "",
        gender: Annotated[str, Form(max_length=4)] = "u",
        birthday: Annotated[str, Form(max_length=20)] = "",
        address: Annotated[str, Form(max_length=1000)] = "",
        email: Annotated[str, Form(max_length=500)] = "",
        tags: Annotated[str, Form(max_length=2000)] = "",
        notes: Annotated[str, Form(max_length=2000)] = "",
        marketing_opt_in: Annotated[str, Form(max_length=5)] = "",
    ) -> None:
        self.name, self.mobile, self.gender = name.strip(), mobile.strip(), gender
        self.birthday, self.address, self.email = birthday.strip(), address.strip(), email.strip()
        self.tags, self.notes, self.marketing_opt_in = tags, notes.strip(), bool(marketing_opt_in)

    def typed(self) -> dict[str, Any]:
        return dict(vars(self))

    def values(self, personal: bool) -> dict[str, Any]:
        """What to change. A blank mobile keeps the number; without members.personal the
        hidden personal fields are left as they are."""
        data: dict[str, Any] = {
            "name": self.name, "gender": self.gender, "tags": split_tags(self.tags),
            "notes": self.notes, "marketing_opt_in": self.marketing_opt_in,
        }  # fmt: skip
        if self.mobile:
            data["mobile"] = self.mobile
        if personal:
            data |= {
                "birthday": self.birthday or None, "address": self.address or None,
                "email": self.email or None,
            }  # fmt: skip
        return data


@pages.post("/office/members/{member_id}")
def update_member_submit(
    request: Request,
    principal: MemberWriter,
    db: WriteDb,
    member_id: MemberId,
    form: Annotated[MemberForm, Depends()],
) -> Response:
    members.get_member(db, member_id=member_id)
    personal = principal.can(PERSONAL)
    try:
        data = validated_form(MemberUpdate, form.values(personal), MEMBER_MESSAGES)
        members.update(
            db, member_id=member_id, data=data, actor=principal, cipher=member_cipher(request),
            notice_version=request.app.state.settings.privacy_notice_version,
        )  # fmt: skip
    except DomainError as exc:
        db.rollback()
        typed, error = form.typed(), error_of(request, exc)
        return render_member_page(
            request, db, principal, member_id, form=typed, error=error, status=exc.status
        )
    return RedirectResponse(f"/office/members/{member_id}?saved=1", status_code=303)


# --- merging another member into this one, erasure -----------------------------------------


router = APIRouter()
router.include_router(history_router.router)
router.include_router(pages)
