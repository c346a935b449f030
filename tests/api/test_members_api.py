"""Members through the API: register, find by every key, privacy of personal fields."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from shouyin.customers.models import Consent, Member
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)


def _register(client: Any, mobile: str, name: str, **extra: Any) -> Any:
    return client.post(
        "/api/v1/members", json={"mobile": mobile, "name": name, "consent": True, **extra}
    )


@BOTH
def test_register_then_find_by_mobile_last4_card_name_and_initials(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    cashier = harness.client(harness.user("cashier", store))
    created = _register(cashier, "+86 138-1234-5678", "张三", birthday="1990-05-01")
    assert created.status_code == 201, created.text
    member = created.json()
    assert member["mobile_masked"] == "138****5678"
    assert member["mobile"] is None and member["birthday"] is None  # a cashier sees masked data
    assert member["age"] is None and member["store_id"] == store.id  # age tells the birth year
    for query in ("13812345678", "5678", member["card_no"], "张三", "zs", "ZS"):
        found = cashier.get("/api/v1/members/lookup", params={"q": query}).json()
        assert [m["id"] for m in found] == [member["id"]], query
    manager = harness.client(harness.user("store_manager", store))
    full = manager.get(f"/api/v1/members/{member['id']}").json()
    assert full["mobile"] == "13812345678" and full["birthday"] == "1990-05-01"
    assert full["age"] is not None


def test_last4_returns_every_member_with_those_digits(harness: AppHarness) -> None:
    cashier = harness.client(harness.user("cashier"))
    for mobile, name in (("13800001234", "李一"), ("13900001234", "李二"), ("15000001234", "王五")):
        assert _register(cashier, mobile, name).status_code == 201
    found = cashier.get("/api/v1/members/lookup", params={"q": "1234"}).json()
    assert sorted(m["mobile_masked"] for m in found) == [
        "138****1234",
        "139****1234",
        "150****1234",
    ]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"mobile": "12345", "name": "张三", "consent": True}, "member.mobile_invalid"),
        ({"mobile": "010-62345678", "name": "张三", "consent": True}, "member.mobile_invalid"),
        ({"mobile": "13812345678", "name": "张三", "consent": False}, "member.consent_needed"),
        (
            {"mobile": "13812345678", "name": "张三", "consent": True, "birthday": "2999-01-01"},
            "member.birthday_invalid",
        ),
        ({"mobile": "13812345678", "name": "  ", "consent": True}, "member.name_invalid"),
    ],
)
def test_bad_members_are_rejected_and_nothing_is_written(
    harness: AppHarness, body: dict[str, Any], code: str
) -> None:
    cashier = harness.client(harness.user("cashier"))
    response = cashier.post("/api/v1/members", json=body)
    assert response.status_code == 422 and response.json()["code"] == code
    with harness.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Member)) == 0


def test_a_mobile_belongs_to_one_member(harness: AppHarness) -> None:
    cashier = harness.client(harness.user("cashier"))
    assert _register(cashier, "13812345678", "张三").status_code == 201
    again = _register(cashier, "+8613812345678", "张三丰")
    assert again.status_code == 409 and again.json()["code"] == "member.mobile_taken"
    other = _register(cashier, "13912345678", "李四").json()
    clash = cashier.patch(f"/api/v1/members/{other['id']}", json={"mobile": "138 1234 5678"})
    assert clash.status_code == 409


def test_consent_and_marketing_opt_in_are_recorded_separately(harness: AppHarness) -> None:
    cashier = harness.client(harness.user("cashier"))
    member = _register(cashier, "13812345678", "张三").json()
    assert member["marketing_opt_in"] is False
    assert (
        cashier.post(
            f"/api/v1/members/{member['id']}/consents",
            json={"purpose": "marketing", "granted": True},
        ).status_code
        == 201
    )
    with harness.db.read() as session:
        rows = session.execute(
            select(Consent.purpose, Consent.granted)
            .where(Consent.member_id == member["id"])
            .order_by(Consent.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("membership", True),
        ("marketing", False),
        ("marketing", True),
    ]
    assert cashier.get(f"/api/v1/members/{member['id']}").json()["marketing_opt_in"] is True


def test_bulk_tags(harness: AppHarness) -> None:
    manager = harness.client(harness.user("store_manager"))
    ids = [_register(manager, f"1381234000{i}", f"会员{i}").json()["id"] for i in range(3)]
    assert manager.post(
        "/api/v1/members/tags", json={"member_ids": ids, "add": ["VIP", "宝妈"]}
    ).json() == {"members": 3}
    assert (
        manager.post(
            "/api/v1/members/tags", json={"member_ids": ids[:1], "remove": ["VIP"]}
        ).status_code
        == 200
    )
    page = manager.get("/api/v1/members", params={"tag": "VIP"}).json()
    assert sorted(m["id"] for m in page["items"]) == sorted(ids[1:])
    assert manager.get(f"/api/v1/members/{ids[0]}").json()["tags"] == ["宝妈"]


def test_sale_can_be_attached_to_a_member(harness: AppHarness) -> None:
    def build(session: Any) -> tuple[Any, Any]:
        store = factories.make_store(session)
        return store, factories.make_product(session, price=500, stock={store.id: 10})

    store, product = harness.write(build)
    cashier = harness.client(harness.user("cashier", store))
    member = _register(cashier, "13812345678", "张三").json()
    body = {"client_uuid": str(uuid.uuid4()), "store_id": store.id, "member_id": member["id"],
            "lines": [{"product_id": product.id, "quantity": 1}], "payments": [{"method": "cash", "amount": 500}]}  # fmt: skip
    order = cashier.post("/api/v1/orders", json=body)
    assert order.status_code == 201 and order.json()["member_id"] == member["id"]
    body.update(client_uuid=str(uuid.uuid4()), member_id=999999)
    assert cashier.post("/api/v1/orders", json=body).json()["code"] == "member.not_found"


def test_the_database_file_holds_no_plaintext_personal_data(harness: AppHarness) -> None:
    cashier = harness.client(harness.user("cashier"))
    _register(
        cashier,
        "13812345678",
        "欧阳娜娜",
        email="nana@example.com",
        address="杭州市西湖区文三路88号",
        birthday="1991-03-04",
    )
    harness.db.dispose()  # flush the WAL into the file
    path = Path(make_url(str(harness.db.engine.url)).database or "")
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    for secret in ("13812345678", "欧阳娜娜", "nana@example.com", "文三路", "1991-03-04"):
        for encoding in ("utf-8", "utf-16-le"):
            assert secret.encode(encoding) not in raw, secret


def test_lookup_edge_cases(harness: AppHarness) -> None:
    cashier = harness.client(harness.user("cashier"))
    member = _register(cashier, "13812341234", "陈一").json()
    # Full-width digits from a Chinese input method work like plain ones.
    assert [
        m["id"] for m in cashier.get("/api/v1/members/lookup", params={"q": "１２３４"}).json()
    ] == [member["id"]]
    # Digits no keyboard types find nothing, without an error.
    odd = cashier.get("/api/v1/members/lookup", params={"q": "9²²²²²²²²²²²"})
    assert odd.status_code == 200 and odd.json() == []


def test_lookup_says_how_many_match_beyond_the_first_fifty(harness: AppHarness) -> None:
    from tests.factories import next_id

    cashier = harness.client(harness.user("cashier"))
    for i in range(53):
        assert _register(
            cashier, f"139{next_id() % 10_000:04d}{i:0>4}"[:7] + "7777", f"客{i}"
        ).status_code in (201, 409)
    response = cashier.get("/api/v1/members/lookup", params={"q": "7777"})
    total = int(response.headers["X-Total-Count"])
    assert len(response.json()) == 50 and total > 50


def test_consent_withdrawal_and_clearing_notes(harness: AppHarness) -> None:
    manager = harness.client(harness.user("store_manager"))
    member = _register(manager, "13812345678", "张三", notes="不吃辣").json()
    withdrawn = manager.post(
        f"/api/v1/members/{member['id']}/consents", json={"purpose": "membership", "granted": False}
    )
    assert withdrawn.status_code == 422 and withdrawn.json()["code"] == "member.consent_withdrawn"
    cleared = manager.patch(f"/api/v1/members/{member['id']}", json={"notes": None})
    assert cleared.status_code == 200 and cleared.json()["notes"] is None
