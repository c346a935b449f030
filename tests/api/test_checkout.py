"""Selling through the REST API: pricing, payments, idempotency, stock, bad input."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from shouyin.audit.models import AuditEntry
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.sales.models import Order, OrderLine, Payment
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)


def _shop(harness: AppHarness, rounding: str = "none") -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        store = factories.make_store(session, rounding=rounding)
        register = factories.register_of(session, store)
        water = factories.make_product(session, price=350, stock={store.id: 100})
        chips = factories.make_product(session, price=1290, stock={store.id: 100})
        apples = factories.make_product(session, price=1280, weighed=True, stock={store.id: 5000})
        return {
            "store": store,
            "register": register,
            "water": water,
            "chips": chips,
            "apples": apples,
        }

    shop: dict[str, Any] = harness.write(build)
    shop["cashier"] = harness.user("cashier", shop["store"])
    shop["manager"] = harness.user("store_manager", shop["store"])
    return shop


def _order(
    shop: dict[str, Any], lines: list[dict[str, Any]], payments: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "lines": lines, "payments": payments,
    }  # fmt: skip
    body.update(extra)
    return body


def _counts(harness: AppHarness) -> tuple[int, int, int, int]:
    with harness.db.read() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Order, OrderLine, Payment, StockMovement)
        )


@BOTH
def test_cash_sale_computes_change_and_moves_stock(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    body = _order(
        shop,
        [{"product_id": shop["water"].id, "quantity": 2}, {"product_id": shop["chips"].id, "quantity": 1},
         {"product_id": shop["apples"].id, "quantity": 532}],
        [{"method": "cash", "amount": 5000}],
    )  # fmt: skip
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 201, response.text
    order = response.json()
    # 2 x 3.50 + 12.90 + 0.532 kg x 12.80 (6.81) = 26.71
    assert order["total"] == 700 + 1290 + 681
    assert order["change"] == 5000 - order["total"]
    assert order["number"].startswith(shop["store"].code + "-")
    assert sum(line["net"] for line in order["lines"]) == order["total"]
    with harness.db.read() as session:
        levels = dict(
            session.execute(
                select(StockLevel.product_id, StockLevel.on_hand).where(
                    StockLevel.store_id == shop["store"].id
                )
            ).all()
        )
    assert levels[shop["water"].id] == 98
    assert levels[shop["apples"].id] == 5000 - 532


@BOTH
def test_same_client_uuid_twice_makes_one_order(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    body = _order(
        shop, [{"product_id": shop["water"].id, "quantity": 1}], [{"method": "cash", "amount": 500}]
    )
    first = client.post("/api/v1/orders", json=body)
    second = client.post("/api/v1/orders", json=body)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["number"] == second.json()["number"]
    assert _counts(harness)[:3] == (1, 1, 1)


def test_split_card_and_cash(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    body = _order(
        shop, [{"product_id": shop["chips"].id, "quantity": 2}],
        [{"method": "card", "amount": 2000, "reference": "T123"}, {"method": "cash", "amount": 1000}],
    )  # fmt: skip
    order = client.post("/api/v1/orders", json=body).json()
    assert order["total"] == 2580
    paid = {p["method"]: p for p in order["payments"]}
    assert paid["card"]["amount"] == 2000 and paid["card"]["reference"] == "T123"
    assert paid["cash"]["amount"] == 580 and paid["cash"]["change"] == 420


def test_store_rounding_to_jiao_is_recorded_as_a_step(harness: AppHarness) -> None:
    shop = _shop(harness, rounding="jiao")
    client = harness.client(shop["cashier"])
    body = _order(
        shop,
        [{"product_id": shop["apples"].id, "quantity": 532}],
        [{"method": "cash", "amount": 1000}],
    )
    order = client.post("/api/v1/orders", json=body).json()
    assert order["total"] == 680  # 6.81 -> 6.80
    assert {"kind": "rounding", "amount": -1, "label": "", "ref": None} in order["steps"]


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda b: b.update(payments=[{"method": "cash", "amount": 100}]), "payment.insufficient"),
        (lambda b: b["lines"][0].update(quantity=0), "cart.quantity_invalid"),
        (lambda b: b["lines"][0].update(quantity=-2), "cart.quantity_invalid"),
        (lambda b: b.update(lines=[]), "cart.empty"),
        (lambda b: b["lines"][0].update(product_id=999999), "catalog.product_unknown"),
        (
            lambda b: b.update(
                payments=[{"method": "card", "amount": 999999, "reference": "T999"}]
            ),
            "payment.overpaid_noncash",
        ),
        (lambda b: b["lines"][0].update(quantity=True), "request.invalid"),
        (lambda b: b.update(client_uuid="not-a-uuid"), "request.invalid"),
    ],
)
def test_bad_orders_are_rejected_and_write_nothing(
    harness: AppHarness, mutate: Any, code: str
) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    body = _order(
        shop, [{"product_id": shop["water"].id, "quantity": 1}], [{"method": "cash", "amount": 500}]
    )
    mutate(body)
    before = _counts(harness)
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code in (404, 422), response.text
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert _counts(harness) == before


def test_order_for_another_store_is_forbidden(harness: AppHarness) -> None:
    shop, other = _shop(harness), _shop(harness)
    client = harness.client(shop["cashier"])
    body = _order(
        other,
        [{"product_id": other["water"].id, "quantity": 1}],
        [{"method": "cash", "amount": 500}],
    )
    before = _counts(harness)
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 403 and response.json()["code"] == "store.forbidden"
    assert _counts(harness) == before


def test_cashier_cannot_discount_but_manager_can_and_big_discounts_are_audited(
    harness: AppHarness,
) -> None:
    shop = _shop(harness)
    lines = [
        {
            "product_id": shop["chips"].id,
            "quantity": 1,
            "discount": {"kind": "percent", "value": 5000},
        }
    ]
    body = _order(shop, lines, [{"method": "cash", "amount": 1000}])
    denied = harness.client(shop["cashier"]).post("/api/v1/orders", json=body)
    assert denied.status_code == 403 and denied.json()["code"] == "auth.permission_denied"
    allowed = harness.client(shop["manager"]).post("/api/v1/orders", json=body)
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["total"] == 645
    with harness.db.read() as session:
        actions = list(session.scalars(select(AuditEntry.action)))
    assert "sale.discount" in actions


def test_price_override_needs_permission_and_is_audited(harness: AppHarness) -> None:
    shop = _shop(harness)
    lines = [{"product_id": shop["water"].id, "quantity": 1, "price_override": 300}]
    body = _order(shop, lines, [{"method": "cash", "amount": 300}])
    assert harness.client(shop["cashier"]).post("/api/v1/orders", json=body).status_code == 403
    response = harness.client(shop["manager"]).post("/api/v1/orders", json=body)
    assert response.status_code == 201 and response.json()["total"] == 300
    with harness.db.read() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sale.price_override")
        ).one()
    assert entry.before == {"price": 350, "product_id": shop["water"].id}


def test_quote_matches_the_order(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["manager"])
    cart = {"store_id": shop["store"].id, "lines": [{"product_id": shop["chips"].id, "quantity": 3}],
            "order_discount": {"kind": "amount", "value": 500}}  # fmt: skip
    quote = client.post("/api/v1/orders/quote", json=cart).json()
    order = client.post("/api/v1/orders", json=_order(shop, cart["lines"], [{"method": "cash", "amount": 5000}],
                                                    order_discount=cart["order_discount"])).json()  # fmt: skip
    assert quote["total"] == order["total"] == 3 * 1290 - 500
    assert quote["steps"] == order["steps"]


def test_receipt_text_and_escpos(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    body = _order(
        shop,
        [{"product_id": shop["water"].id, "quantity": 1}],
        [{"method": "cash", "amount": 1000}],
    )
    order = client.post("/api/v1/orders", json=body).json()
    text = client.get(f"/api/v1/orders/{order['id']}/receipt").text
    assert order["number"] in text and shop["water"].name in text and "￥6.50" in text
    raw = client.get(f"/api/v1/orders/{order['id']}/receipt?format=escpos&paper=80").content
    assert b"\x1c\x26" in raw  # FS & : Chinese mode
    assert shop["water"].name.encode("gbk") in raw


def test_other_store_orders_are_hidden(harness: AppHarness) -> None:
    shop, other = _shop(harness), _shop(harness)
    body = _order(
        other,
        [{"product_id": other["water"].id, "quantity": 1}],
        [{"method": "cash", "amount": 500}],
    )
    order = harness.client(other["cashier"]).post("/api/v1/orders", json=body).json()
    assert harness.client(shop["cashier"]).get(f"/api/v1/orders/{order['id']}").status_code == 404
    assert (
        harness.client(harness.user("hq_admin")).get(f"/api/v1/orders/{order['id']}").status_code
        == 200
    )


def test_voided_cart_lines_are_audited(harness: AppHarness) -> None:
    shop = _shop(harness)
    body = {"store_id": shop["store"].id, "register_id": shop["register"].id, "whole_cart": False,
            "lines": [{"product_id": shop["water"].id, "name": "水", "quantity": 2, "amount": 700}]}  # fmt: skip
    response = harness.client(shop["cashier"]).post("/api/v1/orders/voids", json=body)
    assert response.status_code == 201, response.text
    with harness.db.read() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sale.void_line")
        ).one()
    assert entry.actor == shop["cashier"].username and entry.before["amount"] == 700  # type: ignore[index]


def test_receipt_shows_rounding_once_not_as_a_line_discount(harness: AppHarness) -> None:
    shop = _shop(harness, rounding="jiao")
    client = harness.client(shop["cashier"])
    body = _order(
        shop,
        [{"product_id": shop["apples"].id, "quantity": 532}],
        [{"method": "cash", "amount": 1000}],
    )
    order = client.post("/api/v1/orders", json=body).json()
    text = client.get(f"/api/v1/orders/{order['id']}/receipt").text
    assert "￥6.81" in text  # the line at its own price
    assert "抹零" in text and "-￥0.01" in text
    assert "优惠" not in text


def test_a_reused_uuid_with_a_different_cart_is_refused(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    body = _order(
        shop, [{"product_id": shop["water"].id, "quantity": 1}], [{"method": "cash", "amount": 500}]
    )
    assert client.post("/api/v1/orders", json=body).status_code == 201
    body["lines"][0]["quantity"] = 2
    again = client.post("/api/v1/orders", json=body)
    assert again.status_code == 409 and again.json()["code"] == "order.uuid_reused"
    assert _counts(harness)[0] == 1


@BOTH
def test_an_absurdly_large_order_is_refused_not_overflowed(harness: AppHarness) -> None:
    def build(session: Any) -> dict[str, Any]:
        store = factories.make_store(session)
        return {"store": store, "register": factories.register_of(session, store),
                "gold": factories.make_product(session, price=99_999_999, stock={store.id: 100})}  # fmt: skip

    shop = harness.write(build)
    manager = harness.client(harness.user("store_manager", shop["store"]))
    lines = [
        {
            "product_id": shop["gold"].id,
            "quantity": 30,
            "discount": {"kind": "percent", "value": 10000},
        }
    ]
    response = manager.post("/api/v1/orders", json=_order(shop, lines, []))
    assert response.status_code == 422 and response.json()["code"] == "cart.too_large"
