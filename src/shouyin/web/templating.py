"""Jinja2 templates with per-request language, the signed-in user and the CSRF token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from shouyin.shared import i18n
from shouyin.shared.clock import to_local
from shouyin.shared.money import format_fen

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
LANG_COOKIE = "lang"


def request_language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen:
        return i18n.normalise(chosen)
    default: str = request.app.state.settings.default_language
    return default


@pass_context
def _gettext(context: Context, message: str, **variables: Any) -> str:
    text = i18n.gettext(context.get("lang", i18n.DEFAULT_LANGUAGE), message)
    return text % variables if variables else text


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int, **variables: Any) -> str:
    text = i18n.ngettext(context.get("lang", i18n.DEFAULT_LANGUAGE), singular, plural, n)
    return text % ({"num": n} | variables)


def _local(moment: Any, fmt: str = "%Y-%m-%d %H:%M", timezone: str = "Asia/Shanghai") -> str:
    if moment is None:
        return ""
    return to_local(moment, timezone).strftime(fmt)


def _quantity(quantity: int, weighed: bool | int = False) -> str:
    return f"{quantity / 1000:.3f}kg" if weighed else str(quantity)


def build_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        extensions=["jinja2.ext.i18n"],
        autoescape=select_autoescape(["html"]),
    )
    templates = Jinja2Templates(env=env)
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["languages"] = i18n.LANGUAGES
    env.filters["money"] = format_fen
    env.filters["yuan"] = lambda fen: f"{fen / 100:.2f}"
    env.filters["localtime"] = _local
    env.filters["qty"] = _quantity
    return templates


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    principal = getattr(request.state, "principal", None)
    values: dict[str, Any] = {
        "lang": request_language(request),
        "principal": principal,
        "csrf_token": principal.csrf_token if principal else None,
        "path": request.url.path,
        # Where the language switch returns to, filters and all.
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }
    values.update(context or {})
    return templates.TemplateResponse(request, name, values, status_code=status_code)
