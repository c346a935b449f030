"""The loyalty set-up pages: the hub, tiers, promotions and settings, through form posts."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from shouyin.loyalty.models import Promotion, Tier
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
PAGES = [
    "/office/loyalty", "/office/loyalty/tiers", "/office/loyalty/promotions",
    "/office/loyalty/settings",
]  # fmt: skip


def tier(harness: AppHarness, code: str) -> Tier:
    found: Tier = harness.write(lambda s: s.scalars(select(Tier).where(Tier.code == code)).one())
    return found


def promotion_named(harness: AppHarness, name: str) -> Promotion:
    found: Promotion = harness.write(
        lambda s: s.scalars(select(Promotion).where(Promotion.name == name)).one()
    )
    return found


def promotion_form(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": "周末特价", "kind": "special_price", "price": "9.90",
                            "scope": "all", "priority": "0", "active": "1"}  # fmt: skip
    return base | fields


@BOTH
def test_marketer_sees_every_page_in_chinese_with_links_and_edit_buttons(
    harness: AppHarness,
) -> None:
    client = harness.client(harness.user("hq_marketer"))
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, (page, response.text[:300])
        assert "<h1" in response.text
    hub = client.get("/office/loyalty").text
    for href in ("/office/loyalty/tiers", "/office/loyalty/promotions", "/office/loyalty/coupons",
                 "/office/loyalty/stored-value", "/office/loyalty/liability",
                 "/office/loyalty/gifts", "/office/loyalty/settings"):  # fmt: skip
        assert f'href="{href}"' in hub
    assert "会员等级" in hub or "等级" in hub
    assert "新建等级" in client.get("/office/loyalty/tiers").text
    assert 'href="/office/loyalty/promotions/new"' in client.get("/office/loyalty/promotions").text
    client.cookies.set("lang", "en")
    for page in [*PAGES, "/office/loyalty/promotions/new", "/office/loyalty/tiers/1"]:
        assert client.get(page).status_code == 200, page
    assert "9 zhe" in client.get("/office/loyalty/tiers").text


def test_hub_counts_running_promotions_and_members_per_tier(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_marketer"))
    assert client.post("/office/loyalty/promotions/new", data=promotion_form()).status_code == 303
    hub = client.get("/office/loyalty").text
    assert '<div class="value" id="running">1</div>' in hub
    assert "金卡" in hub and 'id="members-per-tier"' in hub


def test_read_only_users_see_no_edit_buttons_and_cannot_post(harness: AppHarness) -> None:
    client = harness.client(harness.user("cashier"))
    gold = tier(harness, "gold")
    tiers_page = client.get("/office/loyalty/tiers")
    assert tiers_page.status_code == 200 and 'action="/office/loyalty/tiers"' not in tiers_page.text
    edit = client.get(f"/office/loyalty/tiers/{gold.id}").text
    assert '<fieldset class="plain" disabled>' in edit and 'type="submit"' not in edit
    assert "/promotions/new" not in client.get("/office/loyalty/promotions").text
    assert 'type="submit">' not in client.get("/office/loyalty/settings").text.split("<main")[1]
    posts = [
        client.post("/office/loyalty/tiers", data={"code": "x", "name": "x", "rank": "9"}),
        client.post(f"/office/loyalty/tiers/{gold.id}", data={"code": "gold", "zhe": "5"}),
        client.post("/office/loyalty/promotions/new", data=promotion_form()),
        client.post("/office/loyalty/settings", data={"redeem_cap_percent": "100"}),
    ]
    assert [r.status_code for r in posts] == [403] * len(posts)
    assert client.get("/office/loyalty/promotions/new").status_code == 403
    assert tier(harness, "gold").discount_bp == 2000


@BOTH
def test_tier_form_takes_zhe_yuan_and_a_category_scope(harness: AppHarness) -> None:
    category = harness.write(factories.make_category)
    client = harness.client(harness.user("hq_marketer"))
    created = client.post("/office/loyalty/tiers", data={
        "code": "platinum", "name": "白金", "rank": "4", "threshold": "50000", "zhe": "7.5",
        "multiplier": "300", "scope": "categories", "category_ids": [str(category.id)],
        "active": "1",
    })  # fmt: skip
    assert created.status_code == 303, created.text
    made = tier(harness, "platinum")
    assert (made.threshold, made.discount_bp, made.points_multiplier) == (5_000_000, 2500, 300)
    assert made.scope_ids == [category.id]
    page = client.get(f"/office/loyalty/tiers/{made.id}").text
    assert 'value="7.5"' in page and 'value="50000.00"' in page


def test_tier_form_errors_come_back_inline_with_the_typed_values(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_marketer"))
    silver = tier(harness, "silver")
    refused = client.post(f"/office/loyalty/tiers/{silver.id}", data={
        "code": "silver", "name": "银卡", "rank": "1", "threshold": "99999", "zhe": "9",
        "multiplier": "120", "scope": "all", "active": "1",
    })  # fmt: skip
    assert refused.status_code == 422
    assert 'data-code="tier.order_invalid"' in refused.text and 'value="99999"' in refused.text
    bad_zhe = client.post("/office/loyalty/tiers", data={
        "code": "x1", "name": "x", "rank": "7", "threshold": "90000", "zhe": "0.5",
        "multiplier": "100", "scope": "all", "active": "1",
    })  # fmt: skip
    assert 'data-code="tier.discount_invalid"' in bad_zhe.text
    odd = client.post("/office/loyalty/tiers", data={
        "code": "x2", "name": "x", "rank": "①", "multiplier": "²", "scope": "categories",
        "category_ids": ["①"],
    })  # fmt: skip
    assert odd.status_code == 422
    assert tier(harness, "silver").threshold == 200_000


@BOTH
def test_promotion_form_saves_kind_window_stores_tiers_and_product_codes(
    harness: AppHarness,
) -> None:
    def build(session: Session) -> tuple[int, int, str]:
        store = factories.make_store(session)
        product = factories.make_product(session, barcode="6900000000017")
        return store.id, product.id, product.sku

    store_id, product_id, sku = harness.write(build)
    gold = tier(harness, "gold")
    client = harness.client(harness.user("hq_marketer"))
    created = client.post("/office/loyalty/promotions/new", data=promotion_form(
        name="满减活动", kind="order_threshold", min_yuan=["100", "200", ""],
        off_yuan=["10", "30", ""], scope="products", product_codes=f"6900000000017\n{sku}",
        store_ids=[str(store_id)], tier_ids=[str(gold.id)], weekdays=["6", "7"],
        start_time="09:00", end_time="24:00", valid_from="2026-01-01T08:00",
        valid_to="2026-02-01T00:00", priority="-5",
    ))  # fmt: skip
    assert created.status_code == 303, created.text
    made = promotion_named(harness, "满减活动")
    assert made.params == {"tiers": [[10000, 1000], [20000, 3000]]}
    assert made.scope_ids == [product_id] and made.store_ids == [store_id]
    assert made.tier_ids == [gold.id] and made.weekdays == [6, 7] and made.priority == -5
    assert (made.start_minute, made.end_minute) == (540, 1440)
    assert made.valid_from is not None and made.valid_from.hour == 0  # 08:00 China time
    page = client.get(created.headers["location"]).text
    assert 'value="2026-01-01T08:00"' in page and sku in page and 'value="200.00"' in page


def test_promotion_form_refuses_bad_input_and_keeps_it(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_marketer"))
    cases = [
        (promotion_form(price=""), "money.invalid"),
        (promotion_form(kind="buy_x_get_y", buy="2", get="0"), "promotion.params_invalid"),
        (promotion_form(start_time="25:00", end_time="26:00"), "promotion.time_invalid"),
        (promotion_form(start_time="18:00", end_time="09:00"), "promotion.time_invalid"),
        (promotion_form(scope="products", product_codes="NOPE"), "scope.product_unknown"),
        (promotion_form(priority="x"), "promotion.priority_invalid"),
        (promotion_form(kind="nth_discount", n="①", percent_off="50"), "promotion.params_invalid"),
        (promotion_form(valid_from="tomorrow"), "promotion.dates_invalid"),
    ]
    for data, code in cases:
        response = client.post("/office/loyalty/promotions/new", data=data)
        assert response.status_code in (404, 422), (code, response.status_code)
        assert f'data-code="{code}"' in response.text, code
        assert 'value="周末特价"' in response.text
    assert "周末特价" not in client.get("/office/loyalty/promotions").text


def test_promotion_edit_and_switch_off(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_admin"))
    client.post("/office/loyalty/promotions/new", data=promotion_form(kind="nth_discount",
                n="2", percent_off="50"))  # fmt: skip
    made = promotion_named(harness, "周末特价")
    page = client.get(f"/office/loyalty/promotions/{made.id}").text
    assert 'value="50"' in page
    changed = client.post(f"/office/loyalty/promotions/{made.id}", data=promotion_form(
        kind="nth_discount", n="3", percent_off="12.5"))  # fmt: skip
    assert changed.status_code == 303
    assert promotion_named(harness, "周末特价").params == {"n": 3, "percent_off": 1250}
    off = client.post(f"/office/loyalty/promotions/{made.id}/deactivate")
    assert off.status_code == 303
    listed = client.get("/office/loyalty/promotions", params={"status": "inactive"}).text
    assert "周末特价" in listed and 'data-status="inactive"' in listed
    assert "周末特价" not in client.get("/office/loyalty/promotions?status=active").text


@BOTH
def test_settings_page_saves_yuan_and_choices(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_marketer"))
    form = {
        "earn_yuan": "5", "point_value": "0.05", "redeem_cap_percent": "30",
        "points_expiry": "days", "points_expiry_days": "180", "growth_window_days": "365",
        "tier_review_day": "15", "stored_value_cap": "2000", "stored_value_spend": "bonus_first",
        "promotion_conflict": "priority", "tier_on_promoted_items": "1",
    }  # fmt: skip
    saved = client.post("/office/loyalty/settings", data=form)
    assert saved.status_code == 303, saved.text
    rules = client.get("/api/v1/loyalty/settings").json()
    assert rules["earn_fen_per_point"] == 500 and rules["redeem_fen_per_point"] == 5
    assert rules["stored_value_cap"] == 200_000 and rules["tier_on_promoted_items"] is True
    assert (rules["points_expiry"], rules["points_expiry_days"]) == ("days", 180)
    page = client.get("/office/loyalty/settings").text
    assert 'value="2000.00"' in page and 'value="0.05"' in page
    refused = client.post("/office/loyalty/settings", data=form | {"tier_review_day": "31"})
    assert refused.status_code == 422 and 'value="31"' in refused.text
    assert client.get("/api/v1/loyalty/settings").json()["tier_review_day"] == 15


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "9999-12-31T23:00", "1969-12-31T23:59"])
def test_promotion_form_refuses_dates_out_of_range(typed: str) -> None:
    from shouyin.errors import ValidationFailed
    from shouyin.web.pages_promotions import parse_moment

    with pytest.raises(ValidationFailed) as refused:
        parse_moment(typed)
    assert refused.value.code == "promotion.dates_invalid"
