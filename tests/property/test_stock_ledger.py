"""Random receipts, adjustments and sales through the real services: on-hand in stock_levels
always equals the sum of the ledger per store and product, the stock card's balances follow
the ledger, and the moving-average cost stays between the cheapest and dearest receipt."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.inventory import receiving, service, stock_card
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.purchasing_schemas import ReceiptCreate
from shouyin.inventory.schemas import AdjustmentIn
from shouyin.sales import service as sales
from shouyin.sales.schemas import OrderCreate, QuoteRequest
from tests import factories


@dataclass(frozen=True)
class World:
    stores: tuple[int, int]
    products: tuple[int, int]  # a unit product and a weighed one
    manager: Principal  # HQ: works in both stores


def build_world(db: Database) -> World:
    with db.write() as session:
        one, two = factories.make_store(session), factories.make_store(session)
        tea = factories.make_product(session, price=1999)
        rice = factories.make_product(session, price=637, weighed=True)
        hq = factories.make_user(session, role="hq_admin")
        return World((one.id, two.id), (tea.id, rice.id), factories.principal_of(hq))


STEP = st.tuples(
    st.sampled_from(["receive", "adjust", "sell"]),
    st.integers(0, 1),  # store
    st.integers(0, 1),  # product
    st.integers(1, 3000),  # quantity
    st.integers(0, 5000),  # unit cost
    st.booleans(),  # adjustment direction
)


def _apply(db: Database, world: World, step: tuple[str, int, int, int, int, bool]) -> None:
    kind, s, p, quantity, cost, up = step
    store_id, product_id = world.stores[s], world.products[p]
    line = {"product_id": product_id, "quantity": quantity}
    with db.write() as session:
        if kind == "receive":
            receiving.receive(
                session, actor=world.manager,
                data=ReceiptCreate.model_validate({
                    "client_uuid": str(uuid.uuid4()), "store_id": store_id,
                    "lines": [{**line, "unit_cost": cost}],
                }),
            )  # fmt: skip
        elif kind == "adjust":
            signed = {**line, "quantity": quantity if up else -quantity}
            service.adjust(
                session, actor=world.manager,
                data=AdjustmentIn(store_id=store_id, kind="adjustment", reason="盘点",
                                  lines=[signed]),  # type: ignore[list-item]
            )  # fmt: skip
        else:
            body = {"store_id": store_id, "lines": [line]}
            quote = sales.quote(
                session, actor=world.manager, data=QuoteRequest.model_validate(body)
            )
            order = {**body, "client_uuid": str(uuid.uuid4()),
                     "payments": [{"method": "cash", "amount": quote.total}]}  # fmt: skip
            sales.checkout(
                session, actor=world.manager, data=OrderCreate.model_validate(order),
                discount_audit_percent=100,
            )  # fmt: skip


def _check(db: Database, world: World, costs: dict[tuple[int, int], list[int]]) -> None:
    with db.read() as session:
        sums = {
            (store, product): int(total)
            for store, product, total in session.execute(
                select(
                    StockMovement.store_id,
                    StockMovement.product_id,
                    func.sum(StockMovement.quantity),
                ).group_by(StockMovement.store_id, StockMovement.product_id)
            )
        }
        levels = {
            (x.store_id, x.product_id): x.on_hand for x in session.scalars(select(StockLevel))
        }
        assert {k: v for k, v in levels.items() if v or k in sums} == sums
        for s in world.stores:
            for p in world.products:
                page = stock_card.card(
                    session, actor=world.manager, store_id=s, product_id=p, limit=20
                )
                assert page.on_hand == levels.get((s, p), 0)
                if page.items:
                    assert page.items[0].balance == page.on_hand
                for newer, older in zip(page.items, page.items[1:], strict=False):
                    assert older.balance == newer.balance - newer.quantity
                seen = costs.get((s, p))
                if seen:
                    assert page.unit_cost_milli is not None
                    assert min(seen) * 1000 <= page.unit_cost_milli <= max(seen) * 1000


@pytest.mark.parametrize(
    ("backend", "examples"), [("sqlite", 25), ("postgresql", 8)], indirect=["backend"]
)
def test_on_hand_is_the_sum_of_the_ledger(database: Database, examples: int) -> None:
    world = build_world(database)
    costs: dict[tuple[int, int], list[int]] = {}

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps=st.lists(STEP, min_size=1, max_size=8))
    def run(steps: list[tuple[str, int, int, int, int, bool]]) -> None:
        for step in steps:
            _apply(database, world, step)
            if step[0] == "receive":
                key = (world.stores[step[1]], world.products[step[2]])
                costs.setdefault(key, []).append(step[4])
        _check(database, world, costs)

    run()
