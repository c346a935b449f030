"""The customer display page (客显) and its QR codes: login and sales.sell, the cashier's own
store only, the shop's message and payment QR in the page, SVG out and long texts refused."""

from __future__ import annotations

from typing import Any

import pytest

from shouyin.stores.models import Register
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
QR = "/till/display/qr.svg"


def _shops(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        store, other = factories.make_store(session), factories.make_store(session)
        register = factories.register_of(session, store)
        closed = Register(store_id=store.id, code="R9", name="停用收银台", active=False)
        session.add(closed)
        session.flush()
        return {"store": store, "register": register,
                "other": factories.register_of(session, other), "closed": closed}  # fmt: skip

    shops: dict[str, Any] = harness.write(build)
    shops["cashier"] = harness.client(harness.user("cashier", shops["store"]))
    return shops


def _page(shops: dict[str, Any], key: str = "register") -> str:
    return f"/till/display?register_id={shops[key].id}"


@BOTH
def test_the_cashier_opens_the_display_of_a_register_of_the_store(harness: AppHarness) -> None:
    shops = _shops(harness)
    page = shops["cashier"].get(_page(shops))
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    # In Chinese by default: the shop's name and the configured welcome message.
    assert shops["store"].name in page.text and "欢迎光临" in page.text
    assert "谢谢惠顾" in page.text and "应付金额" in page.text
    assert f'"register_id": {shops["register"].id}' in page.text
    assert "/static/display.js" in page.text
    # No payment QR unless the shop configured one.
    assert "<svg" not in page.text


def test_the_display_needs_a_login_and_the_right_to_sell(harness: AppHarness) -> None:
    shops = _shops(harness)
    anonymous = harness.client().get(_page(shops))
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    marketer = harness.client(harness.user("hq_marketer"))
    assert marketer.get(_page(shops)).status_code == 403
    assert marketer.get(QR, params={"text": "x"}).status_code == 403
    assert harness.client().get(QR, params={"text": "x"}).status_code == 303


def test_another_stores_register_missing_or_closed_is_refused(harness: AppHarness) -> None:
    shops = _shops(harness)
    cashier = shops["cashier"]
    other = cashier.get(_page(shops, "other"))
    assert other.status_code == 403 and "store.forbidden" in other.text
    assert cashier.get(_page(shops, "closed")).status_code == 404
    assert cashier.get("/till/display?register_id=2147483647").status_code == 404
    assert cashier.get("/till/display?register_id=2147483648").status_code == 422
    assert cashier.get("/till/display").status_code == 422
    # Head office may put up the display of any store's register.
    admin = harness.client(harness.user("hq_admin"))
    assert admin.get(_page(shops, "other")).status_code == 200


def test_the_configured_message_and_payment_qr_are_in_the_page(harness: AppHarness) -> None:
    shops = _shops(harness)
    settings = harness.app.state.settings
    harness.app.state.settings = settings.model_copy(
        update={"display_message": "会员日全场九折", "display_pay_qr": "wxp://f2f0shop-code"}
    )
    page = shops["cashier"].get(_page(shops))
    assert page.status_code == 200
    assert "会员日全场九折" in page.text
    assert page.text.count('<svg class="qr-svg"') == 1 and "或扫码支付" in page.text
    assert "<?xml" not in page.text


def test_the_qr_endpoint_returns_svg_and_refuses_long_text(harness: AppHarness) -> None:
    shops = _shops(harness)
    cashier = shops["cashier"]
    small = cashier.get(QR, params={"text": "https://pay.example.cn/o/123"})
    assert small.status_code == 200
    assert small.headers["content-type"].startswith("image/svg+xml")
    assert small.text.startswith("<svg") and "<path" in small.text
    # More text, more modules: the code really holds the text.
    bigger = cashier.get(QR, params={"text": "https://pay.example.cn/o/" + "9" * 200})
    assert len(bigger.text) > len(small.text)
    assert cashier.get(QR, params={"text": "中" * 500}).status_code == 200
    assert cashier.get(QR, params={"text": "x" * 501}).status_code == 422
    assert cashier.get(QR, params={"text": ""}).status_code == 422
    assert cashier.get(QR).status_code == 422
