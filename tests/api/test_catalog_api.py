"""Catalog over HTTP: permissions, the till's lookup, import and export, and the pages."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import load_workbook

from shouyin.catalog.models import Product
from tests import factories
from tests.conftest import AppHarness

COKE = "6901234567892"
WATER = "6921168509256"


def _product(harness: AppHarness, **kw: Any) -> Product:
    product: Product = harness.write(lambda s: factories.make_product(s, **kw))
    return product


def test_cashier_can_search_and_look_up_but_not_change(harness: AppHarness) -> None:
    product = _product(harness, name="可口可乐330ml", barcode=COKE, price=350)
    cashier = harness.client(harness.user("cashier"))
    found = cashier.get("/api/v1/products/lookup", params={"code": COKE})
    assert found.status_code == 200, found.text
    body = found.json()
    assert (body["id"], body["price"], body["barcodes"]) == (product.id, 350, [COKE])
    assert cashier.get("/api/v1/products", params={"q": "可乐"}).json()["total"] == 1
    created = cashier.post("/api/v1/products", json={"sku": "X1", "name": "x", "price": 1})
    assert created.status_code == 403 and created.json()["code"] == "auth.permission_denied"
    patched = cashier.patch(f"/api/v1/products/{product.id}", json={"price": 1})
    assert patched.status_code == 403


def test_lookup_of_an_unknown_code_is_a_404_with_its_code(harness: AppHarness) -> None:
    client = harness.client(harness.user("cashier"))
    response = client.get("/api/v1/products/lookup", params={"code": "0000000"})
    assert response.status_code == 404
    assert response.json()["code"] == "catalog.code_unknown"


@pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
def test_manager_creates_updates_and_lists_products(harness: AppHarness) -> None:
    client = harness.client(harness.user("store_manager"))
    category = client.post("/api/v1/categories", json={"name": "饮料"}).json()
    created = client.post(
        "/api/v1/products",
        json={"sku": "NF550", "name": "农夫山泉", "category_id": category["id"], "unit": "瓶",
              "price": 200, "barcodes": [WATER]},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    product = created.json()
    assert (product["initials"], product["category_name"]) == ("nfsq", "饮料")
    page = client.get("/api/v1/products", params={"q": "nfsq", "limit": 10}).json()
    assert page["total"] == 1 and page["items"][0]["sku"] == "NF550" and page["limit"] == 10
    again = client.post("/api/v1/products", json={"sku": "NF550", "name": "x", "price": 1})
    assert again.status_code == 409 and again.json()["code"] == "catalog.sku_exists"
    patched = client.patch(f"/api/v1/products/{product['id']}", json={"price": 250})
    assert patched.json()["price"] == 250
    # PostgreSQL refuses NUL characters in queries: control characters are ignored instead.
    assert client.get("/api/v1/products", params={"q": "nf\x00"}).json()["total"] == 1
    nul = client.get("/api/v1/products/lookup", params={"code": "NF550\x00"})
    assert nul.status_code == 404
    in_use = client.delete(f"/api/v1/categories/{category['id']}")
    assert in_use.status_code == 409 and in_use.json()["code"] == "catalog.category_in_use"


def test_bad_input_is_refused_with_codes(harness: AppHarness) -> None:
    client = harness.client(harness.user("store_manager"))
    as_bool = client.post("/api/v1/products", json={"sku": "B1", "name": "x", "price": True})
    assert as_bool.status_code == 422 and as_bool.json()["code"] == "request.invalid"
    bad_code = client.post(
        "/api/v1/products",
        json={"sku": "B1", "name": "x", "price": 1, "barcodes": ["6901234567891"]},
    )
    assert bad_code.status_code == 422 and bad_code.json()["code"] == "catalog.barcode_invalid"
    missing = client.get("/api/v1/products/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "catalog.product_unknown"


def test_import_endpoint_reports_bad_rows_in_the_users_language(harness: AppHarness) -> None:
    client = harness.client(harness.user("store_manager"))
    data = f"编码,名称,售价,条码\nA1,苹果,1.50,\nA2,梨,abc,\nA3,桃,2,{COKE}\nA4,李,2,{COKE}\n"
    response = client.post(
        "/api/v1/products/import",
        files={"file": ("products.csv", data.encode("gb18030"), "text/csv")},
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["updated"]) == (2, 0)
    assert [(e["row"], e["sku"], e["code"]) for e in report["errors"]] == [
        (3, "A2", "catalog.price_invalid"),
        (5, "A4", "catalog.import_duplicate_barcode"),
    ]
    # zh_CN is the default language: the reasons come in Chinese.
    assert "价格" in report["errors"][0]["reason"]
    assert client.get("/api/v1/products/lookup", params={"code": COKE}).json()["sku"] == "A3"


def test_import_needs_write_permission_and_a_readable_file(harness: AppHarness) -> None:
    files = {"file": ("p.csv", b"sku,name,price_yuan\nA,b,1\n", "text/csv")}
    cashier = harness.client(harness.user("cashier"))
    assert cashier.post("/api/v1/products/import", files=files).status_code == 403
    manager = harness.client(harness.user("store_manager"))
    bad = manager.post("/api/v1/products/import", files={"file": ("p.csv", b"a,b\n1,2\n")})
    assert bad.status_code == 422 and bad.json()["code"] == "catalog.import_columns"


def test_export_as_csv_and_excel(harness: AppHarness) -> None:
    _product(harness, name="导出测试", barcode=COKE, price=1234)
    client = harness.client(harness.user("cashier"))
    csv_response = client.get("/api/v1/products/export", params={"format": "csv"})
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_response.headers["content-disposition"]
    lines = csv_response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "sku,name,category,unit,price_yuan,barcode,weighed,member_discount,active"
    assert any(",导出测试,,个,12.34," + COKE in line for line in lines)
    xlsx = client.get("/api/v1/products/export", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert any(row[1] == "导出测试" for row in sheet.iter_rows(values_only=True))
    assert client.get("/api/v1/products/export", params={"format": "pdf"}).status_code == 422


# --- pages --------------------------------------------------------------------------------


def test_products_page_lists_and_searches(harness: AppHarness) -> None:
    _product(harness, name="农夫山泉饮用天然水", barcode=WATER)
    _product(harness, name="可口可乐", barcode=COKE)
    client = harness.client(harness.user("store_manager"))
    page = client.get("/office/products")
    assert page.status_code == 200 and "农夫山泉饮用天然水" in page.text
    assert 'href="/office/products/new"' in page.text
    partial = client.get("/office/products", params={"q": COKE}, headers={"HX-Request": "true"})
    assert "可口可乐" in partial.text and "农夫山泉" not in partial.text
    assert "<html" not in partial.text
    restore = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    assert "<html" in client.get("/office/products", headers=restore).text


def test_pages_need_a_login(harness: AppHarness) -> None:
    for path in ("/office/products", "/office/products/new", "/office/categories"):
        response = harness.client().get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


def test_readers_see_no_edit_controls_and_cannot_post(harness: AppHarness) -> None:
    product = _product(harness, name="只读商品")
    cashier = harness.client(harness.user("cashier"))
    listing = cashier.get("/office/products").text
    assert "只读商品" in listing and "/office/products/new" not in listing
    form = cashier.get(f"/office/products/{product.id}").text
    assert "disabled" in form and 'type="submit"' not in form
    assert cashier.get("/office/products/new").status_code == 403
    posted = cashier.post(f"/office/products/{product.id}", data={"name": "x"})
    assert posted.status_code == 403


def test_product_form_creates_and_shows_errors_inline(harness: AppHarness) -> None:
    manager = harness.user("store_manager")
    client = harness.client(manager)
    secret_form = client.get("/office/products/new").text
    assert 'name="csrf_token"' in secret_form
    fields = {"sku": "F1", "name": "表单商品", "unit": "个", "price": "3.50", "barcodes": f"{COKE} 123456",
              "member_discount": "1", "active": "1"}  # fmt: skip
    # A plain form post carries the CSRF token as a field, not a header.
    del client.headers["X-CSRF-Token"]
    token = secret_form.split('name="csrf_token" value="')[1].split('"')[0]
    created = client.post("/office/products/new", data={**fields, "csrf_token": token})
    assert created.status_code == 303, created.text
    found = client.get("/api/v1/products/lookup", params={"code": "123456"}).json()
    assert (found["name"], found["price"], found["weighed"]) == ("表单商品", 350, False)
    bad = client.post(
        "/office/products/new", data={**fields, "sku": "F2", "barcodes": COKE, "csrf_token": token}
    )
    assert bad.status_code == 409 and 'data-code="catalog.barcode_exists"' in bad.text
    # The rejected form comes back as typed.
    assert 'value="F2"' in bad.text and 'value="表单商品"' in bad.text


def test_edit_form_updates_a_product(harness: AppHarness) -> None:
    product = _product(harness, name="旧名", price=100)
    client = harness.client(harness.user("store_manager"))
    saved = client.post(
        f"/office/products/{product.id}",
        data={"sku": product.sku, "name": "新名", "unit": "盒", "price": "1.20", "barcodes": ""},
    )
    assert saved.status_code == 303
    page = client.get(saved.headers["location"]).text
    assert 'value="新名"' in page and 'value="1.20"' in page
    bad_price = client.post(
        f"/office/products/{product.id}",
        data={"sku": product.sku, "name": "新名", "unit": "盒", "price": "1.234"},
    )
    assert bad_price.status_code == 422 and 'data-code="catalog.price_invalid"' in bad_price.text


def test_categories_page_adds_renames_and_deletes(harness: AppHarness) -> None:
    client = harness.client(harness.user("store_manager"))
    assert client.post("/office/categories", data={"name": "零食"}).status_code == 303
    page = client.get("/office/categories").text
    assert 'value="零食"' in page
    category_id = int(page.split('action="/office/categories/')[1].split('"')[0])
    assert (
        client.post(f"/office/categories/{category_id}", data={"name": "休闲零食"}).status_code
        == 303
    )
    duplicate = client.post("/office/categories", data={"name": "休闲零食"})
    assert duplicate.status_code == 409 and "catalog.category_exists" in duplicate.text
    assert client.post(f"/office/categories/{category_id}/delete").status_code == 303
    assert "休闲零食" not in client.get("/office/categories").text


def test_import_page_shows_the_report(harness: AppHarness) -> None:
    client = harness.client(harness.user("store_manager"))
    assert "<progress" in client.get("/office/products/import").text
    data = "sku,name,price_yuan\nP1,苹果,1\nP2,,1\n".encode()
    response = client.post(
        "/office/products/import",
        files={"file": ("p.csv", data, "text/csv")},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "data-created>1<" in response.text and "data-errors>1<" in response.text
    assert "<html" not in response.text
    empty = client.post("/office/products/import", files={"file": ("e.csv", b"", "text/csv")})
    assert empty.status_code == 422 and "catalog.import_empty" in empty.text
