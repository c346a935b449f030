"""Generated sales history for the demo chain: realistic days, priced by the real pipeline.

Every order goes through the pure :func:`price_cart` and :func:`settle`, so the history obeys
the same invariants as live checkouts (sum of line nets == total, payments add up). Rows are
written with Core executemany, one batch per day, and order ids are assigned here so lines,
payments and stock movements can reference them without a RETURNING round trip.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, insert, select, text

from shouyin.demo.members import MemberPicker
from shouyin.inventory.models import StockMovement
from shouyin.sales.models import Order, OrderCounter, OrderLine, Payment
from shouyin.sales.numbering import order_number
from shouyin.sales.pricing import (
    Cart,
    CartLine,
    Discount,
    PricedCart,
    Rounding,
    price_cart,
)
from shouyin.sales.service import line_row
from shouyin.sales.tender import Settlement, Tender, settle
from shouyin.shared.clock import business_date
from shouyin.shared.money import round_div

Row = dict[str, Any]

# Opening hours 07-22 with morning, lunch and evening peaks (relative orders per hour).
HOUR_WEIGHTS: dict[int, int] = {
    7: 4, 8: 8, 9: 6, 10: 4, 11: 6, 12: 8, 13: 5, 14: 3,
    15: 3, 16: 4, 17: 7, 18: 10, 19: 9, 20: 6, 21: 4, 22: 2,
}  # fmt: skip
PEAK_HOURS = frozenset({8, 12, 17, 18, 19})
# Monday .. Sunday: Friday to Sunday are the busy days.
WEEKDAY_FACTORS = (0.88, 0.90, 0.92, 0.97, 1.10, 1.22, 1.18)
MIN_ORDERS, MAX_ORDERS = 80, 160
LINE_COUNT_WEIGHTS = (30, 22, 16, 11, 8, 6, 4, 3)  # 1..8 lines per order
# What people buy more of at each time of day, by category.
SLOT_BOOSTS: dict[str, dict[str, float]] = {
    "morning": {"乳品": 2.0, "方便速食": 1.5, "饮料": 1.2},
    "midday": {"方便速食": 2.0, "饮料": 1.5, "零食": 1.2},
    "afternoon": {"零食": 1.5, "饮料": 1.3},
    "evening": {"生鲜": 2.0, "酒水": 2.0, "粮油调味": 1.5, "日用品": 1.2},
}
CATEGORY_WEIGHTS: dict[str, float] = {
    "饮料": 1.6, "零食": 1.4, "乳品": 1.4, "生鲜": 1.5, "方便速食": 1.2, "酒水": 1.0,
    "粮油调味": 0.9, "日用品": 0.8, "个人护理": 0.6, "母婴": 0.4, "文具": 0.4,
}  # fmt: skip
EVERYDAY_PRICE = 2000  # fen; above this, popularity falls with price
CASH_SHARE = 0.45
NOTES = (500, 1000, 2000, 5000, 10000)  # fen: 5, 10, 20, 50, 100 yuan


@dataclass(frozen=True)
class DemoProduct:
    id: int
    name: str
    category: str
    price: int  # fen, per kg when weighed
    weighed: bool


@dataclass(frozen=True)
class DemoStoreContext:
    id: int
    code: str
    timezone: str
    cutoff_minutes: int
    rounding: Rounding
    base_orders: int  # a Thursday's orders; other days scale by WEEKDAY_FACTORS
    registers: tuple[int, int]
    cashier_id: int  # works register 1 all day
    manager_id: int  # opens register 2 at peak hours and receives the deliveries


def slot_of(hour: int) -> str:
    if hour < 11:
        return "morning"
    if hour < 14:
        return "midday"
    return "afternoon" if hour < 17 else "evening"


@dataclass(frozen=True)
class DemandModel:
    """Which products a basket picks, by time of day: Zipf-like popularity times boosts."""

    products: tuple[DemoProduct, ...]
    popularity: tuple[float, ...]
    cumulative: dict[str, list[float]]

    @classmethod
    def build(cls, products: Sequence[DemoProduct], seed: int) -> DemandModel:
        rng = random.Random(f"{seed}-popularity")
        ranks = list(range(len(products)))
        rng.shuffle(ranks)
        popularity = tuple(
            CATEGORY_WEIGHTS.get(p.category, 1.0) * _price_damping(p) / (rank + 1) ** 0.6
            for p, rank in zip(products, ranks, strict=True)
        )
        cumulative = {
            slot: list(accumulate(w * boosts.get(p.category, 1.0) for p, w in
                                  zip(products, popularity, strict=True)))
            for slot, boosts in SLOT_BOOSTS.items()
        }  # fmt: skip
        return cls(tuple(products), popularity, cumulative)

    def share(self, index: int) -> float:
        """Expected fraction of all basket lines that are this product, over a whole day."""
        total_hours = sum(HOUR_WEIGHTS.values())
        result = 0.0
        for hour, weight in HOUR_WEIGHTS.items():
            slot = slot_of(hour)
            cum = self.cumulative[slot]
            boost = SLOT_BOOSTS[slot].get(self.products[index].category, 1.0)
            result += weight / total_hours * self.popularity[index] * boost / cum[-1]
        return result

    def pick(self, rng: random.Random, hour: int, count: int) -> list[DemoProduct]:
        chosen = rng.choices(self.products, cum_weights=self.cumulative[slot_of(hour)], k=count)
        return list(dict.fromkeys(chosen))  # the same product twice is one line


def _price_damping(product: DemoProduct) -> float:
    """Dear things sell less often: a ¥1,099 baijiu is not an everyday basket item."""
    return min(1.0, (EVERYDAY_PRICE / product.price) ** 0.7) if product.price else 1.0


def mean_quantity(product: DemoProduct) -> float:
    """Mean of :func:`_quantity`: grams for weighed goods, else units."""
    if product.weighed:
        return 450.0 if product.price > 3000 else 1000.0
    return 1.55 if product.price < 1000 else 1.1


def mean_lines_per_order() -> float:
    weights = LINE_COUNT_WEIGHTS
    return sum((n + 1) * w for n, w in enumerate(weights)) / sum(weights)


def _quantity(rng: random.Random, product: DemoProduct) -> int:
    if product.weighed:
        # Scales report grams; dearer fruit is bought in smaller amounts.
        low, high = (200, 700) if product.price > 3000 else (300, 1700)
        return rng.randint(low, high)
    roll = rng.random()
    if product.price < 1000:
        return 1 if roll < 0.7 else 2 if roll < 0.9 else rng.randint(3, 6)
    return 1 if roll < 0.9 else 2


def _line_discount(rng: random.Random, product: DemoProduct, quantity: int) -> Discount | None:
    if product.weighed or rng.random() >= 0.05:
        return None
    options = [Discount("percent", 1000), Discount("percent", 2000)]
    if product.price * quantity >= 300:
        options.append(Discount("amount", 100))
    return rng.choice(options)


def _order_discount(rng: random.Random, lines: Sequence[CartLine]) -> Discount | None:
    subtotal = sum(
        round_div(x.unit_price * x.quantity, 1000) if x.weighed else x.unit_price * x.quantity
        for x in lines
    )
    if subtotal >= 5000 and rng.random() < 0.12:
        return Discount("amount", 500)  # 满50减5
    if rng.random() < 0.02:
        return Discount("percent", 500)  # 95折 for a regular the manager knows
    return None


def make_cart(rng: random.Random, demand: DemandModel, hour: int, rounding: Rounding) -> Cart:
    count = rng.choices(range(1, 9), weights=LINE_COUNT_WEIGHTS)[0]
    if hour >= 17 and rng.random() < 0.3:
        count = min(count + 1, 8)
    lines = []
    for product in demand.pick(rng, hour, count):
        quantity = _quantity(rng, product)
        lines.append(
            CartLine(
                product_id=product.id, name=product.name, unit_price=product.price,
                quantity=quantity, weighed=product.weighed,
                discount=_line_discount(rng, product, quantity),
            )
        )  # fmt: skip
    return Cart(
        lines=tuple(lines),
        order_discount=_order_discount(rng, lines),
        rounding=rounding,
    )


def cash_tendered(rng: random.Random, total: int) -> int:
    """What a customer hands over: exact money, whole yuan, or the next note(s) up."""
    roll = rng.random()
    if roll < 0.2:
        return total
    if roll < 0.35:
        return -(-total // 100) * 100
    for note in NOTES:
        if note >= total:
            return note
    return -(-total // 10000) * 10000


def make_tenders(rng: random.Random, total: int) -> list[Tender]:
    if rng.random() < CASH_SHARE:
        return [Tender("cash", cash_tendered(rng, total))]
    return [Tender("card", total, reference=f"{rng.randrange(10**11, 10**12)}")]


@dataclass
class StockBook:
    """On-hand per (store, product) as the history unfolds; every change is a movement row."""

    levels: dict[tuple[int, int], int] = field(default_factory=dict)
    reorder_point: dict[tuple[int, int], int] = field(default_factory=dict)
    target: dict[tuple[int, int], int] = field(default_factory=dict)
    movements: list[Row] = field(default_factory=list)

    def plan(self, key: tuple[int, int], *, daily: float, weighed: bool) -> None:
        minimum = 3000 if weighed else 6
        self.reorder_point[key] = int(daily * 4) + minimum
        self.target[key] = _case(int(daily * 12) + 2 * minimum, weighed=weighed)

    def move(self, key: tuple[int, int], quantity: int, **row: Any) -> None:
        self.levels[key] = self.levels.get(key, 0) + quantity
        store_id, product_id = key
        self.movements.append(
            {"store_id": store_id, "product_id": product_id, "quantity": quantity,
             "ref_type": None, "ref_id": None, "reason": None, **row}
        )  # fmt: skip

    def restock(self, key: tuple[int, int], *, at: datetime, user_id: int, reason: str) -> None:
        missing = self.target[key] - self.levels.get(key, 0)
        if missing > 0:
            self.move(key, missing, kind="receipt", at=at, user_id=user_id, reason=reason)

    def replenish(self, store_id: int, *, at: datetime, user_id: int) -> None:
        """The morning delivery: everything at or under its reorder point back to target."""
        for key, point in self.reorder_point.items():
            if key[0] == store_id and self.levels.get(key, 0) <= point:
                self.restock(key, at=at, user_id=user_id, reason="补货入库")

    def sell(self, key: tuple[int, int], quantity: int, **row: Any) -> None:
        if self.levels.get(key, 0) < quantity:
            # Shelf ran dry before the delivery: the manager fetched more from a neighbour.
            at = row["at"] - timedelta(minutes=1)
            self.restock(key, at=at, user_id=row["user_id"], reason="临时调货")
        self.move(key, -quantity, kind="sale", ref_type="order", **row)

    def take_movements(self) -> list[Row]:
        rows, self.movements = self.movements, []
        return rows


def _case(quantity: int, *, weighed: bool) -> int:
    size = 5000 if weighed else 6
    return -(-quantity // size) * size


@dataclass
class DayBatch:
    orders: list[Row] = field(default_factory=list)
    lines: list[Row] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)
    counters: list[Row] = field(default_factory=list)


@dataclass
class HistoryWriter:
    """Generates and writes the history day by day; order ids continue from the table."""

    connection: Connection
    demand: DemandModel
    stock: StockBook
    seed: int
    members: MemberPicker | None = None
    next_order_id: int = 0
    orders_written: int = 0

    def __post_init__(self) -> None:
        last = self.connection.execute(select(func.max(Order.id))).scalar()
        self.next_order_id = (last or 0) + 1

    def write_day(
        self, stores: Sequence[DemoStoreContext], day: date, until: datetime | None = None
    ) -> None:
        batch = DayBatch()
        for store in stores:
            self._store_day(batch, store, day, until)
        _insert(self.connection, Order.__table__, batch.orders)
        _insert(self.connection, OrderLine.__table__, batch.lines)
        _insert(self.connection, Payment.__table__, batch.payments)
        _insert(self.connection, StockMovement.__table__, self.stock.take_movements())
        _insert(self.connection, OrderCounter.__table__, batch.counters)
        self.orders_written += len(batch.orders)

    def _store_day(
        self, batch: DayBatch, store: DemoStoreContext, day: date, until: datetime | None
    ) -> None:
        rng = random.Random(f"{self.seed}-{store.code}-{day.isoformat()}")
        zone = ZoneInfo(store.timezone)
        delivery = datetime(day.year, day.month, day.day, 6, 30, tzinfo=zone).astimezone(UTC)
        self.stock.replenish(store.id, at=delivery, user_id=store.manager_id)
        factor = WEEKDAY_FACTORS[day.weekday()] * rng.uniform(0.88, 1.12)
        count = max(MIN_ORDERS, min(MAX_ORDERS, round(store.base_orders * factor)))
        hours = rng.choices(list(HOUR_WEIGHTS), weights=list(HOUR_WEIGHTS.values()), k=count)
        moments = sorted(
            datetime(day.year, day.month, day.day, h, rng.randrange(60), rng.randrange(60),
                     tzinfo=zone)
            for h in hours
        )  # fmt: skip
        last_seq: dict[date, int] = {}
        # Its own stream: which member buys must not change what is bought.
        member_rng = random.Random(f"{self.seed}-{store.code}-{day.isoformat()}-members")
        for local in moments:
            at = local.astimezone(UTC)
            if until is not None and at > until:
                break
            biz = business_date(at, store.timezone, store.cutoff_minutes)
            last_seq[biz] = last_seq.get(biz, 0) + 1
            member_id = self.members.pick(member_rng, store.id) if self.members else None
            self._order(batch, rng, store, at, local.hour, biz, last_seq[biz], member_id)
        batch.counters.extend(
            {"store_id": store.id, "business_date": biz, "last": seq}
            for biz, seq in last_seq.items()
        )

    def _order(
        self, batch: DayBatch, rng: random.Random, store: DemoStoreContext, at: datetime,
        hour: int, biz: date, seq: int, member_id: int | None = None,
    ) -> None:  # fmt: skip
        priced = price_cart(make_cart(rng, self.demand, hour, store.rounding))
        settlement = settle(priced.total, make_tenders(rng, priced.total))
        second_till = hour in PEAK_HOURS and rng.random() < 0.4
        cashier = store.manager_id if second_till else store.cashier_id
        order_id, self.next_order_id = self.next_order_id, self.next_order_id + 1
        batch.orders.append(
            _order_row(priced, settlement, id=order_id, store_id=store.id, created_at=at,
                       register_id=store.registers[1 if second_till else 0],
                       cashier_id=cashier, business_date=biz, member_id=member_id,
                       number=order_number(store.code, biz, seq),
                       client_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)))
        )  # fmt: skip
        for line in priced.lines:
            batch.lines.append(line_row(order_id, line))
            self.stock.sell(
                (store.id, line.product_id), line.quantity, at=at, user_id=cashier,
                ref_id=order_id,
            )  # fmt: skip
        batch.payments.extend(
            {"order_id": order_id, "method": t.method, "amount": t.amount,
             "tendered": t.tendered, "change": t.change, "reference": t.reference}
            for t in settlement.tenders
        )  # fmt: skip


def _order_row(priced: PricedCart, settlement: Settlement, **row: Any) -> Row:
    return {
        **row, "status": "completed", "subtotal": priced.subtotal,
        "discount_total": priced.discount_total, "total": priced.total,
        "paid": settlement.paid, "change": settlement.change,
        "item_count": sum(1 if x.weighed else x.quantity for x in priced.lines),
        "steps": [{"kind": s.kind, "amount": s.amount} for s in priced.steps],
    }  # fmt: skip


def _insert(connection: Connection, table: Any, rows: list[Row]) -> None:
    if rows:
        connection.execute(insert(table), rows)


def sync_order_sequence(connection: Connection) -> None:
    """Ids were given explicitly; PostgreSQL's sequence must continue after them."""
    if connection.dialect.name != "postgresql":
        return
    connection.execute(
        text(
            "SELECT setval(pg_get_serial_sequence('orders', 'id'), "
            "(SELECT COALESCE(MAX(id), 0) + 1 FROM orders), false)"
        )
    )
