"""Review fixes of the inventory work, through the services on SQLite and PostgreSQL:
transfers carry the sender's cost to the destination, moving-average updates are race-safe,
suppliers are changed by HQ only, and the replenishment list counts stock on its way."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text

from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.inventory import (
    purchasing,
    receiving,
    reorder_rules,
    replenishment,
    suppliers,
    transfers,
)
from shouyin.inventory import service as ledger
from shouyin.inventory.models import StockLevel
from shouyin.inventory.purchasing_models import StockCost
from shouyin.inventory.purchasing_schemas import (
    OrderCreate,
    ReceiptCreate,
    SupplierCreate,
    SupplierUpdate,
)
from shouyin.inventory.reorder_schemas import RuleIn
from shouyin.inventory.transfer_schemas import TransferCreate, TransferReceive
from shouyin.shared.clock import utcnow
from tests import factories

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
PG_ONLY = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
WAIT_S = 30.0


def _world(db: Database) -> dict[str, Any]:
    """Stores a and c send to b; HQ acts everywhere, b's manager in b."""
    with db.write() as session:
        a, b, c = (factories.make_store(session, shift=False) for _ in range(3))
        tea = factories.make_product(session, price=1999)
        hq = factories.make_user(session, role="hq_admin")
        manager = factories.make_user(session, role="store_manager", store=b)
        return {"a": a.id, "b": b.id, "c": c.id, "tea": tea.id,
                "hq": factories.principal_of(hq),
                "manager": factories.principal_of(manager)}  # fmt: skip


def _goods_in(session: Any, w: dict[str, Any], store: str, quantity: int, cost: int) -> None:
    data = ReceiptCreate.model_validate({
        "client_uuid": str(uuid.uuid4()), "store_id": w[store],
        "lines": [{"product_id": w["tea"], "quantity": quantity, "unit_cost": cost}],
    })  # fmt: skip
    receiving.receive(session, data=data, actor=w["hq"])


def _sent(db: Database, w: dict[str, Any], source: str, quantity: int) -> int:
    """A transfer of tea from ``source`` to b, sent."""
    data = TransferCreate.model_validate({
        "client_uuid": str(uuid.uuid4()), "from_store_id": w[source], "to_store_id": w["b"],
        "lines": [{"product_id": w["tea"], "quantity": quantity}],
    })  # fmt: skip
    with db.write() as session:
        made, _ = transfers.create(session, data=data, actor=w["hq"])
        transfers.send(session, transfer_id=made.id, actor=w["hq"])
        return made.id


def _arrive(session: Any, w: dict[str, Any], transfer_id: int, counted: int | None = None) -> None:
    lines = [] if counted is None else [{"product_id": w["tea"], "received": counted}]
    data = TransferReceive.model_validate({"lines": lines})
    transfers.receive(session, transfer_id=transfer_id, data=data, actor=w["hq"])


def _cost(db: Database, w: dict[str, Any], store: str) -> tuple[int, int | None]:
    with db.read() as session:
        level = session.get(StockLevel, (w[store], w["tea"]))
        cost = session.get(StockCost, (w[store], w["tea"]))
        return (level.on_hand if level else 0), (cost.unit_cost_milli if cost else None)


# --- 1. a transfer carries the sender's cost ------------------------------------------------


@BOTH
def test_a_received_transfer_averages_the_senders_cost_into_the_destination(
    database: Database,
) -> None:
    w = _world(database)
    with database.write() as session:
        _goods_in(session, w, "a", 10, 200)  # a: 10 @ ¥2.00
        _goods_in(session, w, "b", 20, 300)  # b: 20 @ ¥3.00
    transfer = _sent(database, w, "a", 10)
    with database.write() as session:
        _arrive(session, w, transfer, counted=8)  # two short: only what arrived counts
    # (20 × 3.00 + 8 × 2.00) / 28 = 2.714285… → 271429 milli-fen
    assert _cost(database, w, "b") == (28, 271_429)
    assert _cost(database, w, "a") == (0, 200_000)  # the sender's average stays


@BOTH
def test_a_transfer_sets_a_new_destinations_cost_and_unknown_cost_changes_nothing(
    database: Database,
) -> None:
    w = _world(database)
    with database.write() as session:
        _goods_in(session, w, "a", 10, 250)
        ledger.record_movements(
            session.connection(), store_id=w["c"], movements=[ledger.Movement(w["tea"], 5)],
            kind="adjustment", at=utcnow(), user_id=None,
        )  # fmt: skip
    first = _sent(database, w, "a", 4)
    with database.write() as session:
        _arrive(session, w, first)
    assert _cost(database, w, "b") == (4, 250_000)  # the first goods in set the cost
    # c has stock but no cost (counted in, never received with one): b's average stays.
    unknown = _sent(database, w, "c", 5)
    with database.write() as session:
        _arrive(session, w, unknown)
    assert _cost(database, w, "b") == (9, 250_000)


