"""The member pages' actions through HTTP: the duplicates page and merging from it or from a
profile, erasure, export links, and who may do which."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
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


def _twins(client: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two records of one person: same name and birthday, different mobiles."""
    first = _register(client, "13812345678", "王小明", birthday="1990-05-01", tags=["VIP"])
    second = _register(client, "13987654321", "王小明", birthday="1990-05-01", tags=["新客"])
    return first, second


def _audit_count(harness: AppHarness, action: str) -> int:
    def count(session: Session) -> int:
        query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        return int(session.scalar(query) or 0)

    result: int = harness.write(count)
    return result


@BOTH
def test_duplicates_page_lists_the_pair_and_merges_through_the_page(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    manager_user = harness.user("store_manager", store)
    manager = harness.client(manager_user)
    first, second = _twins(manager)
    _register(manager, "13700001111", "李四", birthday="1990-05-01")

    def sale(session: Session) -> None:
        tea = factories.make_product(session, price=300, name="绿茶")
        at = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
        member = session.get(Member, second["id"])
        buy(
            session, store=store, cashier_id=manager_user.id, member=member, at=at, lines=[(tea, 1)]
        )

    harness.write(sale)
    listed = manager.get("/office/members")
    assert 'href="/office/members/duplicates"' in listed.text
    page = manager.get("/office/members/duplicates")
    assert page.status_code == 200, page.text[:500]
    assert page.text.count('data-testid="duplicate-group"') == 1
    assert "138****5678" in page.text and "139****4321" in page.text
    assert first["card_no"] in page.text and second["card_no"] in page.text
    assert "李四" not in page.text
    assert '<td class="num">1</td>' in page.text  # the second record's one order
    assert "13812345678" not in page.text  # masked, whoever looks

    merged = manager.post(
        "/office/members/duplicates/merge",
        data={"survivor_id": str(first["id"]), "duplicate_id": str(second["id"])},
    )
    assert merged.status_code == 303, merged.text[:500]
    assert merged.headers["location"] == f"/office/members/{first['id']}?merged=1"
    landed = manager.get(merged.headers["location"]).text
    assert 'data-testid="merged-notice"' in landed
    assert manager.get(f"/api/v1/members/{second['id']}").status_code == 404
    survivor = manager.get(f"/api/v1/members/{first['id']}").json()
    assert sorted(survivor["tags"]) == ["VIP", "新客"]
    history = manager.get(f"/api/v1/members/{first['id']}/history").json()
    assert history["orders"] == 1
    found = manager.get("/api/v1/members/lookup", params={"q": "13987654321"}).json()
    assert [m["id"] for m in found] == [first["id"]]
    assert _audit_count(harness, "member.merge") == 1
    after = manager.get("/office/members/duplicates").text
    assert 'data-testid="no-duplicates"' in after


def test_duplicates_page_merge_with_itself_is_shown_inline(harness: AppHarness) -> None:
    manager = harness.client(harness.user("store_manager", harness.write(factories.make_store)))
    first, _second = _twins(manager)
    same = {"survivor_id": str(first["id"]), "duplicate_id": str(first["id"])}
    response = manager.post("/office/members/duplicates/merge", data=same)
    assert response.status_code == 422 and 'data-code="member.merge_self"' in response.text
    missing = {"survivor_id": str(first["id"]), "duplicate_id": "999999"}
    response = manager.post("/office/members/duplicates/merge", data=missing)
    assert response.status_code == 404 and 'data-code="member.not_found"' in response.text
    assert _audit_count(harness, "member.merge") == 0


def test_merge_from_the_profile_by_mobile_or_card(harness: AppHarness) -> None:
    manager = harness.client(harness.user("store_manager", harness.write(factories.make_store)))
    first, second = _twins(manager)
    third = _register(manager, "13600002222", "王小明")
    page = manager.get(f"/office/members/{first['id']}").text
    assert 'id="member-merge"' in page and 'id="member-erase"' not in page

    merged = manager.post(f"/office/members/{first['id']}/merge", data={"other": "13987654321"})
    assert merged.status_code == 303, merged.text[:500]
    assert merged.headers["location"] == f"/office/members/{first['id']}?merged=1"
    assert manager.get(f"/api/v1/members/{second['id']}").status_code == 404

    by_card = manager.post(f"/office/members/{first['id']}/merge", data={"other": third["card_no"]})
    assert by_card.status_code == 303
    assert manager.get(f"/api/v1/members/{third['id']}").status_code == 404
    assert _audit_count(harness, "member.merge") == 2


@pytest.mark.parametrize(
    ("other", "code", "status"),
    [
        ("13812345678", "member.merge_self", 422),  # its own mobile
        ("13500009999", "member.not_found", 404),
        ("", "member.merge_query", 422),
        ("王小明", "member.merge_query", 422),  # a name is not enough
        ("4321", "member.merge_query", 422),  # nor are the last 4 digits
    ],
)
def test_a_bad_profile_merge_is_shown_inline_and_changes_nothing(
    harness: AppHarness, other: str, code: str, status: int
) -> None:
    manager = harness.client(harness.user("store_manager", harness.write(factories.make_store)))
    first, second = _twins(manager)
    response = manager.post(f"/office/members/{first['id']}/merge", data={"other": other})
    assert response.status_code == status, response.text[:500]
    assert f'data-code="{code}"' in response.text
    assert f'name="other" value="{other}"' in response.text  # kept as typed
    assert manager.get(f"/api/v1/members/{second['id']}").status_code == 200
    assert _audit_count(harness, "member.merge") == 0


def test_admin_erases_through_the_page(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))
    member = _register(admin, "13812345678", "张三", birthday="1990-05-01")
    page = admin.get(f"/office/members/{member['id']}").text
    assert 'id="member-erase"' in page and 'class="warning"' in page

    unconfirmed = admin.post(f"/office/members/{member['id']}/erase", data={})
    assert unconfirmed.status_code == 422
    assert 'data-code="member.erase_unconfirmed"' in unconfirmed.text
    assert admin.get(f"/api/v1/members/{member['id']}").status_code == 200

    erased = admin.post(f"/office/members/{member['id']}/erase", data={"confirm": "1"})
    assert erased.status_code == 303 and erased.headers["location"] == "/office/members?erased=1"
    listed = admin.get(erased.headers["location"]).text
    assert 'role="status"' in listed and "张三" not in listed
    assert admin.get(f"/api/v1/members/{member['id']}").status_code == 404
    assert admin.get("/api/v1/members/lookup", params={"q": "13812345678"}).json() == []
    assert _audit_count(harness, "member.erase") == 1


