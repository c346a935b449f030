"""Back office: stores (list, create, edit) and their registers."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth.dependencies import require
from shouyin.auth.principal import Principal
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, Forbidden, ValidationFailed
from shouyin.stores import service
from shouyin.stores.models import Store
from shouyin.stores.schemas import RegisterCreate, StoreCreate, StoreUpdate
from shouyin.web.office_common import (
    ROUNDING_LABELS,
    _,
    error_of,
    format_cutoff,
    parse_cutoff,
    validated,
)
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
StoreReader = Annotated[Principal, Depends(require("stores.read"))]
StoreWriter = Annotated[Principal, Depends(require("stores.write"))]
StoreId = Annotated[int, Path(ge=1, le=ID_MAX)]
TIMEZONES = (
    "Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei",
    "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Tokyo",
)  # fmt: skip
STORE_MESSAGES = {
    "code": (_("A store code is 1 to 16 letters, digits, - or _."), "store.code_invalid"),
    "name": (_("A store needs a name of at most 120 characters."), "store.name_invalid"),
    "address": (_("An address has at most 200 characters."), "store.address_invalid"),
    "timezone": (_("Unknown time zone, e.g. Asia/Shanghai."), "store.timezone_invalid"),
    "rounding": (_("Choose a rounding rule."), "store.rounding_invalid"),
    # The schema's own check (no field): closing after opening.
    "": (_("The store must close after it opens."), "store.hours_invalid"),
}
_CLOCK = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])|24:00", re.ASCII)
REGISTER_MESSAGES = {
    "code": (_("A register code is 1 to 16 letters, digits, - or _."), "register.code_invalid"),
    "name": (_("A register needs a name of at most 120 characters."), "register.name_invalid"),
}


class StoreForm:
    """The store form as typed, so a rejected form comes back as the user left it."""

    def __init__(
        self,
        code: Annotated[str, Form(max_length=100)] = "",
        name: Annotated[str, Form(max_length=500)] = "",
        address: Annotated[str, Form(max_length=1000)] = "",
        timezone: Annotated[str, Form(max_length=100)] = "Asia/Shanghai",
        cutoff: Annotated[str, Form(max_length=20)] = "00:00",
        rounding: Annotated[str, Form(max_length=20)] = "none",
        opens: Annotated[str, Form(max_length=20)] = "09:00",
        closes: Annotated[str, Form(max_length=20)] = "21:00",
        active: Annotated[str, Form(max_length=5)] = "",
    ) -> None:
        self.code, self.name, self.address = code.strip(), name.strip(), address.strip()
        self.timezone, self.cutoff, self.rounding = timezone.strip(), cutoff.strip(), rounding
        self.opens, self.closes = opens.strip(), closes.strip()
        self.active = bool(active)

    def values(self) -> dict[str, Any]:
        # A blank address is stored blank: the update service skips None, so it could not
        # clear an address otherwise.
        return {
            "name": self.name, "address": self.address, "timezone": self.timezone,
            "day_cutoff_minutes": parse_cutoff(self.cutoff), "rounding": self.rounding,
            "opens_minutes": parse_clock(self.opens), "closes_minutes": parse_clock(self.closes),
        }  # fmt: skip


def parse_clock(text: str) -> int:
    """Opening hours as typed (HH:MM, 00:00 to 24:00) in minutes after midnight."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        raise ValidationFailed(
            "Opening hours are times from 00:00 to 24:00.", code="store.hours_invalid",
            details={"value": text},
        )  # fmt: skip
    return 1440 if match.group(1) is None else int(match.group(1)) * 60 + int(match.group(2))


def _form_of(store: Store) -> dict[str, Any]:
    return {
        "code": store.code, "name": store.name, "address": store.address or "",
        "timezone": store.timezone, "cutoff": format_cutoff(store.day_cutoff_minutes),
        "rounding": store.rounding, "active": store.active,
        "opens": format_cutoff(store.opens_minutes), "closes": format_cutoff(store.closes_minutes),
    }  # fmt: skip


