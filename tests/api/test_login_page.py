"""The login page: a form with its own CSRF token, a redirect after login, and logout."""

from __future__ import annotations

import re

from tests import factories
from tests.conftest import AppHarness


def _form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_login_form_logs_in_and_redirects_to_next(harness: AppHarness) -> None:
    user = harness.user("store_manager")
    client = harness.client()
    page = client.get("/login?next=/api/v1/me")
    assert page.status_code == 200 and "<form" in page.text
    response = client.post(
        "/login",
        data={"username": user.username, "password": factories.PASSWORD,
              "csrf_token": _form_token(page.text), "next": "/api/v1/me"},
    )  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == "/api/v1/me"
    assert client.get("/api/v1/me").json()["username"] == user.username


def test_login_form_without_its_token_is_refused(harness: AppHarness) -> None:
    user = harness.user("cashier")
    client = harness.client()
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": user.username, "password": factories.PASSWORD, "csrf_token": "x"},
    )
    assert response.status_code == 403
    assert client.get("/api/v1/me").status_code == 401


def test_login_never_redirects_off_site(harness: AppHarness) -> None:
    user = harness.user("cashier")
    client = harness.client()
    token = _form_token(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": user.username, "password": factories.PASSWORD, "csrf_token": token,
              "next": "//evil.example/"},
    )  # fmt: skip
    assert response.headers["location"] == "/"


def test_wrong_password_shows_a_message_in_chinese_by_default(harness: AppHarness) -> None:
    user = harness.user("cashier")
    client = harness.client()
    token = _form_token(client.get("/login").text)
    response = client.post(
        "/login", data={"username": user.username, "password": "nope-nope", "csrf_token": token}
    )
    assert response.status_code == 401 and "用户名或密码错误" in response.text


def test_logout_ends_the_session(harness: AppHarness) -> None:
    user = harness.user("cashier")
    client = harness.client(user)
    assert client.get("/api/v1/me").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/api/v1/me").status_code == 401


def test_cashier_lands_on_the_till_and_manager_on_the_summary(harness: AppHarness) -> None:
    cashier, admin = harness.user("cashier"), harness.user("hq_admin")
    assert harness.client(cashier).get("/").headers["location"] == "/till"
    assert harness.client(admin).get("/").headers["location"] == "/office/summary"


def test_language_switch_returns_to_the_same_page_with_its_filters(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_admin"))
    page = client.get("/office/orders?number=S01&page=2")
    assert "/lang/en?back=/office/orders%3Fnumber%3DS01%26page%3D2" in page.text
    switched = client.get("/lang/en?back=/office/orders%3Fnumber%3DS01%26page%3D2")
    assert switched.headers["location"] == "/office/orders?number=S01&page=2"
    assert "Orders" in client.get("/office/orders").text
