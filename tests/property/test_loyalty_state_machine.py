"""A member's loyalty life as random sequences of events, with the books checked after each.

Events: sales through ``sales.service.checkout`` (random carts under running promotions, a
tier discount, a coupon, points within what is allowed, stored value), recharges
(``stored_value.recharge``), refunds of unused principal, manual points adjustments, gifts for
points, points expiry, and attempts to spend more than the member holds, which must be
refused with nothing written. Each event is its own unit of work (``Database.write``), as a
request is.

After every step: each balance on ``member_accounts`` equals the sum of its ledger rows, the
points equal the lots' remaining points, nothing is negative, and every redeemed coupon
belongs to exactly one order (and an unused one to none).

Returns (退货) are not built yet: when they are, they join this machine as a rule (return part
of a random earlier sale) and the invariants stay as they are.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.auth.principal import Principal
from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.loyalty import catalogue, rules
from shouyin.loyalty import points as points_service
from shouyin.loyalty import settings as loyalty_settings
from shouyin.loyalty import stored_value as sv_service
from shouyin.loyalty.models import (
    Coupon,
    Gift,
    LedgerEntry,
    MemberAccount,
    PointsLot,
    RechargeRule,
)
from shouyin.loyalty.points_schemas import GiftRedemptionIn
from shouyin.loyalty.settings import LoyaltySettings
from shouyin.loyalty.sv_schemas import RechargeCreate, RefundCreate
from shouyin.sales import service
from shouyin.sales.models import Order
from shouyin.sales.schemas import OrderCreate, QuoteRequest
from tests import factories

FEN_PER_POINT, CAP_PERCENT = 10, 50  # the default redemption rules
SV_CAP = 500_000  # the default card cap


@dataclass(frozen=True)
class World:
    """What every example shares: a store, products under promotions, a manager, a gift."""

    db: Database
    store_id: int
    products: tuple[tuple[int, bool], ...]  # (id, weighed)
    manager: Principal
    gift_id: int


def build_world(db: Database) -> World:
    with db.write() as session:
        store = factories.make_store(session)
        stock = {store.id: 1_000_000}
        bag = factories.make_product(session, price=10_000, stock=stock)
        tea = factories.make_product(session, price=2_000, stock=stock)
        rice = factories.make_product(session, price=1_280, weighed=True, stock=stock)
        cigarettes = factories.make_product(session, price=3_500, stock=stock)
        cigarettes.member_discount = False
        factories.make_promotion(
            session, kind="nth_discount", params={"n": 2, "percent_off": 5000},
            scope="products", scope_ids=[tea.id], name="第二件半价",
        )  # fmt: skip
        factories.make_promotion(
            session, kind="special_price", params={"price": 990}, scope="products",
            scope_ids=[rice.id], name="大米特价",
        )  # fmt: skip
        factories.make_promotion(
            session, kind="order_threshold", params={"tiers": [[10000, 1000], [30000, 4000]]},
            name="满100减10",
        )  # fmt: skip
        session.add(RechargeRule(name="充500送50", min_principal=50_000, bonus=5_000))
        gift = Gift(name="保温杯", points=300)
        session.add(gift)
        manager = factories.make_user(session, role="store_manager", store=store)
        session.flush()
        return World(
            db=db, store_id=store.id, manager=factories.principal_of(manager), gift_id=gift.id,
            products=tuple((p.id, p.weighed) for p in (bag, tea, rice, cigarettes)),
        )  # fmt: skip


@st.composite
def carts(draw: st.DrawFn, products: tuple[tuple[int, bool], ...]) -> list[dict[str, int]]:
    chosen = draw(st.lists(st.sampled_from(products), min_size=1, max_size=4, unique=True))
    return [
        {"product_id": pid,
         "quantity": draw(st.integers(100, 3000) if weighed else st.integers(1, 4))}
        for pid, weighed in chosen
    ]  # fmt: skip


@dataclass(frozen=True)
class Snapshot:
    account: tuple[int, int, int, int]
    ledger_rows: int
    lots: tuple[tuple[int, int], ...]
    orders: int
    coupons: tuple[tuple[str, str], ...]


class LoyaltyMachine(RuleBasedStateMachine):
    world: World  # set by the test before the run

    redeemed = Bundle("redeemed")

    def __init__(self) -> None:
        super().__init__()
        self.member_id = 0
        self.coupons: list[str] = []
        self.used: set[str] = set()

    # --- helpers -------------------------------------------------------------------------

    def write(self, work: Any) -> Any:
        with self.world.db.write() as session:
            return work(session)

    def account(self) -> MemberAccount:
        with self.world.db.read() as session:
            found = session.get(MemberAccount, self.member_id)
            assert found is not None
            return found

    def snapshot(self) -> Snapshot:
        m = self.member_id
        with self.world.db.read() as session:
            acc = session.get(MemberAccount, m)
            assert acc is not None
            count = func.count()
            return Snapshot(
                account=(acc.points, acc.growth, acc.sv_principal, acc.sv_bonus),
                ledger_rows=session.scalar(select(count).where(LedgerEntry.member_id == m)) or 0,
                lots=tuple((row.id, row.remaining) for row in session.execute(
                    select(PointsLot.id, PointsLot.remaining)
                    .where(PointsLot.member_id == m).order_by(PointsLot.id)
                )),
                orders=session.scalar(select(count).where(Order.member_id == m)) or 0,
                coupons=tuple((row.code, row.status) for row in session.execute(
                    select(Coupon.code, Coupon.status).where(Coupon.code.in_(self.coupons))
                    .order_by(Coupon.code)
                )),
            )  # fmt: skip

    def refused(self, work: Any, codes: set[str]) -> str:
        """Run ``work``; it must fail with one of ``codes`` and leave the books untouched."""
        before = self.snapshot()
        try:
            self.write(work)
        except DomainError as exc:
            assert exc.code in codes, (exc.code, codes)
            assert self.snapshot() == before
            return exc.code
        raise AssertionError(f"not refused; expected one of {sorted(codes)}")

    def order(self, lines: list[dict[str, int]], **extra: Any) -> dict[str, Any]:
        return {"store_id": self.world.store_id, "member_id": self.member_id, "lines": lines,
                **extra}  # fmt: skip

    def quote(self, body: dict[str, Any]) -> Any:
        with self.world.db.read() as session:
            data = QuoteRequest.model_validate(body)
            return service.quote(session, data=data, actor=self.world.manager)

    # --- set-up ------------------------------------------------------------------------

    @initialize(
        tier=st.sampled_from([None, "silver", "gold"]),
        points=st.integers(0, 3000),
        principal=st.integers(0, 20_000),
        bonus=st.integers(0, 5_000),
        expired=st.booleans(),
        shop_rules=st.builds(
            LoyaltySettings,
            stored_value_spend=st.sampled_from(["principal_first", "bonus_first", "proportional"]),
            promotion_conflict=st.sampled_from(["best", "priority"]),
            tier_on_promoted_items=st.booleans(),
        ),
    )
    def new_member(
        self, tier: str | None, points: int, principal: int, bonus: int, expired: bool,
        shop_rules: LoyaltySettings,
    ) -> None:  # fmt: skip
        tea = self.world.products[1][0]

        def build(session: Session) -> None:
            loyalty_settings.save(session, shop_rules)  # how this shop spends cards, etc.
            catalogue.invalidate(session)
            member = factories.make_member(session)
            past = date.today() - timedelta(days=3) if expired else None
            factories.fund(session, member, tier=tier, points=points, sv_principal=principal,
                           sv_bonus=bonus, expires_on=past)  # fmt: skip
            coupons = [
                factories.make_coupon(session, member=member, value=500),
                factories.make_coupon(
                    session, member=member, kind="threshold", value=2000, min_spend=15_000
                ),
                factories.make_coupon(session, member=member, kind="percent", value=1000),
                factories.make_coupon(session, member=member, kind="percent", value=500),
                factories.make_coupon(session, member=member, value=2000, valid_days=1),
                factories.make_coupon(  # 兑换: one tea free, only when tea is in the cart
                    session, member=member, kind="gift", value=0, gift_product_id=tea
                ),
                factories.make_coupon(session, member=None, value=300),  # anyone's
            ]
            self.member_id = member.id
            self.coupons = [c.code for c in coupons]

        self.write(build)

    # --- sales -------------------------------------------------------------------------

    @rule(target=redeemed, data=st.data())
    def sale(self, data: st.DataObject) -> str | None:
        return self._sale(data, coupon=st.none() | self.unused_coupon(), all_in=False)

    @rule(target=redeemed, data=st.data())
    def sale_using_everything(self, data: st.DataObject) -> str | None:
        """A coupon, as many points as allowed, and the card for as much as it holds."""
        return self._sale(data, coupon=self.unused_coupon(), all_in=True)

    def unused_coupon(self) -> st.SearchStrategy[str | None]:
        """Mostly one still unused (reuse has a rule of its own), now and then any."""
        unused = [code for code in self.coupons if code not in self.used]
        fresh = st.sampled_from(unused) if unused else st.none()
        return st.one_of(fresh, fresh, fresh, st.sampled_from(self.coupons))

    def _sale(
        self, data: st.DataObject, *, coupon: st.SearchStrategy[str | None], all_in: bool
    ) -> str | None:
        lines = data.draw(carts(self.world.products), label="lines")
        code = data.draw(coupon, label="coupon")
        body = self.order(lines, coupon_codes=[code] if code else [])
        try:
            due = self.quote(body).total
        except DomainError as exc:  # a coupon this cart cannot take: refused at the till too
            self.refused(lambda s: self._sell(s, body), {exc.code})
            return None
        before = self.account()
        most = rules.max_redeemable(
            due=due, held=before.points, fen_per_point=FEN_PER_POINT, cap_percent=CAP_PERCENT
        )
        used = most if all_in else data.draw(st.integers(0, most), label="points")
        body["points"] = used
        total = self.quote(body).total
        card = min(before.sv_principal + before.sv_bonus, total)
        from_card = card if all_in else data.draw(st.integers(0, card), label="stored value")
        payments = [{"method": "stored_value", "amount": from_card}] if from_card else []
        change = data.draw(st.integers(0, 10_000), label="change")
        if total - from_card + change > 0:  # a free sale (coupons, points) takes no payment
            payments.append({"method": "cash", "amount": total - from_card + change})
        order = self._sell_now(body, payments)
        after, loyalty = self.account(), order.loyalty
        assert order.total == total and loyalty is not None
        assert loyalty.points_redeemed == used
        assert after.points == before.points - used + loyalty.points_earned
        assert (before.sv_principal - after.sv_principal, before.sv_bonus - after.sv_bonus) == (
            loyalty.sv_principal_paid, loyalty.sv_bonus_paid,
        )  # fmt: skip
        assert loyalty.sv_principal_paid + loyalty.sv_bonus_paid == from_card
        assert after.growth == before.growth + loyalty.growth
        if code:
            self.used.add(code)
        return code

    def _sell(
        self, session: Session, body: dict[str, Any], payments: list[Any] | None = None
    ) -> Any:
        data = OrderCreate.model_validate(
            {**body, "client_uuid": str(uuid.uuid4()),
             "payments": [{"method": "cash", "amount": 1_000_000}] if payments is None else payments}
        )  # fmt: skip
        order, created = service.checkout(
            session, data=data, actor=self.world.manager, discount_audit_percent=100
        )
        assert created
        return order

    def _sell_now(self, body: dict[str, Any], payments: list[Any]) -> Any:
        return self.write(lambda s: self._sell(s, body, payments))

    # --- balances outside the till -------------------------------------------------------

    @rule(principal=st.integers(1, 120_000))
    def recharge(self, principal: int) -> None:
        before = self.account()
        bonus = 5_000 if principal >= 50_000 else 0
        data = RechargeCreate(
            client_uuid=uuid.uuid4(), member_id=self.member_id, store_id=self.world.store_id,
            principal=principal, method="cash",
        )  # fmt: skip

        def work(session: Session) -> Any:
            return sv_service.recharge(session, data=data, actor=self.world.manager)

        if before.sv_principal + before.sv_bonus + principal + bonus > SV_CAP:
            self.refused(work, {"stored_value.over_cap"})
            return
        self.write(work)
        after = self.account()
        assert (after.sv_principal, after.sv_bonus) == (
            before.sv_principal + principal, before.sv_bonus + bonus,
        )  # fmt: skip

    @rule(data=st.data())
    def refund_principal(self, data: st.DataObject) -> None:
        held = self.account().sv_principal
        if held == 0:
            return
        amount = data.draw(st.none() | st.integers(1, held), label="refund")
        body = RefundCreate(
            client_uuid=uuid.uuid4(), member_id=self.member_id, store_id=self.world.store_id,
            amount=amount, method="cash", reason="退卡",
        )  # fmt: skip
        self.write(lambda s: sv_service.refund(s, data=body, actor=self.world.manager))
        after = self.account()
        assert after.sv_principal == held - (held if amount is None else amount)

    @rule(data=st.data())
    def adjust_points(self, data: st.DataObject) -> None:
        held = self.account().points
        change = data.draw(st.integers(-held, 2000).filter(bool), label="adjust")
        self.write(
            lambda s: points_service.adjust(
                s, member_id=self.member_id, points=change, reason="客诉补偿",
                actor=self.world.manager,
            )
        )  # fmt: skip
        assert self.account().points == held + change

    @rule()
    def redeem_gift(self) -> None:
        held = self.account().points
        data = GiftRedemptionIn(
            client_uuid=uuid.uuid4(), gift_id=self.world.gift_id, store_id=self.world.store_id
        )

        def work(session: Session) -> Any:
            return points_service.redeem_gift(
                session, member_id=self.member_id, data=data, actor=self.world.manager
            )

        if held < 300:
            self.refused(work, {"points.insufficient"})
            return
        self.write(work)
        assert self.account().points == held - 300

    @rule(years=st.sampled_from([0, 3]))
    def expire_points(self, years: int) -> None:
        """Expire what is past due today (funded lots may be), or in three years (everything)."""
        today = date.today() + timedelta(days=366 * years)
        self.write(lambda s: points_service.expire_points(s, today=today))
        with self.world.db.read() as session:
            left = session.scalar(
                select(func.count()).where(
                    PointsLot.member_id == self.member_id, PointsLot.remaining > 0,
                    PointsLot.expires_on < today,
                )
            )  # fmt: skip
        assert left == 0

    # --- abuse ---------------------------------------------------------------------------

    @rule(data=st.data())
    def overspend_points_at_the_till(self, data: st.DataObject) -> None:
        held = self.account().points
        lines = data.draw(carts(self.world.products), label="lines")
        extra = data.draw(st.integers(1, 500), label="over")
        body = self.order(lines, points=held + extra)
        self.refused(lambda s: self._sell(s, body), {"points.insufficient", "points.over_cap"})

    @rule(data=st.data())
    def overspend_the_card(self, data: st.DataObject) -> None:
        acc = self.account()
        card = acc.sv_principal + acc.sv_bonus
        lines = [{"product_id": self.world.products[0][0], "quantity": 80}]  # ￥8,000: > any card
        over = card + data.draw(st.integers(1, 500), label="over")
        body = self.order(lines)
        payments = [{"method": "stored_value", "amount": over},
                    {"method": "cash", "amount": 1_000_000}]  # fmt: skip
        self.refused(lambda s: self._sell(s, body, payments), {"stored_value.insufficient"})

    @rule(code=redeemed)
    def reuse_a_coupon(self, code: str | None) -> None:
        if code is None:
            return
        body = self.order([{"product_id": self.world.products[0][0], "quantity": 2}],
                          coupon_codes=[code])  # fmt: skip
        self.refused(lambda s: self._sell(s, body), {"coupon.used"})

    @rule(data=st.data())
    def overdraw_by_hand(self, data: st.DataObject) -> None:
        acc = self.account()
        if data.draw(st.booleans(), label="points or card"):
            change = -(acc.points + data.draw(st.integers(1, 500)))
            self.refused(
                lambda s: points_service.adjust(
                    s, member_id=self.member_id, points=change, reason="误操作",
                    actor=self.world.manager,
                ),
                {"points.insufficient"},
            )  # fmt: skip
            return
        body = RefundCreate(
            client_uuid=uuid.uuid4(), member_id=self.member_id, store_id=self.world.store_id,
            amount=acc.sv_principal + data.draw(st.integers(1, 500)), method="cash",
            reason="退卡",
        )  # fmt: skip
        self.refused(
            lambda s: sv_service.refund(s, data=body, actor=self.world.manager),
            {"stored_value.insufficient"},
        )

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        if not self.member_id:
            return
        m = self.member_id
        with self.world.db.read() as session:
            acc = session.get(MemberAccount, m)
            assert acc is not None
            sums = session.execute(
                select(
                    func.coalesce(func.sum(LedgerEntry.points), 0),
                    func.coalesce(func.sum(LedgerEntry.growth), 0),
                    func.coalesce(func.sum(LedgerEntry.sv_principal), 0),
                    func.coalesce(func.sum(LedgerEntry.sv_bonus), 0),
                ).where(LedgerEntry.member_id == m)
            ).one()
            lots = list(
                session.scalars(select(PointsLot.remaining).where(PointsLot.member_id == m))
            )
            last = session.execute(
                select(LedgerEntry.points_after, LedgerEntry.sv_principal_after,
                       LedgerEntry.sv_bonus_after)
                .where(LedgerEntry.member_id == m).order_by(LedgerEntry.id.desc()).limit(1)
            ).first()  # fmt: skip
        assert tuple(sums) == (acc.points, acc.growth, acc.sv_principal, acc.sv_bonus)
        assert sum(lots) == acc.points
        assert all(n >= 0 for n in lots)
        assert min(acc.points, acc.sv_principal, acc.sv_bonus) >= 0
        assert acc.sv_principal + acc.sv_bonus <= SV_CAP
        if last is not None:  # the running balances on the ledger agree with the account
            assert tuple(last) == (acc.points, acc.sv_principal, acc.sv_bonus)

    @invariant()
    def each_redeemed_coupon_has_exactly_one_order(self) -> None:
        if not self.coupons:
            return
        with self.world.db.read() as session:
            coupons = session.execute(
                select(Coupon.code, Coupon.status, Coupon.order_id).where(
                    Coupon.code.in_(self.coupons)
                )
            ).all()
            steps = session.execute(
                select(Order.id, Order.steps).where(Order.member_id == self.member_id)
            ).all()
        used_by: dict[str, list[int]] = {}
        for order_id, order_steps in steps:
            for step in order_steps:
                ref = step.get("ref") or ""
                if ref.startswith("coupon:"):
                    used_by.setdefault(ref.split(":", 1)[1], []).append(order_id)
        for code, status, order_id in coupons:
            if status == "redeemed":
                assert order_id is not None and used_by.get(code) == [order_id], code
            else:
                assert status == "issued" and order_id is None and code not in used_by, code


@pytest.mark.parametrize(
    ("backend", "examples"), [("sqlite", 60), ("postgresql", 25)], indirect=["backend"]
)
def test_loyalty_books_always_balance(database: Database, examples: int) -> None:
    LoyaltyMachine.world = build_world(database)
    run_state_machine_as_test(
        LoyaltyMachine,
        settings=settings(
            max_examples=examples, stateful_step_count=25, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )  # fmt: skip
