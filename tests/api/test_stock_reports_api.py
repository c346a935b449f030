"""Stock reports through HTTP on both databases: JSON pages, the CSV and Excel exports (every
row, a BOM, a named attachment), bad periods, rights, and the office page."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from shouyin.inventory.purchasing_models import StockCost
from shouyin.shared.clock import business_date, utcnow
from tests import factories
from tests.conftest import AppHarness

BOTH = pytest.mark.parametrize("app_backend", ["sqlite", "postgresql"], indirect=True)
URL = "/api/v1/stock-reports"


def _shop(harness: AppHarness) -> dict[str, Any]:
    def build(session: Any) -> dict[str, Any]:
        a, b = (
            factories.make_store(session, shift=False),
            factories.make_store(session, shift=False),
        )
        drinks = factories.make_category(session)
        cola = factories.make_product(session, name="可口可乐", category=drinks, stock={a.id: 28})
        session.add(StockCost(store_id=a.id, product_id=cola.id, unit_cost_milli=275_000,
                              updated_at=utcnow()))  # fmt: skip
        others = [factories.make_product(session, category=drinks, stock={a.id: 1})
                  for _ in range(3)]  # fmt: skip
        return {"a": a, "b": b, "drinks": drinks, "cola": cola, "others": others}

    shop: dict[str, Any] = harness.write(build)
    shop["manager"] = harness.client(harness.user("store_manager", shop["a"]))
    shop["hq"] = harness.client(harness.user("hq_admin"))
    return shop


@BOTH
def test_json_pages_and_a_csv_export_with_every_row(harness: AppHarness) -> None:
    shop = _shop(harness)
    page = shop["manager"].get(f"{URL}/valuation", params={"limit": 2, "offset": 0})
    assert page.status_code == 200, page.text
    body = page.json()
    assert (body["store_id"], body["total"], len(body["items"])) == (shop["a"].id, 4, 2)
    assert body["items"][0]["product_id"] == shop["cola"].id  # the highest value first
    assert (body["summary"]["value"], body["summary"]["unknown_cost"]) == (7700, 3)
    exported = shop["manager"].get(f"{URL}/valuation", params={"format": "csv", "limit": 1})
    assert exported.status_code == 200
    assert exported.content.startswith(b"\xef\xbb\xbf")
    day = f"{business_date(utcnow(), 'Asia/Shanghai', 0):%Y%m%d}"
    assert exported.headers["content-disposition"] == (
        f'attachment; filename="stock-valuation-store-{shop["a"].id}-{day}.csv"')  # fmt: skip
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + 4  # the header and every row, whatever the limit
    cola = next(r for r in rows if r[2] == "可口可乐")
    assert cola[1] == shop["cola"].sku and cola[-3:] == ["28", "2.7500", "77.00"]
    assert rows[0][:3] == ["门店", "编码", "商品"]


@BOTH
def test_an_excel_export_of_slow_movers(harness: AppHarness) -> None:
    shop = _shop(harness)
    exported = shop["hq"].get(
        f"{URL}/slow-movers",
        params={"format": "xlsx", "store_id": shop["a"].id, "category_id": shop["drinks"].id,
                "days": 7},
    )  # fmt: skip
    assert exported.status_code == 200, exported.text
    assert re.fullmatch(r'attachment; filename="stock-slow-movers-store-\d+-\d{8}\.xlsx"',
                        exported.headers["content-disposition"])  # fmt: skip
    sheet = load_workbook(io.BytesIO(exported.content)).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert len(rows) == 5
    cola = next(r for r in rows if r[1] == shop["cola"].sku)
    assert cola[2:] == ["可口可乐", shop["drinks"].name, "个", "28", "从未售出", "77.00"]


@BOTH
def test_bad_periods_are_a_clear_422(harness: AppHarness) -> None:
    shop = _shop(harness)
    today = business_date(utcnow(), "Asia/Shanghai", 0)
    reversed_ = shop["hq"].get(
        f"{URL}/turnover", params={"from": str(today), "to": str(today - timedelta(days=1))}
    )
    assert reversed_.status_code == 422
    assert reversed_.json()["code"] == "stock_report.period_reversed"
    too_long = shop["hq"].get(f"{URL}/turnover", params={"from": "2024-01-01", "to": "2025-01-02"})
    assert (too_long.status_code, too_long.json()["code"]) == (422, "stock_report.period_too_long")
    assert shop["hq"].get(f"{URL}/turnover", params={"format": "pdf"}).status_code == 422
    assert shop["hq"].get(f"{URL}/everything").status_code == 422
    fine = shop["hq"].get(f"{URL}/turnover", params={"from": "2024-01-01", "to": "2024-12-31"})
    assert fine.status_code == 200, fine.text


@BOTH
def test_rights_and_stores(harness: AppHarness) -> None:
    shop = _shop(harness)
    other = shop["manager"].get(f"{URL}/negative", params={"store_id": shop["b"].id})
    assert (other.status_code, other.json()["code"]) == (403, "store.forbidden")
    export = shop["manager"].get(f"{URL}/negative", params={"store_id": shop["b"].id,
                                                           "format": "csv"})  # fmt: skip
    assert export.status_code == 403
    marketer = harness.client(harness.user("hq_marketer"))  # reports.read, not stock.read
    assert marketer.get(f"{URL}/valuation").status_code == 403
    cashier = harness.client(harness.user("cashier", shop["a"]))  # stock.read, not reports
    assert cashier.get(f"{URL}/valuation").status_code == 403
    assert harness.client().get(f"{URL}/valuation").status_code == 401
    assert shop["hq"].get(f"{URL}/valuation", params={"category_id": 2**31 - 1}).status_code == 404


def test_the_office_page_shows_each_report_and_its_errors(harness: AppHarness) -> None:
    shop = _shop(harness)
    for kind in ("valuation", "turnover", "slow-movers", "negative"):
        page = shop["manager"].get("/office/stock-reports", params={"kind": kind})
        assert page.status_code == 200, page.text
        assert f'href="/api/v1/stock-reports/{kind}?' in page.text
    valued = shop["hq"].get("/office/stock-reports", params={"store_id": shop["a"].id})
    assert "￥77.00" in valued.text and "可口可乐" in valued.text
    bad = shop["hq"].get("/office/stock-reports", params={"kind": "turnover", "from": "2024-02-01",
                                                          "to": "2024-01-01"})  # fmt: skip
    assert bad.status_code == 422 and 'data-code="stock_report.period_reversed"' in bad.text