def test_store_manager_may_not_erase(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    manager = harness.client(harness.user("store_manager", store))
    member = _register(manager, "13812345678", "张三")
    assert 'id="member-erase"' not in manager.get(f"/office/members/{member['id']}").text
    denied = manager.post(f"/office/members/{member['id']}/erase", data={"confirm": "1"})
    assert denied.status_code == 403
    assert manager.get(f"/api/v1/members/{member['id']}").json()["name"] == "张三"
    assert _audit_count(harness, "member.erase") == 0


def test_export_links_only_with_the_permission(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    manager = harness.client(harness.user("store_manager", store))
    _register(manager, "13812345678", "张三", tags=["VIP"], store_id=store.id)
    assert "/api/v1/members/export" not in manager.get("/office/members").text

    marketer = harness.client(harness.user("hq_marketer"))
    page = marketer.get("/office/members", params={"tag": "VIP", "store_id": str(store.id)}).text
    csv_link = f"/api/v1/members/export?format=csv&amp;tag=VIP&amp;store_id={store.id}"
    xlsx_link = f"/api/v1/members/export?format=xlsx&amp;tag=VIP&amp;store_id={store.id}"
    assert csv_link in page and xlsx_link in page
    assert 'href="/office/members/duplicates"' not in page  # no members.merge
    assert marketer.get("/office/members/duplicates").status_code == 403
    plain = marketer.get("/office/members").text
    assert 'href="/api/v1/members/export?format=csv"' in plain  # no empty filters

    exported = marketer.get(csv_link.replace("&amp;", "&"))
    assert exported.status_code == 200 and "张三" in exported.text
    assert _audit_count(harness, "member.export") == 1


def test_a_cashier_sees_no_merge_or_duplicates(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    cashier = harness.client(harness.user("cashier", store))
    member = _register(cashier, "13812345678", "张三")
    assert 'href="/office/members/duplicates"' not in cashier.get("/office/members").text
    assert 'id="member-merge"' not in cashier.get(f"/office/members/{member['id']}").text
    assert cashier.get("/office/members/duplicates").status_code == 403
    denied = cashier.post(f"/office/members/{member['id']}/merge", data={"other": "13987654321"})
    assert denied.status_code == 403
