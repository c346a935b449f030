"""Stocktakes (盘点) through HTTP: a sale during the count is not shrinkage, category scope,
counting by scan and by set, posting moves stock once, rights and bad input; both databases."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shouyin.audit.models import AuditEntry
from shouyin.catalog.models import Category
from shouyin.inventory import service as inventory
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.purchasing_models import StockCost
from shouyin.shared.clock import business_date, utcnow
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
URL = "/api/v1/stocktakes"


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Session) -> dict[str, Any]:
        a, b = (factories.make_store(session, shift=False) for _ in range(2))
        drinks = Category(name=f"饮料{uuid.uuid4().hex[:6]}")
        session.add(drinks)
        session.flush()
        soda = Category(name=f"碳酸饮料{uuid.uuid4().hex[:6]}", parent_id=drinks.id)
        snacks = Category(name=f"零食{uuid.uuid4().hex[:6]}")
        session.add_all([soda, snacks])
        session.flush()
        water = factories.make_product(session, category=drinks, stock={a.id: 10, b.id: 3})
        cola = factories.make_product(session, category=soda, stock={a.id: 4})
        chips = factories.make_product(session, category=snacks, stock={a.id: 6})
        session.add(StockCost(store_id=a.id, product_id=water.id, unit_cost_milli=250_000,
                              updated_at=utcnow()))  # fmt: skip
        return {"a": a, "b": b, "drinks": drinks, "soda": soda, "snacks": snacks,
                "water": water, "cola": cola, "chips": chips}  # fmt: skip

    shop: dict[str, Any] = harness.write(build)
    shop["manager"] = harness.client(harness.user("store_manager", shop["a"]))
    shop["b_manager"] = harness.client(harness.user("store_manager", shop["b"]))
    shop["cashier"] = harness.client(harness.user("cashier", shop["a"]))
    return shop


def _start(shop: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {"client_uuid": str(uuid.uuid4()), "store_id": shop["a"].id, **extra}
    response = shop["manager"].post(URL, json=body)
    assert response.status_code == 201, response.text
    started: dict[str, Any] = response.json()
    return started


def _sell(harness: AppHarness, store: Any, product: Any, quantity: int) -> None:
    harness.write(
        lambda s: inventory.record_movements(
            s.connection(), store_id=store.id, kind="sale", at=utcnow(), user_id=None,
            movements=[inventory.Movement(product.id, -quantity)],
        )
    )  # fmt: skip


def _count(shop: dict[str, Any], st: dict[str, Any], lines: list[dict[str, Any]],
           mode: str = "set", client: str = "manager") -> Any:  # fmt: skip
    return shop[client].post(f"{URL}/{st['id']}/counts", json={"lines": lines, "mode": mode})


def _on_hand(harness: AppHarness, store: Any, product: Any) -> int:
    with harness.db.read() as session:
        value = session.scalar(
            select(StockLevel.on_hand).where(
                StockLevel.store_id == store.id, StockLevel.product_id == product.id
            )
        )
    return value or 0


def _lines(shop: dict[str, Any], st: dict[str, Any], which: str = "all") -> dict[int, Any]:
    response = shop["manager"].get(f"{URL}/{st['id']}", params={"lines": which})
    assert response.status_code == 200, response.text
    return {x["product_id"]: x for x in response.json()["lines"]}


@BOTH
def test_a_sale_during_the_count_is_not_taken_for_shrinkage(harness: AppHarness) -> None:
    shop = _shop(harness)
    water, cola, chips = shop["water"], shop["cola"], shop["chips"]
    st = _start(shop, note="月末盘点")
    day = business_date(utcnow(), shop["a"].timezone, shop["a"].day_cutoff_minutes)
    assert st["number"] == f"ST-{shop['a'].code}-{day:%Y%m%d}-001"
    assert st["status"] == "counting" and st["totals"]["lines"] >= 3
    _sell(harness, shop["a"], water, 2)  # sold after the start, before the shelf was counted
    _sell(harness, shop["a"], cola, 1)
    counted = _count(shop, st, [{"product_id": water.id, "counted": 8},
                                {"product_id": cola.id, "counted": 2}])  # fmt: skip
    assert counted.status_code == 200, counted.text
    lines = _lines(shop, st)
    assert (lines[water.id]["expected"], lines[water.id]["moved"]) == (10, -2)
    assert lines[water.id]["variance"] == 0  # 8 on the shelf is right: 2 were sold
    assert lines[cola.id]["variance"] == -1  # 4 − 1 sold = 3, only 2 found
    assert lines[chips.id]["counted"] is None and lines[chips.id]["variance"] is None
    assert set(_lines(shop, st, "variance")) == {cola.id}
    assert chips.id in _lines(shop, st, "uncounted") and water.id not in _lines(
        shop, st, "uncounted"
    )
    # Recounted: 7 water → variance −1, valued at cost (2.5 yuan a bottle).
    assert _count(shop, st, [{"product_id": water.id, "counted": 7}]).status_code == 200
    view = shop["manager"].get(f"{URL}/{st['id']}").json()
    water_line = next(x for x in view["lines"] if x["product_id"] == water.id)
    assert water_line["variance"] == -1 and water_line["variance_value_fen"] == -250
    assert view["totals"]["variance_units"] == -2 and view["totals"]["counted"] == 2
    _sell(harness, shop["a"], water, 1)  # after the count: not part of this line's variance
    posted = shop["manager"].post(f"{URL}/{st['id']}/post")
    assert posted.status_code == 200, posted.text
    body = posted.json()
    assert body["status"] == "posted" and body["posted_at"]
    assert {x["product_id"]: x["variance"] for x in body["lines"]}[water.id] == -1
    # 10 − 2 − 1 sold − 1 shrinkage; cola 4 − 1 − 1; chips uncounted: untouched.
    assert _on_hand(harness, shop["a"], water) == 6
    assert _on_hand(harness, shop["a"], cola) == 2
    assert _on_hand(harness, shop["a"], chips) == 6
    with harness.db.read() as session:
        moves = session.execute(
            select(StockMovement.product_id, StockMovement.quantity, StockMovement.ref_id).where(
                StockMovement.kind == "stocktake"
            )
        ).all()
        audited = session.scalar(
            select(func.count()).select_from(AuditEntry)
            .where(AuditEntry.action == "stocktake.post")
        )  # fmt: skip
    assert sorted(moves) == sorted([(water.id, -1, st["id"]), (cola.id, -1, st["id"])])
    assert audited == 1
    again = shop["manager"].post(f"{URL}/{st['id']}/post")
    assert again.status_code == 409 and again.json()["code"] == "stocktake.posted"
    with harness.db.read() as session:
        count = session.scalar(
            select(func.count()).select_from(StockMovement).where(StockMovement.kind == "stocktake")
        )
    assert count == 2
    late = _count(shop, st, [{"product_id": water.id, "counted": 1}])
    assert late.status_code == 409 and late.json()["code"] == "stocktake.posted"


@BOTH
def test_a_category_count_covers_subcategories_and_scans_add_one(harness: AppHarness) -> None:
    shop = _shop(harness)
    water, cola, chips = shop["water"], shop["cola"], shop["chips"]
    st = _start(shop, category_id=shop["drinks"].id)
    assert st["category_name"] == shop["drinks"].name
    assert set(_lines(shop, st)) == {water.id, cola.id}
    dup = shop["manager"].post(
        URL, json={"client_uuid": str(uuid.uuid4()), "store_id": shop["a"].id,
                   "category_id": shop["drinks"].id}
    )  # fmt: skip
    assert dup.status_code == 409 and dup.json()["code"] == "stocktake.open_exists"
    other = _start(shop, category_id=shop["snacks"].id)  # another scope may be counted
    assert set(_lines(shop, other)) == {chips.id}
    barcode = {"barcode": f"69{water.sku[3:].rjust(11, '0')}", "counted": 1}
    for expected in (1, 2, 3):
        scan = _count(shop, st, [barcode], mode="add")
        assert scan.status_code == 200, scan.text
        assert scan.json()["lines"] == [
            {"product_id": water.id, "sku": water.sku, "name": water.name, "counted": expected}
        ]
    undo = _count(shop, st, [{"product_id": water.id, "counted": -1}], mode="add")
    assert undo.json()["lines"][0]["counted"] == 2
    outside = _count(shop, st, [{"product_id": chips.id, "counted": 1}], mode="add")
    assert outside.status_code == 422 and outside.json()["code"] == "stocktake.out_of_scope"
    # Uncounted cola is counted as zero when asked.
    posted = shop["manager"].post(f"{URL}/{st['id']}/post", json={"uncounted_as_zero": True})
    assert posted.status_code == 200, posted.text
    assert _on_hand(harness, shop["a"], water) == 2
    assert _on_hand(harness, shop["a"], cola) == 0
    assert _on_hand(harness, shop["a"], chips) == 6
    cancelled = shop["manager"].post(f"{URL}/{other['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    listed = shop["manager"].get(URL, params={"status": "posted"}).json()
    assert [x["id"] for x in listed["items"]] == [st["id"]]
    assert shop["manager"].get(URL).json()["total"] == 2


@BOTH
def test_a_product_found_on_the_shelf_joins_with_its_stock_at_the_start(
    harness: AppHarness,
) -> None:
    shop = _shop(harness)

    def hidden(session: Session) -> Any:
        product = factories.make_product(session, stock={shop["a"].id: 5})
        product.active = False  # inactive with stock is in the snapshot; this one has none
        return product

    ghost = harness.write(lambda s: factories.make_product(s))
    st = _start(shop)
    lines = _lines(shop, st)
    assert ghost.id in lines and lines[ghost.id]["expected"] == 0
    late = harness.write(hidden)  # made after the start: not in the snapshot
    _sell(harness, shop["a"], late, 1)
    found = _count(shop, st, [{"product_id": late.id, "counted": 4}])
    assert found.status_code == 200, found.text
    line = _lines(shop, st)[late.id]
    # On hand at the start: 5 came in after the start mark, so it was 0 then; +5 −1 moved.
    assert (line["expected"], line["moved"], line["variance"]) == (0, 4, 0)


@BOTH
def test_bad_input_and_rights_are_refused_and_change_nothing(harness: AppHarness) -> None:
    shop = _shop(harness)
    water = shop["water"]
    st = _start(shop)
    negative = _count(shop, st, [{"product_id": water.id, "counted": -1}])
    assert negative.status_code == 422 and negative.json()["code"] == "stocktake.count_invalid"
    below = _count(shop, st, [{"product_id": water.id, "counted": -1}], mode="add")
    assert below.status_code == 422 and below.json()["code"] == "stocktake.count_invalid"
    unknown = _count(shop, st, [{"product_id": 2**31 - 1, "counted": 1}])
    assert unknown.status_code == 404 and unknown.json()["code"] == "catalog.product_unknown"
    code = _count(shop, st, [{"barcode": "0000000", "counted": 1}])
    assert code.status_code == 404 and code.json()["code"] == "catalog.code_unknown"
    both = _count(shop, st, [{"product_id": water.id, "barcode": "x", "counted": 1}])
    assert both.status_code == 422
    strange = _count(shop, st, [{"product_id": water.id, "counted": 1}], client="b_manager")
    assert strange.status_code == 403
    peek = shop["b_manager"].get(f"{URL}/{st['id']}")
    assert peek.status_code == 403
    elsewhere = shop["manager"].post(
        URL, json={"client_uuid": str(uuid.uuid4()), "store_id": shop["b"].id}
    )
    assert elsewhere.status_code == 403
    assert (
        _count(shop, st, [{"product_id": water.id, "counted": 1}], client="cashier").status_code
        == 403
    )
    assert _count(shop, st, [{"product_id": water.id, "counted": 3}]).status_code == 200
    refused = shop["cashier"].post(f"{URL}/{st['id']}/post")
    assert refused.status_code == 403
    assert _on_hand(harness, shop["a"], water) == 10
    assert shop["manager"].get(f"{URL}/{st['id']}").json()["status"] == "counting"
    missing = shop["manager"].get(f"{URL}/{2**31 - 1}")
    assert missing.status_code == 404 and missing.json()["code"] == "stocktake.not_found"
    bad_category = shop["manager"].post(
        URL, json={"client_uuid": str(uuid.uuid4()), "store_id": shop["a"].id,
                   "category_id": 2**31 - 1}
    )  # fmt: skip
    assert bad_category.status_code == 404


@BOTH
def test_a_retried_start_returns_the_first_stocktake(harness: AppHarness) -> None:
    shop = _shop(harness)
    body = {"client_uuid": str(uuid.uuid4()), "store_id": shop["a"].id}
    first = shop["manager"].post(URL, json=body)
    second = shop["manager"].post(URL, json=body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert shop["manager"].get(URL).json()["total"] == 1


@BOTH
def test_the_office_pages_follow_the_rights(harness: AppHarness) -> None:
    shop = _shop(harness)
    listed = shop["manager"].get("/office/stocktakes")
    assert listed.status_code == 200 and 'id="start-stocktake"' in listed.text
    assert shop["drinks"].name in listed.text
    started = shop["manager"].post(
        "/office/stocktakes",
        data={"csrf_token": _csrf(shop["manager"]), "client_uuid": str(uuid.uuid4()),
              "store_id": str(shop["a"].id), "category_id": str(shop["snacks"].id)},
    )  # fmt: skip
    assert started.status_code == 303, started.text
    review = started.headers["location"].split("?")[0]
    page = shop["manager"].get(review)
    assert page.status_code == 200 and 'id="post"' in page.text and shop["chips"].name in page.text
    assert shop["manager"].get(review + "/count").status_code == 200
    seen = shop["cashier"].get(review)
    assert seen.status_code == 200 and 'id="post"' not in seen.text  # cashiers may look
    assert 'id="start-stocktake"' not in shop["cashier"].get("/office/stocktakes").text
    assert shop["cashier"].get(review + "/count").status_code == 403
    refused = shop["cashier"].post(review + "/post", data={"csrf_token": _csrf(shop["cashier"])})
    assert refused.status_code == 403
    assert _on_hand(harness, shop["a"], shop["chips"]) == 6


def _csrf(client: Any) -> str:
    page = client.get("/office/stocktakes")
    marker = 'name="csrf_token" value="'
    if marker in page.text:
        return str(page.text.split(marker)[1].split('"')[0])
    return str(page.text.split('data-csrf="')[1].split('"')[0])
