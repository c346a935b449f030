"""The loyalty set-up over REST: tiers, promotions, settings, and who may change them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
HALF_PRICE = {"name": "第二件半价", "kind": "nth_discount", "params": {"n": 2, "percent_off": 5000}}


def tiers_of(client: Any) -> dict[str, dict[str, Any]]:
    return {t["code"]: t for t in client.get("/api/v1/tiers").json()}


@BOTH
def test_marketer_sets_up_tiers(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_marketer"))
    created = client.post("/api/v1/tiers", json={
        "code": "platinum", "name": "白金", "rank": 4, "threshold": 5_000_000,
        "discount_bp": 2500, "points_multiplier": 300,
    })  # fmt: skip
    assert created.status_code == 201, created.text
    gold = tiers_of(client)["gold"]
    changed = client.patch(f"/api/v1/tiers/{gold['id']}", json={"discount_bp": 2200})
    assert changed.status_code == 200 and changed.json()["discount_bp"] == 2200
    clash = client.post("/api/v1/tiers", json={"code": "gold", "name": "x", "rank": 9,
                                               "threshold": 9_000_000})  # fmt: skip
    assert clash.status_code == 409 and clash.json()["code"] == "tier.code_exists"
    bad = client.patch(f"/api/v1/tiers/{gold['id']}", json={"threshold": 1})
    assert bad.status_code == 422 and bad.json()["code"] == "tier.order_invalid"
    assert tiers_of(client)["gold"]["threshold"] == gold["threshold"]


def test_tier_fields_are_bounded(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_admin"))
    base = {"code": "vip", "name": "贵宾", "rank": 8, "threshold": 8_000_000}
    for extra in ({"discount_bp": 9001}, {"points_multiplier": 1001}, {"rank": "8"},
                  {"threshold": -1}, {"colour": "red"}):  # fmt: skip
        response = client.post("/api/v1/tiers", json=base | extra)
        assert response.status_code == 422, extra
    assert "vip" not in tiers_of(client)


@BOTH
def test_marketer_runs_a_promotion_from_create_to_deactivate(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_marketer"))
    created = client.post("/api/v1/promotions", json=HALF_PRICE | {
        "weekdays": [6, 7], "start_minute": 540, "end_minute": 1320,
        "valid_from": "2026-01-01T00:00:00+08:00", "valid_to": "2099-01-01T00:00:00+08:00",
    })  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "active" and body["valid_from"].startswith("2025-12-31T16:00")
    promotion_id = body["id"]
    active = client.get("/api/v1/promotions", params={"status": "active"}).json()
    assert promotion_id in [p["id"] for p in active["items"]]
    bad = client.patch(f"/api/v1/promotions/{promotion_id}", json={"params": {"n": 2}})
    assert bad.status_code == 422 and bad.json()["code"] == "promotion.params_invalid"
    cleared = client.patch(f"/api/v1/promotions/{promotion_id}",
                           json={"start_minute": None, "end_minute": None})  # fmt: skip
    assert cleared.json()["start_minute"] is None
    off = client.post(f"/api/v1/promotions/{promotion_id}/deactivate")
    assert off.status_code == 200 and off.json()["status"] == "inactive"
    assert client.get(f"/api/v1/promotions/{promotion_id}").json()["active"] is False


def test_naive_times_and_unknown_promotions_are_refused(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_admin"))
    naive = client.post("/api/v1/promotions", json=HALF_PRICE | {"valid_from": "2026-01-01T00:00"})
    assert naive.status_code == 422
    for window in (
        {"valid_to": "9999-12-31T23:00:00-05:00"},  # year 10000 in UTC
        {"valid_from": "0001-01-01T00:00:00+08:00"},  # year 0 in UTC
    ):
        far = client.post("/api/v1/promotions", json=HALF_PRICE | window)
        assert far.status_code == 422 and far.json()["code"] == "promotion.dates_invalid", window
        made = client.post("/api/v1/promotions", json=HALF_PRICE | {"name": "x"})
        patched = client.patch(f"/api/v1/promotions/{made.json()['id']}", json=window)
        assert patched.status_code == 422 and patched.json()["code"] == "promotion.dates_invalid"
    assert client.get("/api/v1/promotions/999999").status_code == 404
    assert client.patch("/api/v1/promotions/999999", json={"priority": 1}).status_code == 404


@BOTH
def test_settings_read_and_change(harness: AppHarness) -> None:
    client = harness.client(harness.user("hq_marketer"))
    assert client.get("/api/v1/loyalty/settings").json()["redeem_cap_percent"] == 50
    changed = client.put("/api/v1/loyalty/settings", json={"redeem_cap_percent": 40})
    assert changed.status_code == 200 and changed.json()["redeem_cap_percent"] == 40
    assert changed.json()["earn_fen_per_point"] == 1000
    for bad in ({"redeem_cap_percent": 101}, {"points_expiry": "soon"}, {"nope": 1},
                {"redeem_cap_percent": "40"}):  # fmt: skip
        assert client.put("/api/v1/loyalty/settings", json=bad).status_code == 422, bad
    assert client.get("/api/v1/loyalty/settings").json()["redeem_cap_percent"] == 40


def test_a_cashier_reads_but_cannot_change_the_set_up(harness: AppHarness) -> None:
    admin = harness.client(harness.user("hq_admin"))
    promotion_id = admin.post("/api/v1/promotions", json=HALF_PRICE).json()["id"]
    gold_id = tiers_of(admin)["gold"]["id"]
    cashier = harness.client(harness.user("cashier"))
    assert cashier.get("/api/v1/tiers").status_code == 200
    assert cashier.get("/api/v1/promotions").status_code == 200
    assert cashier.get("/api/v1/loyalty/settings").status_code == 200
    refused = [
        cashier.post("/api/v1/tiers", json={"code": "x", "name": "x", "rank": 9, "threshold": 9}),
        cashier.patch(f"/api/v1/tiers/{gold_id}", json={"discount_bp": 9000}),
        cashier.post("/api/v1/promotions", json=HALF_PRICE),
        cashier.patch(f"/api/v1/promotions/{promotion_id}", json={"priority": 5}),
        cashier.post(f"/api/v1/promotions/{promotion_id}/deactivate"),
        cashier.put("/api/v1/loyalty/settings", json={"redeem_cap_percent": 100}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert tiers_of(admin)["gold"]["discount_bp"] == 2000
    assert admin.get("/api/v1/loyalty/settings").json()["redeem_cap_percent"] == 50
