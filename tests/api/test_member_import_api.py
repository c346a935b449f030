"""POST /api/v1/members/import: managers upload member files, cashiers may not."""

from __future__ import annotations

import json

from tests import factories
from tests.conftest import AppHarness

CSV = "客户名,联系电话,性别\n张三,13812345678,男\n李四,12345,女\n张三丰,13812345678,\n"


def test_a_manager_uploads_a_gbk_file_with_a_column_mapping(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    manager = harness.client(harness.user("store_manager", store))
    response = manager.post(
        "/api/v1/members/import",
        files={"file": ("members.csv", CSV.encode("gbk"), "text/csv")},
        data={"mapping": json.dumps({"客户名": "name", "联系电话": "mobile"})},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["rows"], body["created"]) == (3, 1)
    assert [(e["row"], e["code"]) for e in body["errors"]] == [(3, "member.mobile_invalid")]
    assert [(d["row"], d["code"]) for d in body["skipped_duplicates"]] == [
        (4, "member.import_duplicate")
    ]
    found = manager.get("/api/v1/members/lookup", params={"q": "13812345678"}).json()
    assert [(m["name"], m["store_id"]) for m in found] == [("张三", store.id)]


def test_a_file_in_an_unknown_encoding_is_refused(harness: AppHarness) -> None:
    manager = harness.client(harness.user("store_manager"))
    response = manager.post(
        "/api/v1/members/import",
        files={"file": ("m.csv", "mobile,name\n13812345678,Zoë\n".encode("latin-1"), "text/csv")},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "member.import_encoding"


def test_a_cashier_may_not_bulk_load_members(harness: AppHarness) -> None:
    cashier = harness.client(harness.user("cashier"))
    response = cashier.post(
        "/api/v1/members/import",
        files={"file": ("m.csv", b"mobile,name\n13812345678,Li\n", "text/csv")},
    )
    assert response.status_code == 403
    assert cashier.get("/api/v1/members/lookup", params={"q": "13812345678"}).json() == []
