"""A sale at the moment its shift is being closed (PostgreSQL, where they really overlap).

The close holds the shift row (``FOR UPDATE``) while it counts; a sale that read the shift as
open must wait for it and then be refused, never land in a shift whose figures are frozen.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from sqlalchemy import func, select, text, update

from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.sales import service
from shouyin.sales.models import Order
from shouyin.sales.schemas import OrderCreate
from shouyin.sales.shift_models import Shift
from tests import factories
from tests.conftest import DatabaseMaker

WAIT_S = 30.0


def _shop(db: Database) -> dict[str, Any]:
    with db.write() as session:
        store = factories.make_store(session)
        register = factories.register_of(session, store)
        product = factories.make_product(session, price=500, stock={store.id: 10})
        cashier = factories.make_user(session, role="cashier", store=store)
        shift_id = session.scalar(select(Shift.id).where(Shift.register_id == register.id))
        return {"store": store.id, "register": register.id, "product": product.id,
                "cashier": factories.principal_of(cashier), "shift": shift_id}  # fmt: skip


def _sale(shop: dict[str, Any]) -> OrderCreate:
    return OrderCreate.model_validate({
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"],
        "register_id": shop["register"], "lines": [{"product_id": shop["product"], "quantity": 1}],
        "payments": [{"method": "cash", "amount": 500}],
    })  # fmt: skip


def _waiting_on_a_lock(db: Database) -> bool:
    with db.engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        )
        return bool(found.scalar())


def test_a_sale_during_the_close_waits_and_is_refused(db_maker: DatabaseMaker) -> None:
    db = Database.from_url(db_maker.url("postgresql"))
    try:
        shop = _shop(db)
        outcome: list[str] = []

        def sell() -> None:
            try:
                with db.write() as session:
                    service.checkout(
                        session, data=_sale(shop), actor=shop["cashier"], discount_audit_percent=100
                    )
                outcome.append("sold")
            except DomainError as exc:
                outcome.append(exc.code)

        with db.write() as closing:
            closing.execute(select(Shift.id).where(Shift.id == shop["shift"]).with_for_update())
            closing.execute(update(Shift).where(Shift.id == shop["shift"]).values(status="closed"))
            till = threading.Thread(target=sell)
            till.start()
            # The sale either finished (it did not wait: wrong) or waits on the shift's lock.
            done = threading.Event()
            for _ in range(int(WAIT_S * 20)):
                if not till.is_alive() or _waiting_on_a_lock(db):
                    break
                done.wait(0.05)
            assert till.is_alive(), f"the sale did not wait for the close: {outcome}"
        till.join(WAIT_S)
        assert outcome == ["shift.not_open"]
        with db.read() as session:
            assert session.scalar(select(func.count()).select_from(Order)) == 0
    finally:
        db.dispose()
