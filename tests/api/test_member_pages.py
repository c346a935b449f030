"""The member pages and the purchase-history endpoint through HTTP: who sees what, the edit
form's errors, and tagging in bulk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from shouyin.customers.models import Member
from tests import factories
from tests.conftest import AppHarness
from tests.integration.test_member_history import buy

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)


def _register(client: Any, mobile: str, name: str, **extra: Any) -> dict[str, Any]:
    body = {"mobile": mobile, "name": name, "consent": True, **extra}
    response = client.post("/api/v1/members", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _profile(client: Any, member_id: int) -> dict[str, Any]:
    result: dict[str, Any] = client.get(f"/api/v1/members/{member_id}").json()
    return result


@BOTH
def test_list_and_detail_render_with_history(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    cashier_user = harness.user("cashier", store)
    admin = harness.client(harness.user("hq_admin"))
    zhang = _register(admin, "13812345678", "张三", tags=["VIP"], store_id=store.id)
    _register(admin, "13987654321", "李四", store_id=store.id)

    def sale(session: Session) -> int:
        tea = factories.make_product(session, price=300, name="绿茶")
        at = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
        member = session.get(Member, zhang["id"])
        order = buy(
            session, store=store, cashier_id=cashier_user.id, member=member, at=at,
            lines=[(tea, 2)],
        )  # fmt: skip
        return order.id

    order_id = harness.write(sale)
    listed = admin.get("/office/members")
    assert listed.status_code == 200 and "<h1" in listed.text
    assert "张三" in listed.text and "李四" in listed.text and "138****5678" in listed.text
    assert "13812345678" not in listed.text  # the list always masks
    found = admin.get("/office/members", params={"q": "5678"}).text
    assert "张三" in found and "李四" not in found
    tagged = admin.get("/office/members", params={"tag": "VIP"}).text
    assert "张三" in tagged and "李四" not in tagged
    detail = admin.get(f"/office/members/{zhang['id']}")
    assert detail.status_code == 200, detail.text[:500]
    assert f'href="/office/orders/{order_id}"' in detail.text and "绿茶" in detail.text
    assert 'data-stat="visits">1<' in detail.text and "2026-03-01" in detail.text
    assert admin.get("/office/members/999999").status_code == 404


def test_cashier_sees_a_masked_mobile_and_a_manager_the_full_one(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    cashier = harness.client(harness.user("cashier", store))
    member = _register(cashier, "13812345678", "张三", birthday="1990-05-01", address="南京路1号")
    page = cashier.get(f"/office/members/{member['id']}").text
    assert "138****5678" in page and "13812345678" not in page
    assert "1990-05-01" not in page and "南京路1号" not in page
    assert 'id="member-edit"' in page  # cashiers may edit (members.write) without reading
    manager = harness.client(harness.user("store_manager", store))
    full = manager.get(f"/office/members/{member['id']}").text
    assert "13812345678" in full and "1990-05-01" in full and "南京路1号" in full


@pytest.mark.parametrize(
    ("fields", "code", "status"),
    [
        ({"mobile": "12345"}, "member.mobile_invalid", 422),
        ({"birthday": "2023-02-30"}, "member.birthday_invalid", 422),
        ({"birthday": "2999-01-01"}, "member.birthday_invalid", 422),
        ({"email": "not-an-email"}, "member.email_invalid", 422),
        ({"mobile": "13987654321"}, "member.mobile_taken", 409),
    ],
)
def test_a_bad_edit_shows_the_error_and_saves_nothing(
    harness: AppHarness, fields: dict[str, str], code: str, status: int
) -> None:
    store = harness.write(factories.make_store)
    manager = harness.client(harness.user("store_manager", store))
    member = _register(manager, "13812345678", "张三")
    _register(manager, "13987654321", "李四")
    form = {"name": "张三丰", "mobile": "13812345678", "gender": "m", "tags": "新客"} | fields
    response = manager.post(f"/office/members/{member['id']}", data=form)
    assert response.status_code == status, response.text[:500]
    assert f'data-code="{code}"' in response.text
    assert f'value="{fields.popitem()[1]}"' in response.text  # the form comes back as typed
    after = _profile(manager, member["id"])
    assert after["name"] == "张三" and after["mobile"] == "13812345678"
    assert after["tags"] == [] and after["gender"] == "u"


def test_an_edit_saves_and_redirects(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    manager = harness.client(harness.user("store_manager", store))
    member = _register(manager, "13812345678", "张三")
    form = {
        "name": "张三丰", "mobile": "+86 139 0000 1111", "gender": "m", "birthday": "1985-02-03",
        "address": "淮海路2号", "email": "z@example.com", "tags": "VIP，新客", "notes": "喜欢绿茶",
        "marketing_opt_in": "1",
    }  # fmt: skip
    response = manager.post(f"/office/members/{member['id']}", data=form)
    assert response.status_code == 303
    assert response.headers["location"] == f"/office/members/{member['id']}?saved=1"
    after = _profile(manager, member["id"])
    assert (after["name"], after["mobile"], after["birthday"]) == (
        "张三丰",
        "13900001111",
        "1985-02-03",
    )
    assert after["tags"] == ["VIP", "新客"] and after["marketing_opt_in"] is True
    page = manager.get(response.headers["location"]).text
    assert 'role="status"' in page
    consents = page.split('id="consents"', 1)[1].split("</table>", 1)[0]
    assert "2026-01" in consents and consents.count("<tr>") == 4  # header + 3 records


def test_a_cashier_edit_keeps_the_hidden_personal_fields(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    cashier = harness.client(harness.user("cashier", store))
    member = _register(cashier, "13812345678", "张三", birthday="1990-05-01", email="z@example.com")
    form = {"name": "张三", "mobile": "", "gender": "f", "tags": ""}
    assert cashier.post(f"/office/members/{member['id']}", data=form).status_code == 303
    manager = harness.client(harness.user("store_manager", store))
    after = _profile(manager, member["id"])
    assert after["mobile"] == "13812345678" and after["birthday"] == "1990-05-01"
    assert after["email"] == "z@example.com" and after["gender"] == "f"


def test_bulk_tags_through_the_page(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    cashier = harness.client(harness.user("cashier", store))
    first = _register(cashier, "13812345678", "张三")
    second = _register(cashier, "13987654321", "李四")
    ids = [str(first["id"]), str(second["id"])]
    added = cashier.post(
        "/office/members/tags", data={"member_id": ids, "tag": "春节", "action": "add"}
    )
    assert added.status_code == 303 and "changed=2" in added.headers["location"]
    assert _profile(cashier, first["id"])["tags"] == ["春节"]
    assert _profile(cashier, second["id"])["tags"] == ["春节"]
    removed = cashier.post(
        "/office/members/tags", data={"member_id": ids[:1], "tag": "春节", "action": "remove"}
    )
    assert removed.status_code == 303
    assert _profile(cashier, first["id"])["tags"] == []
    assert _profile(cashier, second["id"])["tags"] == ["春节"]
    empty = cashier.post("/office/members/tags", data={"tag": "春节", "action": "add"})
    assert empty.status_code == 422 and 'data-code="member.none_selected"' in empty.text
    assert "checkbox" in cashier.get("/office/members").text


def test_an_auditor_reads_but_cannot_edit(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    cashier = harness.client(harness.user("cashier", store))
    member = _register(cashier, "13812345678", "张三")
    auditor = harness.client(harness.user("auditor"))
    page = auditor.get(f"/office/members/{member['id']}")
    assert page.status_code == 200 and 'id="member-edit"' not in page.text
    assert 'name="member_id"' not in auditor.get("/office/members").text
    denied = auditor.post(f"/office/members/{member['id']}", data={"name": "王五"})
    assert denied.status_code == 403
    tags = auditor.post("/office/members/tags", data={"member_id": [str(member["id"])], "tag": "x"})
    assert tags.status_code == 403
    assert _profile(cashier, member["id"])["name"] == "张三"


def test_history_endpoint(harness: AppHarness) -> None:
    cashier = harness.client(harness.user("cashier"))
    member = _register(cashier, "13812345678", "张三")
    history = cashier.get(f"/api/v1/members/{member['id']}/history")
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["member_id"] == member["id"] and body["visits"] == 0
    assert body["recent_orders"] == [] and body["first_visit"] is None
    missing = cashier.get("/api/v1/members/999999/history")
    assert missing.status_code == 404 and missing.json()["code"] == "member.not_found"
    assert harness.client().get(f"/api/v1/members/{member['id']}/history").status_code == 401
