"""/office/members/import: managers upload a member file through the page, cashiers may not."""

from __future__ import annotations

from tests import factories
from tests.conftest import AppHarness

CSV = (
    "客户名,手机,性别\n张三,13812345678,男\n李四,12345,女\n张三丰,13812345678,\n王五,13987654321,\n"
)
TOKEN_FIELD = 'name="csrf_token" value="'


def test_a_manager_imports_members_through_the_page(harness: AppHarness) -> None:
    store = harness.write(factories.make_store)
    manager = harness.client(harness.user("store_manager", store))
    assert 'href="/office/members/import"' in manager.get("/office/members").text
    page = manager.get("/office/members/import")
    assert page.status_code == 200 and 'name="mapping"' in page.text
    assert 'data-testid="consent-note"' in page.text
    # A plain form post carries the CSRF token as a field, not a header.
    del manager.headers["X-CSRF-Token"]
    token = page.text.split(TOKEN_FIELD)[1].split('"')[0]
    response = manager.post(
        "/office/members/import",
        files={"file": ("members.csv", CSV.encode("utf-8"), "text/csv")},
        data={"csrf_token": token, "mapping": "客户名=name，手机=mobile"},
    )
    assert response.status_code == 200, response.text[:500]
    text = response.text
    assert "data-created>2<" in text and "data-duplicates>1<" in text
    assert "data-errors>1<" in text
    errors = text.split('id="import-errors"')[1].split("</table>")[0]
    assert ">3<" in errors and "手机号" in errors  # the row and its reason, in Chinese
    duplicates = text.split('id="import-duplicates"')[1].split("</table>")[0]
    assert ">4<" in duplicates and "138****5678" in duplicates
    assert "13812345678" not in text
    found = manager.get("/api/v1/members/lookup", params={"q": "13812345678"}).json()
    assert [m["name"] for m in found] == ["张三"]
    found = manager.get("/api/v1/members/lookup", params={"q": "13987654321"}).json()
    assert [m["name"] for m in found] == ["王五"]


def test_a_post_without_the_csrf_token_is_refused(harness: AppHarness) -> None:
    manager = harness.client(harness.user("store_manager"))
    del manager.headers["X-CSRF-Token"]
    response = manager.post(
        "/office/members/import",
        files={"file": ("m.csv", b"mobile,name\n13812345678,Li\n", "text/csv")},
    )
    assert response.status_code == 403


def test_a_bad_mapping_or_a_missing_file_is_shown(harness: AppHarness) -> None:
    manager = harness.client(harness.user("store_manager"))
    bad = manager.post(
        "/office/members/import",
        files={"file": ("m.csv", b"mobile,name\n13812345678,Li\n", "text/csv")},
        data={"mapping": "no equals sign"},
    )
    assert bad.status_code == 422 and 'data-code="member.import_mapping_format"' in bad.text
    missing = manager.post("/office/members/import", data={"mapping": ""})
    assert missing.status_code in (400, 422)
    assert manager.get("/api/v1/members/lookup", params={"q": "13812345678"}).json() == []


def test_a_cashier_may_not_open_or_post_the_import_page(harness: AppHarness) -> None:
    cashier = harness.client(harness.user("cashier"))
    assert 'href="/office/members/import"' not in cashier.get("/office/members").text
    assert cashier.get("/office/members/import").status_code == 403
    response = cashier.post(
        "/office/members/import",
        files={"file": ("m.csv", b"mobile,name\n13812345678,Li\n", "text/csv")},
    )
    assert response.status_code == 403
    assert cashier.get("/api/v1/members/lookup", params={"q": "13812345678"}).json() == []
