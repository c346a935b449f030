"""Request metrics for Prometheus, as plain ASGI middleware (cheap on the hot path)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_SECONDS = Histogram(
    "shouyin_http_request_seconds",
    "HTTP request latency by route",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
RESPONSES = Counter("shouyin_http_responses_total", "HTTP responses", ["method", "route", "status"])
ORDERS = Counter("shouyin_orders_total", "Orders created")


class MetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracking_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            method = scope["method"]
            REQUEST_SECONDS.labels(method, path).observe(time.perf_counter() - started)
            RESPONSES.labels(method, path, str(status)).inc()
            if status == 201 and path == "/api/v1/orders" and method == "POST":
                ORDERS.inc()
