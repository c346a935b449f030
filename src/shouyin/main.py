"""The app factory: routers, middleware, error handlers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shouyin.config import Settings, get_settings
from shouyin.db import Database, is_busy
from shouyin.errors import DomainError, Unauthorized
from shouyin.shared import i18n
from shouyin.web.metrics import MetricsMiddleware
from shouyin.web.templating import STATIC_DIR, build_templates, render, request_language


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/")


def _problem(request: Request, exc: DomainError) -> dict[str, Any]:
    body = exc.to_problem()
    body["message"] = i18n.translate_error(request_language(request), exc.template, exc.details)
    return body


async def domain_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    if not _wants_html(request):
        return JSONResponse(_problem(request, exc), status_code=exc.status)
    if isinstance(exc, Unauthorized) and "hx-request" not in request.headers:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    problem = _problem(request, exc)
    template = "partials/error.html" if "hx-request" in request.headers else "error.html"
    return render(request, template, {"error": problem}, status_code=exc.status)


async def validation_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(part) for part in err.get("loc", ())], "msg": err.get("msg", "")}
        for err in exc.errors()
    ]
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        bad_json = DomainError(
            "The request body is not valid JSON.", code="request.invalid", status=422
        )
        return await domain_error_handler(request, bad_json)
    fields = ", ".join(".".join(e["loc"][1:]) or e["loc"][0] for e in errors if e["loc"])
    error = DomainError(
        "The request is not valid: {fields}",
        code="request.invalid",
        status=422,
        details={"fields": fields, "errors": errors},
    )
    return await domain_error_handler(request, error)


async def database_error_handler(request: Request, exc: Exception) -> Response:
    if not is_busy(exc):
        raise exc
    busy = DomainError(
        "The database is busy with another task. Try again in a moment.", code="db.busy", status=503
    )
    return await domain_error_handler(request, busy)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        error = DomainError("Not found.", code="not_found", status=404)
    elif exc.status_code == 405:
        error = DomainError("Method not allowed.", code="method_not_allowed", status=405)
    else:
        error = DomainError(str(exc.detail), code="http_error", status=exc.status_code)
    return await domain_error_handler(request, error)


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or get_settings()
    database = db or Database.from_url(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from shouyin.inventory import alerts
        from shouyin.loyalty import jobs
        from shouyin.sales import payment_command
        from shouyin.sales.payment_router import app_gateway
        from shouyin.service import sla

        scheduler = jobs.start(database) if jobs.wanted(settings) else None
        if scheduler is not None:
            # Payment codes left unsettled by a crash or a silent gateway are settled.
            payment_command.schedule(scheduler, database, settings, app_gateway(_app))
            alerts.schedule(scheduler, database, settings)  # low-stock alerts, every 5 min
            sla.schedule(scheduler, database, settings)  # complaint deadlines, every minute
        try:
            yield
        finally:
            if scheduler is not None:
                jobs.stop(scheduler)
        if db is None:
            database.dispose()

    app = FastAPI(
        title="shouyin",
        version="0.1.0",
        description="Point of sale and membership CRM. Authenticate with a session cookie "
        "(browser) or `Authorization: Bearer sy_...` (API token).",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.settings = settings
    app.state.db = database
    app.state.secret = settings.resolved_secret()
    app.state.templates = build_templates()
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(OperationalError, database_error_handler)
    app.add_middleware(MetricsMiddleware)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    from shouyin.web.routes import include_all

    include_all(app)
