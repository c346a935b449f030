"""Held carts (挂单) through HTTP: park, list, recall once, delete, the per-till limit, stores
and permissions, on both databases."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from shouyin.audit.models import AuditEntry
from shouyin.sales.held_models import HeldCart
from shouyin.stores.models import Register
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
HELD = "/api/v1/held-carts"


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        store = factories.make_store(session)
        register = factories.register_of(session, store)
        second = Register(store_id=store.id, code="R2", name="2号收银台")
        session.add(second)
        session.flush()
        water = factories.make_product(session, price=350, stock={store.id: 100})
        apples = factories.make_product(session, price=1280, weighed=True, stock={store.id: 5000})
        return {"store": store, "register": register, "second": second, "water": water,
                "apples": apples}  # fmt: skip

    shop: dict[str, Any] = harness.write(build)
    shop["cashier_user"] = harness.user("cashier", shop["store"])
    shop["cashier"] = harness.client(shop["cashier_user"])
    return shop


def _body(shop: dict[str, Any], register: str = "register", **extra: Any) -> dict[str, Any]:
    cart = {
        "store_id": shop["store"].id,
        "lines": [{"product_id": shop["water"].id, "quantity": 3},
                  {"product_id": shop["apples"].id, "quantity": 500}],
        "order_discount": None, "member_id": None, "coupon_codes": [], "points": 0,
    }  # fmt: skip
    return {"store_id": shop["store"].id, "register_id": shop[register].id, "cart": cart, **extra}


def _count(harness: AppHarness) -> int:
    with harness.db.read() as session:
        return session.scalar(select(func.count()).select_from(HeldCart)) or 0


@BOTH
def test_park_list_recall_once(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = shop["cashier"]
    first = client.post(HELD, json=_body(shop, label="红衣女士"))
    assert first.status_code == 201, first.text
    parked = first.json()
    # 3 bottles and one weighed line; 3 x 3.50 + 0.5 kg x 12.80.
    assert parked["item_count"] == 4
    assert parked["total_hint"] == 1050 + 640
    assert parked["label"] == "红衣女士"
    assert parked["user_name"] == shop["cashier_user"].display_name
    second = client.post(HELD, json=_body(shop, label="  "))
    assert second.status_code == 201 and second.json()["label"] is None
    other_till = client.post(HELD, json=_body(shop, register="second"))
    assert other_till.status_code == 201

    listed = client.get(HELD, params={"register_id": shop["register"].id})
    assert listed.status_code == 200
    page = listed.json()
    assert page["total"] == 2
    assert [x["id"] for x in page["items"]] == [second.json()["id"], parked["id"]]  # newest first
    assert client.get(HELD).json()["total"] == 3  # the whole store

    recalled = client.post(f"{HELD}/{parked['id']}/recall")
    assert recalled.status_code == 200, recalled.text
    cart = recalled.json()["cart"]
    assert cart["lines"][0] == {"product_id": shop["water"].id, "quantity": 3,
                                "price_override": None, "discount": None}  # fmt: skip
    # The recalled cart is a quote request as it stands: it prices again.
    quote = client.post("/api/v1/orders/quote", json=cart)
    assert quote.status_code == 200 and quote.json()["total"] == 1690

    again = client.post(f"{HELD}/{parked['id']}/recall")
    assert again.status_code == 404 and again.json()["code"] == "held.not_found"
    assert client.get(HELD, params={"register_id": shop["register"].id}).json()["total"] == 1


@BOTH
def test_the_limit_is_per_till(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = shop["cashier"]
    for _ in range(5):
        assert client.post(HELD, json=_body(shop)).status_code == 201
    refused = client.post(HELD, json=_body(shop))
    assert refused.status_code == 409
    assert refused.json()["code"] == "held.limit"
    assert refused.json()["details"] == {"limit": 5}
    assert client.post(HELD, json=_body(shop, register="second")).status_code == 201
    oldest = client.get(HELD, params={"register_id": shop["register"].id}).json()["items"][-1]
    assert client.delete(f"{HELD}/{oldest['id']}").status_code == 204
    assert client.post(HELD, json=_body(shop)).status_code == 201
    assert _count(harness) == 6  # 5 on the first till, 1 on the second
    with harness.db.read() as session:
        deleted = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "held.delete")
        ).one()
    assert deleted.entity_id == str(oldest["id"])


@BOTH
def test_concurrent_parks_never_pass_the_limit(harness: AppHarness) -> None:
    shop = _shop(harness)
    harness.app.state.settings.held_cart_limit = 2
    clients = [harness.client(shop["cashier_user"]) for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        codes = list(pool.map(lambda c: c.post(HELD, json=_body(shop)).status_code, clients))
    assert sorted(codes) == [201, 201, 409, 409]
    assert _count(harness) == 2


@BOTH
def test_concurrent_recalls_hand_the_cart_out_once(harness: AppHarness) -> None:
    shop = _shop(harness)
    held_id = shop["cashier"].post(HELD, json=_body(shop)).json()["id"]
    clients = [harness.client(shop["cashier_user"]) for _ in range(3)]
    with ThreadPoolExecutor(3) as pool:
        codes = list(pool.map(lambda c: c.post(f"{HELD}/{held_id}/recall").status_code, clients))
    assert sorted(codes) == [200, 404, 404]


@BOTH
def test_other_stores_carts_are_not_found(harness: AppHarness) -> None:
    shop = _shop(harness)
    other = _shop(harness)
    held_id = shop["cashier"].post(HELD, json=_body(shop)).json()["id"]
    stranger = other["cashier"]
    assert stranger.post(f"{HELD}/{held_id}/recall").status_code == 404
    assert stranger.delete(f"{HELD}/{held_id}").status_code == 404
    assert stranger.get(HELD).json()["total"] == 0
    assert stranger.get(HELD, params={"register_id": shop["register"].id}).status_code == 404
    assert stranger.get(HELD, params={"store_id": shop["store"].id}).status_code == 403
    # Parking at another store's till, or a cart for another store, is refused.
    assert stranger.post(HELD, json=_body(shop)).status_code == 403
    mixed = _body(other)
    mixed["cart"]["store_id"] = shop["store"].id
    assert stranger.post(HELD, json=mixed).status_code == 422
    wrong_till = _body(other)
    wrong_till["register_id"] = shop["register"].id
    assert stranger.post(HELD, json=wrong_till).status_code == 404
    assert _count(harness) == 1
    # HQ sees every store and may recall.
    admin = harness.client(harness.user("hq_admin"))
    assert admin.get(HELD, params={"store_id": shop["store"].id}).json()["total"] == 1
    assert admin.post(f"{HELD}/{held_id}/recall").status_code == 200


@BOTH
def test_permissions_and_bad_input(harness: AppHarness) -> None:
    shop = _shop(harness)
    held_id = shop["cashier"].post(HELD, json=_body(shop)).json()["id"]
    auditor = harness.client(harness.user("auditor"))
    assert auditor.get(HELD).status_code == 403
    assert auditor.post(HELD, json=_body(shop)).status_code == 403
    assert auditor.post(f"{HELD}/{held_id}/recall").status_code == 403
    assert auditor.delete(f"{HELD}/{held_id}").status_code == 403
    assert harness.client().get(HELD).status_code == 401

    client = shop["cashier"]
    empty = _body(shop)
    empty["cart"]["lines"] = []
    assert client.post(HELD, json=empty).json()["code"] == "held.empty"
    unknown = _body(shop)
    unknown["cart"]["lines"][0]["product_id"] = 2**31 - 1
    assert client.post(HELD, json=unknown).status_code == 404
    extra = _body(shop)
    extra["cart"]["total"] = 1
    assert client.post(HELD, json=extra).status_code == 422
    assert client.post(HELD, json=_body(shop, label="x" * 61)).status_code == 422
    # A cashier cannot park a discount they could not give.
    discounted = _body(shop)
    discounted["cart"]["order_discount"] = {"kind": "percent", "value": 5000}
    assert client.post(HELD, json=discounted).status_code == 403
    assert _count(harness) == 1