@BOTH
def test_goods_arrive_at_the_cost_they_were_sent_at(database: Database) -> None:
    w = _world(database)
    with database.write() as session:
        _goods_in(session, w, "a", 10, 200)  # a: 10 @ ¥2.00
    transfer = _sent(database, w, "a", 5)
    with database.write() as session:
        _goods_in(session, w, "a", 5, 800)  # while in transit, a's average moves to ¥5.00
    with database.write() as session:
        _arrive(session, w, transfer)
    assert _cost(database, w, "b") == (5, 200_000)  # sent at ¥2.00, arrives at ¥2.00


# --- 2. the moving average under concurrency (PostgreSQL, where writers overlap) -------------


def _waiting_on_a_lock(db: Database) -> bool:
    with db.engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        )
        return bool(found.scalar())


def _while_held(db: Database, first: Callable[[Any], None], second: Callable[[Any], None]) -> None:
    """``first`` runs in a transaction held open until ``second`` (another thread, its own
    transaction) waits for one of its locks; then ``first`` commits and ``second`` goes on."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with db.write() as session:
                second(session)
        except BaseException as exc:
            errors.append(exc)

    other = threading.Thread(target=run)
    with db.write() as session:
        first(session)
        other.start()
        pause = threading.Event()
        for _ in range(int(WAIT_S * 20)):
            if not other.is_alive() or _waiting_on_a_lock(db):
                break
            pause.wait(0.05)
        assert other.is_alive(), f"the second writer did not wait for the first: {errors}"
    other.join(WAIT_S)
    assert errors == []


@PG_ONLY
def test_two_first_arrivals_at_once_average_both(database: Database) -> None:
    """No cost row yet at b: the second arrival waits for the first's row, then averages."""
    w = _world(database)
    with database.write() as session:
        _goods_in(session, w, "a", 10, 200)
        _goods_in(session, w, "c", 30, 300)
    from_a, from_c = _sent(database, w, "a", 10), _sent(database, w, "c", 30)
    _while_held(
        database,
        lambda s: _arrive(s, w, from_a),
        lambda s: _arrive(s, w, from_c),
    )
    # 10 @ ¥2.00 + 30 @ ¥3.00, in either order: ¥2.75
    assert _cost(database, w, "b") == (40, 275_000)


@PG_ONLY
def test_an_arrival_waiting_on_a_receipt_averages_with_the_stock_it_left(
    database: Database,
) -> None:
    """The cost row exists: the second writer reads on-hand only once it holds the row."""
    w = _world(database)
    with database.write() as session:
        _goods_in(session, w, "b", 10, 200)
        _goods_in(session, w, "c", 10, 300)
    from_c = _sent(database, w, "c", 10)
    _while_held(
        database,
        lambda s: _goods_in(s, w, "b", 30, 300),
        lambda s: _arrive(s, w, from_c),
    )
    # 10 @ ¥2.00 + 30 @ ¥3.00 + 10 @ ¥3.00 = ¥140.00 for 50: ¥2.80 (a stale on-hand of 10
    # would give (10 × 2.75 + 10 × 3.00) / 20 = ¥2.875)
    assert _cost(database, w, "b") == (50, 280_000)


@PG_ONLY
def test_two_receipts_and_an_arrival_at_once(database: Database) -> None:
    """Started together on a barrier: whatever the order, nothing fails and the average is
    the same (the divisions here are exact)."""
    w = _world(database)
    with database.write() as session:
        _goods_in(session, w, "a", 20, 400)
    from_a = _sent(database, w, "a", 20)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def run(work: Callable[[Any], None]) -> None:
        try:
            barrier.wait(WAIT_S)
            with database.write() as session:
                work(session)
        except BaseException as exc:
            errors.append(exc)

    works: list[Callable[[Any], None]] = [
        lambda s: _goods_in(s, w, "b", 10, 100),
        lambda s: _goods_in(s, w, "b", 10, 100),
        lambda s: _arrive(s, w, from_a),
    ]
    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_S)
    assert errors == []
    # 20 @ ¥1.00 + 20 @ ¥4.00 = ¥100.00 for 40: ¥2.50
    assert _cost(database, w, "b") == (40, 250_000)


# --- 3. suppliers are the chain's: HQ changes them --------------------------------------------