def _common(principal: Principal) -> dict[str, Any]:
    return {
        "rounding_labels": ROUNDING_LABELS, "timezones": TIMEZONES,
        "can_write": principal.can("stores.write"), "format_cutoff": format_cutoff,
    }  # fmt: skip


def _list_page(
    request: Request, db: Session, principal: Principal, *, form: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    listed = service.list_stores(db, store_id=principal.store_id)
    registers = {store.id: service.list_registers(db, store_id=store.id) for store in listed}
    blank = {"timezone": "Asia/Shanghai", "cutoff": "00:00", "rounding": "none",
             "opens": "09:00", "closes": "21:00"}  # fmt: skip
    context = {
        "stores": listed, "registers": registers, "form": form or blank, "error": error,
        "saved": request.query_params.get("saved") == "1", **_common(principal),
    }  # fmt: skip
    return render(request, "office/stores.html", context, status_code=status)


def _store_page(
    request: Request, db: Session, principal: Principal, store: Store, *,
    form: dict[str, Any] | None = None, register_form: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None, status: int = 200, saved: bool = False,
) -> Response:  # fmt: skip
    context = {
        "store": store, "form": form or _form_of(store), "error": error, "saved": saved,
        "registers": service.list_registers(db, store_id=store.id),
        "register_form": register_form or {}, **_common(principal),
    }  # fmt: skip
    return render(request, "office/store.html", context, status_code=status)


@router.get("/office/stores")
def stores_page(request: Request, principal: StoreReader, db: ReadDb) -> Response:
    return _list_page(request, db, principal)


@router.post("/office/stores")
def create_store_submit(
    request: Request, principal: StoreWriter, db: WriteDb, form: Annotated[StoreForm, Depends()]
) -> Response:
    try:
        if principal.store_id is not None:
            raise Forbidden("Only head office can open a store.", code="store.hq_only")
        data = validated(StoreCreate, {"code": form.code, **form.values()}, STORE_MESSAGES)
        service.create_store(db, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _list_page(request, db, principal, form=vars(form), error=error, status=exc.status)
    return RedirectResponse("/office/stores?saved=1", status_code=303)


@router.get("/office/stores/{store_id}")
def store_page(
    request: Request,
    principal: StoreReader,
    db: ReadDb,
    store_id: StoreId,
    saved: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    principal.require_store(store_id)
    store = service.get_store(db, store_id=store_id)
    return _store_page(request, db, principal, store, saved=bool(saved))


@router.post("/office/stores/{store_id}")
def update_store_submit(
    request: Request,
    principal: StoreWriter,
    db: WriteDb,
    store_id: StoreId,
    form: Annotated[StoreForm, Depends()],
) -> Response:
    principal.require_store(store_id)
    store = service.get_store(db, store_id=store_id)
    try:
        data = validated(StoreUpdate, {**form.values(), "active": form.active}, STORE_MESSAGES)
        service.update_store(db, store_id=store_id, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        store = service.get_store(db, store_id=store_id)
        form_values = vars(form) | {"code": store.code}
        error = error_of(request, exc)
        return _store_page(
            request, db, principal, store, form=form_values, error=error, status=exc.status
        )
    return RedirectResponse(f"/office/stores/{store_id}?saved=1", status_code=303)


@router.post("/office/stores/{store_id}/registers")
def create_register_submit(
    request: Request,
    principal: StoreWriter,
    db: WriteDb,
    store_id: StoreId,
    code: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    principal.require_store(store_id)
    store = service.get_store(db, store_id=store_id)
    typed = {"code": code.strip(), "name": name.strip()}
    try:
        data = validated(RegisterCreate, typed, REGISTER_MESSAGES)
        service.create_register(db, store_id=store_id, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        store = service.get_store(db, store_id=store_id)
        error = error_of(request, exc)
        return _store_page(
            request, db, principal, store, register_form=typed, error=error, status=exc.status
        )
    return RedirectResponse(f"/office/stores/{store_id}?saved=1", status_code=303)
