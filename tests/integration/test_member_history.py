"""A member's purchase history on SQLite and PostgreSQL: exact sums, visits and favourites."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from shouyin.analytics.member_history import member_history
from shouyin.catalog.models import Product
from shouyin.customers.models import Member
from shouyin.sales.models import Order, OrderLine
from shouyin.shared.clock import business_date
from shouyin.stores.models import Store
from tests import factories


def make_member(session: Session) -> Member:
    """A bare member row: the history reads no personal field, so placeholders will do."""
    n = factories.next_id()
    member = Member(
        card_enc="x", card_idx=f"card{n}", name_enc="x", name_idx=f"name{n}",
        initials_idx=f"ini{n}",
    )  # fmt: skip
    session.add(member)
    session.flush()
    return member


def buy(
    session: Session, *, store: Store, cashier_id: int, member: Member | None, at: datetime,
    lines: list[tuple[Product, int]], status: str = "completed",
) -> Order:  # fmt: skip
    total = sum(product.price * quantity for product, quantity in lines)
    order = Order(
        client_uuid=str(uuid.uuid4()), number=f"{store.code}-{factories.next_id():06d}",
        store_id=store.id, cashier_id=cashier_id, member_id=member.id if member else None,
        created_at=at, business_date=business_date(at, store.timezone, store.day_cutoff_minutes),
        status=status, subtotal=total, discount_total=0, total=total, paid=total, change=0,
        item_count=sum(quantity for _, quantity in lines), steps=[],
    )  # fmt: skip
    session.add(order)
    session.flush()
    for line_no, (product, quantity) in enumerate(lines, start=1):
        amount = product.price * quantity
        session.add(
            OrderLine(
                order_id=order.id, line_no=line_no, product_id=product.id, name=product.name,
                quantity=quantity, list_price=product.price, unit_price=product.price,
                list_amount=amount, net=amount,
            )
        )  # fmt: skip
    session.flush()
    return order


def _utc(day: int, hour: int) -> datetime:
    """A Shanghai clock time in March 2026, as UTC."""
    return datetime(2026, 3, day, hour - 8, 0, tzinfo=UTC)


def _shop(session: Session) -> dict[str, Any]:
    store = factories.make_store(session)
    cashier = factories.make_user(session, role="cashier", store=store)
    drinks, snacks = factories.make_category(session), factories.make_category(session)
    return {
        "store": store, "cashier_id": cashier.id, "drinks": drinks, "snacks": snacks,
        "tea": factories.make_product(session, price=300, category=drinks, name="绿茶"),
        "chips": factories.make_product(session, price=1000, category=snacks, name="薯片"),
    }  # fmt: skip


def test_history_of_a_member_with_orders_on_two_days(session: Session) -> None:
    shop = _shop(session)
    member, other = make_member(session), make_member(session)
    common = {"store": shop["store"], "cashier_id": shop["cashier_id"]}
    tea, chips = shop["tea"], shop["chips"]
    first = buy(session, **common, member=member, at=_utc(1, 10), lines=[(tea, 2), (chips, 1)])
    buy(session, **common, member=member, at=_utc(1, 15), lines=[(tea, 1)])
    buy(session, **common, member=member, at=_utc(5, 11), lines=[(chips, 3)])
    voided = buy(
        session, **common, member=member, at=_utc(6, 9), lines=[(chips, 9)], status="voided"
    )
    buy(session, **common, member=other, at=_utc(2, 9), lines=[(chips, 50)])
    buy(session, **common, member=None, at=_utc(2, 9), lines=[(tea, 50)])

    history = member_history(session, member_id=member.id)

    assert history.orders == 3 and history.visits == 2
    assert history.total_spend == 1600 + 300 + 3000
    assert history.average_spend == 1633  # 4900 / 3, rounded
    assert history.first_visit == date(2026, 3, 1) and history.last_visit == date(2026, 3, 5)
    assert [(c.name, c.spend, c.quantity) for c in history.favourite_categories] == [
        (shop["snacks"].name, 4000, 4),
        (shop["drinks"].name, 900, 3),
    ]
    assert [(p.name, p.quantity, p.spend) for p in history.favourite_products] == [
        ("薯片", 4, 4000),
        ("绿茶", 3, 900),
    ]
    recent = history.recent_orders
    assert len(recent) == 4 and recent[0].id == voided.id and recent[0].status == "voided"
    assert recent[-1].id == first.id and recent[-1].store_name == shop["store"].name
    assert [(line.name, line.quantity, line.net) for line in recent[-1].lines] == [
        ("绿茶", 2, 600),
        ("薯片", 1, 1000),
    ]
    assert recent[-1].total == 1600 and recent[-1].item_count == 3


def test_recent_orders_respect_the_limit(session: Session) -> None:
    shop = _shop(session)
    member = make_member(session)
    for day in range(1, 6):
        buy(
            session, store=shop["store"], cashier_id=shop["cashier_id"], member=member,
            at=_utc(day, 12), lines=[(shop["tea"], 1)],
        )  # fmt: skip
    history = member_history(session, member_id=member.id, limit=2)
    assert [o.business_date.day for o in history.recent_orders] == [5, 4]
    assert history.visits == 5 and history.orders == 5


def test_history_takes_a_fixed_number_of_queries(session: Session) -> None:
    shop = _shop(session)
    member = make_member(session)
    for day in range(1, 8):
        buy(
            session, store=shop["store"], cashier_id=shop["cashier_id"], member=member,
            at=_utc(day, 12), lines=[(shop["tea"], 1), (shop["chips"], 2)],
        )  # fmt: skip
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        member_history(session, member_id=member.id)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= 5, statements


def test_a_member_with_no_orders_has_an_empty_history(session: Session) -> None:
    member = make_member(session)
    history = member_history(session, member_id=member.id)
    assert history.orders == history.visits == 0
    assert history.total_spend == history.average_spend == 0
    assert history.first_visit is None and history.last_visit is None
    assert history.favourite_categories == [] and history.favourite_products == []
    assert history.recent_orders == []
