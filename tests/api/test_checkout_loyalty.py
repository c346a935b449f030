"""Selling to a member: tier discount, promotions, coupons, points and stored value at once,
and every way a client could try to get more than the rules give."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from shouyin.loyalty.models import Coupon, LedgerEntry, MemberAccount, PointsLot, TierChange
from shouyin.sales.models import Order
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        shop = factories.gold_member_shop(session)
        factories.make_promotion(
            session, kind="nth_discount", params={"n": 2, "percent_off": 5000},
            scope="products", scope_ids=[shop["tea"].id], name="第二件半价",
        )  # fmt: skip
        factories.make_promotion(
            session, kind="order_threshold", params={"tiers": [[10000, 1000]]}, name="满100减10"
        )
        return shop

    shop: dict[str, Any] = harness.write(build)
    shop["cashier"] = harness.user("cashier", shop["store"])
    return shop


def _sale(shop: dict[str, Any], payments: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    body = {
        "client_uuid": str(uuid.uuid4()), "store_id": shop["store"].id,
        "register_id": shop["register"].id, "member_id": shop["gold"].id,
        "lines": [{"product_id": shop["bag"].id, "quantity": 1},
                  {"product_id": shop["tea"].id, "quantity": 2}],
        "payments": payments,
    }  # fmt: skip
    body.update(extra)
    return body


@BOTH
def test_gold_member_sale_applies_every_offer_in_price_order(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    body = _sale(
        shop, [{"method": "stored_value", "amount": 5000}, {"method": "cash", "amount": 2500}],
        coupon_codes=[shop["coupon"].code], points=200,
    )  # fmt: skip
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 201, response.text
    order = response.json()
    steps = [(s["kind"], s["amount"], s["label"]) for s in order["steps"]]
    # 140.00 list; tea 2nd half price -10.00 (beats gold's 20% on tea: -8.00); gold 20% on the
    # bag only -20.00 (promoted items get no tier discount); 满100减10 -10.00; coupon -5.00;
    # 200 points -20.00 -> 75.00.
    assert steps == [
        ("subtotal", 14000, ""),
        ("item_promotion", -1000, "第二件半价"),
        ("tier_discount", -2000, "金卡"),
        ("order_promotion", -1000, "满100减10"),
        ("coupon", -500, steps[4][2]),
        ("points", -2000, ""),
        ("total", 7500, ""),
    ]
    assert sum(line["net"] for line in order["lines"]) == 7500
    assert order["coupon_codes"] == [shop["coupon"].code]
    loyalty = order["loyalty"]
    # Stored value pays principal first (30.00), then 20.00 of bonus; the bonus earns no
    # points: 75.00 - 20.00 = 55.00 -> 5 points x 1.5 (gold) = 7.
    assert loyalty["sv_principal_paid"] == 3000 and loyalty["sv_bonus_paid"] == 2000
    assert loyalty["points_earned"] == 7 and loyalty["points_redeemed"] == 200
    assert loyalty["points_balance"] == 1000 - 200 + 7
    assert loyalty["sv_balance"] == 1000
    assert loyalty["growth"] == 5500
    with harness.db.read() as session:
        account = session.get(MemberAccount, shop["gold"].id)
        assert account is not None
        assert (account.points, account.sv_principal, account.sv_bonus) == (807, 0, 1000)
        lots = sum(
            session.scalars(
                select(PointsLot.remaining).where(PointsLot.member_id == shop["gold"].id)
            )
        )
        assert lots == 807
        coupon = session.get(Coupon, shop["coupon"].id)
        assert coupon is not None and coupon.status == "redeemed" and coupon.order_id == order["id"]
    # The stored order reads back the same, and its receipt explains every discount.
    again = client.get(f"/api/v1/orders/{order['id']}").json()
    assert again["loyalty"] == loyalty
    receipt = client.get(f"/api/v1/orders/{order['id']}/receipt?paper=80").text
    for text in ("第二件半价", "金卡", "满100减10", "-￥20.00", "807", "￥10.00"):
        assert text in receipt, text


@BOTH
def test_a_sale_that_crosses_the_threshold_upgrades_the_member_at_once(
    harness: AppHarness,
) -> None:
    shop = _shop(harness)

    def near_gold(session: Any) -> Any:
        member = factories.make_member(session)
        factories.fund(session, member, tier="silver")
        from shouyin.loyalty import ledger
        from shouyin.shared.clock import utcnow

        change = ledger.Change(kind="adjust", growth=495_000, reason="history")
        ledger.post(session.connection(), member_id=member.id, change=change, at=utcnow())
        return member

    member = harness.write(near_gold)
    client = harness.client(shop["cashier"])
    body = _sale(shop, [{"method": "cash", "amount": 20000}], member_id=member.id)
    order = client.post("/api/v1/orders", json=body).json()
    assert order["loyalty"]["upgraded_to"] == "金卡"
    with harness.db.read() as session:
        account = session.get(MemberAccount, member.id)
        assert account is not None and account.tier_id == factories.tier_id(session, "gold")
        change = session.scalars(select(TierChange).where(TierChange.member_id == member.id)).one()
        assert (change.reason, change.order_id) == ("upgrade", order["id"])


def _refused(client: Any, body: dict[str, Any], code: str, status: int = 422) -> None:
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


@BOTH
def test_abuse_is_refused_and_leaves_nothing_behind(harness: AppHarness) -> None:
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    cash = [{"method": "cash", "amount": 20000}]
    code = shop["coupon"].code
    _refused(client, _sale(shop, cash, points=1001), "points.insufficient")
    _refused(client, _sale(shop, cash, points=600), "points.over_cap")
    card = {"method": "card", "amount": 5000, "reference": "T5000"}
    _refused(client, _sale(shop, [{"method": "stored_value", "amount": 6000}, card]),
             "payment.overpaid_noncash")  # fmt: skip
    _refused(client, _sale(shop, [{"method": "stored_value", "amount": 6001}, *cash]),
             "stored_value.insufficient")  # fmt: skip
    _refused(client, _sale(shop, cash, member_id=None, points=10), "points.member_required")
    _refused(client, _sale(shop, [{"method": "stored_value", "amount": 100}, *cash],
                           member_id=None), "stored_value.member_required")  # fmt: skip
    _refused(client, _sale(shop, cash, coupon_codes=["CPNOSUCHCODE"]), "coupon.not_found")
    _refused(client, _sale(shop, cash, coupon_codes=[code, code]), "coupon.duplicate")
    _refused(client, _sale(shop, [{"method": "cash", "amount": -5}]), "payment.amount_invalid")
    # A client that sends its own figures is refused outright: the server computes them.
    _refused(client, _sale(shop, cash, points_value=5000), "request.invalid")
    _refused(client, _sale(shop, cash, discount_total=5000), "request.invalid")
    with harness.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 0
        assert (
            session.scalar(
                select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "sale")
            )
            == 0
        )
    # A coupon is used once; the second sale is told so.
    assert (
        client.post("/api/v1/orders", json=_sale(shop, cash, coupon_codes=[code])).status_code
        == 201
    )
    _refused(client, _sale(shop, cash, coupon_codes=[code]), "coupon.used")


@BOTH
def test_another_members_coupon_and_an_expired_one_are_refused(harness: AppHarness) -> None:
    shop = _shop(harness)

    def coupons(session: Any) -> tuple[str, str]:
        other = factories.make_member(session)
        theirs = factories.make_coupon(session, member=other)
        expired = factories.make_coupon(session, member=shop["gold"])
        from datetime import timedelta

        from shouyin.shared.clock import utcnow

        row = session.get(Coupon, expired.id)
        row.valid_to = utcnow() - timedelta(seconds=1)
        session.flush()
        return theirs.code, expired.code

    theirs, expired = harness.write(coupons)
    client = harness.client(shop["cashier"])
    cash = [{"method": "cash", "amount": 20000}]
    _refused(client, _sale(shop, cash, coupon_codes=[theirs]), "coupon.other_member")
    _refused(client, _sale(shop, cash, coupon_codes=[expired]), "coupon.expired")


@BOTH
def test_the_till_is_shown_the_best_combination_without_it_being_applied(
    harness: AppHarness,
) -> None:
    shop = _shop(harness)

    def more_coupons(session: Any) -> tuple[str, str]:
        big = factories.make_coupon(session, member=shop["gold"], kind="threshold", value=2000,
                                    min_spend=20000)  # fmt: skip
        pct = factories.make_coupon(session, member=shop["gold"], kind="percent", value=1000)
        return big.code, pct.code

    big, pct = harness.write(more_coupons)
    client = harness.client(shop["cashier"])
    body = _sale(shop, [])
    for key in ("client_uuid", "register_id", "payments"):
        body.pop(key)
    response = client.post("/api/v1/orders/options", json=body)
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["total_without"] == 10000
    by_code = {c["code"]: c for c in found["coupons"]}
    assert by_code[big]["usable"] is False and by_code[big]["problem"] == "coupon.below_minimum"
    assert by_code[pct]["saving"] == 1000 and by_code[shop["coupon"].code]["saving"] == 500
    best = found["recommendation"]
    assert best["coupon_codes"] == [pct]
    # 90.00 left; points may pay half: 45.00 = 450 points, but the member holds 1,000.
    assert best["points"] == 450 and best["total"] == 4500
    assert best["stored_value"] == 4500 and best["rest"] == 0
    with harness.db.read() as session:  # nothing was applied
        assert session.get(Coupon, shop["coupon"].id).status == "issued"  # type: ignore[union-attr]
        assert session.get(MemberAccount, shop["gold"].id).points == 1000  # type: ignore[union-attr]


@BOTH
def test_welcome_and_upgrade_coupons_are_issued_by_their_rules(harness: AppHarness) -> None:
    from shouyin.loyalty.models import CouponTemplate

    def templates(session: Any) -> None:
        for name, event in (("新人券", "registration"), ("升级礼券", "tier_upgrade")):
            session.add(CouponTemplate(name=name, kind="voucher", value=500, valid_days=30,
                                       per_member_limit=1, auto_issue=event))  # fmt: skip

    harness.write(templates)
    shop = _shop(harness)
    client = harness.client(shop["cashier"])
    created = client.post(
        "/api/v1/members", json={"mobile": "13912345678", "name": "李四", "consent": True}
    )
    assert created.status_code == 201, created.text
    member_id = created.json()["id"]

    def names(session: Any) -> list[str]:
        query = (
            select(CouponTemplate.name)
            .join(Coupon, Coupon.template_id == CouponTemplate.id)
            .where(Coupon.member_id == member_id)
            .order_by(Coupon.id)
        )
        return list(session.scalars(query))

    with harness.db.read() as session:
        assert names(session) == ["新人券"]
    # ¥2,500 of shopping crosses the silver threshold (¥2,000): the upgrade coupon follows.
    body = _sale(shop, [{"method": "cash", "amount": 300_000}], member_id=member_id)
    body["lines"] = [{"product_id": shop["bag"].id, "quantity": 25}]
    order = client.post("/api/v1/orders", json=body).json()
    assert order["loyalty"]["upgraded_to"] == "银卡"
    with harness.db.read() as session:
        assert names(session) == ["新人券", "升级礼券"]


@BOTH
def test_a_category_offer_covers_the_categories_under_it(harness: AppHarness) -> None:
    from shouyin.catalog.models import Category

    def build(session: Any) -> dict[str, Any]:
        drinks = Category(name=f"饮料{factories.next_id()}")
        session.add(drinks)
        session.flush()
        soda = Category(name=f"碳酸饮料{factories.next_id()}", parent_id=drinks.id)
        session.add(soda)
        session.flush()
        store = factories.make_store(session)
        cola = factories.make_product(session, price=300, category=soda, stock={store.id: 9})
        factories.make_promotion(
            session, kind="nth_discount", params={"n": 2, "percent_off": 5000},
            scope="categories", scope_ids=[drinks.id], name="饮料第二件半价",
        )  # fmt: skip
        return {"store": store, "cola": cola}

    shop = harness.write(build)
    client = harness.client(harness.user("cashier", shop["store"]))
    body = {"store_id": shop["store"].id, "lines": [{"product_id": shop["cola"].id, "quantity": 2}]}
    quote = client.post("/api/v1/orders/quote", json=body).json()
    assert quote["total"] == 450
    assert [s["label"] for s in quote["steps"] if s["kind"] == "item_promotion"] == [
        "饮料第二件半价"
    ]
