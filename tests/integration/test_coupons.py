"""Coupons against SQLite and PostgreSQL: template rules, issuing (one, bulk, by rule), the
per-member limit, codes, reading and voiding."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.auth.principal import Principal
from shouyin.customers import service as members
from shouyin.customers.crypto import FieldCipher, KeyRing
from shouyin.customers.models import Member
from shouyin.customers.schemas import MemberCreate
from shouyin.errors import DomainError
from shouyin.loyalty import coupon_templates, coupons, ledger
from shouyin.loyalty.coupon_schemas import CouponTemplateIn, MemberFilters
from shouyin.loyalty.models import Coupon, CouponTemplate, MemberAccount, Tier
from shouyin.stores.models import Store
from tests import factories

CIPHER = FieldCipher(KeyRing.generate())
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
CODE = re.compile(r"CP[0-9A-HJKMNP-TV-Z]{10}")
FAR = datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5)))
EARLY = datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=8)))


def _admin(session: Session) -> Principal:
    return factories.principal_of(factories.make_user(session, role="hq_admin"))


def _member(
    session: Session, actor: Principal, *, store: Store | None = None, tags: list[str] | None = None
) -> Member:
    n = factories.next_id()
    data = MemberCreate(
        mobile=f"139{n:08d}", name=f"会员{n}", consent=True, tags=tags or [],
        store_id=store.id if store else None,
    )  # fmt: skip
    return members.register(session, data=data, actor=actor, cipher=CIPHER, notice_version="t")


def _template(session: Session, actor: Principal, **fields: Any) -> CouponTemplate:
    values: dict[str, Any] = {"name": "满100减20", "kind": "threshold", "value": 2000,
                              "min_spend": 10000, "valid_days": 30} | fields  # fmt: skip
    return coupon_templates.create_template(session, data=CouponTemplateIn(**values), actor=actor)


def _code_of(call: Any) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def _count(session: Session, *where: Any) -> int:
    return session.scalar(select(func.count()).select_from(Coupon).where(*where)) or 0


# --- templates ------------------------------------------------------------------------------


def test_each_kind_of_template_is_created_and_audited(session: Session) -> None:
    actor = _admin(session)
    gift = factories.make_product(session, name="购物袋")
    category = factories.make_category(session)
    made = [
        _template(session, actor),
        _template(session, actor, name="85折", kind="percent", value=1500, min_spend=0),
        _template(session, actor, name="10元代金", kind="voucher", value=1000, min_spend=0,
                  scope="categories", scope_ids=[category.id, category.id]),
        _template(session, actor, name="送购物袋", kind="gift", value=0, min_spend=5000,
                  gift_product_id=gift.id, valid_days=None, valid_from=NOW,
                  valid_to=NOW + timedelta(days=7)),
    ]  # fmt: skip
    assert [t.kind for t in made] == ["threshold", "percent", "voucher", "gift"]
    assert made[2].scope_ids == [category.id]  # duplicates dropped
    logged = session.scalars(
        select(AuditEntry.entity_id).where(AuditEntry.action == "coupon_template.create")
    ).all()
    assert sorted(str(e) for e in logged) == sorted(str(t.id) for t in made)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"min_spend": 0}, "coupon.value_invalid"),  # 满减 needs a threshold
        ({"value": 10001, "min_spend": 10000}, "coupon.value_invalid"),  # more off than spent
        ({"value": 0}, "coupon.value_invalid"),
        ({"kind": "percent", "value": 10000}, "coupon.value_invalid"),
        ({"kind": "percent", "value": 0}, "coupon.value_invalid"),
        ({"kind": "voucher", "value": 0}, "coupon.value_invalid"),
        ({"kind": "gift", "value": 0}, "coupon.gift_invalid"),  # no gift product
        ({"kind": "voucher", "gift_product_id": 1}, "coupon.gift_invalid"),
        ({"name": "   "}, "coupon.name_invalid"),
        ({"scope": "all", "scope_ids": [1]}, "coupon.scope_invalid"),
        ({"scope": "products"}, "coupon.scope_invalid"),
        ({"scope": "categories", "scope_ids": [2_000_000_000]}, "coupon.scope_unknown"),
        ({"scope": "products", "scope_ids": [2_000_000_000]}, "coupon.scope_unknown"),
        ({"valid_days": None}, "coupon.validity_invalid"),
        ({"valid_from": NOW, "valid_to": NOW + timedelta(days=1)}, "coupon.validity_invalid"),
        ({"valid_days": None, "valid_from": NOW, "valid_to": NOW}, "coupon.validity_invalid"),
        ({"valid_days": None, "valid_to": NOW}, "coupon.validity_invalid"),
        # Past year 2999 (here 10000-01-01 in UTC) or before 1970, a date is a typo.
        ({"valid_days": None, "valid_from": NOW, "valid_to": FAR}, "coupon.validity_invalid"),
        ({"valid_days": None, "valid_from": EARLY, "valid_to": NOW}, "coupon.validity_invalid"),
    ],
)
def test_bad_templates_are_refused_and_nothing_is_written(
    session: Session, fields: dict[str, Any], code: str
) -> None:
    actor = _admin(session)
    assert _code_of(lambda: _template(session, actor, **fields)) == code
    assert session.scalar(select(func.count()).select_from(CouponTemplate)) == 0


def test_a_gift_must_be_a_product_on_sale(session: Session) -> None:
    actor = _admin(session)
    retired = factories.make_product(session)
    retired.active = False
    session.flush()
    gift = {"kind": "gift", "value": 0, "gift_product_id": retired.id}
    assert _code_of(lambda: _template(session, actor, **gift)) == "coupon.gift_product_unknown"


def test_a_gift_is_an_item_sold_by_the_piece(session: Session) -> None:
    actor = _admin(session)
    weighed = factories.make_product(session, weighed=True, price=3000)
    gift = {"kind": "gift", "value": 0, "gift_product_id": weighed.id}
    # A weighed line is one line at any weight: the coupon would give away the whole of it.
    assert _code_of(lambda: _template(session, actor, **gift)) == "coupon.gift_weighed"
    by_the_piece = _template(session, actor, name="送购物袋", **gift | {"gift_product_id": factories.make_product(session).id})  # fmt: skip
    changed = CouponTemplateIn(name="送苹果", kind="gift", value=0, min_spend=10000, valid_days=30, gift_product_id=weighed.id)  # fmt: skip

    def update() -> None:
        coupon_templates.update_template(
            session, template_id=by_the_piece.id, data=changed, actor=actor
        )

    assert _code_of(update) == "coupon.gift_weighed"
    assert session.scalar(select(func.count()).select_from(CouponTemplate)) == 1


def test_a_window_may_run_from_1970_to_the_end_of_2999(session: Session) -> None:
    actor = _admin(session)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    end = datetime(2999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=8)))
    made = _template(session, actor, valid_days=None, valid_from=start, valid_to=end)
    assert made.valid_to is not None and made.valid_to.year == 2999


def test_terms_are_fixed_once_a_coupon_was_issued(session: Session) -> None:
    actor = _admin(session)
    template = _template(session, actor)
    data = CouponTemplateIn(name="满100减30", kind="threshold", value=3000, min_spend=10000,
                            valid_days=30)  # fmt: skip
    coupon_templates.update_template(session, template_id=template.id, data=data, actor=actor)
    assert template.value == 3000  # nothing issued yet: the terms may change
    coupons.issue(session, template_id=template.id, actor=actor, at=NOW,
                  member_ids=[_member(session, actor).id])  # fmt: skip
    worse = data.model_copy(update={"value": 1000})
    call = lambda: coupon_templates.update_template(  # noqa: E731
        session, template_id=template.id, data=worse, actor=actor
    )
    assert _code_of(call) == "coupon.template_in_use"
    renamed = data.model_copy(update={"name": "夏季满减", "active": False, "valid_days": 7})
    coupon_templates.update_template(session, template_id=template.id, data=renamed, actor=actor)
    assert (template.name, template.active, template.valid_days) == ("夏季满减", False, 7)
    audited = select(AuditEntry).where(AuditEntry.action == "coupon_template.update")
    last = session.scalars(audited.order_by(AuditEntry.id.desc())).first()
    assert last is not None and last.after == {"name": "夏季满减", "active": False, "valid_days": 7}


# --- issuing --------------------------------------------------------------------------------


def test_issuing_to_one_member_makes_unique_codes_valid_from_issue(session: Session) -> None:
    actor = _admin(session)
    template = _template(session, actor, valid_days=10)
    member = _member(session, actor)
    result = coupons.issue(
        session, template_id=template.id, actor=actor, at=NOW, member_ids=[member.id], count=3
    )
    assert (result.issued, result.members, result.skipped) == (3, 1, 0)
    held = coupons.member_coupons(session, member_id=member.id, at=NOW)
    assert len({c.code for c in held}) == 3 and all(CODE.fullmatch(c.code) for c in held)
    assert all(c.valid_from == NOW and c.valid_to == NOW + timedelta(days=10) for c in held)
    assert all(c.usable and c.status == "issued" and c.source == "manual" for c in held)


def test_a_window_template_gives_its_own_window_and_refuses_once_ended(session: Session) -> None:
    actor = _admin(session)
    start, end = NOW + timedelta(days=3), NOW + timedelta(days=10)
    template = _template(session, actor, valid_days=None, valid_from=start, valid_to=end)
    member = _member(session, actor)
    coupons.issue(session, template_id=template.id, actor=actor, at=NOW, member_ids=[member.id])
    [coupon] = coupons.member_coupons(session, member_id=member.id, at=NOW)
    assert (coupon.valid_from, coupon.valid_to, coupon.usable) == (start, end, False)
    late = lambda: coupons.issue(  # noqa: E731
        session, template_id=template.id, actor=actor, at=end, member_ids=[member.id]
    )
    assert _code_of(late) == "coupon.template_expired"


def test_the_per_member_limit_skips_members_who_reached_it(session: Session) -> None:
    actor = _admin(session)
    template = _template(session, actor, per_member_limit=2)
    first, second = _member(session, actor), _member(session, actor)
    coupons.issue(session, template_id=template.id, actor=actor, at=NOW,
                  member_ids=[first.id], count=2)  # fmt: skip
    result = coupons.issue(
        session, template_id=template.id, actor=actor, at=NOW, member_ids=[first.id, second.id]
    )
    assert (result.issued, result.members, result.skipped) == (1, 1, 1)
    assert _count(session, Coupon.member_id == first.id) == 2
    again = coupons.issue(session, template_id=template.id, actor=actor, at=NOW,
                          member_ids=[second.id], count=2)  # fmt: skip
    assert (again.issued, again.skipped) == (0, 1)  # 1 held + 2 would pass the limit of 2
    # A voided coupon no longer counts against the limit.
    [held] = coupons.member_coupons(session, member_id=second.id, at=NOW)
    coupons.void(session, code=held.code, reason="发错了", actor=actor, at=NOW)
    after_void = coupons.issue(session, template_id=template.id, actor=actor, at=NOW,
                               member_ids=[second.id], count=2)  # fmt: skip
    assert after_void.issued == 2


def test_unknown_or_inactive_members_refuse_the_whole_run(session: Session) -> None:
    actor = _admin(session)
    template = _template(session, actor)
    member = _member(session, actor)
    call = lambda: coupons.issue(  # noqa: E731
        session, template_id=template.id, actor=actor, at=NOW, member_ids=[member.id, 2_000_000]
    )
    assert _code_of(call) == "coupon.member_unknown"
    assert _count(session) == 0
    template.active = False
    session.flush()
    inactive = lambda: coupons.issue(  # noqa: E731
        session, template_id=template.id, actor=actor, at=NOW, member_ids=[member.id]
    )
    assert _code_of(inactive) == "coupon.template_inactive"
    both = lambda: coupons.issue(  # noqa: E731
        session, template_id=template.id, actor=actor, at=NOW, member_ids=[member.id],
        filters=MemberFilters(),
    )  # fmt: skip
    assert _code_of(both) == "coupon.target_invalid"


def test_bulk_issuing_by_tag_store_search_and_tier(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(coupons, "BATCH", 2)  # several rounds with a handful of members
    actor = _admin(session)
    north, south = factories.make_store(session), factories.make_store(session)
    vips = [_member(session, actor, store=north, tags=["VIP"]) for _ in range(3)]
    plain = [_member(session, actor, store=south) for _ in range(2)]
    erased = _member(session, actor, store=north, tags=["VIP"])
    erased.status = "erased"
    session.flush()
    tiers = session.scalars(select(Tier).order_by(Tier.rank)).all()
    ledger.ensure_account(session.connection(), member_id=vips[0].id, at=NOW)
    session.execute(
        update(MemberAccount)
        .where(MemberAccount.member_id == vips[0].id)
        .values(tier_id=tiers[2].id)
    )
    template = _template(session, actor)

    def issued_to(**filters: Any) -> set[int]:
        before = set(session.scalars(select(Coupon.id)))
        coupons.issue(session, template_id=template.id, actor=actor, at=NOW,
                      filters=MemberFilters(**filters), cipher=CIPHER)  # fmt: skip
        rows = session.scalars(select(Coupon).where(Coupon.id.not_in(before))).all()
        return {c.member_id for c in rows if c.member_id is not None}

    assert issued_to(tag="VIP") == {m.id for m in vips}  # the erased member gets nothing
    assert issued_to(store_id=south.id) == {m.id for m in plain}
    assert issued_to(tier_id=tiers[2].id) == {vips[0].id}
    # Members without an account yet are in the entry tier.
    assert issued_to(tier_id=tiers[0].id) == {m.id for m in vips[1:] + plain}
    assert issued_to(q="无此人") == set()  # a search matching nobody
    runs = session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "coupon.issue")
    )
    assert runs == 5  # one audit entry per run, however many coupons


def test_bulk_search_and_store_bound_staff(session: Session) -> None:
    actor = _admin(session)
    north, south = factories.make_store(session), factories.make_store(session)
    here = _member(session, actor, store=north)
    there = _member(session, actor, store=south)
    mobile = members.summary(there, CIPHER).mobile_masked
    assert mobile is not None
    template = _template(session, actor)
    coupons.issue(session, template_id=template.id, actor=actor, at=NOW,
                  filters=MemberFilters(q=mobile[-4:]), cipher=CIPHER)  # fmt: skip
    assert _count(session, Coupon.member_id == there.id) == 1
    logged = session.scalars(select(AuditEntry).where(AuditEntry.action == "coupon.issue")).one()
    assert logged.after is not None and logged.after["searched"] is True
    assert mobile[-4:] not in str(logged.after)  # what was searched for stays out of the log
    manager = factories.principal_of(
        factories.make_user(session, role="store_manager", store=north)
    )
    result = coupons.issue(session, template_id=template.id, actor=manager, at=NOW,
                           filters=MemberFilters())  # fmt: skip
    assert result.members == 1 and _count(session, Coupon.member_id == here.id) == 1
    asked_other = lambda: coupons.issue(  # noqa: E731
        session, template_id=template.id, actor=manager, at=NOW,
        filters=MemberFilters(store_id=south.id),
    )  # fmt: skip
    assert _code_of(asked_other) == "store.forbidden"


def test_rules_issue_one_coupon_per_matching_template(session: Session) -> None:
    actor = _admin(session)
    welcome = _template(
        session, actor, name="新人券", auto_issue="registration", per_member_limit=1
    )
    _template(session, actor, name="升级券", auto_issue="tier_upgrade")
    retired = _template(session, actor, name="旧新人券", auto_issue="registration")
    retired.active = False
    ended = _template(session, actor, name="过期新人券", auto_issue="registration",
                      valid_days=None, valid_from=NOW - timedelta(days=9),
                      valid_to=NOW - timedelta(days=1))  # fmt: skip
    session.flush()
    member = _member(session, actor)  # registration issues the welcome coupon itself
    made = list(session.scalars(select(Coupon).where(Coupon.member_id == member.id)))
    assert [(c.template_id, c.source, c.member_id) for c in made] == [
        (welcome.id, "registration", member.id)
    ]
    assert ended.id not in {c.template_id for c in made}
    again = coupons.issue_on_event(
        session, member_id=member.id, event="registration", user_id=None, at=NOW
    )
    assert again == []  # the welcome coupon's limit of one is reached
    with pytest.raises(ValueError):
        coupons.issue_on_event(session, member_id=member.id, event="birthday", user_id=None, at=NOW)


def test_a_taken_code_is_drawn_again(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    actor = _admin(session)
    template = _template(session, actor)
    first, second = _member(session, actor), _member(session, actor)
    coupons.issue(session, template_id=template.id, actor=actor, at=NOW, member_ids=[first.id])
    taken = session.scalars(select(Coupon.code)).one()
    draws = iter([taken, "CP0000000001"])
    monkeypatch.setattr(coupons, "new_code", lambda: next(draws))
    coupons.issue(session, template_id=template.id, actor=actor, at=NOW, member_ids=[second.id])
    assert session.scalars(select(Coupon.code).where(Coupon.member_id == second.id)).one() == (
        "CP0000000001"
    )


# --- reading and voiding --------------------------------------------------------------------


def test_reading_by_code_and_what_is_usable(session: Session) -> None:
    actor = _admin(session)
    template = _template(session, actor, valid_days=5)
    member = _member(session, actor)
    coupons.issue(session, template_id=template.id, actor=actor, at=NOW, member_ids=[member.id])
    [held] = coupons.member_coupons(session, member_id=member.id, at=NOW)
    scanned = coupons.get_by_code(session, code=f" {held.code.lower()} ", at=NOW)
    assert scanned.code == held.code and scanned.usable
    assert (scanned.kind, scanned.value, scanned.min_spend) == ("threshold", 2000, 10000)
    assert not coupons.get_by_code(session, code=held.code, at=NOW + timedelta(days=5)).usable
    template.active = False
    session.flush()
    assert not coupons.get_by_code(session, code=held.code, at=NOW).usable
    missing = lambda: coupons.get_by_code(session, code="CP0000000000", at=NOW)  # noqa: E731
    assert _code_of(missing) == "coupon.not_found"
    page, total = coupons.template_coupons(session, template_id=template.id, at=NOW, limit=10)
    assert total == 1 and [c.code for c in page] == [held.code]


def test_only_an_issued_coupon_can_be_voided(session: Session) -> None:
    actor = _admin(session)
    template = _template(session, actor)
    member = _member(session, actor)
    coupons.issue(session, template_id=template.id, actor=actor, at=NOW,
                  member_ids=[member.id], count=2)  # fmt: skip
    first, second = (c.code for c in coupons.member_coupons(session, member_id=member.id, at=NOW))
    blank = lambda: coupons.void(session, code=first, reason=" ", actor=actor, at=NOW)  # noqa: E731
    assert _code_of(blank) == "coupon.reason_required"
    voided = coupons.void(session, code=first, reason="顾客投诉补偿发重", actor=actor, at=NOW)
    assert voided.status == "void" and not voided.usable
    assert coupons.get_by_code(session, code=first, at=NOW).status == "void"
    twice = lambda: coupons.void(session, code=first, reason="x", actor=actor, at=NOW)  # noqa: E731
    assert _code_of(twice) == "coupon.not_voidable"
    # Redeemed at a till (checkout's conditional update): no longer voidable.
    session.execute(
        update(Coupon).where(Coupon.code == second, Coupon.status == "issued")
        .values(status="redeemed", redeemed_at=NOW)
    )  # fmt: skip
    late = lambda: coupons.void(session, code=second, reason="x", actor=actor, at=NOW)  # noqa: E731
    assert _code_of(late) == "coupon.not_voidable"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "coupon.void")).one()
    assert entry.entity_id == first and entry.after == {
        "status": "void",
        "reason": "顾客投诉补偿发重",
    }
