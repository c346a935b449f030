"""Test data builders. Each call makes new, unique rows: no test depends on another's data."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.auth import tokens
from shouyin.auth.models import User, UserSession
from shouyin.auth.permissions import is_store_bound, permissions_for
from shouyin.auth.principal import Principal
from shouyin.catalog.models import Barcode, Category, Product
from shouyin.customers.models import Member
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.loyalty import catalogue, ledger
from shouyin.loyalty.models import Coupon, CouponTemplate, MemberAccount, Promotion, Tier
from shouyin.sales import shift_service
from shouyin.sales.shift_models import Shift
from shouyin.shared.clock import utcnow
from shouyin.stores.models import Register, Store
from shouyin.stores.service import ensure_chain

PASSWORD = "password123"
_seq = itertools.count(1)


def next_id() -> int:
    return next(_seq)


@lru_cache(maxsize=1)
def password_hash() -> str:
    from shouyin.auth.passwords import hash_password

    return hash_password(PASSWORD)


def make_store(
    session: Session, *, rounding: str = "none", cutoff: int = 0, shift: bool = True, **kw: object
) -> Store:
    """A store with register R1; with ``shift`` the register has an open shift (no float)."""
    n = next_id()
    store = Store(
        chain_id=ensure_chain(session).id, code=f"T{n:04d}", name=f"测试门店{n}",
        timezone="Asia/Shanghai", day_cutoff_minutes=cutoff, rounding=rounding, **kw,
    )  # fmt: skip
    session.add(store)
    session.flush()
    register = Register(store_id=store.id, code="R1", name="1号收银台")
    session.add(register)
    session.flush()
    if shift:
        open_shift(session, register, make_user(session, store=store))
    return store


def open_shift(session: Session, register: Register, user: User, *, float_fen: int = 0) -> Shift:
    return shift_service.open_shift(
        session, actor=None, store_id=register.store_id, register_id=register.id,
        user_id=user.id, opening_float=float_fen, client_uuid=None,
    )  # fmt: skip


def register_of(session: Session, store: Store) -> Register:
    from sqlalchemy import select

    return session.scalars(select(Register).where(Register.store_id == store.id)).one()


def make_user(session: Session, *, role: str = "cashier", store: Store | None = None) -> User:
    n = next_id()
    if is_store_bound(role) and store is None:
        store = make_store(session)
    user = User(
        username=f"{role}{n}", display_name=f"员工{n}", password_hash=password_hash(), role=role,
        store_id=store.id if store is not None and is_store_bound(role) else None,
    )  # fmt: skip
    session.add(user)
    session.flush()
    return user


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id, username=user.username, display_name=user.display_name, role=user.role,
        store_id=user.store_id, permissions=permissions_for(user.role),
    )  # fmt: skip


def login_secret(session: Session, user: User) -> str:
    secret = tokens.new_secret()
    now = utcnow()
    from datetime import timedelta

    session.add(
        UserSession(
            token_hash=tokens.digest(secret), user_id=user.id, last_seen_at=now,
            expires_at=now + timedelta(days=1),
        )
    )  # fmt: skip
    session.flush()
    return secret


def make_category(session: Session, name: str | None = None) -> Category:
    category = Category(name=name or f"分类{next_id()}")
    session.add(category)
    session.flush()
    return category


def make_product(
    session: Session,
    *,
    price: int = 350,
    name: str | None = None,
    weighed: bool = False,
    barcode: str | None = None,
    category: Category | None = None,
    stock: dict[int, int] | None = None,
) -> Product:
    n = next_id()
    product = Product(
        sku=f"SKU{n:06d}", name=name or f"测试商品{n}", pinyin=f"ceshishangpin{n}",
        initials=f"cssp{n}", unit="kg" if weighed else "个", weighed=weighed, price=price,
        category_id=category.id if category else None,
    )  # fmt: skip
    session.add(product)
    session.flush()
    if not weighed:
        session.add(Barcode(code=barcode or f"69{n:011d}", product_id=product.id))
    for store_id, quantity in (stock or {}).items():
        session.add(StockMovement(store_id=store_id, product_id=product.id, quantity=quantity,
                                  kind="receipt", at=utcnow()))  # fmt: skip
        session.add(StockLevel(store_id=store_id, product_id=product.id, on_hand=quantity))
    session.flush()
    return product


# --- members and loyalty -----------------------------------------------------------------


def make_member(session: Session) -> Member:
    """A bare member row: loyalty reads no personal field, so placeholders will do."""
    n = next_id()
    member = Member(
        card_enc="x", card_idx=f"card{n}", name_enc="x", name_idx=f"name{n}",
        initials_idx=f"ini{n}",
    )  # fmt: skip
    session.add(member)
    session.flush()
    return member


def tier_id(session: Session, code: str) -> int:
    found = session.scalar(select(Tier.id).where(Tier.code == code))
    assert found is not None, code
    return found


def fund(
    session: Session, member: Member, *, tier: str | None = None, points: int = 0,
    sv_principal: int = 0, sv_bonus: int = 0, expires_on: date | None = None,
) -> None:  # fmt: skip
    """Give a member a tier and balances through the ledger, as real events would."""
    conn = session.connection()
    now = utcnow()
    ledger.ensure_account(conn, member_id=member.id, at=now)
    if points or sv_principal or sv_bonus:
        change = ledger.Change(
            kind="adjust", points=points, sv_principal=sv_principal, sv_bonus=sv_bonus,
            reason="test",
        )  # fmt: skip
        ledger.post(conn, member_id=member.id, change=change, at=now)
        ledger.add_lot(
            conn, member_id=member.id, points=points, expires_on=expires_on, order_id=None, at=now
        )
    if tier is not None:
        account = session.get(MemberAccount, member.id)
        assert account is not None
        session.refresh(account)
        account.tier_id = tier_id(session, tier)
    session.flush()
    catalogue.invalidate(session)


def make_coupon(
    session: Session, *, member: Member | None, kind: str = "voucher", value: int = 1000,
    min_spend: int = 0, stackable: bool = False, scope: str = "all",
    scope_ids: list[int] | None = None, gift_product_id: int | None = None,
    valid_days: int = 30,
) -> Coupon:  # fmt: skip
    n = next_id()
    template = CouponTemplate(
        name=f"券{n}", kind=kind, value=value, min_spend=min_spend, scope=scope,
        scope_ids=scope_ids or [], gift_product_id=gift_product_id, valid_days=valid_days,
        stackable=stackable,
    )  # fmt: skip
    session.add(template)
    session.flush()
    now = utcnow()
    coupon = Coupon(
        template_id=template.id, member_id=member.id if member else None, code=f"CPT{n:09d}",
        valid_from=now - timedelta(minutes=1), valid_to=now + timedelta(days=valid_days),
    )  # fmt: skip
    session.add(coupon)
    session.flush()
    return coupon


def make_promotion(session: Session, *, kind: str, params: dict[str, Any], **kw: Any) -> Promotion:
    n = next_id()
    promotion = Promotion(name=kw.pop("name", f"促销{n}"), kind=kind, params=params, **kw)
    session.add(promotion)
    session.flush()
    catalogue.invalidate(session)
    return promotion


def gold_member_shop(session: Session) -> dict[str, Any]:
    """A store with a ¥100 bag and a ¥20 tea, and a gold member holding 1,000 points, ¥30
    principal + ¥30 bonus of stored value and a ¥5 voucher."""
    store = make_store(session)
    shop: dict[str, Any] = {
        "store": store,
        "register": register_of(session, store),
        "bag": make_product(session, price=10000, stock={store.id: 50}),
        "tea": make_product(session, price=2000, stock={store.id: 50}),
        "gold": make_member(session),
    }
    fund(session, shop["gold"], tier="gold", points=1000, sv_principal=3000, sv_bonus=3000)
    shop["coupon"] = make_coupon(session, member=shop["gold"], value=500)
    return shop
