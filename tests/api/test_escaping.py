"""User input (product names) never reaches a page as markup."""

from __future__ import annotations

import uuid
from typing import Any

from tests import factories
from tests.conftest import AppHarness

EVIL = '<img src=x onerror="alert(8)">'


def test_product_names_are_escaped_on_the_order_page_and_receipt(harness: AppHarness) -> None:
    def build(session: Any) -> tuple[Any, Any]:
        store = factories.make_store(session)
        return store, factories.make_product(session, name=EVIL, price=100, stock={store.id: 5})

    store, product = harness.write(build)
    cashier = harness.client(harness.user("cashier", store))
    body = {"client_uuid": str(uuid.uuid4()), "store_id": store.id,
            "lines": [{"product_id": product.id, "quantity": 1}], "payments": [{"method": "cash", "amount": 100}]}  # fmt: skip
    order = cashier.post("/api/v1/orders", json=body).json()
    admin = harness.client(harness.user("hq_admin"))
    for path in (f"/office/orders/{order['id']}", "/office/products?q=img"):
        page = admin.get(path).text
        assert EVIL not in page, path
        assert "&lt;img src=x" in page, path
