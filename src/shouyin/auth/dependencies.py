"""Request authentication (session cookie or API token), CSRF and permission checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from shouyin.auth import service, tokens
from shouyin.auth.cache import PRINCIPALS
from shouyin.auth.principal import Principal
from shouyin.config import Settings
from shouyin.db import get_database
from shouyin.errors import Forbidden, Unauthorized

SESSION_COOKIE = "shouyin_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _lookup(request: Request, bearer: str | None, cookie: str | None) -> Principal | None:
    db, settings, ip = get_database(request), _settings(request), client_ip(request)
    with db.read() as session:
        if bearer is not None:
            return service.resolve_token(session, token=bearer, ip=ip)
        if cookie is None:
            return None
        found = service.resolve_session(session, secret=cookie, ip=ip, settings=settings)
    if found is None:
        return None
    if found.stale:
        with db.write() as session:
            service.touch_session(session, secret=cookie)
    return replace(found.principal, csrf_token=tokens.csrf_for(cookie, request.app.state.secret))


async def _check_csrf(request: Request, expected: str) -> None:
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if sent is None or not tokens.same(sent, expected):
        raise Forbidden(
            "The form has expired or did not come from this site. Reload the page and try again.",
            code="auth.csrf",
        )


async def current_principal(request: Request) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else None
    cookie = None if bearer else request.cookies.get(SESSION_COOKIE)
    secret = bearer or cookie
    if secret is None:
        raise Unauthorized("Please log in.", code="auth.required")
    key = tokens.digest(secret)
    principal = PRINCIPALS.get(key)
    if principal is None:
        principal = await run_in_threadpool(_lookup, request, bearer, cookie)
        if principal is None:
            raise Unauthorized("Please log in.", code="auth.required")
        PRINCIPALS.put(key, principal)
    if principal.ip != client_ip(request):
        principal = replace(principal, ip=client_ip(request))
    if principal.via == "session" and request.method not in SAFE_METHODS:
        assert principal.csrf_token is not None
        await _check_csrf(request, principal.csrf_token)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets the request through only with `permission`."""

    async def check(principal: CurrentPrincipal) -> Principal:
        principal.require(permission)
        return principal

    check.required_permission = permission  # type: ignore[attr-defined]
    return check
