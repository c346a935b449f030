"""The member loyalty page and the gift catalogue page through HTTP: what each role sees, and
the adjustment and gift forms with their errors."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shouyin.loyalty import ledger
from shouyin.loyalty.models import Gift
from shouyin.stores.models import Store
from tests import factories
from tests.conftest import AppHarness
from tests.integration.test_loyalty_merge import coupon_for
from tests.integration.test_points_ops import earn

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)


def _register(client: Any, mobile: str, name: str) -> int:
    response = client.post(
        "/api/v1/members", json={"mobile": mobile, "name": name, "consent": True}
    )
    assert response.status_code == 201, response.text
    member_id: int = response.json()["id"]
    return member_id


def _with_history(harness: AppHarness, member_id: int, store: Store) -> None:
    def build(session: Session) -> None:
        at = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 01:30 on 2 March in Shanghai
        change = ledger.Change(
            kind="recharge", sv_principal=50_000, sv_bonus=5_000, store_id=store.id
        )
        ledger.post(session.connection(), member_id=member_id, change=change, at=at)
        earn(session, member_id, points=300, growth=250_000, expires_on=date(2027, 12, 31))
        coupon_for(session, member_id)

    harness.write(build)


@BOTH
def test_the_loyalty_page_shows_tier_balances_history_and_coupons(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    manager = harness.client(harness.user("store_manager", store))
    member_id = _register(manager, "13812345678", "张三")
    _with_history(harness, member_id, store)
    page = manager.get(f"/office/members/{member_id}/loyalty")
    assert page.status_code == 200, page.text
    text = page.text
    assert "张三" in text and 'data-field="tier">普通<' in text
    assert 'data-stat="points">300<' in text
    assert "￥550.00" in text and "￥500.00 / ￥50.00" in text  # stored value, principal / bonus
    assert "2026-03-02 01:30" in text  # the recharge, in the store's time zone
    assert "2027-12-31" in text and "满100减20" in text
    assert 'id="points-adjust"' in text and 'id="gift-redeem"' not in text  # no gifts yet
    profile = manager.get(f"/office/members/{member_id}")
    assert f'href="/office/members/{member_id}/loyalty"' in profile.text


def test_a_cashier_reads_but_cannot_adjust_and_strangers_are_sent_to_log_in(
    harness: AppHarness,
) -> None:
    store = harness.write(factories.make_store)
    cashier = harness.client(harness.user("cashier", store))
    member_id = _register(cashier, "13812345678", "李四")
    page = cashier.get(f"/office/members/{member_id}/loyalty")
    assert page.status_code == 200 and 'id="points-adjust"' not in page.text
    refused = cashier.post(
        f"/office/members/{member_id}/loyalty/adjust", data={"points": "5", "reason": "试试"}
    )
    assert refused.status_code == 403
    anonymous = harness.client().get(f"/office/members/{member_id}/loyalty")
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    assert cashier.get("/office/members/999999/loyalty").status_code == 404


def test_the_adjustment_form_adjusts_or_shows_the_error(harness: AppHarness) -> None:
    manager = harness.client(harness.user("store_manager"))
    member_id = _register(manager, "13812345678", "王五")
    url = f"/office/members/{member_id}/loyalty/adjust"
    done = manager.post(url, data={"points": "120", "reason": "生日礼遇"})
    assert done.status_code == 303
    after = manager.get(done.headers["location"]).text
    assert 'data-stat="points">120<' in after and "生日礼遇" in after and "积分已调整" in after
    bad = manager.post(url, data={"points": "12a", "reason": "生日礼遇"})
    assert bad.status_code == 422 and 'data-code="points.not_a_number"' in bad.text
    short = manager.post(url, data={"points": "-500", "reason": "扣回"})
    assert short.status_code == 422 and 'data-code="points.insufficient"' in short.text
    assert 'value="-500"' in short.text  # the form comes back as typed
    blank = manager.post(url, data={"points": "5", "reason": ""})
    assert blank.status_code == 422 and 'data-code="points.reason_required"' in blank.text


@BOTH
def _form_uuid(page: str) -> str:
    found = re.search(r'name="client_uuid" value="([0-9a-f-]{36})"', page)
    assert found is not None
    return found.group(1)


def test_gifts_are_set_up_on_their_page_and_given_on_the_member_page(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    admin = harness.client(harness.user("hq_admin"))
    cashier = harness.client(harness.user("cashier", store))
    empty = cashier.get("/office/loyalty/gifts")
    assert empty.status_code == 200 and 'id="gift-create"' not in empty.text
    created = admin.post("/office/loyalty/gifts", data={"name": "帆布袋", "points": "100"})
    assert created.status_code == 303
    listed = admin.get("/office/loyalty/gifts").text
    assert "帆布袋" in listed and 'id="gift-create"' in listed
    bad = admin.post("/office/loyalty/gifts", data={"name": "", "points": "100"})
    assert bad.status_code == 422 and 'data-code="gift.name_invalid"' in bad.text
    assert (
        cashier.post("/office/loyalty/gifts", data={"name": "x", "points": "1"}).status_code == 403
    )
    with harness.db.read() as session:
        gift = session.query(Gift).one()
    member_id = _register(cashier, "13812345678", "赵六")
    harness.write(lambda s: earn(s, member_id, points=150, expires_on=date(2030, 1, 1)))
    page = cashier.get(f"/office/members/{member_id}/loyalty").text
    assert 'id="gift-redeem"' in page and "帆布袋" in page
    form_uuid = _form_uuid(page)
    url = f"/office/members/{member_id}/loyalty/gift"
    stale = cashier.post(url, data={"gift_id": str(gift.id)})
    assert stale.status_code == 422 and 'data-code="gift.form_stale"' in stale.text
    given = cashier.post(url, data={"gift_id": str(gift.id), "client_uuid": form_uuid})
    assert given.status_code == 303, given.text
    assert 'data-stat="points">50<' in cashier.get(given.headers["location"]).text
    # The same form sent twice (a double click, a resend) gives one gift.
    twice = cashier.post(url, data={"gift_id": str(gift.id), "client_uuid": form_uuid})
    assert twice.status_code == 303, twice.text
    fresh = _form_uuid(cashier.get(f"/office/members/{member_id}/loyalty").text)
    assert fresh != form_uuid
    again = cashier.post(url, data={"gift_id": str(gift.id), "client_uuid": fresh})
    assert again.status_code == 422 and 'data-code="points.insufficient"' in again.text
    retired = admin.post(f"/office/loyalty/gifts/{gift.id}/active", data={"active": "0"})
    assert retired.status_code == 303
    assert "已停用" in admin.get("/office/loyalty/gifts").text


def test_odd_numbers_in_the_points_and_gift_forms_are_refused(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))
    member_id = _register(admin, "13812345679", "钱七")
    url = f"/office/members/{member_id}/loyalty/adjust"
    # "²".isdigit() is true but int("²") fails; "+-5" passes lstrip("+-").isdigit().
    for typed in ("²", "+-5", "1234567890"):
        bad = admin.post(url, data={"points": typed, "reason": "补录"})
        assert bad.status_code == 422 and 'data-code="points.not_a_number"' in bad.text, typed
    assert admin.post(url, data={"points": "+1,200", "reason": "补录"}).status_code == 303
    for typed, code in (({"points": "²"}, "gift.points_invalid"), ({"product_id": "+-5"}, "gift.product_invalid")):  # fmt: skip
        bad = admin.post("/office/loyalty/gifts", data={"name": "帆布袋", "points": "100"} | typed)
        assert bad.status_code == 422 and f'data-code="{code}"' in bad.text, typed
