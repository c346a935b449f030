"""Back office: users (list, create, edit role / store / active, reset password, unlock)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from shouyin.auth import passwords
from shouyin.auth import service as users
from shouyin.auth.dependencies import require
from shouyin.auth.models import User
from shouyin.auth.permissions import Role
from shouyin.auth.principal import Principal
from shouyin.auth.schemas import UserCreate, UserUpdate
from shouyin.db import ReadDb, WriteDb
from shouyin.errors import DomainError, NotFound
from shouyin.shared.clock import as_utc, utcnow
from shouyin.stores import service as stores
from shouyin.web.office_common import ROLE_LABELS, _, error_of, parse_id, validated
from shouyin.web.params import ID_MAX
from shouyin.web.templating import render

router = APIRouter(include_in_schema=False)
UserReader = Annotated[Principal, Depends(require("users.read"))]
UserWriter = Annotated[Principal, Depends(require("users.write"))]
UserId = Annotated[int, Path(ge=1, le=ID_MAX)]
USER_MESSAGES = {
    "username": (
        _("A username is 2 to 64 letters, digits, dots, dashes or underscores."),
        "user.username_invalid",
    ),
    "display_name": (_("A name is needed, at most 120 characters."), "user.name_invalid"),
    "password": (_("A password has 8 to 200 characters."), "user.password_invalid"),
    "role": (_("Choose a role."), "user.role_invalid"),
    "store_id": (_("Choose a store."), "user.store_invalid"),
}


def is_locked(user: User) -> bool:
    return user.locked_until is not None and as_utc(user.locked_until) > utcnow()


def _visible_user(session: Session, principal: Principal, user_id: int) -> User:
    user = users.get_user(session, user_id=user_id)
    # Store staff see only their colleagues; others' users are reported missing.
    if principal.store_id is not None and user.store_id != principal.store_id:
        raise NotFound("No such user.", code="user.not_found")
    return user


def _common(session: Session, principal: Principal) -> dict[str, Any]:
    listed = stores.list_stores(session, store_id=principal.store_id)
    return {
        "stores": listed, "store_names": {s.id: s.name for s in listed},
        "role_labels": ROLE_LABELS, "roles": [role.value for role in Role],
        "can_write": principal.can("users.write"), "is_locked": is_locked,
    }  # fmt: skip


def _list_page(
    request: Request, db: Session, principal: Principal, *, form: dict[str, Any] | None = None,
    error: dict[str, Any] | None = None, status: int = 200,
) -> Response:  # fmt: skip
    context = {
        "users": users.list_users(db, store_id=principal.store_id),
        "form": form or {"role": "cashier"}, "error": error,
        "saved": request.query_params.get("saved") == "1", **_common(db, principal),
    }  # fmt: skip
    return render(request, "office/users.html", context, status_code=status)


def _form_of(user: User) -> dict[str, Any]:
    return {
        "display_name": user.display_name, "role": user.role, "store_id": user.store_id,
        "active": user.active,
    }  # fmt: skip


def _user_page(
    request: Request, db: Session, principal: Principal, user: User, *,
    form: dict[str, Any] | None = None, error: dict[str, Any] | None = None, status: int = 200,
    saved: bool = False,
) -> Response:  # fmt: skip
    context = {
        "user": user, "form": form or _form_of(user), "error": error, "saved": saved,
        **_common(db, principal),
    }  # fmt: skip
    return render(request, "office/user.html", context, status_code=status)


@router.get("/office/users")
def users_page(request: Request, principal: UserReader, db: ReadDb) -> Response:
    return _list_page(request, db, principal)


@router.post("/office/users")
def create_user_submit(
    request: Request,
    principal: UserWriter,
    db: WriteDb,
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=500)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    store_id: Annotated[str, Form(max_length=12)] = "",
    password: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    typed = {
        "username": username.strip(), "display_name": display_name.strip(), "role": role,
        "store_id": parse_id(store_id),
    }  # fmt: skip
    try:
        passwords.check_strength(password)
        data = validated(UserCreate, typed | {"password": password}, USER_MESSAGES)
        users.create_user(db, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        error = error_of(request, exc)
        return _list_page(request, db, principal, form=typed, error=error, status=exc.status)
    return RedirectResponse("/office/users?saved=1", status_code=303)


@router.get("/office/users/{user_id}")
def user_page(
    request: Request,
    principal: UserReader,
    db: ReadDb,
    user_id: UserId,
    saved: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    user = _visible_user(db, principal, user_id)
    return _user_page(request, db, principal, user, saved=bool(saved))


@router.post("/office/users/{user_id}")
def update_user_submit(
    request: Request,
    principal: UserWriter,
    db: WriteDb,
    user_id: UserId,
    display_name: Annotated[str, Form(max_length=500)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    store_id: Annotated[str, Form(max_length=12)] = "",
    active: Annotated[str, Form(max_length=5)] = "",
    password: Annotated[str, Form(max_length=500)] = "",
    unlock: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    user = _visible_user(db, principal, user_id)
    # Every field is sent, store_id included: None there moves the user to head office.
    typed = {
        "display_name": display_name.strip(), "role": role, "store_id": parse_id(store_id),
        "active": bool(active), "password": password or None, "unlock": bool(unlock),
    }  # fmt: skip
    try:
        if password:
            passwords.check_strength(password)
        data = validated(UserUpdate, typed, USER_MESSAGES)
        users.update_user(db, user_id=user_id, data=data, actor=principal)
    except DomainError as exc:
        db.rollback()
        user = _visible_user(db, principal, user_id)
        error = error_of(request, exc)
        return _user_page(request, db, principal, user, form=typed, error=error, status=exc.status)
    return RedirectResponse(f"/office/users/{user_id}?saved=1", status_code=303)
