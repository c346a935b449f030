"""The loyalty checkout bench: the checkout bench with a member on every order.

Every order sells to a 金卡 member (tier discount); 第二件半价 runs on a quarter of the
products and 满100减10 / 满300减40 on every order; every other order also redeems a coupon
issued in advance (one per order) and points (members are funded with what their orders
redeem), and every fourth order pays ¥10 of it from the member's stored value. The
server, the load generator and the metrics are those of ``bench checkout``
(:mod:`shouyin.bench.checkout`); only the data set and the orders differ.

The points each order redeems are worked out with the same pure pricing the server runs, so
no order is refused for going over the redemption cap.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from shouyin.bench import checkout as bench
from shouyin.bench.dataset import BenchProduct, Dataset
from shouyin.bench.loadgen import Request
from shouyin.customers.crypto import FieldCipher, load_or_create
from shouyin.customers.models import Member
from shouyin.db import Database, make_engine
from shouyin.demo.members import MemberSealer
from shouyin.loyalty import catalogue as loyalty_catalogue
from shouyin.loyalty import rules
from shouyin.loyalty.coupons import new_code
from shouyin.loyalty.models import (
    Coupon,
    CouponTemplate,
    LedgerEntry,
    MemberAccount,
    PointsLot,
    Promotion,
    Tier,
)
from shouyin.sales import offers
from shouyin.sales.pricing import Cart, CartLine, price_cart
from shouyin.shared.clock import to_local, utcnow
from shouyin.shared.types import table_of
from shouyin.stores.models import Store

BENCH_NAME = "checkout-loyalty"
TIER_CODE = "gold"
COUPON_VALUE = 500  # fen: a ¥5 voucher, any spend
MOST_POINTS = 300  # points one order redeems at most (¥30 at the default rate)
CARD_PAYMENT = 1_000  # fen paid from stored value by every fourth order
HALF_PRICE_SHARE = 4  # one product in this many is 第二件半价
FULL_OFF_TIERS = [[10_000, 1_000], [30_000, 4_000]]  # 满100减10, 满300减40


@dataclass(frozen=True)
class Metric:
    name: str
    value: float | int | None
    unit: str

    def as_json(self) -> str:
        line = {"bench": BENCH_NAME, "metric": self.name, "value": self.value, "unit": self.unit}
        return json.dumps(line, ensure_ascii=False)


@dataclass(frozen=True)
class PlannedOrder:
    member_id: int
    lines: tuple[tuple[BenchProduct, int], ...]
    coupon: str | None
    points: int
    stored_value: int = 0

    def body(self, dataset: Dataset) -> bytes:
        total = sum(product.price * quantity for product, quantity in self.lines)
        cash = (total // bench.CASH_NOTE + 1) * bench.CASH_NOTE  # more than enough: change
        card = (
            [{"method": "stored_value", "amount": self.stored_value}] if self.stored_value else []
        )
        body: dict[str, Any] = {
            "client_uuid": str(uuid.uuid4()),
            "store_id": dataset.store_id,
            "register_id": dataset.register_id,
            "member_id": self.member_id,
            "lines": [{"product_id": p.id, "quantity": q} for p, q in self.lines],
            "payments": [*card, {"method": "cash", "amount": cash}],
        }
        if self.coupon:
            body["coupon_codes"] = [self.coupon]
        if self.points:
            body["points"] = self.points
        return json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class SalePricing:
    """What the server will price a 金卡 member's sale with, for planning the orders."""

    offers: offers.Offers
    rounding: str
    fen_per_point: int
    cap_percent: int


@dataclass(frozen=True)
class LoyaltyData:
    dataset: Dataset
    warmup: tuple[PlannedOrder, ...]
    measured: tuple[PlannedOrder, ...]

    def requests(self, planned: tuple[PlannedOrder, ...]) -> list[Request]:
        return [Request("POST", bench.ORDERS_PATH, o.body(self.dataset)) for o in planned]


# --- the data set ------------------------------------------------------------------------


def build(
    dataset: Dataset, folder: Path, *, members: int, orders: int, warmup: int, seed: int
) -> LoyaltyData:
    """Add members, promotions and coupons to the bench store, and plan every order."""
    db = Database(make_engine(dataset.url, count_statements=False))
    try:
        with db.write() as session:
            return _build(session, dataset, folder, members, orders, warmup, seed)
    finally:
        db.dispose()


