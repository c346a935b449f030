"""Every route checks who is asking: no endpoint or page is open by accident."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

from shouyin.auth.dependencies import current_principal
from tests.conftest import AppHarness

# Open on purpose: logging in, health and metrics for monitoring, switching language.
OPEN = {"/login", "/healthz", "/metrics", "/lang/{lang}", "/api/v1/auth/login"}
# The customer survey from a receipt's QR code and the complaint follow-up question: customers
# have no login; the signed, expiring token in the path is the key (service/survey_links.py).
OPEN |= {"/s/{token}", "/s/{token}/thanks", "/s/f/{token}", "/api/v1/surveys/{token}"}


def _calls(dependant: Any) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def test_every_route_requires_a_login_or_permission(harness: AppHarness) -> None:
    unguarded = []
    for route in harness.app.routes:
        if not isinstance(route, APIRoute) or route.path in OPEN:
            continue
        calls = _calls(route.dependant)
        if current_principal not in calls:
            unguarded.append(f"{sorted(route.methods)} {route.path}")
    assert unguarded == []


def test_api_routes_refuse_anonymous_requests(harness: AppHarness) -> None:
    client = harness.client()
    for route in harness.app.routes:
        if not isinstance(route, APIRoute) or route.path in OPEN or "{" in route.path:
            continue
        if not route.path.startswith("/api/"):
            continue
        for method in route.methods:
            response = client.request(method, route.path)
            assert response.status_code == 401, f"{method} {route.path}: {response.status_code}"


def _dependants(dependant: Any) -> list[Any]:
    found = [dependant]
    for sub in dependant.dependencies:
        found += _dependants(sub)
    return found


def test_writes_commit_before_the_response_is_sent(harness: AppHarness) -> None:
    from shouyin.db import write_session

    late = [
        route.path
        for route in harness.app.routes
        if isinstance(route, APIRoute)
        for dep in _dependants(route.dependant)
        if dep.call is write_session and dep.scope != "function"
    ]
    assert late == []
