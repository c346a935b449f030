"""A random member sale, then its full return in random partial returns: every balance (points
and their lots, stored value principal and bonus, growth value), every stock level and every
coupon is exactly as before the sale, and `shouyin check ledgers` passes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.inventory.models import StockLevel
from shouyin.loyalty.models import Coupon, MemberAccount, PointsLot
from shouyin.ops import checks
from shouyin.sales import returns, service
from shouyin.sales.return_schemas import ReturnCreate
from shouyin.sales.schemas import OrderCreate, QuoteRequest
from tests import factories


@dataclass(frozen=True)
class World:
    store_id: int
    products: tuple[tuple[int, bool], ...]  # (id, weighed)
    manager: Principal


def build_world(db: Database) -> World:
    with db.write() as session:
        store = factories.make_store(session)
        stock = {store.id: 1_000_000}
        bag = factories.make_product(session, price=10000, stock=stock)
        tea = factories.make_product(session, price=1999, stock=stock)
        rice = factories.make_product(session, price=637, weighed=True, stock=stock)
        factories.make_promotion(
            session, kind="nth_discount", params={"n": 2, "percent_off": 5000},
            scope="products", scope_ids=[tea.id],
        )  # fmt: skip
        factories.make_promotion(session, kind="order_threshold", params={"tiers": [[10000, 1000]]})
        manager = factories.make_user(session, role="store_manager", store=store)
        return World(
            store.id, ((bag.id, False), (tea.id, False), (rice.id, True)),
            factories.principal_of(manager),
        )  # fmt: skip


def snapshot(session: Session, world: World, member_id: int, coupon_id: int) -> tuple[Any, ...]:
    account = session.execute(
        select(MemberAccount.points, MemberAccount.growth, MemberAccount.sv_principal,
               MemberAccount.sv_bonus).where(MemberAccount.member_id == member_id)
    ).one()  # fmt: skip
    lots = sum(session.scalars(select(PointsLot.remaining).where(PointsLot.member_id == member_id)))
    stock = session.execute(
        select(StockLevel.product_id, StockLevel.on_hand)
        .where(StockLevel.store_id == world.store_id)
        .order_by(StockLevel.product_id)
    ).all()
    coupon = session.execute(
        select(Coupon.status, Coupon.order_id).where(Coupon.id == coupon_id)
    ).one()
    return tuple(account), lots, tuple(map(tuple, stock)), tuple(coupon)


def _sale_body(world: World, member_id: int, lines: list[dict[str, int]], **kw: Any) -> Any:
    return {"store_id": world.store_id, "member_id": member_id, "lines": lines, **kw}


def _sell(
    db: Database, world: World, member_id: int, lines: list[dict[str, int]], coupon: str | None,
    points: int, sv_wanted: int,
) -> Any:  # fmt: skip
    codes = [coupon] if coupon else []
    with db.write() as session:
        try:
            quote = service.quote(
                session, actor=world.manager,
                data=QuoteRequest.model_validate(
                    _sale_body(world, member_id, lines, coupon_codes=codes, points=points)
                ),
            )  # fmt: skip
        except DomainError:
            reject()
        sv = min(sv_wanted, quote.total)
        payments = [{"method": "stored_value", "amount": sv}] if sv else []
        if quote.total - sv:
            payments.append({"method": "cash", "amount": quote.total - sv})
        body = _sale_body(
            world, member_id, lines, coupon_codes=codes, points=points,
            client_uuid=str(uuid.uuid4()), payments=payments,
        )  # fmt: skip
        order, _ = service.checkout(
            session, data=OrderCreate.model_validate(body), actor=world.manager,
            discount_audit_percent=100,
        )  # fmt: skip
        return order


@st.composite
def return_plan(draw: st.DrawFn, lines: list[Any]) -> list[list[tuple[int, int]]]:
    chunks: list[tuple[int, int]] = []
    for line in lines:
        left = line.quantity
        while left:
            take = left if line.weighed else draw(st.integers(1, left))
            chunks.append((line.id, take))
            left -= take
    chunks = draw(st.permutations(chunks))
    plan: list[list[tuple[int, int]]] = []
    for chunk in chunks:
        if plan and draw(st.booleans()) and chunk[0] not in {c[0] for c in plan[-1]}:
            plan[-1].append(chunk)
        else:
            plan.append([chunk])
    return plan


@pytest.mark.parametrize(
    ("backend", "examples"), [("sqlite", 25), ("postgresql", 10)], indirect=["backend"]
)
def test_a_full_return_leaves_every_balance_as_before_the_sale(
    database: Database, examples: int
) -> None:
    world = build_world(database)

    @settings(max_examples=examples, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])  # fmt: skip
    @given(data=st.data())
    def roundtrip(data: st.DataObject) -> None:
        quantities = [
            data.draw(st.integers(0, 3)), data.draw(st.integers(0, 4)),
            data.draw(st.sampled_from([0, 250, 1377])),
        ]  # fmt: skip
        lines = [
            {"product_id": pid, "quantity": q}
            for (pid, _), q in zip(world.products, quantities, strict=True) if q
        ]  # fmt: skip
        if not lines:
            reject()
        with database.write() as session:
            member = factories.make_member(session)
            factories.fund(
                session, member, tier=data.draw(st.sampled_from(["silver", "gold"])),
                points=data.draw(st.integers(0, 800)),
                sv_principal=data.draw(st.integers(0, 9000)),
                sv_bonus=data.draw(st.integers(0, 3000)),
            )  # fmt: skip
            coupon = factories.make_coupon(session, member=member, value=300)
            member_id, coupon_id, code = member.id, coupon.id, coupon.code
        with database.read() as session:
            before = snapshot(session, world, member_id, coupon_id)
        use_coupon = data.draw(st.booleans())
        order = _sell(
            database, world, member_id, lines, code if use_coupon else None,
            data.draw(st.integers(0, 300)),
            min(data.draw(st.integers(0, 12000)), before[0][2] + before[0][3]),
        )  # fmt: skip
        refunded = 0
        for picks in data.draw(return_plan(order.lines)):
            body = {
                "client_uuid": str(uuid.uuid4()), "store_id": world.store_id,
                "order_id": order.id, "reason": "roundtrip",
                "lines": [{"order_line_id": i, "quantity": q} for i, q in picks],
            }  # fmt: skip
            with database.write() as session:
                made, _ = returns.create(
                    session, data=ReturnCreate.model_validate(body), actor=world.manager,
                    approval_limit=10**9,
                )  # fmt: skip
            assert made.refund >= 0
            refunded += made.refund
        assert refunded == order.total
        with database.read() as session:
            assert snapshot(session, world, member_id, coupon_id) == before
            assert [r.name for r in checks.run_all(session) if not r.ok] == []

    roundtrip()


TENDERS = ("stored_value", "wechat", "alipay", "card", "cash")


@given(
    paid=st.fixed_dictionaries({m: st.integers(0, 50_000) for m in TENDERS}),
    cuts=st.lists(st.integers(1, 10_000), min_size=1, max_size=6),
)
def test_refunds_to_the_original_tenders_never_exceed_what_each_paid(
    paid: dict[str, int], cuts: list[int]
) -> None:
    """WeChat and Alipay go back like the card: each at most what it paid, over any number of
    returns; cash takes the rest, and a refund of the whole sale gives each tender its own."""
    from shouyin.sales.refund_rules import split_tenders

    total = sum(paid.values())
    refunded: dict[str, int] = {}
    left = total
    for cut in [*cuts, total]:
        amount = min(cut, left)
        parts = split_tenders(amount, paid=paid, refunded=refunded, refund_to="original")
        assert sum(parts.values()) == amount and all(v > 0 for v in parts.values())
        for method, value in parts.items():
            refunded[method] = refunded.get(method, 0) + value
        left -= amount
    assert {m: v for m, v in refunded.items() if v} == {m: v for m, v in paid.items() if v}