@BOTH
def test_a_store_manager_adds_a_supplier_but_only_hq_changes_or_deactivates_one(
    database: Database,
) -> None:
    w = _world(database)
    code = f"S{uuid.uuid4().hex[:8]}"
    with database.write() as session:
        made = suppliers.create_supplier(
            session, data=SupplierCreate(code=code, name="本地鲜奶"), actor=w["manager"]
        )
    for change in (
        lambda s: suppliers.update_supplier(
            s, supplier_id=made.id, data=SupplierUpdate(name="改名"), actor=w["manager"]
        ),
        lambda s: suppliers.deactivate_supplier(s, supplier_id=made.id, actor=w["manager"]),
    ):
        with pytest.raises(DomainError) as refused, database.write() as session:
            change(session)
        assert (refused.value.status, refused.value.code) == (403, "supplier.hq_only")
    with database.write() as session:
        renamed = suppliers.update_supplier(
            session, supplier_id=made.id, data=SupplierUpdate(name="鲜奶行"), actor=w["hq"]
        )
        off = suppliers.deactivate_supplier(session, supplier_id=made.id, actor=w["hq"])
    assert (renamed.name, off.active) == ("鲜奶行", False)


# --- 4. the replenishment list counts what is on its way --------------------------------------


def _order(session: Any, w: dict[str, Any], store: str, supplier: int, quantity: int) -> int:
    data = OrderCreate.model_validate({
        "client_uuid": str(uuid.uuid4()), "store_id": w[store], "supplier_id": supplier,
        "lines": [{"product_id": w["tea"], "quantity": quantity, "unit_cost": 100}],
    })  # fmt: skip
    order, _ = purchasing.create_order(session, data=data, actor=w["hq"])
    return order.id


@BOTH
def test_suggested_quantity_leaves_out_open_orders_and_transfers_in_transit(
    database: Database,
) -> None:
    w = _world(database)
    with database.write() as session:
        supplier = suppliers.create_supplier(
            session, data=SupplierCreate(code=f"S{uuid.uuid4().hex[:8]}", name="茶叶"),
            actor=w["hq"],
        ).id  # fmt: skip
        _goods_in(session, w, "a", 20, 100)
        _goods_in(session, w, "b", 8, 100)
        reorder_rules.set_rule(
            session,
            actor=w["hq"],
            data=RuleIn(
                store_id=w["b"], product_id=w["tea"], min_qty=20, max_qty=40, supplier_id=supplier
            ),
        )
        sent = _order(session, w, "b", supplier, 15)  # sent, 5 received: 10 on order
        purchasing.send_order(session, order_id=sent, actor=w["hq"])
        over = _order(session, w, "b", supplier, 2)  # received more than ordered: none
        purchasing.send_order(session, order_id=over, actor=w["hq"])
        _order(session, w, "b", supplier, 50)  # a draft is not on order
        cancelled = _order(session, w, "b", supplier, 50)
        purchasing.send_order(session, order_id=cancelled, actor=w["hq"])
        purchasing.cancel_order(session, order_id=cancelled, actor=w["hq"])
        purchasing.send_order(session, order_id=_order(session, w, "a", supplier, 50),
                              actor=w["hq"])  # another store's order  # fmt: skip
    with database.write() as session:
        for order, quantity in ((sent, 5), (over, 3)):
            receiving.receive(
                session,
                actor=w["hq"],
                data=ReceiptCreate.model_validate(
                    {
                        "client_uuid": str(uuid.uuid4()),
                        "store_id": w["b"],
                        "order_id": order,
                        "lines": [{"product_id": w["tea"], "quantity": quantity, "unit_cost": 100}],
                    }
                ),
            )
    on_the_way = _sent(database, w, "a", 6)  # in transit to b: on order
    done = _sent(database, w, "a", 1)
    with database.write() as session:
        _arrive(session, w, done)  # received: on hand, no longer on order
    with database.read() as session:
        got = replenishment.replenishment_list(session, store_id=w["b"], actor=w["hq"])
    # manual 20/40 with 17 on hand and 16 on its way: 40 − 17 − 16 = 7 (23 without them)
    assert [(x.on_hand, x.on_order, x.order_up_to, x.suggested) for x in got] == [
        (8 + 5 + 3 + 1, 10 + 6, 40, 7)
    ]
    header, line = replenishment.csv_text(got).splitlines()
    assert header.endswith("order_up_to,on_order,suggested,supplier")
    assert line.endswith(",17,20,40,16,7,茶叶")
    # On order covering the gap: still listed (the shelf is low), nothing suggested.
    with database.write() as session:
        purchasing.send_order(session, order_id=_order(session, w, "b", supplier, 7),
                              actor=w["hq"])  # fmt: skip
    with database.read() as session:
        low = replenishment.low_products(session, store_id=w["b"])
    assert [(x.on_order, x.suggested) for x in low] == [(23, 0)]
    with database.write() as session:  # the transfer arrives: on hand, off the way
        _arrive(session, w, on_the_way)
    with database.read() as session:
        coming = session.execute(select(replenishment.on_order_query(w["b"]))).all()
    assert [tuple(row) for row in coming] == [(w["tea"], 17)]
