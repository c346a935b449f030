"""Transfers in the service layer on both databases: the ledger stays the sum of its movements,
and two people pressing the same button at once move stock once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.inventory import transfers
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.transfer_models import Transfer
from shouyin.inventory.transfer_schemas import TransferCreate, TransferReceive
from tests import factories

BARRIER_TIMEOUT_S = 20.0


class Chain:
    def __init__(self, db: Database) -> None:
        with db.write() as session:
            a, b = (factories.make_store(session, shift=False) for _ in range(2))
            products = [factories.make_product(session, stock={a.id: 20}) for _ in range(3)]
            self.a, self.b = a.id, b.id
            self.products = [p.id for p in products]
            self.sender: Principal = factories.principal_of(
                factories.make_user(session, role="store_manager", store=a)
            )
            self.receiver: Principal = factories.principal_of(
                factories.make_user(session, role="store_manager", store=b)
            )
        self.db = db

    def draft(self, quantities: list[int], client_uuid: str | None = None) -> int:
        data = TransferCreate.model_validate(
            {"client_uuid": client_uuid or str(uuid.uuid4()), "from_store_id": self.a,
             "to_store_id": self.b,
             "lines": [{"product_id": p, "quantity": q}
                       for p, q in zip(self.products, quantities, strict=False)]}
        )  # fmt: skip
        with self.db.write() as session:
            view, _ = transfers.create(session, data=data, actor=self.sender)
        return view.id

    def run(self, action: Callable[[Session], Any]) -> str:
        try:
            with self.db.write() as session:
                action(session)
        except DomainError as exc:
            return exc.code
        return "ok"


def at_once(actions: list[Callable[[], str]]) -> list[str]:
    start = threading.Barrier(len(actions), timeout=BARRIER_TIMEOUT_S)

    def go(action: Callable[[], str]) -> str:
        start.wait()
        return action()

    with ThreadPoolExecutor(len(actions)) as pool:
        return list(pool.map(go, actions))


def check_ledger(db: Database) -> dict[tuple[int, int], int]:
    """Every level equals the sum of its movements."""
    with db.read() as session:
        sums = {
            (s, p): int(q)
            for s, p, q in session.execute(
                select(StockMovement.store_id, StockMovement.product_id,
                       func.sum(StockMovement.quantity))
                .group_by(StockMovement.store_id, StockMovement.product_id)
            )
        }  # fmt: skip
        levels = {
            (s, p): q
            for s, p, q in session.execute(
                select(StockLevel.store_id, StockLevel.product_id, StockLevel.on_hand)
            )
        }
    assert {k: v for k, v in levels.items() if v} == {k: v for k, v in sums.items() if v}
    return levels


def test_a_full_round_keeps_the_ledger_and_the_levels_equal(database: Database) -> None:
    chain = Chain(database)
    first = chain.draft([5, 3, 1])
    second = chain.draft([2, 2])
    third = chain.draft([1])
    assert chain.run(lambda s: transfers.send(s, transfer_id=first, actor=chain.sender)) == "ok"
    assert chain.run(lambda s: transfers.send(s, transfer_id=second, actor=chain.sender)) == "ok"
    counted = TransferReceive.model_validate(
        {"lines": [{"product_id": chain.products[0], "received": 4},
                   {"product_id": chain.products[2], "received": 0}]}
    )  # fmt: skip
    receive = lambda s: transfers.receive(  # noqa: E731
        s, transfer_id=first, data=counted, actor=chain.receiver
    )
    assert chain.run(receive) == "ok"
    assert chain.run(lambda s: transfers.cancel(s, transfer_id=second, actor=chain.sender)) == "ok"
    assert chain.run(lambda s: transfers.cancel(s, transfer_id=third, actor=chain.sender)) == "ok"
    levels = check_ledger(database)
    p0, p1, p2 = chain.products
    assert (levels[(chain.a, p0)], levels[(chain.a, p1)], levels[(chain.a, p2)]) == (15, 17, 19)
    assert (levels[(chain.b, p0)], levels[(chain.b, p1)]) == (4, 3)
    assert levels.get((chain.b, p2), 0) == 0
    with database.read() as session:
        view = transfers.detail(session, transfer_id=first, actor=chain.receiver)
    assert view.shortfall == 2 and [x.shortfall for x in view.lines] == [1, 0, 1]


def test_two_sends_at_once_move_stock_once(database: Database) -> None:
    chain = Chain(database)
    transfer_id = chain.draft([5])
    results = at_once(
        [lambda: chain.run(lambda s: transfers.send(s, transfer_id=transfer_id,
                                                    actor=chain.sender))] * 3
    )  # fmt: skip
    assert sorted(results) == ["ok", "transfer.in_transit", "transfer.in_transit"]
    assert check_ledger(database)[(chain.a, chain.products[0])] == 15


def test_receive_and_cancel_at_once_do_one_of_them(database: Database) -> None:
    chain = Chain(database)
    transfer_id = chain.draft([5])
    assert chain.run(lambda s: transfers.send(s, transfer_id=transfer_id, actor=chain.sender))
    results = at_once([
        lambda: chain.run(lambda s: transfers.receive(
            s, transfer_id=transfer_id, data=TransferReceive(), actor=chain.receiver)),
        lambda: chain.run(lambda s: transfers.cancel(
            s, transfer_id=transfer_id, actor=chain.sender)),
    ])  # fmt: skip
    assert results.count("ok") == 1
    levels = check_ledger(database)
    p0 = chain.products[0]
    with database.read() as session:
        status = session.scalar(select(Transfer.status).where(Transfer.id == transfer_id))
    if status == "received":
        assert (levels[(chain.a, p0)], levels[(chain.b, p0)]) == (15, 5)
    else:
        assert status == "cancelled" and levels[(chain.a, p0)] == 20
        assert levels.get((chain.b, p0), 0) == 0


def test_the_same_create_sent_twice_at_once_makes_one_transfer(database: Database) -> None:
    chain = Chain(database)
    client_uuid = str(uuid.uuid4())
    ids = at_once([lambda: str(chain.draft([1], client_uuid)) for _ in range(3)])
    assert len(set(ids)) == 1
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Transfer)) == 1


@pytest.mark.parametrize("count", [4])
def test_drafts_made_at_once_get_distinct_numbers(database: Database, count: int) -> None:
    chain = Chain(database)
    at_once([lambda: str(chain.draft([1])) for _ in range(count)])
    with database.read() as session:
        numbers = sorted(session.scalars(select(Transfer.number)))
    assert len(numbers) == count
    assert [n.rsplit("-", 1)[1] for n in numbers] == [f"{i:03d}" for i in range(1, count + 1)]
