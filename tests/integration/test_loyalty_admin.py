"""Loyalty set-up services: the tier ladder, promotion validation, settings, and that the
checkout's cached snapshot sees every change at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.customers.models import Member
from shouyin.db import Database
from shouyin.errors import DomainError
from shouyin.loyalty import admin, catalogue, promotions
from shouyin.loyalty.admin_schemas import (
    LoyaltySettingsIn,
    PromotionCreate,
    PromotionUpdate,
    TierCreate,
    TierUpdate,
)
from shouyin.loyalty.models import MemberAccount, Tier
from tests import factories

NOW = datetime.now(UTC)
FAR = datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=5)))  # 10000-01-01 in UTC
EARLY = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=8)))  # year 0 in UTC


def tier_by_code(session: Session, code: str) -> Tier:
    return session.scalars(select(Tier).where(Tier.code == code)).one()


def new_tier(**overrides: Any) -> TierCreate:
    values: dict[str, Any] = {"code": "platinum", "name": "白金", "rank": 4, "threshold": 5_000_000}
    return TierCreate(**(values | overrides))


def new_promotion(**overrides: Any) -> PromotionCreate:
    values: dict[str, Any] = {"name": "第二件半价", "kind": "nth_discount",
                              "params": {"n": 2, "percent_off": 5000}}  # fmt: skip
    return PromotionCreate(**(values | overrides))


def give_member_tier(session: Session, tier: Tier) -> None:
    n = factories.next_id()
    member = Member(card_enc="x", card_idx=f"card{n}", name_enc="x", name_idx=f"name{n}",
                    initials_idx=f"ini{n}")  # fmt: skip
    session.add(member)
    session.flush()
    session.add(MemberAccount(member_id=member.id, tier_id=tier.id))
    session.flush()


def fails(code: str, call: Any, *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.message
    return caught.value


# --- tiers ----------------------------------------------------------------------------------


def test_seeded_tiers_form_a_ladder_and_a_new_top_tier_joins_it(session: Session) -> None:
    assert [t.rank for t in admin.list_tiers(session)] == [0, 1, 2, 3]
    created = admin.create_tier(session, data=new_tier(discount_bp=2500), actor=None)
    assert [t.code for t in admin.list_tiers(session)][-1] == "platinum"
    assert created.discount_bp == 2500 and created.points_multiplier == 100


def test_higher_rank_needs_a_strictly_higher_threshold(session: Session) -> None:
    gold = tier_by_code(session, "gold")
    fails("tier.order_invalid", admin.create_tier, session, data=new_tier(threshold=gold.threshold),
          actor=None)  # fmt: skip
    silver = tier_by_code(session, "silver")
    fails("tier.order_invalid", admin.update_tier, session, tier_id=silver.id,
          data=TierUpdate(threshold=gold.threshold + 1), actor=None)  # fmt: skip
    # An inactive tier is off the ladder: its threshold does not matter.
    admin.create_tier(session, data=new_tier(threshold=1, active=False), actor=None)


def test_there_is_exactly_one_entry_tier_at_rank_0_threshold_0(session: Session) -> None:
    regular = tier_by_code(session, "regular")
    fails("tier.entry_invalid", admin.update_tier, session, tier_id=regular.id,
          data=TierUpdate(threshold=100), actor=None)  # fmt: skip
    fails("tier.entry_invalid", admin.update_tier, session, tier_id=regular.id,
          data=TierUpdate(active=False), actor=None)  # fmt: skip
    fails("tier.entry_invalid", admin.update_tier, session, tier_id=regular.id,
          data=TierUpdate(rank=9), actor=None)  # fmt: skip
    assert tier_by_code(session, "regular").threshold == 0


def test_codes_and_ranks_are_unique(session: Session) -> None:
    error = fails("tier.code_exists", admin.create_tier, session, data=new_tier(code="gold"),
                  actor=None)  # fmt: skip
    assert error.status == 409
    error = fails("tier.rank_exists", admin.create_tier, session, data=new_tier(rank=3),
                  actor=None)  # fmt: skip
    assert error.status == 409


def test_a_tier_held_by_members_cannot_be_switched_off(session: Session) -> None:
    diamond = tier_by_code(session, "diamond")
    give_member_tier(session, diamond)
    error = fails("tier.in_use", admin.update_tier, session, tier_id=diamond.id,
                  data=TierUpdate(active=False), actor=None)  # fmt: skip
    assert error.status == 409 and error.details == {"members": 1}
    gold = tier_by_code(session, "gold")
    admin.update_tier(session, tier_id=gold.id, data=TierUpdate(active=False), actor=None)
    assert tier_by_code(session, "gold").active is False


def test_tier_scope_ids_must_exist(session: Session) -> None:
    category = factories.make_category(session)
    fails("tier.scope_invalid", admin.create_tier, session,
          data=new_tier(scope="categories", scope_ids=[category.id + 1000]), actor=None)  # fmt: skip
    fails("tier.scope_invalid", admin.create_tier, session, data=new_tier(scope="products"),
          actor=None)  # fmt: skip
    fails("tier.scope_invalid", admin.create_tier, session,
          data=new_tier(scope_ids=[category.id]), actor=None)  # fmt: skip
    made = admin.create_tier(session, data=new_tier(scope="categories",
                             scope_ids=[category.id, category.id]), actor=None)  # fmt: skip
    assert made.scope_ids == [category.id]


def test_tier_changes_are_audited_and_reach_checkout_at_once(session: Session) -> None:
    silver = tier_by_code(session, "silver")
    assert catalogue.current(session).tier(silver.id) is not None  # warm the cache
    admin.update_tier(session, tier_id=silver.id, data=TierUpdate(discount_bp=1500), actor=None)
    cached = catalogue.current(session).tier(silver.id)
    assert cached is not None and cached.discount_bp == 1500
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "tier.update").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None and entry.before == {"discount_bp": 1000}
    assert entry.after == {"discount_bp": 1500}


# --- promotions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("special_price", {"price": 990}),
        ("special_price", {"price": 0}),
        ("nth_discount", {"n": 2, "percent_off": 5000}),
        ("nth_discount", {"n": 1, "percent_off": 2000}),
        ("buy_x_get_y", {"buy": 2, "get": 1}),
        ("order_threshold", {"tiers": [[20000, 3000], [10000, 1000]]}),
    ],
)
def test_every_kind_offers_understands_is_accepted(
    session: Session, kind: str, params: dict[str, Any]
) -> None:
    made = promotions.create_promotion(session, data=new_promotion(kind=kind, params=params),
                                       actor=None)  # fmt: skip
    if kind == "order_threshold":
        assert made.params == {"tiers": [[10000, 1000], [20000, 3000]]}  # kept in order
    else:
        assert made.params == params


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("special_price", {}),
        ("special_price", {"price": -1}),
        ("special_price", {"price": 9.9}),
        ("special_price", {"price": "990"}),
        ("special_price", {"price": True}),
        ("special_price", {"price": 990, "extra": 1}),
        ("nth_discount", {"n": 0, "percent_off": 5000}),
        ("nth_discount", {"n": 2, "percent_off": 10001}),
        ("nth_discount", {"n": 2}),
        ("buy_x_get_y", {"buy": 2, "get": 0}),
        ("buy_x_get_y", {"buy": 101, "get": 1}),
        ("order_threshold", {"tiers": []}),
        ("order_threshold", {"tiers": [[10000]]}),
        ("order_threshold", {"tiers": [[10000, 10001]]}),
        ("order_threshold", {"tiers": [[10000, 1000], [10000, 2000]]}),
        ("order_threshold", {"tiers": [[10000, 2000], [20000, 2000]]}),
        ("order_threshold", {"tiers": "满100减10"}),
    ],
)
def test_bad_params_are_refused_with_a_reason(
    session: Session, kind: str, params: dict[str, Any]
) -> None:
    error = fails("promotion.params_invalid", promotions.create_promotion, session,
                  data=new_promotion(kind=kind, params=params), actor=None)  # fmt: skip
    assert error.status == 422 and error.message


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"weekdays": [0]}, "promotion.weekdays_invalid"),
        ({"weekdays": [1, 8]}, "promotion.weekdays_invalid"),
        ({"start_minute": 600}, "promotion.time_invalid"),
        ({"start_minute": 600, "end_minute": 600}, "promotion.time_invalid"),
        ({"start_minute": -1, "end_minute": 600}, "promotion.time_invalid"),
        ({"start_minute": 600, "end_minute": 1441}, "promotion.time_invalid"),
        ({"valid_from": NOW, "valid_to": NOW}, "promotion.dates_invalid"),
        ({"valid_to": FAR}, "promotion.dates_invalid"),
        ({"valid_from": EARLY}, "promotion.dates_invalid"),
        ({"valid_from": datetime(1969, 12, 31, tzinfo=UTC)}, "promotion.dates_invalid"),
        ({"valid_to": datetime(3000, 1, 1, tzinfo=UTC)}, "promotion.dates_invalid"),
        ({"priority": 1001}, "promotion.priority_invalid"),
        ({"store_ids": [2**31 - 1]}, "promotion.stores_invalid"),
        ({"tier_ids": [2**31 - 1]}, "promotion.tiers_invalid"),
        ({"scope": "products", "scope_ids": [2**31 - 1]}, "promotion.scope_invalid"),
    ],
)
def test_bad_windows_and_ids_are_refused(
    session: Session, fields: dict[str, Any], code: str
) -> None:
    fails(code, promotions.create_promotion, session, data=new_promotion(**fields), actor=None)


def test_a_full_window_is_kept_as_given(session: Session) -> None:
    store = factories.make_store(session)
    product = factories.make_product(session)
    gold = tier_by_code(session, "gold")
    made = promotions.create_promotion(session, data=new_promotion(
        scope="products", scope_ids=[product.id], store_ids=[store.id], tier_ids=[gold.id],
        weekdays=[6, 7, 6], start_minute=0, end_minute=1440, member_only=True, priority=-1000,
        valid_from=NOW, valid_to=NOW + timedelta(days=7),
    ), actor=None)  # fmt: skip
    assert made.weekdays == [6, 7] and made.store_ids == [store.id]
    assert promotions.status_of(made, NOW) == "active"


def test_a_window_may_run_from_1970_to_the_end_of_2999(session: Session) -> None:
    start = datetime(1970, 1, 1, tzinfo=UTC)
    end = datetime(2999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=5)))  # 3000 in UTC
    made = promotions.create_promotion(
        session, data=new_promotion(valid_from=start, valid_to=end), actor=None
    )
    assert made.valid_to is not None and made.valid_to.year == 3000


def test_status_lists_active_upcoming_ended_and_inactive(session: Session) -> None:
    day = timedelta(days=1)
    made = {
        "active": new_promotion(name="now", valid_from=NOW - day, valid_to=NOW + day),
        "upcoming": new_promotion(name="soon", valid_from=NOW + day),
        "ended": new_promotion(name="past", valid_to=NOW - day),
        "inactive": new_promotion(name="off", active=False),
    }
    ids = {k: promotions.create_promotion(session, data=v, actor=None).id for k, v in made.items()}
    for status, promotion_id in ids.items():
        listed = promotions.list_promotions(session, status=status, now=NOW)
        assert promotion_id in [p.id for p in listed.items], status
        assert {p.status for p in listed.items} == {status}
    assert promotions.list_promotions(session, now=NOW).total >= 4


def test_update_checks_the_whole_promotion_and_writes_nothing_when_bad(session: Session) -> None:
    made = promotions.create_promotion(session, data=new_promotion(), actor=None)
    fails("promotion.params_invalid", promotions.update_promotion, session,
          promotion_id=made.id, data=PromotionUpdate(kind="buy_x_get_y"), actor=None)  # fmt: skip
    session.expire_all()
    assert promotions.get_promotion(session, promotion_id=made.id).kind == "nth_discount"
    changed = promotions.update_promotion(session, promotion_id=made.id, data=PromotionUpdate(
        kind="buy_x_get_y", params={"buy": 3, "get": 1}), actor=None)  # fmt: skip
    assert changed.params == {"buy": 3, "get": 1}


def test_promotion_changes_reach_checkout_at_once(session: Session) -> None:
    made = promotions.create_promotion(session, data=new_promotion(), actor=None)
    assert made.id in [p.offer.id for p in catalogue.current(session).promotions]
    promotions.update_promotion(session, promotion_id=made.id,
                                data=PromotionUpdate(priority=7), actor=None)  # fmt: skip
    cached = [p.offer for p in catalogue.current(session).promotions if p.offer.id == made.id]
    assert cached[0].priority == 7
    promotions.deactivate_promotion(session, promotion_id=made.id, actor=None)
    assert made.id not in [p.offer.id for p in catalogue.current(session).promotions]
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity == "promotion",
                                        AuditEntry.entity_id == str(made.id))
        .order_by(AuditEntry.id)  # without it PostgreSQL may return them in any order
    ).all()  # fmt: skip
    assert actions == ["promotion.create", "promotion.update", "promotion.update"]


# --- settings -------------------------------------------------------------------------------


def test_settings_change_only_what_is_given_and_are_audited(session: Session) -> None:
    assert catalogue.current(session).settings.redeem_cap_percent == 50
    changed = admin.update_settings(
        session, data=LoyaltySettingsIn(redeem_cap_percent=30, promotion_conflict="priority"),
        actor=None,
    )  # fmt: skip
    assert changed.redeem_cap_percent == 30 and changed.earn_fen_per_point == 1000
    admin.update_settings(session, data=LoyaltySettingsIn(points_expiry="never"), actor=None)
    cached = catalogue.current(session).settings
    assert (cached.redeem_cap_percent, cached.points_expiry) == (30, "never")
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "loyalty.settings_update")
        .order_by(AuditEntry.id)
    ).first()  # fmt: skip
    assert entry is not None
    assert entry.before == {"redeem_cap_percent": 50, "promotion_conflict": "best"}
    assert entry.after == {"redeem_cap_percent": 30, "promotion_conflict": "priority"}


def test_a_sale_reading_the_rules_mid_change_does_not_keep_the_old_ones(
    database: Database,
) -> None:
    with database.write() as session:
        silver_id = tier_by_code(session, "silver").id
        admin.update_tier(session, tier_id=silver_id, data=TierUpdate(discount_bp=1500), actor=None)
        with database.read() as other:  # another request, before our commit
            stale = catalogue.current(other).tier(silver_id)
            assert stale is not None and stale.discount_bp == 1000
    with database.read() as session:
        fresh = catalogue.current(session).tier(silver_id)
        assert fresh is not None and fresh.discount_bp == 1500
