"""Demo loyalty: balances that follow from the demo's sales history, plus offers to try.

The history is written straight into the tables (it predates loyalty), so each member with
purchases gets one opening ledger entry for the growth value and points those purchases
earned, and the tier they reach. Then a few promotions, coupons and recharge rules, and
some members with stored value, so the till has something to show on the first start.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from shouyin.catalog.models import Category
from shouyin.customers.models import Member
from shouyin.loyalty import catalogue, ledger, rules
from shouyin.loyalty.models import (
    Coupon,
    CouponTemplate,
    MemberAccount,
    Promotion,
    RechargeRule,
    Tier,
)
from shouyin.loyalty.settings import LoyaltySettings
from shouyin.sales.models import Order
from shouyin.shared.types import table_of

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U


def load_loyalty(session: Session, *, seed: int, today: date, now: datetime) -> int:
    """Returns how many members got an opening balance."""
    rng = random.Random(seed + 7)
    opened = _opening_balances(session, today=today, now=now)
    _stored_value(session, rng=rng, now=now)
    _offers(session, rng=rng, now=now)
    catalogue.invalidate(session)
    return opened


def _opening_balances(session: Session, *, today: date, now: datetime) -> int:
    settings = LoyaltySettings()
    tiers = list(session.scalars(select(Tier).where(Tier.active.is_(True)).order_by(Tier.rank)))
    levels = [rules.TierLevel(t.id, t.rank, t.threshold, t.points_multiplier) for t in tiers]
    spent = session.execute(
        select(Order.member_id, func.sum(Order.total))
        .where(Order.member_id.is_not(None), Order.status == "completed")
        .group_by(Order.member_id)
    ).all()
    conn = session.connection()
    expires = rules.expiry_date(today, settings.points_expiry, settings.points_expiry_days)
    for member_id, total in spent:
        assert member_id is not None  # filtered in the query
        tier = rules.tier_for(int(total), levels)
        multiplier = tier.points_multiplier if tier else 100
        points = rules.points_earned(
            paid=int(total), earn_fen_per_point=settings.earn_fen_per_point, multiplier=multiplier
        )
        change = ledger.Change(
            kind="opening", points=points, growth=int(total), reason="demo sales history"
        )
        ledger.post(conn, member_id=member_id, change=change, at=now)
        ledger.add_lot(
            conn, member_id=member_id, points=points, expires_on=expires, order_id=None, at=now
        )
        if tier is not None:
            account = session.get(MemberAccount, member_id)
            assert account is not None
            account.tier_id, account.tier_since = tier.id, now
    session.flush()
    return len(spent)


def _stored_value(session: Session, *, rng: random.Random, now: datetime) -> None:
    """充500送50 and 充1000送150; one member in ten has recharged once."""
    session.add_all(
        [
            RechargeRule(name="充500送50", min_principal=50_000, bonus=5_000),
            RechargeRule(name="充1000送150", min_principal=100_000, bonus=15_000),
        ]
    )
    # Recharged at the store where they registered, so the liability report has its stores.
    home = dict(
        session.execute(
            select(MemberAccount.member_id, Member.store_id)
            .join(Member, Member.id == MemberAccount.member_id)
            .order_by(MemberAccount.member_id)
        ).all()
    )
    conn = session.connection()
    for member_id in rng.sample(sorted(home), k=len(home) // 10):
        principal, bonus = rng.choice([(50_000, 5_000), (100_000, 15_000), (20_000, 0)])
        spent = rng.randrange(0, principal // 2, 100)
        change = ledger.Change(
            kind="opening", sv_principal=principal - spent, sv_bonus=bonus,
            store_id=home[member_id], reason="demo stored value",
        )  # fmt: skip
        ledger.post(conn, member_id=member_id, change=change, at=now)


def _offers(session: Session, *, rng: random.Random, now: datetime) -> None:
    categories = dict(session.execute(select(Category.name, Category.id)).all())
    drinks, snacks = categories.get("饮料"), categories.get("零食")
    session.add_all(
        [
            Promotion(name="饮料第二件半价", kind="nth_discount",
                      params={"n": 2, "percent_off": 5000}, scope="categories",
                      scope_ids=[drinks] if drinks else []),
            Promotion(name="工作日下午茶 零食买二送一", kind="buy_x_get_y",
                      params={"buy": 2, "get": 1}, scope="categories",
                      scope_ids=[snacks] if snacks else [], weekdays=[1, 2, 3, 4, 5],
                      start_minute=14 * 60, end_minute=17 * 60),
            Promotion(name="满100减10", kind="order_threshold",
                      params={"tiers": [[10_000, 1_000], [20_000, 2_500]]}),
        ]
    )  # fmt: skip
    welcome = CouponTemplate(
        name="新人券 满50减5", kind="threshold", value=500, min_spend=5_000, valid_days=30,
        per_member_limit=1, auto_issue="registration",
    )  # fmt: skip
    big = CouponTemplate(name="满100减20", kind="threshold", value=2_000, min_spend=10_000,
                         valid_days=60, stackable=False)  # fmt: skip
    drinks_off = CouponTemplate(
        name="饮料85折券", kind="percent", value=1_500, scope="categories",
        scope_ids=[drinks] if drinks else [], valid_days=60, stackable=True,
    )  # fmt: skip
    session.add_all([welcome, big, drinks_off])
    session.flush()
    _issue(session, rng=rng, templates=[big, drinks_off], now=now)


def _issue(
    session: Session, *, rng: random.Random, templates: list[CouponTemplate], now: datetime
) -> None:
    """Every member with a tier above the entry tier, and a few hundred others, get coupons."""
    ranked = select(MemberAccount.member_id).join(Tier, Tier.id == MemberAccount.tier_id)
    loyal = list(session.scalars(ranked.where(Tier.rank > 0)))
    others = list(session.scalars(ranked.where(Tier.rank == 0).order_by(MemberAccount.member_id)))
    chosen = sorted(set(loyal) | set(rng.sample(others, k=min(300, len(others)))))
    rows = [
        {"template_id": template.id, "member_id": member_id, "code": _code(rng),
         "status": "issued", "valid_from": now,
         "valid_to": now + timedelta(days=template.valid_days or 30), "source": "manual",
         "issued_at": now}
        for member_id in chosen for template in templates
    ]  # fmt: skip
    session.execute(insert(table_of(Coupon)), rows)


def _code(rng: random.Random) -> str:
    return "CP" + "".join(rng.choice(CODE_ALPHABET) for _ in range(10))
