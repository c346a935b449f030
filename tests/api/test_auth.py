"""Logging in, sessions, CSRF, lockout and API tokens, through HTTP."""

from __future__ import annotations

from tests import factories
from tests.conftest import AppHarness


def _login(client, username: str, password: str = factories.PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_login_sets_http_only_same_site_cookie(harness: AppHarness) -> None:
    user = harness.user("store_manager")
    client = harness.client()
    response = _login(client, user.username)
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert "shouyin_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    me = client.get("/api/v1/me").json()
    assert me["username"] == user.username and "sales.sell" in me["permissions"]


def test_wrong_password_is_rejected_and_five_failures_lock_the_account(harness: AppHarness) -> None:
    user = harness.user("cashier")
    client = harness.client()
    for _ in range(4):
        assert _login(client, user.username, "wrong-password").json()["code"] == "auth.invalid"
    assert _login(client, user.username, "wrong-password").json()["code"] == "auth.locked"
    # Even the right password is refused while locked.
    response = _login(client, user.username)
    assert response.status_code == 401 and response.json()["code"] == "auth.locked"


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(harness: AppHarness) -> None:
    response = _login(harness.client(), "nobody-here")
    assert response.status_code == 401 and response.json()["code"] == "auth.invalid"


def test_api_needs_login(harness: AppHarness) -> None:
    response = harness.client().get("/api/v1/me")
    assert response.status_code == 401 and response.json()["code"] == "auth.required"


def test_pages_redirect_to_login(harness: AppHarness) -> None:
    response = harness.client().get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_cookie_write_without_csrf_token_is_refused(harness: AppHarness) -> None:
    admin = harness.user("hq_admin")
    client = harness.client(admin)
    del client.headers["X-CSRF-Token"]
    response = client.post("/api/v1/tokens", json={"name": "x"})
    assert response.status_code == 403 and response.json()["code"] == "auth.csrf"


def test_api_token_works_without_cookie_and_is_limited_to_its_scopes(harness: AppHarness) -> None:
    admin = harness.user("hq_admin")
    created = harness.client(admin).post(
        "/api/v1/tokens", json={"name": "erp", "scopes": ["catalog.read"]}
    )
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    bot = harness.client()
    bot.headers["Authorization"] = f"Bearer {token}"
    assert bot.get("/api/v1/me").json()["permissions"] == ["catalog.read"]
    assert bot.get("/api/v1/users").status_code == 403


def test_token_scopes_cannot_exceed_the_role(harness: AppHarness) -> None:
    manager = harness.user("store_manager")
    response = harness.client(manager).post(
        "/api/v1/tokens", json={"name": "x", "scopes": ["users.write"]}
    )
    assert response.status_code == 422 and response.json()["code"] == "token.scope_denied"


def test_revoked_token_stops_working(harness: AppHarness) -> None:
    admin = harness.user("hq_admin")
    client = harness.client(admin)
    created = client.post("/api/v1/tokens", json={"name": "temp"}).json()
    assert client.delete(f"/api/v1/tokens/{created['id']}").status_code == 200
    bot = harness.client()
    bot.headers["Authorization"] = f"Bearer {created['token']}"
    assert bot.get("/api/v1/me").status_code == 401


def test_role_change_is_audited(harness: AppHarness) -> None:
    from shouyin.audit import service as audit

    admin = harness.user("hq_admin")
    cashier = harness.user("cashier")
    response = harness.client(admin).patch(
        f"/api/v1/users/{cashier.id}", json={"role": "store_manager"}
    )
    assert response.status_code == 200, response.text
    with harness.db.read() as session:
        entries = audit.list_entries(session, limit=5, offset=0, action="user.permission_change")
    assert entries[0].before["role"] == "cashier"  # type: ignore[index]
    assert entries[0].after["role"] == "store_manager"  # type: ignore[index]


def test_a_token_cannot_mint_a_wider_token(harness: AppHarness) -> None:
    manager = harness.client(harness.user("store_manager"))
    narrow = manager.post("/api/v1/tokens", json={"name": "n", "scopes": ["tokens.manage"]}).json()[
        "token"
    ]
    bot = harness.client()
    bot.headers["Authorization"] = f"Bearer {narrow}"
    wide = bot.post("/api/v1/tokens", json={"name": "wide"})
    assert wide.status_code == 201
    assert wide.json()["scopes"] == "tokens.manage"
    denied = bot.post("/api/v1/tokens", json={"name": "sell", "scopes": ["sales.sell"]})
    assert denied.status_code == 422 and denied.json()["code"] == "token.scope_denied"


def test_an_expired_lock_no_longer_reports_locked(harness: AppHarness) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from shouyin.auth.models import User
    from shouyin.shared.clock import utcnow

    user = harness.user("cashier")
    client = harness.client()
    for _ in range(5):
        _login(client, user.username, "wrong-password")
    harness.write(
        lambda s: s.execute(
            update(User)
            .where(User.id == user.id)
            .values(locked_until=utcnow() - timedelta(minutes=1))
        )
    )
    assert _login(client, user.username, "wrong-password").json()["code"] == "auth.invalid"
    assert _login(client, user.username).status_code == 200


def test_admins_cannot_lock_themselves_out(harness: AppHarness) -> None:
    admin = harness.user("hq_admin")
    client = harness.client(admin)
    for change in ({"active": False}, {"role": "auditor"}):
        response = client.patch(f"/api/v1/users/{admin.id}", json=change)
        assert response.status_code == 422 and response.json()["code"] == "user.self_change"


def test_malformed_json_gets_a_clear_message(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_admin"))
    response = client.post(
        "/api/v1/tokens", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422 and response.json()["message"] == "请求内容不是有效的 JSON。"
