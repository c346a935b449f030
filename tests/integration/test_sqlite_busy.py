"""Another process writing to the SQLite file never stalls the server or loses a sale."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from tests import factories
from tests.conftest import AppHarness


def test_checkout_waits_for_an_outside_writer_off_the_event_loop(harness: AppHarness) -> None:
    def build(session: Any) -> tuple[Any, Any]:
        store = factories.make_store(session)
        return store, factories.make_product(session, price=100, stock={store.id: 5})

    store, product = harness.write(build)
    cashier = harness.client(harness.user("cashier", store))
    path = Path(make_url(str(harness.db.engine.url)).database or "")
    outsider = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    outsider.execute("BEGIN IMMEDIATE")  # e.g. a CLI import holding the write lock

    def release_soon() -> None:
        time.sleep(0.5)
        outsider.execute("COMMIT")

    threading.Thread(target=release_soon).start()
    body = {"client_uuid": str(uuid.uuid4()), "store_id": store.id,
            "lines": [{"product_id": product.id, "quantity": 1}], "payments": [{"method": "cash", "amount": 100}]}  # fmt: skip
    response = cashier.post("/api/v1/orders", json=body)
    assert response.status_code == 201, response.text
    outsider.close()


def test_a_writer_that_never_lets_go_gets_a_clear_busy_answer(harness: AppHarness) -> None:
    def build(session: Any) -> tuple[Any, Any]:
        store = factories.make_store(session)
        return store, factories.make_product(session, price=100, stock={store.id: 5})

    store, product = harness.write(build)
    cashier = harness.client(harness.user("cashier", store))
    path = Path(make_url(str(harness.db.engine.url)).database or "")
    outsider = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    outsider.execute("BEGIN IMMEDIATE")
    try:
        body = {"client_uuid": str(uuid.uuid4()), "store_id": store.id,
                "lines": [{"product_id": product.id, "quantity": 1}], "payments": [{"method": "cash", "amount": 100}]}  # fmt: skip
        response = cashier.post("/api/v1/orders", json=body)
        assert response.status_code == 503 and response.json()["code"] == "db.busy"
    finally:
        outsider.execute("ROLLBACK")
        outsider.close()
