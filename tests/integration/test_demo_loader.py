"""The demo chain loads completely and consistently on both backends."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from shouyin.auth.models import User
from shouyin.auth.passwords import verify_password
from shouyin.catalog.models import Barcode, Category, Product
from shouyin.customers import service as members
from shouyin.customers.crypto import FieldCipher, KeyRing
from shouyin.customers.models import Consent, Member, MemberTag
from shouyin.db import Database
from shouyin.demo import loader
from shouyin.ops.checks import run_all
from shouyin.sales.models import Order, OrderCounter, OrderLine, Payment
from shouyin.stores.models import Chain, Register, Store
from tests.conftest import DatabaseMaker

FRIDAY = date(2026, 3, 13)
NUMBER = re.compile(r"^S0[123]-\d{8}-\d{4}$")
CIPHER = FieldCipher(KeyRing.generate())


def _load(db: Database, *, days: int = 2, seed: int = 42, count: int = 300) -> loader.DemoSummary:
    with db.write() as session:
        return loader.load_demo(
            session, days=days, seed=seed, last_day=FRIDAY, members=count, cipher=CIPHER
        )


def test_demo_chain_stores_and_registers(database: Database) -> None:
    _load(database)
    with database.read() as session:
        assert session.scalars(select(Chain.name)).all() == ["鲜丰便利"]
        stores = session.scalars(select(Store).order_by(Store.code)).all()
        assert [s.code for s in stores] == ["S01", "S02", "S03"]
        assert [s.rounding for s in stores] == ["jiao", "none", "none"]
        assert sorted(s.day_cutoff_minutes for s in stores) == [0, 0, 240]
        assert all(s.timezone == "Asia/Shanghai" for s in stores)
        registers = session.execute(select(Register.store_id, Register.code, Register.name))
        assert sorted((code, name) for _, code, name in registers) == [
            ("R1", "1号收银台")] * 3 + [("R2", "2号收银台")] * 3  # fmt: skip
        assert not loader.is_empty(session)


def test_demo_users_for_every_role(database: Database) -> None:
    _load(database)
    with database.read() as session:
        users = {u.username: u for u in session.scalars(select(User))}
        stores = dict(session.execute(select(Store.id, Store.code)).all())
    for demo in loader.USERS:
        user = users[demo.username]
        assert user.role == demo.role.value
        assert (stores[user.store_id] if user.store_id else None) == demo.store_code
        assert user.display_name == demo.display_name
    assert {u.role for u in users.values()} == {
        "hq_admin", "hq_marketer", "auditor", "store_manager", "cashier"}  # fmt: skip
    assert verify_password(users["cashier"].password_hash, "demo1234")


def test_demo_catalogue(database: Database) -> None:
    _load(database)
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 502
        assert session.scalar(select(func.count()).select_from(Category)) == 11
        unscanned = session.scalar(
            select(func.count())
            .select_from(Product)
            .outerjoin(Barcode, Barcode.product_id == Product.id)
            .where(Barcode.code.is_(None), Product.weighed.is_(False))
        )
        assert unscanned == 0  # every packaged product scans; weighed goods go by PLU
        water = session.scalars(select(Product).where(Product.name.like("农夫山泉%"))).first()
        assert water is not None and water.initials.startswith("nfsq")
        assert water.pinyin.startswith("nongfushanquan")


def test_demo_orders_on_both_days(database: Database) -> None:
    summary = _load(database)
    with database.read() as session:
        per_day = session.execute(
            select(Order.store_id, Order.business_date, func.count(), func.max(Order.number))
            .group_by(Order.store_id, Order.business_date)
        ).all()  # fmt: skip
        counters = {
            (c.store_id, c.business_date): c.last for c in session.scalars(select(OrderCounter))
        }
        weighed_grams = session.scalars(
            select(OrderLine.quantity).where(OrderLine.weighed == 1).limit(50)
        ).all()
        methods = set(session.scalars(select(Payment.method).distinct()))
    assert summary.first_day == date(2026, 3, 12) and summary.last_day == FRIDAY
    assert {day for _, day, _, _ in per_day} == {date(2026, 3, 12), FRIDAY}
    assert len(per_day) == 6 and summary.orders == sum(n for _, _, n, _ in per_day)
    for store_id, day, count, last_number in per_day:
        assert 80 <= count <= 160
        assert counters[(store_id, day)] == count
        assert NUMBER.match(last_number) and last_number.endswith(f"-{day:%Y%m%d}-{count:04d}")
    assert weighed_grams and all(100 <= grams <= 5000 for grams in weighed_grams)
    assert methods == {"cash", "card"}


def test_demo_ledgers_check_out(database: Database) -> None:
    _load(database)
    with database.read() as session:
        results = run_all(session)
    assert [r.name for r in results if not r.ok] == [], results


def test_demo_is_deterministic(db_maker: DatabaseMaker) -> None:
    fingerprints = []
    for _ in range(2):
        db = Database.from_url(db_maker.url("sqlite"))
        _load(db, days=1, seed=7)
        with db.read() as session:
            fingerprints.append(
                session.execute(
                    select(Order.number, Order.total, Order.created_at).order_by(Order.number)
                ).all()
            )
        db.dispose()
    assert fingerprints[0] == fingerprints[1]


def test_existing_login_is_kept(db_maker: DatabaseMaker) -> None:
    from tests import factories

    db = Database.from_url(db_maker.url("sqlite"))
    with db.write() as session:
        session.add(User(username="admin", display_name="老板", role="hq_admin",
                         password_hash=factories.password_hash()))  # fmt: skip
    summary = _load(db, days=1)
    with db.read() as session:
        admin = session.scalars(select(User).where(User.username == "admin")).one()
    db.dispose()
    assert summary.users_kept == ("admin",) and "admin" not in summary.users_created
    assert admin.display_name == "老板"
    assert verify_password(admin.password_hash, factories.PASSWORD)


def test_demo_members_buy_and_can_be_found(database: Database) -> None:
    summary = _load(database, days=3)
    with database.read() as session:
        people = session.scalars(select(Member).order_by(Member.id)).all()
        linked = session.scalar(select(func.count()).where(Order.member_id.is_not(None)))
        per_member = session.execute(
            select(Order.member_id, func.count())
            .where(Order.member_id.is_not(None))
            .group_by(Order.member_id)
            .order_by(func.count().desc())
        ).all()
        tags = set(session.scalars(select(MemberTag.tag).distinct()))
        consents = session.scalar(select(func.count()).select_from(Consent))
        regular = session.get(Member, per_member[0][0])
        assert regular is not None
        mobile = CIPHER.decrypt("mobile", regular.mobile_enc or "")
        found = members.lookup(session, query=mobile, cipher=CIPHER)
        by_last4 = members.lookup(session, query=mobile[-4:], cipher=CIPHER, limit=500)
    assert len(people) == summary.members == 300
    assert consents == 600 and {"宝妈", "学生", "上班族", "老顾客"} <= tags
    assert 0.3 < (linked or 0) / summary.orders < 0.5
    assert per_member[0][1] >= 5 * per_member[len(per_member) // 2][1] // 2  # regulars
    assert [m.id for m in found] == [regular.id] and regular.id in {m.id for m in by_last4}
    names = {CIPHER.decrypt("name", m.name_enc) for m in people}
    assert len(names) > 100 and all(2 <= len(name) <= 3 for name in names)
    assert {m.gender for m in people} >= {"m", "f"}
    assert sum(m.birthday_enc is not None for m in people) > 100


def test_demo_loyalty_follows_from_the_history(database: Database) -> None:
    from shouyin.loyalty.models import Coupon, LedgerEntry, MemberAccount, Promotion

    _load(database)
    with database.read() as session:
        spent = dict(
            session.execute(
                select(Order.member_id, func.sum(Order.total))
                .where(Order.member_id.is_not(None))
                .group_by(Order.member_id)
            ).all()
        )
        growth = dict(session.execute(select(MemberAccount.member_id, MemberAccount.growth)).all())
        # Every buying member's growth value is what they spent; nobody else has any.
        assert {m: g for m, g in growth.items() if g} == spent
        points = session.scalar(select(func.sum(LedgerEntry.points))) or 0
        assert points == session.scalar(select(func.sum(MemberAccount.points)))
        assert points > 0
        assert session.scalar(select(func.count()).select_from(Coupon)) > 0
        assert session.scalar(select(func.count()).select_from(Promotion)) == 3
