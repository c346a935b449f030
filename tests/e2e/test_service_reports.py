"""A store manager opens the service reports: the charts are drawn, the top words of the
customers' comments are there (a complaint handler may read them), and the satisfaction
trend downloads as Excel."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from shouyin.db import Database, make_engine
from shouyin.shared.clock import utcnow
from shouyin.stores.models import Store
from tests import factories
from tests.e2e.conftest import Seed
from tests.service_factories import make_answer, make_ticket

pytestmark = pytest.mark.e2e
SHOTS = Path(__file__).resolve().parents[2] / "test-results"  # looked at by hand


def _service_history(seed: Seed) -> None:
    """Answers and complaints of the last days in the manager's store."""
    db = Database(make_engine(seed.database_url, count_statements=False))
    try:
        with db.write() as session:
            store = session.get(Store, seed.store_id)
            assert store is not None
            cashier = factories.make_user(session, role="cashier", store=store)
            now = utcnow()
            for days, satisfaction, nps in ((5, 5, 10), (4, 4, 9), (3, 2, 4), (2, 1, 0), (1, 5, 8)):
                make_answer(session, store, cashier, now - timedelta(days=days, hours=1),
                            satisfaction=satisfaction, nps=nps,
                            tags=["long_queue"] if satisfaction < 3 else ["friendly_staff"],
                            comment="冰淇淋融化了" if satisfaction < 3 else None)  # fmt: skip
            for days, category, hours in ((4, "product", 2), (3, "service", 30), (1, "price", 5)):
                make_ticket(session, store, now - timedelta(days=days, hours=8), category=category,
                            responded_after=hours, resolved_after=hours + 3,
                            description="冰淇淋融化，要求退款")  # fmt: skip
    finally:
        db.dispose()


def test_a_manager_sees_the_charts_and_downloads_the_trend_as_excel(
    login: Callable[[str], Page], seed: Seed, tmp_path: Path
) -> None:
    _service_history(seed)
    page = login(seed.manager)
    page.goto("/office/service-reports")
    expect(page.locator("h1")).to_have_text("服务报表")
    expect(page.locator("[data-stat=answers]")).not_to_have_text("0")
    expect(page.locator("[data-stat=complaints]")).not_to_have_text("0")
    for chart in ("feedback", "categories", "stores", "times"):
        expect(page.locator(f"#chart-{chart} canvas")).to_have_count(1)
    expect(page.locator("#top-words li[data-word='冰淇淋']")).to_be_visible()
    expect(page.locator("select[name=store_id]")).to_have_count(0)  # their own store only
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "service-reports.png"), full_page=True)

    page.select_option("select[name=group]", "week")
    page.click("#report-filters button[type=submit]")
    expect(page).to_have_url(re.compile(r"group=week"))
    expect(page.locator("#chart-feedback canvas")).to_have_count(1)

    with page.expect_download() as download_info:
        page.click("[data-export=feedback-trend] a[data-format=xlsx]")
    download = download_info.value
    assert re.fullmatch(r"service-feedback-trend-store-\d+-\d{8}-\d{8}\.xlsx",
                        download.suggested_filename)  # fmt: skip
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    sheet = load_workbook(target).active
    assert sheet is not None
    rows = [[cell.value for cell in line] for line in sheet.iter_rows()]
    assert rows[0][:4] == ["期间", "答卷数", "平均满意度", "NPS 评分数"]
    assert sum(int(str(r[1])) for r in rows[1:]) >= 5


def test_head_office_picks_a_store_in_english(login: Callable[[str], Page], seed: Seed) -> None:
    _service_history(seed)
    page = login(seed.admin)
    page.goto("/office/service-reports")
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Service reports")
    page.select_option("select[name=store_id]", str(seed.store_id))
    page.select_option("select[name=group]", "month")
    page.click("#report-filters button[type=submit]")
    expect(page).to_have_url(re.compile(rf"store_id={seed.store_id}"))
    expect(page.locator("#complaint-stores tbody tr")).to_have_count(1)
    expect(page.locator(f"#complaint-stores tr[data-store='{seed.store_id}']")).to_be_visible()
    expect(page.locator("#chart-times canvas")).to_have_count(1)
    expect(page.locator("#top-words")).to_contain_text("Top words")
    page.screenshot(path=str(SHOTS / "service-reports-en.png"), full_page=True)
    page.get_by_role("link", name="中文").click()
    expect(page.locator("h1")).to_have_text("服务报表")
