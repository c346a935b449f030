"""Loyalty at the till: a gold member's tier discount, promotions by name, a scanned coupon,
points redeemed, stored value as a tender; the recommendation, a recharge and an upgrade.
What the till shows is checked against the order, its receipt and the member's balances."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import NTH_PROMOTION, ORDER_PROMOTION, RECHARGE_RULE, Seed
from tests.e2e.test_till import inside_viewport, open_till, scan, scan_field, yuan
from tests.e2e.test_till_member import add_member

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand


def step(page: Page, kind: str) -> Locator:
    return page.locator(f'[data-testid="step"][data-kind="{kind}"]')


def attach(page: Page, mobile: str, name: str) -> None:
    page.keyboard.press("F5")
    expect(page.get_by_test_id("member-search")).to_be_focused()
    page.keyboard.type(mobile)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("member-panel")).to_contain_text(name)
    expect(scan_field(page)).to_be_focused()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def api_get(page: Page, path: str) -> Any:
    response = page.request.get(path)
    assert response.ok, response.text()
    return response.json()


@pytest.mark.parametrize("width", [1366, 1024])
def test_gold_member_pays_with_coupon_points_stored_value_and_cash(
    login: Callable[[str], Page], seed: Seed, width: int
) -> None:
    page = open_till(login, seed.cashier)
    page.set_viewport_size({"width": width, "height": 768})
    mobile, name = f"1360000{width:04d}", "金小满"
    member = add_member(page, seed, mobile, name)
    seed.fund_member(member["id"], tier="gold", points=1000, sv_principal=2000, sv_bonus=200)
    voucher = seed.issue_coupon(member["id"], name="10元代金券", value=1000)
    seed.issue_coupon(member["id"], name="满200减30", kind="threshold", value=3000, min_spend=20000)
    yogurt, rice = seed.products["yogurt"], seed.products["rice"]
    for product in (yogurt, yogurt, rice, rice):
        scan(page, product.barcode)
    expect(page.get_by_test_id("cart-line")).to_have_count(2)

    attach(page, mobile, name)
    # The panel: tier with its discount, points, stored value; the mobile stays masked.
    expect(page.get_by_test_id("member-mobile")).to_have_text(f"{mobile[:3]}****{mobile[-4:]}")
    expect(page.get_by_test_id("member-tier")).to_have_text("金卡 8折")
    expect(page.get_by_test_id("member-points")).to_have_text("1000")
    expect(page.get_by_test_id("member-sv")).to_have_text(yuan(2200))
    assert mobile not in page.content()

    # Every discount by name: 2nd at half price on the yogurt, 20% on the rice, 满50减5.
    expect(step(page, "item_promotion")).to_contain_text(f"促销 {NTH_PROMOTION}")
    expect(step(page, "item_promotion")).to_contain_text("-￥3.00")
    expect(step(page, "tier_discount")).to_contain_text("会员折扣 金卡")
    expect(step(page, "tier_discount")).to_contain_text("-￥19.96")
    expect(step(page, "order_promotion")).to_contain_text(f"满减 {ORDER_PROMOTION}")
    expect(step(page, "order_promotion")).to_contain_text("-￥5.00")
    before = 11180 - 300 - 1996 - 500
    expect(page.get_by_test_id("total")).to_have_text(yuan(before))

    # What the member can use here, and the recommendation: shown, not applied.
    offers = page.get_by_test_id("member-offers")
    expect(offers).to_be_visible()
    expect(page.get_by_test_id("member-points-worth")).to_have_text("≈￥100.00")
    expect(page.get_by_test_id("offers-max-points")).to_have_text(str(before // 2 // 10))
    chips = page.get_by_test_id("offer-coupon")
    expect(chips).to_have_count(2)
    expect(chips.filter(has_text="10元代金券")).to_contain_text("本单省 ￥10.00")
    expect(chips.filter(has_text="满200减30")).to_contain_text("满 ￥200.00 可用")
    expect(chips.filter(has_text="满200减30")).to_be_disabled()
    best_points = (before - 1000) // 2 // 10
    reco = page.get_by_test_id("recommendation-text")
    expect(reco).to_contain_text(f"10元代金券 + {best_points} 积分")
    expect(reco).to_contain_text(yuan(1000 + best_points * 10))
    expect(page.get_by_test_id("apply-recommendation")).to_contain_text("F7")
    expect(page.get_by_test_id("total")).to_have_text(yuan(before))
    expect(step(page, "coupon")).to_have_count(0)
    for locator in (page.get_by_test_id("total"), page.get_by_test_id("member-panel"),
                    page.get_by_test_id("apply-recommendation"), page.get_by_test_id("pay-sv"),
                    page.locator("button.pay-cash")):  # fmt: skip
        assert inside_viewport(page, locator)
    shot(page, f"till-loyalty-offers-{width}.png")

    # The coupon, scanned into the barcode field: a coupon, not an unknown product.
    scan(page, voucher)
    expect(step(page, "coupon")).to_contain_text("优惠券 10元代金券")
    expect(step(page, "coupon")).to_contain_text("-￥10.00")
    expect(chips.filter(has_text="10元代金券")).to_have_class(re.compile(r"\bon\b"))
    expect(page.get_by_test_id("total")).to_have_text(yuan(before - 1000))

    # Points: over the cap is refused inline, in Chinese, with the cap; then 300 points.
    page.keyboard.press("Shift+F7")
    points_input = page.get_by_test_id("points-input")
    expect(points_input).to_be_focused()
    expect(page.get_by_test_id("dialog-max-points")).to_have_text(str(best_points))
    page.keyboard.type("500")
    page.keyboard.press("Enter")
    error = page.get_by_test_id("offers-error")
    expect(error).to_contain_text(f"本单最多可用 {best_points} 积分抵扣")
    shot(page, f"till-loyalty-points-error-{width}.png")
    points_input.fill("300")
    page.keyboard.press("Enter")
    expect(page.locator('[data-dialog="offers"]')).to_be_hidden()
    expect(step(page, "points")).to_contain_text("积分抵扣 300 积分")
    expect(step(page, "points")).to_contain_text("-￥30.00")
    total = before - 1000 - 3000
    expect(page.get_by_test_id("total")).to_have_text(yuan(total))
    expect(scan_field(page)).to_be_focused()
    assert inside_viewport(page, page.get_by_test_id("total"))
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight")
    shot(page, f"till-loyalty-applied-{width}.png")

    # Stored value pays what it can (the whole balance), cash the rest.
    page.keyboard.press("F1")
    expect(page.get_by_test_id("sv-amount")).to_be_focused()
    expect(page.get_by_test_id("sv-amount")).to_have_value("22.00")
    expect(page.get_by_test_id("sv-due")).to_have_text(yuan(total))
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("cash-input")).to_be_focused()
    expect(page.get_by_test_id("cash-due")).to_have_text(yuan(total - 2200))
    expect(page.locator('[data-dialog="cash"]')).to_contain_text("储值支付")
    page.keyboard.type("50")
    page.keyboard.press("Enter")

    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_be_visible()
    expect(page.get_by_test_id("receipt-change")).to_have_text(yuan(5000 - (total - 2200)))
    expect(page.get_by_test_id("receipt-sv-balance")).to_have_text(yuan(0))
    expect(page.get_by_test_id("receipt-upgraded")).to_be_hidden()
    shown_earned = page.get_by_test_id("receipt-points-earned").inner_text()
    shown_balance = page.get_by_test_id("receipt-points-balance").inner_text()
    expect(page.get_by_test_id("receipt-text")).to_contain_text(NTH_PROMOTION)
    shot(page, f"till-loyalty-receipt-{width}.png")

    # The server agrees with what the till showed.
    order = seed.orders()[-1]
    assert order["number"] == page.get_by_test_id("order-number").inner_text()
    body = api_get(page, f"/api/v1/orders/{order['id']}")
    assert body["member_id"] == member["id"]
    assert body["total"] == total
    assert body["coupon_codes"] == [voucher]
    assert {s["kind"]: s["amount"] for s in body["steps"] if s["amount"] < 0} == {
        "item_promotion": -300, "tier_discount": -1996, "order_promotion": -500,
        "coupon": -1000, "points": -3000,
    }  # fmt: skip
    assert sorted((p["method"], p["amount"]) for p in body["payments"]) == [
        ("cash", total - 2200), ("stored_value", 2200),
    ]  # fmt: skip
    loyalty = body["loyalty"]
    assert shown_earned == f"+{loyalty['points_earned']}" and loyalty["points_earned"] > 0
    assert shown_balance == str(loyalty["points_balance"])
    assert loyalty["points_redeemed"] == 300
    assert loyalty["points_balance"] == 1000 - 300 + loyalty["points_earned"]
    assert (loyalty["sv_principal_paid"] + loyalty["sv_bonus_paid"], loyalty["sv_balance"]) == (
        2200,
        0,
    )
    account = api_get(page, f"/api/v1/members/{member['id']}/loyalty")
    assert account["points"] == loyalty["points_balance"]
    assert account["stored_value"]["total"] == 0
    assert account["tier"]["name"] == "金卡"
    assert api_get(page, f"/api/v1/coupons/{voucher}")["status"] == "redeemed"
    text = page.request.get(f"/api/v1/orders/{order['id']}/receipt?format=text&paper=80").text()
    for expected in (NTH_PROMOTION, ORDER_PROMOTION, "10元代金券", "积分余额", "储值"):
        assert expected in text, expected
    assert str(loyalty["points_balance"]) in text

    page.keyboard.press("Enter")  # new sale: no member, nothing left over
    expect(page.get_by_test_id("member-panel")).to_be_hidden()
    expect(page.get_by_test_id("member-offers")).to_be_hidden()
    expect(page.get_by_test_id("total")).to_have_text(yuan(0))


def test_recommendation_recharge_and_upgrade(login: Callable[[str], Page], seed: Seed) -> None:
    page = open_till(login, seed.cashier)
    mobile, name = "13600002001", "银小宝"
    member = add_member(page, seed, mobile, name)
    # A silver member 10 yuan short of gold (growth is in fen).
    seed.fund_member(member["id"], tier="silver", points=200, growth=499_000)
    rice = seed.products["rice"]
    scan(page, rice.barcode)
    attach(page, mobile, name)
    expect(page.get_by_test_id("member-tier")).to_have_text("银卡 9折")
    before = rice.price - rice.price // 10
    expect(page.get_by_test_id("total")).to_have_text(yuan(before))
    expect(step(page, "tier_discount")).to_contain_text("会员折扣 银卡")
    expect(page.get_by_test_id("pay-sv")).to_be_disabled()  # no stored value yet

    # The recommendation waits for the key; F7 applies it.
    reco = page.get_by_test_id("recommendation-text")
    expect(reco).to_contain_text("200 积分")
    expect(page.get_by_test_id("total")).to_have_text(yuan(before))
    page.keyboard.press("F7")
    expect(step(page, "points")).to_contain_text("-￥20.00")
    expect(page.get_by_test_id("total")).to_have_text(yuan(before - 2000))
    expect(page.get_by_test_id("apply-recommendation")).to_be_hidden()
    # ... and can be taken off again.
    page.keyboard.press("Shift+F7")
    expect(page.get_by_test_id("points-input")).to_have_value("200")
    page.get_by_test_id("offers-remove").click()
    expect(step(page, "points")).to_have_count(0)
    expect(page.get_by_test_id("total")).to_have_text(yuan(before))
    page.keyboard.press("Escape")
    expect(scan_field(page)).to_be_focused()
    page.keyboard.press("F7")
    expect(page.get_by_test_id("total")).to_have_text(yuan(before - 2000))

    # Recharge at the till: 充100送10.
    page.keyboard.press("Shift+F5")
    dialog = page.locator('[data-dialog="recharge"]')
    expect(page.get_by_test_id("recharge-amount")).to_be_focused()
    dialog.get_by_role("button", name=RECHARGE_RULE).click()
    expect(page.get_by_test_id("recharge-amount")).to_have_value("100.00")
    shot(page, "till-loyalty-recharge-1366.png")
    page.keyboard.press("Enter")
    result = page.get_by_test_id("recharge-result")
    expect(result).to_contain_text("充值 ￥100.00，赠送 ￥10.00，储值余额 ￥110.00")
    expect(page.get_by_test_id("member-sv")).to_have_text(yuan(11000))
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    account = api_get(page, f"/api/v1/members/{member['id']}/loyalty")
    assert account["stored_value"] == {"principal": 10000, "bonus": 1000, "total": 11000}

    # Stored value pays it all; the sale lifts the member to gold.
    due = before - 2000
    page.keyboard.press("F1")
    expect(page.get_by_test_id("sv-amount")).to_be_focused()
    expect(page.get_by_test_id("sv-amount")).to_have_value(f"{due / 100:.2f}")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("receipt")).to_be_visible()
    expect(page.get_by_test_id("receipt-upgraded")).to_contain_text("升级为 金卡")
    expect(page.get_by_test_id("receipt-sv-balance")).to_have_text(yuan(11000 - due))
    shot(page, "till-loyalty-upgrade-1366.png")
    order = seed.orders()[-1]
    body = api_get(page, f"/api/v1/orders/{order['id']}")
    assert [(p["method"], p["amount"]) for p in body["payments"]] == [("stored_value", due)]
    assert body["loyalty"]["upgraded_to"] == "金卡"
    account = api_get(page, f"/api/v1/members/{member['id']}/loyalty")
    assert account["tier"]["name"] == "金卡"
    assert account["stored_value"]["total"] == 11000 - due
    assert account["points"] == body["loyalty"]["points_balance"]


def test_a_cart_change_drops_points_over_the_cap_not_the_change(
    login: Callable[[str], Page], seed: Seed
) -> None:
    page = open_till(login, seed.cashier)
    mobile, name = "13600002002", "林积分"
    member = add_member(page, seed, mobile, name)
    seed.fund_member(member["id"], points=1000)
    rice = seed.products["rice"]
    scan(page, rice.barcode)
    scan(page, rice.barcode)
    attach(page, mobile, name)
    expect(page.get_by_test_id("member-tier")).to_have_text("普通")
    total = 2 * rice.price - 500  # 满50减5
    expect(page.get_by_test_id("total")).to_have_text(yuan(total))
    page.keyboard.press("Shift+F7")
    expect(page.get_by_test_id("points-input")).to_be_focused()
    page.keyboard.type("400")
    page.keyboard.press("Enter")
    expect(step(page, "points")).to_contain_text("-￥40.00")

    # One rice less: under 满50, and 400 points are over half of what is left.
    page.keyboard.press("-")
    expect(page.get_by_test_id("message")).to_contain_text("已取消优惠券或积分抵扣")
    expect(page.get_by_test_id("message")).to_contain_text(f"{rice.price // 2 // 10} 积分")
    expect(page.get_by_test_id("cart-line").get_by_test_id("line-qty")).to_have_text("1")
    expect(step(page, "points")).to_have_count(0)
    expect(page.get_by_test_id("total")).to_have_text(yuan(rice.price))
    expect(scan_field(page)).to_be_focused()
