"""Transfers (调拨) through HTTP: create, send, receive short, cancel, list, rights and bad
input, on both databases."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from shouyin.audit.models import AuditEntry
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.inventory.transfer_models import Transfer, TransferLine
from shouyin.shared.clock import business_date, utcnow
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
URL = "/api/v1/transfers"


def _shops(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        a, b, c = (factories.make_store(session, shift=False) for _ in range(3))
        water = factories.make_product(session, price=350, stock={a.id: 10})
        chips = factories.make_product(session, price=1290, stock={a.id: 5, b.id: 1})
        return {"a": a, "b": b, "c": c, "water": water, "chips": chips}

    shops: dict[str, Any] = harness.write(build)
    for key in ("a", "b", "c"):
        shops[f"{key}_manager"] = harness.client(harness.user("store_manager", shops[key]))
    shops["hq"] = harness.client(harness.user("hq_admin"))
    return shops


def _body(shops: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {
        "client_uuid": str(uuid.uuid4()), "from_store_id": shops["a"].id,
        "to_store_id": shops["b"].id,
        "lines": [{"product_id": shops["water"].id, "quantity": 4},
                  {"product_id": shops["chips"].id, "quantity": 2}],
        "note": "补货",
    }  # fmt: skip
    body.update(extra)
    return body


def _on_hand(harness: AppHarness, store: Any, product: Any) -> int:
    with harness.db.read() as session:
        value = session.scalar(
            select(StockLevel.on_hand).where(
                StockLevel.store_id == store.id, StockLevel.product_id == product.id
            )
        )
    return value or 0


def _counts(harness: AppHarness) -> tuple[int, int, int]:
    with harness.db.read() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Transfer, TransferLine, StockMovement)
        )


def _created(shops: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = shops["a_manager"].post(URL, json=_body(shops, **extra))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@BOTH
def test_a_transfer_is_sent_received_one_short_and_both_stores_stock_is_right(
    harness: AppHarness,
) -> None:
    shops = _shops(harness)
    body = _body(shops)
    first = shops["a_manager"].post(URL, json=body)
    assert first.status_code == 201, first.text
    draft = first.json()
    day = business_date(utcnow(), "Asia/Shanghai", 0)
    assert draft["number"] == f"TR-{shops['a'].code}-{day:%Y%m%d}-001"
    assert draft["status"] == "draft" and draft["note"] == "补货"
    # A retry of the same request answers with the same transfer and writes nothing.
    again = shops["a_manager"].post(URL, json=body)
    assert again.status_code == 200 and again.json()["id"] == draft["id"]
    assert _counts(harness)[:2] == (1, 2)
    assert _on_hand(harness, shops["a"], shops["water"]) == 10  # a draft moves nothing

    sent = shops["a_manager"].post(f"{URL}/{draft['id']}/send")
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "in_transit" and sent.json()["stock_warnings"] == []
    assert _on_hand(harness, shops["a"], shops["water"]) == 6
    assert _on_hand(harness, shops["a"], shops["chips"]) == 3
    assert _on_hand(harness, shops["b"], shops["water"]) == 0  # in transit: nowhere yet

    counted = {"lines": [{"product_id": shops["water"].id, "received": 3}]}
    received = shops["b_manager"].post(f"{URL}/{draft['id']}/receive", json=counted)
    assert received.status_code == 200, received.text
    view = received.json()
    assert view["status"] == "received" and view["shortfall"] == 1
    lines = {x["product_id"]: x for x in view["lines"]}
    assert (lines[shops["water"].id]["received"], lines[shops["water"].id]["shortfall"]) == (3, 1)
    assert (lines[shops["chips"].id]["received"], lines[shops["chips"].id]["shortfall"]) == (2, 0)
    assert _on_hand(harness, shops["b"], shops["water"]) == 3
    assert _on_hand(harness, shops["b"], shops["chips"]) == 3
    assert _on_hand(harness, shops["a"], shops["water"]) == 6

    with harness.db.read() as session:
        kinds = session.execute(
            select(StockMovement.store_id, StockMovement.kind, StockMovement.quantity)
            .where(StockMovement.ref_type == "transfer", StockMovement.ref_id == draft["id"])
            .order_by(StockMovement.id)
        ).all()
        audits = {
            e.action: e
            for e in session.scalars(select(AuditEntry).where(AuditEntry.entity == "transfer"))
        }
    assert sorted(kinds) == sorted(
        [(shops["a"].id, "transfer_out", -4), (shops["a"].id, "transfer_out", -2),
         (shops["b"].id, "transfer_in", 3), (shops["b"].id, "transfer_in", 2)]
    )  # fmt: skip
    assert set(audits) == {"transfer.send", "transfer.receive"}
    shortfall = audits["transfer.receive"].after["shortfall"]  # type: ignore[index]
    assert shortfall == [
        {"product_id": shops["water"].id, "sent": 4, "received": 3, "shortfall": 1}
    ]
    # The detail reads the same from either store, and HQ.
    for who in ("a_manager", "b_manager", "hq"):
        detail = shops[who].get(f"{URL}/{draft['id']}")
        assert detail.status_code == 200 and detail.json()["shortfall"] == 1


@BOTH
def test_sending_twice_receiving_twice_and_receiving_too_much_are_refused(
    harness: AppHarness,
) -> None:
    shops = _shops(harness)
    draft = _created(shops)
    path = f"{URL}/{draft['id']}"
    early = shops["b_manager"].post(f"{path}/receive", json={})
    assert early.status_code == 409 and early.json()["code"] == "transfer.draft"
    assert shops["a_manager"].post(f"{path}/send").status_code == 200
    twice = shops["a_manager"].post(f"{path}/send")
    assert twice.status_code == 409 and twice.json()["code"] == "transfer.in_transit"
    before = _counts(harness)
    too_much = {"lines": [{"product_id": shops["water"].id, "received": 5}]}
    over = shops["b_manager"].post(f"{path}/receive", json=too_much)
    assert over.status_code == 422 and over.json()["code"] == "transfer.over_receipt"
    negative = {"lines": [{"product_id": shops["water"].id, "received": -1}]}
    assert shops["b_manager"].post(f"{path}/receive", json=negative).status_code == 422
    other = {"lines": [{"product_id": 999_999, "received": 1}]}
    assert shops["b_manager"].post(f"{path}/receive", json=other).status_code == 422
    # The sender cannot book the arrival for the receiving store.
    assert shops["a_manager"].post(f"{path}/receive", json={}).status_code == 403
    assert _counts(harness) == before
    assert shops["b_manager"].post(f"{path}/receive", json={}).status_code == 200
    again = shops["b_manager"].post(f"{path}/receive", json={})
    assert again.status_code == 409 and again.json()["code"] == "transfer.received"
    assert _on_hand(harness, shops["b"], shops["water"]) == 4
    late = shops["a_manager"].post(f"{path}/cancel")
    assert late.status_code == 409


@BOTH
def test_cancelling_a_draft_moves_nothing_and_in_transit_goods_go_back(
    harness: AppHarness,
) -> None:
    shops = _shops(harness)
    draft = _created(shops)
    movements = _counts(harness)[2]
    cancelled = shops["a_manager"].post(f"{URL}/{draft['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert _counts(harness)[2] == movements
    assert shops["a_manager"].post(f"{URL}/{draft['id']}/send").status_code == 409

    second = _created(shops)
    assert shops["a_manager"].post(f"{URL}/{second['id']}/send").status_code == 200
    assert _on_hand(harness, shops["a"], shops["water"]) == 6
    # The receiving store cannot cancel what the sender shipped.
    assert shops["b_manager"].post(f"{URL}/{second['id']}/cancel").status_code == 403
    back = shops["a_manager"].post(f"{URL}/{second['id']}/cancel")
    assert back.status_code == 200 and back.json()["status"] == "cancelled"
    assert _on_hand(harness, shops["a"], shops["water"]) == 10
    assert _on_hand(harness, shops["a"], shops["chips"]) == 5
    with harness.db.read() as session:
        reasons = set(
            session.scalars(
                select(StockMovement.reason).where(
                    StockMovement.ref_id == second["id"], StockMovement.kind == "transfer_in"
                )
            )
        )
        actions = set(session.scalars(select(AuditEntry.action)))
    assert reasons == {"cancelled"}
    assert "transfer.cancel" in actions
    assert shops["b_manager"].post(f"{URL}/{second['id']}/receive", json={}).status_code == 409


@BOTH
def test_bad_transfers_are_refused_and_nothing_is_written(harness: AppHarness) -> None:
    shops = _shops(harness)
    client = shops["a_manager"]
    water = shops["water"].id
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        (_body(shops, to_store_id=shops["a"].id), 422, "transfer.same_store"),
        (_body(shops, to_store_id=999_999), 404, "store.not_found"),
        (_body(shops, lines=[{"product_id": 999_999, "quantity": 1}]), 404,
         "catalog.product_unknown"),
        (_body(shops, lines=[{"product_id": water, "quantity": 0}]), 422,
         "transfer.quantity_invalid"),
        (_body(shops, lines=[{"product_id": water, "quantity": -3}]), 422,
         "transfer.quantity_invalid"),
        (_body(shops, lines=[{"product_id": water, "quantity": 1},
                             {"product_id": water, "quantity": 2}]), 422,
         "transfer.duplicate_product"),
        (_body(shops, lines=[]), 422, None),
        (_body(shops, from_store_id=shops["c"].id), 403, "store.forbidden"),
        ({**_body(shops), "extra": 1}, 422, None),
    ]  # fmt: skip
    for body, status, code in cases:
        response = client.post(URL, json=body)
        assert response.status_code == status, (body, response.text)
        if code is not None:
            assert response.json()["code"] == code, response.text
    assert _counts(harness)[:2] == (0, 0)


@BOTH
def test_a_third_store_and_a_cashier_cannot_see_or_touch_a_transfer(harness: AppHarness) -> None:
    shops = _shops(harness)
    draft = _created(shops)
    path = f"{URL}/{draft['id']}"
    third = shops["c_manager"]
    assert third.get(path).status_code == 404
    assert third.post(f"{path}/send").status_code == 404
    assert third.post(f"{path}/cancel").status_code == 404
    assert third.get(URL).json()["items"] == []
    cashier = harness.client(harness.user("cashier", shops["a"]))
    assert cashier.get(URL).status_code == 403
    assert cashier.post(URL, json=_body(shops)).status_code == 403
    assert cashier.post(f"{path}/send").status_code == 403
    # HQ may send for any store.
    assert shops["hq"].post(f"{path}/send").status_code == 200


@BOTH
def test_the_list_filters_by_store_direction_and_status(harness: AppHarness) -> None:
    shops = _shops(harness)
    out = _created(shops)
    back = shops["b_manager"].post(
        URL,
        json=_body(shops, from_store_id=shops["b"].id, to_store_id=shops["a"].id,
                   lines=[{"product_id": shops["chips"].id, "quantity": 1}]),
    )  # fmt: skip
    assert back.status_code == 201, back.text
    assert shops["a_manager"].post(f"{URL}/{out['id']}/send").status_code == 200

    def numbers(client: Any, **params: Any) -> list[str]:
        response = client.get(URL, params=params)
        assert response.status_code == 200, response.text
        return [x["number"] for x in response.json()["items"]]

    a = shops["a_manager"]
    assert numbers(a) == [back.json()["number"], out["number"]]
    assert numbers(a, direction="out") == [out["number"]]
    assert numbers(a, direction="in") == [back.json()["number"]]
    assert numbers(a, status="in_transit") == [out["number"]]
    assert numbers(shops["hq"], store_id=shops["c"].id) == []
    assert len(numbers(shops["hq"])) == 2
    assert a.get(URL, params={"store_id": shops["b"].id}).status_code == 403
    assert a.get(URL, params={"status": "lost"}).status_code == 422
    page = a.get(URL).json()
    assert page["total"] == 2 and page["items"][1]["quantity"] == 6


def _set_negative_stock(harness: AppHarness, value: str) -> None:
    settings = harness.app.state.settings
    harness.app.state.settings = settings.model_copy(update={"negative_stock": value})


@BOTH
def test_sending_more_than_on_hand_is_refused_when_negative_stock_is_blocked(
    harness: AppHarness,
) -> None:
    shops = _shops(harness)
    _set_negative_stock(harness, "block")
    lines = [{"product_id": shops["water"].id, "quantity": 11},
             {"product_id": shops["chips"].id, "quantity": 5}]  # fmt: skip
    draft = _created(shops, lines=lines)
    movements = _counts(harness)[2]
    refused = shops["a_manager"].post(f"{URL}/{draft['id']}/send")
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["code"] == "stock.insufficient"
    assert problem["details"]["items"] == [
        {"product_id": shops["water"].id, "name": shops["water"].name, "on_hand": 10,
         "requested": 11}
    ]  # fmt: skip
    assert shops["water"].name in problem["message"]
    assert _counts(harness)[2] == movements
    assert _on_hand(harness, shops["a"], shops["water"]) == 10
    assert shops["a_manager"].get(f"{URL}/{draft['id']}").json()["status"] == "draft"

    _set_negative_stock(harness, "warn")
    sent = shops["a_manager"].post(f"{URL}/{draft['id']}/send")
    assert sent.status_code == 200, sent.text
    assert sent.json()["stock_warnings"] == [
        {"product_id": shops["water"].id, "name": shops["water"].name, "on_hand": -1}
    ]
    assert _on_hand(harness, shops["a"], shops["water"]) == -1


@BOTH
def test_the_office_pages_create_send_and_receive_a_transfer(harness: AppHarness) -> None:
    shops = _shops(harness)
    a, b = shops["a_manager"], shops["b_manager"]
    csrf = {"csrf_token": a.headers["X-CSRF-Token"]}
    assert a.get("/office/transfers").status_code == 200
    form = a.get("/office/transfers/new")
    assert form.status_code == 200 and shops["b"].name in form.text
    bad = a.post("/office/transfers/new", data={
        **csrf, "to_store_id": str(shops["b"].id), "lines": "NOPE 2"})  # fmt: skip
    assert bad.status_code == 404 and "NOPE" in bad.text
    made = a.post("/office/transfers/new", data={
        **csrf, "client_uuid": str(uuid.uuid4()), "from_store_id": str(shops["a"].id),
        "to_store_id": str(shops["b"].id),
        "lines": f"{shops['water'].sku} 2\n\n{shops['water'].sku} 1\n{shops['chips'].sku}",
        "note": "周末补货"})  # fmt: skip
    assert made.status_code == 303, made.text
    path = made.headers["location"].split("?")[0]
    detail = a.get(path)
    assert detail.status_code == 200 and 'id="send"' in detail.text
    assert 'id="receive"' not in detail.text
    assert a.post(f"{path}/send", data=csrf).status_code == 303
    assert _on_hand(harness, shops["a"], shops["water"]) == 7
    b_csrf = {"csrf_token": b.headers["X-CSRF-Token"]}
    page = b.get(path)
    assert 'id="receive"' in page.text and 'id="send"' not in page.text
    view = a.get(f"{URL}/{path.rsplit('/', 1)[1]}").json()
    ids = [str(x["product_id"]) for x in view["lines"]]
    counts = {str(shops["water"].id): "2", str(shops["chips"].id): "1"}
    refused = b.post(f"{path}/receive", data={
        **b_csrf, "product_id": ids, "received": ["x"] * len(ids)})  # fmt: skip
    assert refused.status_code == 422
    done = b.post(f"{path}/receive", data={
        **b_csrf, "product_id": ids, "received": [counts[i] for i in ids]})  # fmt: skip
    assert done.status_code == 303, done.text
    final = b.get(path)
    assert 'id="shortfall"' in final.text
    assert _on_hand(harness, shops["b"], shops["water"]) == 2
    assert shops["c_manager"].get(path).status_code == 404
