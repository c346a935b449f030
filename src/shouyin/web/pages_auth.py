"""Login, logout, language switch and the landing page."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from shouyin.auth import service, tokens
from shouyin.auth.dependencies import SESSION_COOKIE, CurrentPrincipal, client_ip
from shouyin.auth.router import LOGIN_ERRORS, set_session_cookie
from shouyin.db import WriteDb
from shouyin.shared import i18n
from shouyin.web.templating import LANG_COOKIE, render

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "login_csrf"


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect after login would help phishing.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _login_page(request: Request, next_url: str, error: str | None, status: int) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html",
        {"login_csrf": token, "next": next_url, "error": error, "demo": _demo(request)},
        status_code=status,
    )  # fmt: skip
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


def _demo(request: Request) -> bool:
    return bool(request.app.state.settings.mode == "demo")


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, _safe_next(next), None, 200)


@router.post("/login")
def login_submit(
    request: Request,
    db: WriteDb,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=300)] = "/",
) -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not tokens.same(expected, csrf_token):
        return _login_page(
            request, _safe_next(next), "The form has expired. Please try again.", 403
        )
    result = service.login(
        db, username=username.strip(), password=password, ip=client_ip(request),
        settings=request.app.state.settings,
    )  # fmt: skip
    if result.secret is None:
        return _login_page(
            request, _safe_next(next), LOGIN_ERRORS[result.error or "auth.invalid"], 401
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, result.secret, secure=request.url.scheme == "https")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, principal: CurrentPrincipal, db: WriteDb) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        service.logout(db, secret=secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def switch_language(lang: str, request: Request, back: str | None = None) -> Response:
    response = RedirectResponse(_safe_next(back), status_code=303)
    response.set_cookie(LANG_COOKIE, i18n.normalise(lang), max_age=365 * 86400, samesite="lax")
    return response


@router.get("/")
def home(principal: CurrentPrincipal) -> Response:
    target = "/till" if principal.can("sales.sell") and principal.store_id else "/office/summary"
    if not principal.can("reports.read") and not principal.can("sales.sell"):
        target = "/office/products"
    return RedirectResponse(target, status_code=303)