def _build(
    session: Session, dataset: Dataset, folder: Path, members: int, orders: int, warmup: int,
    seed: int,
) -> LoyaltyData:  # fmt: skip
    conn = session.connection()
    rng = random.Random(seed)
    half_price = _insert_promotions(conn, dataset, rng)
    loyalty_catalogue.invalidate(session)
    pricing = _pricing(session, dataset)
    member_ids = _insert_members(conn, dataset, folder, members)
    count = warmup + orders
    codes = [new_code() for _ in range(count // 2 + 1)]
    planned = [
        _plan(rng, dataset, pricing, member_ids[i % len(member_ids)],
              codes[i // 2] if i % 2 == 0 else None, half_price, card=i % 4 == 0)
        for i in range(count)
    ]  # fmt: skip
    _fund(conn, planned, member_ids)
    _insert_coupons(conn, planned)
    return LoyaltyData(dataset, tuple(planned[:warmup]), tuple(planned[warmup:]))


def _insert_promotions(conn: Connection, dataset: Dataset, rng: random.Random) -> set[int]:
    ids = [p.id for p in dataset.products]
    half_price = set(rng.sample(ids, max(1, len(ids) // HALF_PRICE_SHARE)))
    now = utcnow()
    common = {"member_only": False, "tier_ids": [], "store_ids": [dataset.store_id],
              "weekdays": [], "priority": 0, "active": True, "created_at": now}  # fmt: skip
    conn.execute(
        insert(table_of(Promotion)),
        [
            {**common, "name": "压测第二件半价", "kind": "nth_discount",
             "params": {"n": 2, "percent_off": 5000}, "scope": "products",
             "scope_ids": sorted(half_price)},
            {**common, "name": "压测满100减10", "kind": "order_threshold",
             "params": {"tiers": FULL_OFF_TIERS}, "scope": "all", "scope_ids": []},
        ],
    )  # fmt: skip
    return half_price


def _pricing(session: Session, dataset: Dataset) -> SalePricing:
    """The offers the server will give a 金卡 member of the bench store right now."""
    catalogue = loyalty_catalogue.current(session)
    store = session.get(Store, dataset.store_id)
    assert store is not None
    tier_id = session.scalar(select(Tier.id).where(Tier.code == TIER_CODE))
    tier = catalogue.tier(tier_id)
    if tier is None or tier.discount_bp <= 0:
        raise bench.BenchError(f"the {TIER_CODE} tier is missing or gives no discount")
    now = utcnow()
    local = to_local(now, store.timezone)
    running = [
        p for p in catalogue.promotions
        if offers.runs(p.window, store_id=store.id, now_utc=now, local=local, tier_id=tier.id,
                       is_member=True)
    ]  # fmt: skip
    settings = catalogue.settings
    sale_offers = offers.Offers(
        item_promotions=tuple(p.offer for p in running if not p.is_order_level),
        order_promotions=tuple(p.offer for p in running if p.is_order_level),
        tier=tier.discount(), conflict=settings.promotion_conflict,
        tier_on_promoted_items=settings.tier_on_promoted_items,
    )  # fmt: skip
    return SalePricing(
        sale_offers, store.rounding, settings.redeem_fen_per_point, settings.redeem_cap_percent
    )


def _plan(
    rng: random.Random, dataset: Dataset, pricing: SalePricing, member_id: int,
    coupon: str | None, half_price: set[int], *, card: bool,
) -> PlannedOrder:  # fmt: skip
    """One order of 3-8 products (some on 第二件半价, bought in twos and threes)."""
    picked = rng.sample(dataset.products, min(rng.randint(3, 8), len(dataset.products)))
    lines = tuple(
        (p, rng.choice((2, 2, 3)) if p.id in half_price else rng.choice((1, 1, 1, 2, 2, 3)))
        for p in picked
    )
    if coupon is None:
        return PlannedOrder(member_id, lines, None, 0)
    cart = Cart(
        lines=tuple(
            CartLine(product_id=p.id, name="", unit_price=p.price, quantity=q) for p, q in lines
        ),
        rounding=pricing.rounding,  # type: ignore[arg-type]
        offers=replace(pricing.offers, coupons=(_coupon_offer(coupon),)),
    )
    priced = price_cart(cart)
    due = priced.total + sum(line.rounding for line in priced.lines)  # what points see
    most = rules.max_redeemable(
        due=due, held=MOST_POINTS, fen_per_point=pricing.fen_per_point,
        cap_percent=pricing.cap_percent,
    )  # fmt: skip
    points = rng.randint(min(1, most), most)
    if not card:
        return PlannedOrder(member_id, lines, coupon, points)
    redeem = offers.PointsOffer(points, points, pricing.fen_per_point, pricing.cap_percent)
    total = price_cart(replace(cart, offers=replace(cart.offers, points=redeem))).total
    return PlannedOrder(member_id, lines, coupon, points, min(total, CARD_PAYMENT))


def _coupon_offer(code: str) -> offers.CouponOffer:
    return offers.CouponOffer(code=code, name="压测代金券", kind="voucher", value=COUPON_VALUE)


def _insert_members(conn: Connection, dataset: Dataset, folder: Path, count: int) -> list[int]:
    """Members sealed with the key file the bench's server will use (its own var folder)."""
    cipher = FieldCipher(load_or_create(folder / "var" / "member-keys.json"))
    sealer, now, tag = MemberSealer(cipher), utcnow(), dataset.store_code[-8:]
    rows = [
        sealer.row(name=f"压测会员{n}", mobile=f"19{dataset.store_id:03d}{n:06d}",
                   card=f"B{tag}{n:06d}", created_at=now, store_id=dataset.store_id,
                   source="store")
        for n in range(1, count + 1)
    ]  # fmt: skip
    table = table_of(Member)
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(conn.execute(stmt, rows).scalars())


def _fund(conn: Connection, planned: list[PlannedOrder], member_ids: list[int]) -> None:
    """金卡 accounts holding what their orders spend, through the ledger (and points lots)."""
    needed = Counter(dict.fromkeys(member_ids, 0))
    card: Counter[int] = Counter()
    for order in planned:
        needed[order.member_id] += order.points
        card[order.member_id] += order.stored_value
    tier_id = conn.execute(select(Tier.id).where(Tier.code == TIER_CODE)).scalar_one()
    now = utcnow()
    conn.execute(
        insert(table_of(MemberAccount)),
        [{"member_id": m, "tier_id": tier_id, "points": p, "growth": 0,
          "sv_principal": card[m], "sv_bonus": 0, "tier_since": now, "updated_at": now}
         for m, p in needed.items()],
    )  # fmt: skip
    funded = [(m, p, card[m]) for m, p in needed.items() if p or card[m]]
    if funded:
        conn.execute(
            insert(table_of(LedgerEntry)),
            [{"member_id": m, "at": now, "kind": "adjust", "points": p, "growth": 0,
              "sv_principal": sv, "sv_bonus": 0, "points_after": p, "sv_principal_after": sv,
              "sv_bonus_after": 0, "reason": "压测积分与储值"} for m, p, sv in funded],
        )  # fmt: skip
    lots = [(m, p) for m, p, _ in funded if p]
    if lots:
        conn.execute(
            insert(table_of(PointsLot)),
            [{"member_id": m, "earned": p, "remaining": p, "expires_on": None,
              "created_at": now} for m, p in lots],
        )  # fmt: skip


def _insert_coupons(conn: Connection, planned: list[PlannedOrder]) -> None:
    now = utcnow()
    templates = table_of(CouponTemplate)
    template_id = conn.execute(
        insert(templates)
        .values(name="压测代金券", kind="voucher", value=COUPON_VALUE, min_spend=0, scope="all",
                scope_ids=[], valid_days=30, stackable=False, active=True, created_at=now)
        .returning(templates.c.id)
    ).scalar_one()  # fmt: skip
    conn.execute(
        insert(table_of(Coupon)),
        [{"template_id": template_id, "member_id": o.member_id, "code": o.coupon,
          "status": "issued", "valid_from": now - timedelta(hours=1),
          "valid_to": now + timedelta(days=30), "source": "bench", "issued_at": now}
         for o in planned if o.coupon],
    )  # fmt: skip


# --- the run -----------------------------------------------------------------------------


def run(
    data: LoyaltyData, folder: Path, *, concurrency: int, console: Console
) -> bench.CheckoutRun:
    """Warm up, then measure, exactly as ``bench checkout`` does."""
    auth = (("Authorization", f"Bearer {data.dataset.token}"),)
    warmup = data.requests(data.warmup)
    measured = data.requests(data.measured)
    with bench.running_server(data.dataset.url, folder) as server:
        console.print(f"Server up on port {server.port}; warming up with {len(warmup)} orders.")
        bench._first_order(server, warmup[0], dict(auth))
        warm = bench._load(server, warmup[1:], concurrency, auth, console, "预热 warm-up")
        statements_before, cpu_before = server.statements(), server.cpu_seconds()
        result = bench._load(server, measured, concurrency, auth, console, "会员结账 checkout")
        cpu = server.cpu_seconds() - cpu_before
        statements = server.statements() - statements_before
    return bench.CheckoutRun(result, statements, cpu, bench.failures(warm))


def metrics(run: bench.CheckoutRun) -> list[Metric]:
    return [Metric(m.name, m.value, m.unit) for m in run.metrics()]
