"""The back office through HTTP: who sees which page, the forms, and the REST endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.auth.models import User
from shouyin.sales.models import Order, OrderLine, Payment
from shouyin.shared.clock import business_date
from shouyin.stores.models import Register, Store
from tests import factories
from tests.conftest import AppHarness

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAGES = ["/office/summary", "/office/orders", "/office/stores", "/office/users", "/office/audit"]


def sell(
    session: Session, *, store: Store, cashier: User, at: datetime, quantity: int = 1,
    price: int = 350, payments: tuple[tuple[str, int], ...] | None = None,
) -> Order:  # fmt: skip
    """A one-line order written straight to the tables, as checkout would leave it."""
    product = factories.make_product(session, price=price)
    total = price * quantity
    order = Order(
        client_uuid=str(uuid.uuid4()), number=f"{store.code}-{factories.next_id():06d}",
        store_id=store.id, cashier_id=cashier.id, created_at=at,
        business_date=business_date(at, store.timezone, store.day_cutoff_minutes),
        subtotal=total, discount_total=0, total=total, paid=total, change=0,
        item_count=quantity,
        steps=[{"kind": "subtotal", "amount": total}, {"kind": "total", "amount": total}],
    )  # fmt: skip
    session.add(order)
    session.flush()
    session.add(
        OrderLine(
            order_id=order.id, line_no=1, product_id=product.id, name=product.name,
            quantity=quantity, list_price=price, unit_price=price, list_amount=total, net=total,
        )
    )  # fmt: skip
    for method, amount in payments or (("cash", total),):
        session.add(Payment(order_id=order.id, method=method, amount=amount, tendered=amount))
    session.flush()
    return order


def two_stores(harness: AppHarness) -> tuple[Store, Store, User, User]:
    """Two stores, each with a store manager."""

    def build(session: Session) -> tuple[Store, Store, User, User]:
        first, second = factories.make_store(session), factories.make_store(session)
        return (
            first, second, factories.make_user(session, role="store_manager", store=first),
            factories.make_user(session, role="store_manager", store=second),
        )  # fmt: skip

    result: tuple[Store, Store, User, User] = harness.write(build)
    return result


# --- who may see what ----------------------------------------------------------------------


@pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
def test_hq_admin_sees_every_office_page(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_admin"))
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, (page, response.text[:300])
        assert "<h1" in response.text


def test_cashier_may_not_see_users_audit_or_the_summary(harness: AppHarness) -> None:
    client = harness.client(harness.user("cashier"))
    for page in ("/office/users", "/office/audit", "/office/summary"):
        assert client.get(page).status_code == 403, page
    assert client.get("/office/orders").status_code == 200
    assert client.get("/office/stores").status_code == 200


def test_anonymous_visitors_are_sent_to_log_in(harness: AppHarness) -> None:
    client = harness.client()
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_auditor_reads_and_verifies_the_audit_log_but_changes_nothing(harness: AppHarness) -> None:
    admin, auditor = harness.user("hq_admin"), harness.user("auditor")
    harness.client(admin).post("/api/v1/stores", json={"code": "AUD1", "name": "审计门店"})
    client = harness.client(auditor)
    page = client.get("/office/audit")
    assert page.status_code == 200 and "store.create" in page.text and "审计门店" in page.text
    verified = client.get("/office/audit/verify", headers={"HX-Request": "true"})
    assert verified.status_code == 200 and 'data-ok="1"' in verified.text
    assert client.get("/api/v1/audit/verify").json()["ok"] is True
    assert client.post("/office/stores", data={"code": "X1", "name": "x"}).status_code == 403


def test_verify_names_the_edited_entry(harness: AppHarness) -> None:
    admin = harness.user("hq_admin")
    client = harness.client(admin)
    for code in ("V1", "V2", "V3"):
        client.post("/api/v1/stores", json={"code": code, "name": f"门店{code}"})

    def tamper(session: Session) -> int:
        entry_id = session.scalars(
            select(AuditEntry.id).where(AuditEntry.entity_id.is_not(None)).order_by(AuditEntry.id)
        ).all()[1]
        session.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(actor="x"))
        return int(entry_id)

    edited = harness.write(tamper)
    result = client.get("/api/v1/audit/verify").json()
    assert result["ok"] is False and result["entry_id"] == edited
    fragment = client.get("/office/audit/verify", headers={"HX-Request": "true"}).text
    assert f'data-entry="{edited}"' in fragment and "这一行被修改过" in fragment


# --- orders ----------------------------------------------------------------------------------


def test_a_manager_lists_only_their_stores_orders(harness: AppHarness) -> None:
    first, second, manager, _ = two_stores(harness)
    at = datetime(2024, 5, 10, 10, 0, tzinfo=SHANGHAI)
    cashier = harness.user("cashier", first)
    mine = harness.write(lambda s: sell(s, store=first, cashier=cashier, at=at))
    other_cashier = harness.user("cashier", second)
    theirs = harness.write(lambda s: sell(s, store=second, cashier=other_cashier, at=at))
    client = harness.client(manager)
    page = client.get("/office/orders")
    assert page.status_code == 200
    assert mine.number in page.text and theirs.number not in page.text
    assert client.get(f"/office/orders?store_id={second.id}").status_code == 403
    assert client.get(f"/office/orders/{theirs.id}").status_code == 404
    # HQ sees both, and can narrow to one store or one number.
    admin = harness.client(harness.user("hq_admin"))
    both = admin.get("/office/orders").text
    assert mine.number in both and theirs.number in both
    narrowed = admin.get("/office/orders", params={"number": theirs.number[-6:]}).text
    assert theirs.number in narrowed and mine.number not in narrowed


def test_orders_filter_by_business_date(harness: AppHarness) -> None:
    store = harness.write(lambda s: factories.make_store(s))
    cashier = harness.user("cashier", store)
    early = harness.write(
        lambda s: sell(s, store=store, cashier=cashier, at=datetime(2024, 5, 1, 9, tzinfo=SHANGHAI))
    )
    late = harness.write(
        lambda s: sell(s, store=store, cashier=cashier, at=datetime(2024, 5, 3, 9, tzinfo=SHANGHAI))
    )
    client = harness.client(harness.user("hq_admin"))
    page = client.get("/office/orders?date_from=2024-05-02&date_to=2024-05-31").text
    assert late.number in page and early.number not in page
    assert client.get("/office/orders?date_from=May").status_code == 422


def test_order_page_shows_lines_steps_and_payments(harness: AppHarness) -> None:
    store = harness.write(lambda s: factories.make_store(s))
    cashier = harness.user("cashier", store)
    at = datetime(2024, 5, 10, 21, 30, tzinfo=SHANGHAI)
    order = harness.write(
        lambda s: sell(s, store=store, cashier=cashier, at=at, quantity=3, price=450,
                       payments=(("cash", 1000), ("card", 350)))
    )  # fmt: skip
    response = harness.client(harness.user("hq_admin")).get(f"/office/orders/{order.id}")
    assert response.status_code == 200
    text = response.text
    assert order.number in text and "2024-05-10 21:30" in text
    assert "￥4.50" in text and "￥13.50" in text and "￥3.50" in text
    assert "现金" in text and "银行卡" in text and "小计" in text
    receipt = text.split('<pre class="receipt">')[1]
    assert order.number in receipt and "谢谢惠顾" in receipt


# --- stores ----------------------------------------------------------------------------------


@pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
def test_a_store_made_with_the_form_is_listed(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_admin"))
    form = {"code": "SH01", "name": "静安店", "address": "南京西路1号", "timezone": "Asia/Shanghai",
            "cutoff": "04:00", "rounding": "jiao"}  # fmt: skip
    response = client.post("/office/stores", data=form)
    assert response.status_code == 303, response.text
    listed = client.get(response.headers["location"]).text
    assert "SH01" in listed and "静安店" in listed and "04:00" in listed and "抹角" in listed
    with harness.db.read() as session:
        store = session.scalars(select(Store).where(Store.code == "SH01")).one()
    assert (store.day_cutoff_minutes, store.rounding) == (240, "jiao")


def test_a_bad_store_form_comes_back_with_a_message(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_admin"))
    form = {"code": "SH02", "name": "店", "timezone": "Asia/Shanghai", "cutoff": "25:00",
            "rounding": "none"}  # fmt: skip
    response = client.post("/office/stores", data=form)
    assert response.status_code == 422 and 'data-code="store.cutoff_invalid"' in response.text
    assert 'value="SH02"' in response.text  # what was typed is kept
    form |= {"cutoff": "00:00", "timezone": "Mars/Olympus"}
    assert 'data-code="store.timezone_invalid"' in client.post("/office/stores", data=form).text


def test_store_edit_and_a_new_register(harness: AppHarness) -> None:
    store = harness.write(lambda s: factories.make_store(s))
    client = harness.client(harness.user("hq_admin"))
    form = {"name": "新名字", "address": "", "timezone": "Asia/Shanghai", "cutoff": "03:30",
            "rounding": "yuan", "active": "1"}  # fmt: skip
    assert client.post(f"/office/stores/{store.id}", data=form).status_code == 303
    added = client.post(
        f"/office/stores/{store.id}/registers", data={"code": "R9", "name": "九号机"}
    )
    assert added.status_code == 303
    page = client.get(f"/office/stores/{store.id}").text
    assert "新名字" in page and "03:30" in page and "九号机" in page
    with harness.db.read() as session:
        saved = session.get(Store, store.id)
        codes = session.scalars(select(Register.code).where(Register.store_id == store.id)).all()
    assert saved is not None and (saved.day_cutoff_minutes, saved.rounding) == (210, "yuan")
    assert sorted(codes) == ["R1", "R9"]


def test_store_manager_sees_own_store_and_cannot_change_it(harness: AppHarness) -> None:
    first, second, manager, _ = two_stores(harness)
    client = harness.client(manager)
    page = client.get("/office/stores").text
    assert first.code in page and second.code not in page
    assert client.get(f"/office/stores/{second.id}").status_code == 403
    form = {"name": "x", "timezone": "Asia/Shanghai", "cutoff": "00:00", "rounding": "none"}
    assert client.post(f"/office/stores/{first.id}", data=form).status_code == 403


def test_stores_rest_api(harness: AppHarness) -> None:
    first, second, manager, _ = two_stores(harness)
    admin = harness.client(harness.user("hq_admin"))
    created = admin.post(
        "/api/v1/stores", json={"code": "API1", "name": "接口店", "day_cutoff_minutes": 240}
    )
    assert created.status_code == 201 and created.json()["day_cutoff_minutes"] == 240
    store_id = created.json()["id"]
    assert admin.post("/api/v1/stores", json={"code": "API1", "name": "重复"}).status_code == 409
    patched = admin.patch(f"/api/v1/stores/{store_id}", json={"rounding": "yuan"})
    assert patched.json()["rounding"] == "yuan"
    register = admin.post(f"/api/v1/stores/{store_id}/registers", json={"code": "R1", "name": "一"})
    assert register.status_code == 201
    assert [r["code"] for r in admin.get(f"/api/v1/stores/{store_id}/registers").json()] == ["R1"]
    codes = {s["code"] for s in admin.get("/api/v1/stores").json()}
    assert {"API1", first.code, second.code} <= codes
    own = harness.client(manager)
    assert [s["id"] for s in own.get("/api/v1/stores").json()] == [first.id]
    assert own.get(f"/api/v1/stores/{second.id}").status_code == 403
    assert own.get(f"/api/v1/stores/{second.id}/registers").status_code == 403
    assert own.post("/api/v1/stores", json={"code": "NO", "name": "x"}).status_code == 403


# --- users -----------------------------------------------------------------------------------


def test_a_user_made_with_the_form_can_log_in(harness: AppHarness) -> None:
    store = harness.write(lambda s: factories.make_store(s))
    client = harness.client(harness.user("hq_admin"))
    form = {"username": "wang.fang", "display_name": "王芳", "role": "cashier",
            "store_id": str(store.id), "password": "secret-123"}  # fmt: skip
    assert client.post("/office/users", data=form).status_code == 303
    listed = client.get("/office/users").text
    assert "wang.fang" in listed and "王芳" in listed and "收银员" in listed
    login = harness.client().post(
        "/api/v1/auth/login", json={"username": "wang.fang", "password": "secret-123"}
    )
    assert login.status_code == 200 and login.json()["store_id"] == store.id


def test_a_bad_user_form_says_what_is_wrong(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_admin"))
    form = {"username": "li", "display_name": "李", "role": "cashier", "store_id": "",
            "password": "secret-123"}  # fmt: skip
    response = client.post("/office/users", data=form)
    assert response.status_code == 422 and 'data-code="user.store_needed"' in response.text
    weak = client.post("/office/users", data=form | {"password": "short"})
    assert 'data-code="user.password_weak"' in weak.text
    bad_name = client.post("/office/users", data=form | {"username": "has space"})
    assert 'data-code="user.username_invalid"' in bad_name.text


def test_edit_a_user_role_store_and_unlock(harness: AppHarness) -> None:
    store = harness.write(lambda s: factories.make_store(s))
    cashier = harness.user("cashier", store)
    harness.write(
        lambda s: s.execute(
            update(User)
            .where(User.id == cashier.id)
            .values(locked_until=datetime(2999, 1, 1, tzinfo=SHANGHAI))
        )
    )
    client = harness.client(harness.user("hq_admin"))
    assert "已锁定" in client.get(f"/office/users/{cashier.id}").text
    form = {"display_name": "新店长", "role": "store_manager", "store_id": str(store.id),
            "active": "1", "password": "", "unlock": "1"}  # fmt: skip
    assert client.post(f"/office/users/{cashier.id}", data=form).status_code == 303
    with harness.db.read() as session:
        saved = session.get(User, cashier.id)
    assert saved is not None
    assert (saved.role, saved.display_name, saved.locked_until) == ("store_manager", "新店长", None)


def test_a_manager_reads_own_staff_only_and_cannot_change_them(harness: AppHarness) -> None:
    _, _, manager, other_manager = two_stores(harness)
    client = harness.client(manager)
    page = client.get("/office/users").text
    assert manager.username in page and other_manager.username not in page
    assert client.get(f"/office/users/{other_manager.id}").status_code == 404
    assert client.post("/office/users", data={"username": "x"}).status_code == 403


# --- day summary -----------------------------------------------------------------------------


@pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
def test_day_summary_json(harness: AppHarness) -> None:
    first, second, manager, _ = two_stores(harness)
    cashier, other = harness.user("cashier", first), harness.user("cashier", second)

    def orders(session: Session) -> None:
        sell(
            session,
            store=first,
            cashier=cashier,
            at=datetime(2024, 5, 10, 9, 5, tzinfo=SHANGHAI),
            quantity=2,
            price=500,
            payments=(("cash", 1000),),
        )
        sell(
            session,
            store=first,
            cashier=cashier,
            at=datetime(2024, 5, 10, 19, 0, tzinfo=SHANGHAI),
            quantity=1,
            price=333,
            payments=(("card", 333),),
        )
        sell(session, store=second, cashier=other, at=datetime(2024, 5, 10, 9, 0, tzinfo=SHANGHAI),
             quantity=1, price=10000, payments=(("card", 10000),))  # fmt: skip

    harness.write(orders)
    body = harness.client(manager).get("/api/v1/reports/day-summary?day=2024-05-10").json()
    assert body["store_id"] == first.id and body["day"] == "2024-05-10"
    assert (body["sales"], body["orders"], body["average_ticket"], body["items"]) == (
        1333,
        2,
        667,
        3,
    )
    assert body["by_method"] == [
        {"method": "cash", "count": 1, "amount": 1000},
        {"method": "card", "count": 1, "amount": 333},
    ]
    hours = {h["hour"]: (h["orders"], h["sales"]) for h in body["by_hour"] if h["orders"]}
    assert hours == {9: (1, 1000), 19: (1, 333)}
    assert [p["sales"] for p in body["top_products"]] == [1000, 333]
    forbidden = harness.client(manager).get(f"/api/v1/reports/day-summary?store_id={second.id}")
    assert forbidden.status_code == 403
    chain = harness.client(harness.user("hq_admin")).get(
        "/api/v1/reports/day-summary", params={"day": "2024-05-10"}
    )
    assert (chain.json()["sales"], chain.json()["orders"]) == (11333, 3)


def test_day_summary_page_shows_the_numbers_and_chart_data(harness: AppHarness) -> None:
    store = harness.write(lambda s: factories.make_store(s))
    cashier = harness.user("cashier", store)
    at = datetime(2024, 5, 10, 12, 30, tzinfo=SHANGHAI)
    harness.write(lambda s: sell(s, store=store, cashier=cashier, at=at, quantity=4, price=250))
    client = harness.client(harness.user("hq_admin"))
    page = client.get(f"/office/summary?store_id={store.id}&day=2024-05-10").text
    assert 'data-stat="sales">￥10.00<' in page and 'data-stat="orders">1<' in page
    assert 'id="summary-data"' in page and "echarts.init" in page
    assert '"sales": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1000,' in page
    empty = client.get(f"/office/summary?store_id={store.id}&day=2024-05-11").text
    assert 'data-stat="sales">￥0.00<' in empty


def test_audit_rest_api_pages_and_filters(harness: AppHarness) -> None:
    admin = harness.user("hq_admin")
    client = harness.client(admin)
    for code in ("P1", "P2", "P3"):
        client.post("/api/v1/stores", json={"code": code, "name": code})
    body = client.get("/api/v1/audit", params={"action": "store.create", "limit": 2}).json()
    assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (3, 2, 0, 2)
    assert body["items"][0]["after"]["code"] == "P3"  # newest first
    rest = client.get("/api/v1/audit?action=store.create&limit=2&offset=2").json()
    assert [e["after"]["code"] for e in rest["items"]] == ["P1"]
    assert harness.client(harness.user("store_manager")).get("/api/v1/audit").status_code == 403


def test_store_address_can_be_cleared_through_the_api(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))
    store = harness.write(lambda s: factories.make_store(s, address="文三路1号"))
    response = admin.patch(f"/api/v1/stores/{store.id}", json={"address": None, "name": None})
    assert response.status_code == 200, response.text
    assert response.json()["address"] is None and response.json()["name"] == store.name
