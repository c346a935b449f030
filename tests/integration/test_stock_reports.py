"""Stock reports on SQLite and PostgreSQL with small hand-made data and known answers: value
at a known moving-average cost, weighed goods, unknown cost, turnover days and sell-through
(now and for a past period), slow movers with N, negative stock, the category subtree filter,
and a store-bound user kept to their store."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from shouyin.catalog.models import Category
from shouyin.errors import DomainError
from shouyin.inventory import receiving
from shouyin.inventory.models import StockMovement
from shouyin.inventory.purchasing_schemas import ReceiptCreate
from shouyin.inventory.service import Movement, record_movements
from shouyin.inventory.stock_reports import ReportQuery, report
from shouyin.shared.clock import business_date, utcnow
from tests import factories

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


def _receive(
    session: Session, actor: Any, store_id: int, lines: list[tuple[int, int, int]]
) -> None:
    data = ReceiptCreate.model_validate({
        "client_uuid": str(uuid.uuid4()), "store_id": store_id,
        "lines": [{"product_id": p, "quantity": q, "unit_cost": c} for p, q, c in lines],
    })  # fmt: skip
    receiving.receive(session, data=data, actor=actor)


def _move(
    session: Session, store_id: int, product_id: int, qty: int, kind: str, days_ago: float
) -> None:
    record_movements(
        session.connection(), store_id=store_id, movements=[Movement(product_id, qty)],
        kind=kind, at=utcnow() - timedelta(days=days_ago), user_id=None,
    )  # fmt: skip


def _world(session: Session) -> dict[str, Any]:
    """Store A: cola (soda, under drinks) received 10 @ ¥2.00 and 30 @ ¥3.00 (average ¥2.75),
    sold 8 ten days ago and 5 two days ago, 1 returned: 28 on hand. Water (drinks) 10 on hand
    with no cost and no sale. Apples (fruit, weighed) 5 kg @ ¥11.80/kg, 1 kg sold 40 days ago.
    Chips (fruit's sibling, snacks) sold 3 with none in stock. Store B: 7 cola."""
    a, b = factories.make_store(session, shift=False), factories.make_store(session, shift=False)
    drinks = factories.make_category(session)
    soda = Category(name=f"soda{uuid.uuid4().hex[:6]}", parent_id=drinks.id)
    session.add(soda)
    session.flush()
    fruit, snacks = factories.make_category(session), factories.make_category(session)
    cola = factories.make_product(session, price=350, category=soda)
    water = factories.make_product(session, price=200, category=drinks, stock={a.id: 10})
    apples = factories.make_product(session, price=1580, weighed=True, category=fruit)
    chips = factories.make_product(session, price=790, category=snacks)
    factories.make_product(session, category=soda, stock={b.id: 7})
    manager = factories.principal_of(factories.make_user(session, role="store_manager", store=a))
    _receive(session, manager, a.id, [(cola.id, 10, 200)])
    _receive(session, manager, a.id, [(cola.id, 30, 300), (apples.id, 5000, 1180)])
    # The goods came in two months ago: the past-period figures below rely on it.
    session.execute(update(StockMovement).where(StockMovement.kind == "receipt")
                    .values(at=utcnow() - timedelta(days=60)))  # fmt: skip
    _move(session, a.id, cola.id, -8, "sale", 10)
    _move(session, a.id, cola.id, -5, "sale", 2)
    _move(session, a.id, cola.id, 1, "return", 2)
    _move(session, a.id, apples.id, -1000, "sale", 40)
    _move(session, a.id, chips.id, -3, "sale", 1)
    hq = factories.principal_of(factories.make_user(session, role="hq_admin"))
    ids = {"cola": cola.id, "water": water.id, "apples": apples.id, "chips": chips.id}
    return {"a": a, "b": b, "drinks": drinks, "soda": soda, "fruit": fruit, "manager": manager,
            "hq": hq, **ids}  # fmt: skip


def _rows(found: Any) -> dict[int, Any]:
    return {x.product_id: x for x in found.items}


@BOTH
def test_value_at_cost_with_weighed_goods_and_unknown_cost(session: Session) -> None:
    w = _world(session)
    found = report(session, query=ReportQuery("valuation", store_id=w["a"].id), actor=w["hq"])
    rows = _rows(found)
    assert set(rows) == {w["cola"], w["water"], w["apples"]}  # chips are below zero
    assert (rows[w["cola"]].on_hand, rows[w["cola"]].unit_cost_milli) == (28, 275_000)
    assert rows[w["cola"]].value == 7700  # 28 × ¥2.75
    assert rows[w["apples"]].value == 4720  # 4 kg × ¥11.80
    assert rows[w["water"]].value is None
    assert [x.product_id for x in found.items] == [w["cola"], w["apples"], w["water"]]
    assert (found.summary.products, found.summary.value, found.summary.unknown_cost) == (
        3,
        12420,
        1,
    )
    by_category = {x.category_id: (x.products, x.value, x.unknown_cost) for x in found.by_category}
    assert by_category == {w["soda"].id: (1, 7700, 0), w["drinks"].id: (1, 0, 1),
                           w["fruit"].id: (1, 4720, 0)}  # fmt: skip


@BOTH
def test_all_stores_and_the_category_subtree(session: Session) -> None:
    w = _world(session)
    everywhere = report(session, query=ReportQuery("valuation", category_id=w["drinks"].id),
                        actor=w["hq"])  # fmt: skip
    assert everywhere.store_id is None
    assert {(x.store_id, x.product_id) for x in everywhere.items} >= {
        (w["a"].id, w["cola"]), (w["a"].id, w["water"])}  # fmt: skip
    assert {x.store_id for x in everywhere.items} == {w["a"].id, w["b"].id}
    assert w["apples"] not in _rows(everywhere)
    soda = report(session, query=ReportQuery("valuation", store_id=w["a"].id,
                                             category_id=w["soda"].id), actor=w["hq"])  # fmt: skip
    assert list(_rows(soda)) == [w["cola"]]


@BOTH
def test_turnover_days_and_sell_through(session: Session) -> None:
    w = _world(session)
    found = report(session, query=ReportQuery("turnover", store_id=w["a"].id), actor=w["hq"])
    rows = _rows(found)
    today = business_date(utcnow(), "Asia/Shanghai", 0)
    assert (found.start, found.end) == (today - timedelta(days=29), today)
    cola = rows[w["cola"]]
    assert (cola.sold, cola.on_hand) == (12, 28)
    assert cola.turnover_days == 70.0  # 28 ÷ (12 / 30 days)
    assert cola.sell_through == 30.0  # 12 ÷ (12 + 28)
    water = rows[w["water"]]
    assert (water.sold, water.turnover_days, water.sell_through) == (0, None, 0.0)
    assert rows[w["apples"]].sold == 0  # sold 40 days ago: before the period
    assert (rows[w["chips"]].sold, rows[w["chips"]].on_hand) == (3, -3)
    soda = next(x for x in found.by_category if x.category_id == w["soda"].id)
    # At cost: ¥77.00 on hand, ¥33.00 sold in 30 days.
    assert (soda.value, soda.sold_value, soda.turnover_days, soda.sell_through) == (
        7700, 3300, 70.0, 30.0)  # fmt: skip


@BOTH
def test_turnover_of_a_past_period_uses_the_stock_at_its_end(session: Session) -> None:
    w = _world(session)
    end = business_date(utcnow(), "Asia/Shanghai", 0) - timedelta(days=5)
    query = ReportQuery("turnover", store_id=w["a"].id, end=end)
    cola = _rows(report(session, query=query, actor=w["hq"]))[w["cola"]]
    # Only the sale of 8 falls in the 30 days; the 5 sold and 1 returned came later.
    assert (cola.sold, cola.on_hand, cola.turnover_days, cola.sell_through) == (8, 32, 120.0, 20.0)


@BOTH
def test_slow_movers_with_n_days(session: Session) -> None:
    w = _world(session)

    def slow(days: int) -> dict[int, Any]:
        query = ReportQuery("slow-movers", store_id=w["a"].id, days=days)
        return _rows(report(session, query=query, actor=w["manager"]))

    thirty = slow(30)
    assert set(thirty) == {w["water"], w["apples"]}
    assert thirty[w["water"]].last_sale_at is None  # never sold
    assert thirty[w["apples"]].last_sale_at is not None
    assert set(slow(60)) == {w["water"]}
    assert set(slow(1)) == {w["water"], w["apples"], w["cola"]}


@BOTH
def test_negative_stock_per_store(session: Session) -> None:
    w = _world(session)
    found = report(session, query=ReportQuery("negative"), actor=w["hq"])
    mine = [(x.store_id, x.product_id, x.on_hand) for x in found.items if x.store_id == w["a"].id]
    assert mine == [(w["a"].id, w["chips"], -3)]
    assert found.summary.products >= 1


@BOTH
def test_a_store_bound_user_reads_only_their_store(session: Session) -> None:
    w = _world(session)
    own = report(session, query=ReportQuery("valuation"), actor=w["manager"])
    assert own.store_id == w["a"].id
    with pytest.raises(DomainError) as caught:
        report(session, query=ReportQuery("valuation", store_id=w["b"].id), actor=w["manager"])
    assert caught.value.status == 403
    marketer = factories.principal_of(factories.make_user(session, role="hq_marketer"))
    with pytest.raises(DomainError) as denied:  # reports.read without stock.read
        report(session, query=ReportQuery("valuation"), actor=marketer)
    assert denied.value.status == 403


@BOTH
def test_bad_periods_are_refused(session: Session) -> None:
    w = _world(session)
    today = business_date(utcnow(), "Asia/Shanghai", 0)
    cases = [
        (today, today - timedelta(days=1), "stock_report.period_reversed"),
        (today - timedelta(days=366), today, "stock_report.period_too_long"),
    ]
    for start, end, code in cases:
        with pytest.raises(DomainError) as caught:
            report(session, query=ReportQuery("turnover", start=start, end=end), actor=w["hq"])
        assert (caught.value.status, caught.value.code) == (422, code)
    longest = ReportQuery("turnover", start=today - timedelta(days=365), end=today)
    assert report(session, query=longest, actor=w["hq"]).end == today
