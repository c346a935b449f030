"""REST: who am I, users, API tokens, JSON login for scripts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from shouyin.auth import service
from shouyin.auth.dependencies import (
    SESSION_COOKIE,
    CurrentPrincipal,
    client_ip,
    require,
)
from shouyin.auth.permissions import permissions_for
from shouyin.auth.principal import Principal
from shouyin.auth.schemas import (
    LoginRequest,
    MePublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from shouyin.auth.tokens import csrf_for
from shouyin.db import ReadDb, WriteDb
from shouyin.shared import i18n
from shouyin.web.params import IdPath
from shouyin.web.templating import request_language

router = APIRouter(prefix="/api/v1", tags=["auth"])
UserReader = Annotated[Principal, Depends(require("users.read"))]
UserWriter = Annotated[Principal, Depends(require("users.write"))]
TokenManager = Annotated[Principal, Depends(require("tokens.manage"))]

LOGIN_ERRORS = {
    "auth.invalid": "Wrong username or password.",
    "auth.locked": "Too many failed logins: the account is locked for a while.",
}


def set_session_cookie(response: Response, secret: str, *, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, secret, httponly=True, samesite="lax", secure=secure, path="/"
    )


@router.post("/auth/login", response_model=MePublic, responses={401: {"description": "Bad login"}})
def api_login(data: LoginRequest, request: Request, response: Response, db: WriteDb) -> object:
    settings = request.app.state.settings
    result = service.login(
        db, username=data.username, password=data.password, ip=client_ip(request),
        settings=settings,
    )  # fmt: skip
    if result.user is None or result.secret is None:
        code = result.error or "auth.invalid"
        message = i18n.gettext(request_language(request), LOGIN_ERRORS[code])
        return JSONResponse({"code": code, "message": message}, status_code=401)
    set_session_cookie(response, result.secret, secure=request.url.scheme == "https")
    user = result.user
    return MePublic(
        id=user.id, username=user.username, display_name=user.display_name, role=user.role,
        store_id=user.store_id, permissions=sorted(permissions_for(user.role)),
        csrf_token=csrf_for(result.secret, request.app.state.secret),
    )  # fmt: skip


@router.get("/me", response_model=MePublic)
def me(principal: CurrentPrincipal) -> MePublic:
    return MePublic(
        id=principal.user_id, username=principal.username, display_name=principal.display_name,
        role=principal.role, store_id=principal.store_id,
        permissions=sorted(principal.permissions), csrf_token=principal.csrf_token,
    )  # fmt: skip


@router.get("/users", response_model=list[UserPublic])
def list_users(principal: UserReader, db: ReadDb) -> object:
    return service.list_users(db, store_id=principal.store_id)


@router.post("/users", response_model=UserPublic, status_code=201)
def create_user(data: UserCreate, principal: UserWriter, db: WriteDb) -> object:
    return service.create_user(db, data=data, actor=principal)


@router.patch("/users/{user_id}", response_model=UserPublic)
def update_user(user_id: IdPath, data: UserUpdate, principal: UserWriter, db: WriteDb) -> object:
    return service.update_user(db, user_id=user_id, data=data, actor=principal)


@router.get("/tokens", response_model=list[TokenPublic])
def list_tokens(principal: TokenManager, db: ReadDb) -> object:
    return service.list_tokens(db, user_id=principal.user_id)


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(data: TokenCreate, principal: TokenManager, db: WriteDb) -> object:
    token, secret = service.create_token(db, user_id=principal.user_id, data=data, actor=principal)
    return TokenCreated(**TokenPublic.model_validate(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", response_model=TokenPublic)
def revoke_token(token_id: IdPath, principal: TokenManager, db: WriteDb) -> object:
    return service.revoke_token(db, token_id=token_id, actor=principal)
