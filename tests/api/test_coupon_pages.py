"""The coupon pages through HTTP: the list, the template form, issuing and the issued list."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from shouyin.loyalty.models import Coupon, CouponTemplate
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
FORM = {"name": "满100减20", "kind": "threshold", "amount": "20", "min_spend": "100",
        "scope": "all", "validity": "days", "valid_days": "30", "active": "1"}  # fmt: skip


def _member(client: Any, mobile: str, name: str, **extra: Any) -> int:
    body = {"mobile": mobile, "name": name, "consent": True, **extra}
    response = client.post("/api/v1/members", json=body)
    assert response.status_code == 201, response.text
    member_id: int = response.json()["id"]
    return member_id


def _created(client: Any, **fields: str) -> int:
    response = client.post("/office/loyalty/coupons/new", data=FORM | fields)
    assert response.status_code == 303, response.text[:2000]
    location = response.headers["location"]
    assert location.endswith("?saved=1")
    return int(location.split("/")[-1].split("?")[0])


@BOTH
def test_create_issue_and_list_through_the_pages(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    marketer = harness.client(harness.user("hq_marketer"))
    empty = marketer.get("/office/loyalty/coupons")
    assert empty.status_code == 200 and 'id="coupon-templates"' in empty.text
    assert marketer.get("/office/loyalty/coupons/new").status_code == 200
    template_id = _created(marketer)
    percent_id = _created(marketer, name="85折", kind="percent", discount="8.5", min_spend="0")
    with harness.db.read() as session:
        threshold = session.get(CouponTemplate, template_id)
        percent = session.get(CouponTemplate, percent_id)
        assert threshold is not None and percent is not None
        assert (threshold.value, threshold.min_spend, threshold.valid_days) == (2000, 10000, 30)
        assert percent.value == 1500  # 8.5折 is 15% off
    listed = marketer.get("/office/loyalty/coupons").text
    assert "满100减20" in listed and "85折" in listed and "8.5" in listed and "15%" in listed
    edit = marketer.get(f"/office/loyalty/coupons/{percent_id}").text
    assert 'value="8.5"' in edit  # the form shows the 折 number that was typed

    cashier = harness.client(harness.user("cashier", store))
    zhang = _member(cashier, "13812345678", "张三", tags=["VIP"], store_id=store.id)
    li = _member(cashier, "13987654321", "李四", store_id=store.id)
    issue_url = f"/office/loyalty/coupons/{template_id}/issue"
    assert marketer.get(issue_url).status_code == 200
    one = marketer.post(issue_url, data={"mode": "one", "member": "13812345678", "count": "2"})
    assert one.status_code == 303
    shown = marketer.get(one.headers["location"]).text
    assert 'id="issue-result"' in shown and "2" in shown
    bulk = marketer.post(issue_url, data={"mode": "bulk", "store_id": str(store.id), "count": "1"})
    assert bulk.status_code == 303 and "issued=2" in bulk.headers["location"]
    with harness.db.read() as session:
        held = session.scalars(select(Coupon.member_id).where(Coupon.template_id == template_id))
        assert sorted(m or 0 for m in held) == sorted([zhang, zhang, zhang, li])

    issued = marketer.get(f"/office/loyalty/coupons/{template_id}/coupons").text
    assert issued.count("<code>CP") == 4 and "张*" in issued and "13812345678" not in issued


def test_a_bad_form_comes_back_with_its_error_and_values(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))
    too_much = admin.post("/office/loyalty/coupons/new", data=FORM | {"amount": "150"})
    assert too_much.status_code == 422 and 'data-code="coupon.value_invalid"' in too_much.text
    assert 'value="150"' in too_much.text  # what was typed stays in the form
    zhe = admin.post(
        "/office/loyalty/coupons/new", data=FORM | {"kind": "percent", "discount": "10"}
    )
    assert 'data-code="coupon.discount_invalid"' in zhe.text
    no_gift = admin.post(
        "/office/loyalty/coupons/new", data=FORM | {"kind": "gift", "gift_code": "nothing"}
    )
    assert no_gift.status_code == 404 and 'data-code="catalog.code_unknown"' in no_gift.text
    window = FORM | {"validity": "window", "valid_from": "2026-07-01", "valid_to": "2026-06-01"}
    assert (
        'data-code="coupon.validity_invalid"'
        in admin.post("/office/loyalty/coupons/new", data=window).text
    )
    with harness.db.read() as session:
        assert session.scalars(select(CouponTemplate)).all() == []


def test_odd_numbers_and_far_dates_come_back_as_errors(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))
    new = "/office/loyalty/coupons/new"
    # "²".isdigit() is true but int("²") fails; "+-5" is no number either.
    for typed in ({"valid_days": "²"}, {"valid_days": "+-5"}, {"per_member_limit": "²"},
                  {"per_member_limit": "+-5"}, {"valid_days": "1234567890"}):  # fmt: skip
        page = admin.post(new, data=FORM | typed)
        assert page.status_code == 422 and 'data-code="coupon.' in page.text, typed
    window = FORM | {"validity": "window", "valid_from": "2026-07-01"}
    for typed in ({"valid_to": "9999-12-31"}, {"valid_from": "0001-01-01", "valid_to": "2026-07-31"}):  # fmt: skip
        page = admin.post(new, data=window | typed)
        assert page.status_code == 422, typed
        assert 'data-code="coupon.validity_invalid"' in page.text and "1970" in page.text
        assert f'value="{typed.get("valid_to", "")}"' in page.text  # the form comes back as typed
    assert _created(admin, **window | {"valid_to": "2999-12-31"})  # the last day there is
    template_id = _created(admin)
    issue_url = f"/office/loyalty/coupons/{template_id}/issue"
    for count in ("²", "+-5", "-1"):
        page = admin.post(issue_url, data={"mode": "one", "member": "x", "count": count})
        assert page.status_code == 422 and 'data-code="coupon.count_invalid"' in page.text, count


def test_gift_categories_and_a_fixed_window(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))

    def build(session: Any) -> tuple[int, str]:
        category = factories.make_category(session, name="饮料")
        bag = factories.make_product(session, name="购物袋", barcode="6900000000017")
        return category.id, bag.sku

    category_id, sku = harness.write(build)
    gift_id = _created(
        admin, name="送购物袋", kind="gift", gift_code="6900000000017", scope="categories",
        category_ids=str(category_id), validity="window", valid_from="2026-07-01",
        valid_to="2026-07-31", min_spend="50",
    )  # fmt: skip
    with harness.db.read() as session:
        gift = session.get(CouponTemplate, gift_id)
        assert gift is not None and gift.scope_ids == [category_id] and gift.value == 0
        assert (
            gift.valid_from is not None
            and gift.valid_from.isoformat() == "2026-06-30T16:00:00+00:00"
        )
        assert (
            gift.valid_to is not None and gift.valid_to.isoformat() == "2026-07-31T16:00:00+00:00"
        )
    page = admin.get(f"/office/loyalty/coupons/{gift_id}").text
    assert f'value="{sku}"' in page and 'value="2026-07-31"' in page
    assert "购物袋" in admin.get("/office/loyalty/coupons").text


def test_issue_errors_and_voiding_from_the_issued_list(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))
    template_id = _created(admin, per_member_limit="1")
    issue_url = f"/office/loyalty/coupons/{template_id}/issue"
    nobody = admin.post(issue_url, data={"mode": "one", "member": "13800000000", "count": "1"})
    assert nobody.status_code == 422 and 'data-code="coupon.no_member"' in nobody.text
    bad_count = admin.post(issue_url, data={"mode": "one", "member": "x", "count": "99"})
    assert 'data-code="coupon.count_invalid"' in bad_count.text
    _member(admin, "13812345678", "张三")
    admin.post(issue_url, data={"mode": "one", "member": "13812345678", "count": "1"})
    again = admin.post(issue_url, data={"mode": "one", "member": "13812345678", "count": "1"})
    assert "skipped=1" in again.headers["location"]
    with harness.db.read() as session:
        code = session.scalars(select(Coupon.code)).one()
    void_url = f"/office/loyalty/coupons/{template_id}/coupons/void"
    blank = admin.post(void_url, data={"code": code, "reason": " "})
    assert blank.status_code == 422 and 'data-code="coupon.reason_required"' in blank.text
    voided = admin.post(void_url, data={"code": code, "reason": "发错了"})
    assert voided.status_code == 303
    assert "已作废" in admin.get(voided.headers["location"]).text


def test_who_sees_which_page(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    admin = harness.client(harness.user("hq_admin"))
    template_id = _created(admin)
    cashier = harness.client(harness.user("cashier", store))
    assert cashier.get("/office/loyalty/coupons").status_code == 200  # loyalty.read
    view = cashier.get(f"/office/loyalty/coupons/{template_id}").text
    assert '<fieldset class="plain" disabled>' in view
    assert cashier.get("/office/loyalty/coupons/new").status_code == 403
    assert cashier.post("/office/loyalty/coupons/new", data=FORM).status_code == 403
    assert cashier.get(f"/office/loyalty/coupons/{template_id}/issue").status_code == 403
    manager = harness.client(harness.user("store_manager", store))
    page = manager.get(f"/office/loyalty/coupons/{template_id}/issue").text
    assert "All stores" not in page and "全部门店" not in page  # a manager issues in their store
    assert admin.get("/office/loyalty/coupons/999999").status_code == 404
