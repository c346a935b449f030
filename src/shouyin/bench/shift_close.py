"""The shift-close bench: close a shift of N mixed-tender orders and make its Z report.

The data goes in through the services a till uses, in-process: N orders through
``sales.service.checkout`` (cash, card, card plus cash), then returns through
``sales.returns.create`` (each timed, for ``return_p50_ms``). Then the measured part: closing
the shift with a count and making the register's Z report, each in its own transaction, as a
manager does at night (``close_ms`` is the two together).
"""

from __future__ import annotations

import json
import random
import secrets
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import select

from shouyin.auth import service as auth
from shouyin.auth.permissions import Role, permissions_for
from shouyin.auth.principal import Principal
from shouyin.auth.schemas import UserCreate
from shouyin.bench.dataset import Dataset
from shouyin.db import Database, make_engine
from shouyin.sales import returns, shift_service, z_reports
from shouyin.sales import service as sales
from shouyin.sales.return_schemas import ReturnCreate, ReturnLineIn
from shouyin.sales.schemas import LineIn, OrderCreate, OrderPublic, PaymentIn
from shouyin.sales.shift_models import Shift
from shouyin.sales.shift_schemas import ShiftCloseIn, ZReportCreate
from shouyin.shared.i18n import DEFAULT_LANGUAGE

BENCH_NAME = "shift-close"
APPROVAL_LIMIT = 10_000_000  # the bench manager approves on their own; no credential check
CASH_NOTE = 10_000  # fen: customers pay cash in ¥100 notes and get change


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | int | None
    unit: str

    def as_json(self) -> str:
        line = {"bench": BENCH_NAME, "metric": self.name, "value": self.value, "unit": self.unit}
        return json.dumps(line, ensure_ascii=False)


def run(
    data: Dataset, *, orders: int, returns_count: int, seed: int, console: Console
) -> list[Metric]:
    db = Database(make_engine(data.url, count_statements=False))
    try:
        cashier, manager = _people(db, data)
        sold = _sell(db, data, cashier, orders=orders, seed=seed, console=console)
        return_ms = _returns(db, data, manager, sold[:returns_count], console)
        close_ms, z_number = _close(db, data, manager)
    finally:
        db.dispose()
    console.print(f"Closed a shift of {len(sold):,} orders and made Z report no. {z_number}.")
    return [
        Metric("close_ms", round(close_ms, 2), "ms"),
        Metric(
            "return_p50_ms", round(statistics.median(return_ms), 2) if return_ms else None, "ms"
        ),
        Metric("orders", len(sold), "count"),
        Metric("returns", len(return_ms), "count"),
    ]


def _principal(user_id: int, username: str, role: Role, store_id: int) -> Principal:
    return Principal(
        user_id=user_id, username=username, display_name=username, role=role.value,
        store_id=store_id, permissions=permissions_for(role.value),
    )  # fmt: skip


def _people(db: Database, data: Dataset) -> tuple[Principal, Principal]:
    """The cashier of the open shift, and a store manager made for the night's closing."""
    with db.write() as session:
        shift = session.scalars(
            select(Shift).where(Shift.register_id == data.register_id, Shift.status == "open")
        ).one()
        code = data.store_code.lower()
        manager = auth.create_user(
            session, actor=None,
            data=UserCreate(username=f"bench_mgr_{code}", display_name=f"压测店长 {code}",
                            password=secrets.token_urlsafe(24), role=Role.STORE_MANAGER,
                            store_id=data.store_id),
        )  # fmt: skip
        cashier = _principal(shift.cashier_id, f"bench_{code}", Role.CASHIER, data.store_id)
        return cashier, _principal(manager.id, manager.username, Role.STORE_MANAGER, data.store_id)


def _order(rng: random.Random, data: Dataset, n: int) -> OrderCreate:
    picked = rng.sample(data.products, min(rng.randint(1, 5), len(data.products)))
    lines = [(p, rng.randint(1, 3)) for p in picked]
    total = sum(p.price * q for p, q in lines)
    cash = (total // CASH_NOTE + 1) * CASH_NOTE
    kind = n % 3  # cash, card, card + cash
    payments = (
        [PaymentIn(method="cash", amount=cash)] if kind == 0
        else [PaymentIn(method="card", amount=total, reference=f"B{n:08d}")] if kind == 1
        else [PaymentIn(method="card", amount=total // 2, reference=f"B{n:08d}"),
              PaymentIn(method="cash", amount=cash)]
    )  # fmt: skip
    return OrderCreate(
        client_uuid=uuid.uuid4(), store_id=data.store_id, register_id=data.register_id,
        lines=[LineIn(product_id=p.id, quantity=q) for p, q in lines], payments=payments,
    )  # fmt: skip


def _sell(
    db: Database, data: Dataset, cashier: Principal, *, orders: int, seed: int, console: Console
) -> list[OrderPublic]:
    rng, sold = random.Random(seed), []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("收银 orders", total=orders)
        for n in range(orders):
            with db.write() as session:
                order, _ = sales.checkout(
                    session, data=_order(rng, data, n), actor=cashier, discount_audit_percent=100
                )
            sold.append(order)
            progress.advance(task)
    return sold


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return (time.perf_counter() - start) * 1000


def _returns(
    db: Database, data: Dataset, manager: Principal, orders: list[OrderPublic], console: Console
) -> list[float]:
    """One line of each order back, each return in its own transaction, timed."""
    times = []
    for order in orders:
        body = ReturnCreate(
            client_uuid=uuid.uuid4(), store_id=data.store_id, register_id=data.register_id,
            order_id=order.id, lines=[ReturnLineIn(order_line_id=order.lines[0].id, quantity=1)],
            reason="压测退货",
        )  # fmt: skip

        def one(body: ReturnCreate = body) -> None:
            with db.write() as session:
                returns.create(session, data=body, actor=manager, approval_limit=APPROVAL_LIMIT)

        times.append(_timed(one))
    console.print(f"{len(times)} returns made.")
    return times


def _close(db: Database, data: Dataset, manager: Principal) -> tuple[float, int]:
    """Close the shift (counting exactly what is expected) and make the Z report: timed."""
    with db.read() as session:
        shift = session.scalars(
            select(Shift).where(Shift.register_id == data.register_id, Shift.status == "open")
        ).one()
        expected = shift_service.expected_now(session, shift)
    start = time.perf_counter()
    with db.write() as session:
        shift_service.close(
            session, shift_id=shift.id, data=ShiftCloseIn(counted=expected),
            actor=manager, lang=DEFAULT_LANGUAGE,
        )  # fmt: skip
    with db.write() as session:
        z = z_reports.create(
            session, data=ZReportCreate(store_id=data.store_id, register_id=data.register_id,
                                        business_date=shift.business_date),
            actor=manager, lang=DEFAULT_LANGUAGE,
        )  # fmt: skip
    return (time.perf_counter() - start) * 1000, z.number
