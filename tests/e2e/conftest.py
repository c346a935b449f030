"""Browser tests: a live `shouyin serve` on a seeded SQLite database, driven by Chromium.

Run on their own: `.venv/bin/pytest -q -m e2e tests/e2e` (Playwright's sync fixtures and
async tests cannot share a pytest process). Debian's Chromium is used, never a downloaded one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from shouyin.catalog.models import Barcode
from shouyin.customers.models import Member
from shouyin.db import Database, make_engine
from shouyin.loyalty import ledger
from shouyin.loyalty.models import CouponTemplate, RechargeRule
from shouyin.migrations import runner
from shouyin.sales.models import Order
from shouyin.shared.clock import utcnow
from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SECRET = "e2e-secret-key-not-for-production"
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SeededProduct:
    id: int
    name: str
    barcode: str
    price: int  # fen; per kg when weighed
    weighed: bool = False


@dataclass
class Seed:
    """What the live server's database holds; every password is factories.PASSWORD."""

    url: str
    database_url: str
    store_id: int
    store_name: str
    cashier: str
    manager: str
    admin: str
    password: str
    products: dict[str, SeededProduct] = field(default_factory=dict)
    unknown_barcode: str = "6900000000000"
    # A second store whose one register has no open shift (tests/e2e/test_till_shift.py).
    shift_cashier: str = ""
    shift_manager: str = ""
    shift_product: SeededProduct | None = None
    day_store_id: int = 0
    day_cashier: str = ""
    day_manager: str = ""
    day_products: dict[str, SeededProduct] = field(default_factory=dict)

    def order_count(self) -> int:
        """Orders in the database, read directly (independent of the API under test)."""
        db = Database(make_engine(self.database_url, count_statements=False))
        try:
            with db.read() as session:
                return int(session.scalar(select(func.count()).select_from(Order)) or 0)
        finally:
            db.dispose()

    def fund_member(
        self, member_id: int, *, tier: str | None = None, points: int = 0,
        sv_principal: int = 0, sv_bonus: int = 0, growth: int = 0,
    ) -> None:  # fmt: skip
        """Give a member (registered through the API) a tier and balances, via the ledger."""
        db = Database(make_engine(self.database_url, count_statements=False))
        try:
            with db.write() as session:
                member = session.get(Member, member_id)
                assert member is not None
                factories.fund(
                    session, member, tier=tier, points=points, sv_principal=sv_principal,
                    sv_bonus=sv_bonus,
                )  # fmt: skip
                if growth:
                    change = ledger.Change(kind="adjust", growth=growth, reason="test")
                    ledger.post(
                        session.connection(), member_id=member_id, change=change, at=utcnow()
                    )
        finally:
            db.dispose()

    def issue_coupon(
        self, member_id: int, *, name: str, kind: str = "voucher", value: int = 1000,
        min_spend: int = 0, stackable: bool = False,
    ) -> str:  # fmt: skip
        """A coupon held by the member; returns its code (CP + 10 characters)."""
        db = Database(make_engine(self.database_url, count_statements=False))
        try:
            with db.write() as session:
                member = session.get(Member, member_id)
                coupon = factories.make_coupon(
                    session, member=member, kind=kind, value=value, min_spend=min_spend,
                    stackable=stackable,
                )  # fmt: skip
                template = session.get(CouponTemplate, coupon.template_id)
                assert template is not None
                template.name = name
                return coupon.code
        finally:
            db.dispose()

    def orders(self) -> list[dict[str, Any]]:
        db = Database(make_engine(self.database_url, count_statements=False))
        try:
            with db.read() as session:
                rows = session.execute(
                    select(
                        Order.id,
                        Order.number,
                        Order.total,
                        Order.paid,
                        Order.change,
                        Order.cashier_id,
                    ).order_by(Order.id)
                )
                return [row._asdict() for row in rows]
        finally:
            db.dispose()


# Products with fixed barcodes; prices in fen.
PRODUCTS: list[dict[str, Any]] = [
    {"key": "water", "name": "农夫山泉 550ml", "price": 200, "barcode": "6921168509256"},
    {"key": "cola", "name": "可口可乐 330ml", "price": 350, "barcode": "6928804011173"},
    {"key": "noodles", "name": "康师傅红烧牛肉面", "price": 450, "barcode": "6920152400013"},
    {"key": "chips", "name": "乐事薯片 原味 70g", "price": 790, "barcode": "6924743915770"},
    {"key": "tissue", "name": "清风抽纸 3包", "price": 1290, "barcode": "6922266446511"},
    {"key": "apples", "name": "红富士苹果", "price": 1180, "barcode": "2100001", "weighed": True},
]


# Loyalty: products in their own category, so the promotions below touch no other test's cart.
LOYALTY_PRODUCTS: list[dict[str, Any]] = [
    {"key": "yogurt", "name": "安慕希酸奶 205g", "price": 600, "barcode": "6923644266318"},
    {"key": "rice", "name": "福临门大米 5kg", "price": 4990, "barcode": "6921499090106"},
]
NTH_PROMOTION = "第二件半价"  # on the yogurt
ORDER_PROMOTION = "满50减5"  # on the category of the loyalty products
RECHARGE_RULE = "充100送10"


def _seed_loyalty(session: Any, store_id: int) -> dict[str, SeededProduct]:
    category = factories.make_category(session, "粮油乳品")
    seeded: dict[str, SeededProduct] = {}
    for spec in LOYALTY_PRODUCTS:
        product = factories.make_product(
            session, name=spec["name"], price=spec["price"], barcode=spec["barcode"],
            category=category, stock={store_id: 500},
        )  # fmt: skip
        seeded[spec["key"]] = SeededProduct(
            product.id, spec["name"], spec["barcode"], spec["price"]
        )
    factories.make_promotion(
        session, kind="nth_discount", params={"n": 2, "percent_off": 5000}, name=NTH_PROMOTION,
        scope="products", scope_ids=[seeded["yogurt"].id],
    )  # fmt: skip
    factories.make_promotion(
        session, kind="order_threshold", params={"tiers": [[5000, 500]]}, name=ORDER_PROMOTION,
        scope="categories", scope_ids=[category.id],
    )  # fmt: skip
    session.add(RechargeRule(name=RECHARGE_RULE, min_principal=10000, bonus=1000, active=True))
    session.flush()
    return seeded


def _seed_shift_store(session: Any) -> dict[str, Any]:
    """A store of its own whose register has no open shift: the till must ask for a float."""
    store = factories.make_store(session, shift=False)
    store.name = "交接班门店"  # not 测试门店N: tests pick the main store by its name
    product = factories.make_product(
        session, name="百岁山矿泉水 570ml", price=300, barcode="6922255451427",
        stock={store.id: 500},
    )  # fmt: skip
    return {
        "shift_cashier": factories.make_user(session, role="cashier", store=store).username,
        "shift_manager": factories.make_user(session, role="store_manager", store=store).username,
        "shift_product": SeededProduct(product.id, product.name, "6922255451427", 300),
    }


def _seed_day_store(session: Any) -> dict[str, Any]:
    """A store of its own for a whole day at one till (tests/e2e/test_full_shift.py): its
    register has no open shift and no Z report."""
    store = factories.make_store(session, shift=False)
    store.name = "整班门店"
    products = {}
    for key, name, price, code in (
        ("tea", "东方树叶 500ml", 500, "6921168593545"),
        ("bread", "桃李面包 150g", 850, "6936869200111"),
    ):
        made = factories.make_product(
            session, name=name, price=price, barcode=code, stock={store.id: 500}
        )
        products[key] = SeededProduct(made.id, name, code, price)
    return {
        "day_store_id": store.id,
        "day_cashier": factories.make_user(session, role="cashier", store=store).username,
        "day_manager": factories.make_user(session, role="store_manager", store=store).username,
        "day_products": products,
    }


def _seed(database_url: str, base_url: str) -> Seed:
    db = Database(make_engine(database_url, count_statements=False))
    try:
        with db.write() as session:
            store = factories.make_store(session)
            cashier = factories.make_user(session, role="cashier", store=store)
            manager = factories.make_user(session, role="store_manager", store=store)
            admin = factories.make_user(session, role="hq_admin")
            seeded: dict[str, SeededProduct] = {}
            for spec in PRODUCTS:
                weighed = bool(spec.get("weighed"))
                product = factories.make_product(
                    session, name=spec["name"], price=spec["price"], weighed=weighed,
                    barcode=None if weighed else spec["barcode"],
                    stock={store.id: 100_000 if weighed else 500},
                )  # fmt: skip
                if weighed:
                    # A PLU code for the loose fruit, as a shop would print on the scale list.
                    session.add(Barcode(code=spec["barcode"], product_id=product.id))
                    session.flush()
                seeded[spec["key"]] = SeededProduct(
                    product.id, spec["name"], spec["barcode"], spec["price"], weighed
                )
            seeded.update(_seed_loyalty(session, store.id))
            shift_store = _seed_shift_store(session)
            shift_store.update(_seed_day_store(session))
            return Seed(
                url=base_url, database_url=database_url, store_id=store.id,
                store_name=store.name, cashier=cashier.username, manager=manager.username,
                admin=admin.username, password=factories.PASSWORD, products=seeded,
                **shift_store,
            )  # fmt: skip
    finally:
        db.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"shouyin serve exited early:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"shouyin serve did not become healthy:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def live_server() -> Iterator[Seed]:
    folder = Path(tempfile.mkdtemp(prefix="shouyin-e2e-"))
    database_url = f"sqlite:///{folder / 'shouyin.db'}"
    engine = make_engine(database_url, count_statements=False)
    runner.upgrade(engine)
    engine.dispose()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    seed = _seed(database_url, url)
    env = {
        **os.environ,
        "SHOUYIN_DATABASE_URL": database_url,
        "SHOUYIN_SECRET_KEY": SECRET,
        "SHOUYIN_VAR_DIR": str(folder),
        "SHOUYIN_MODE": "test",
        "TMPDIR": str(folder),
    }
    log = folder / "server.log"
    command = [str(Path(sys.executable).parent / "shouyin"), "serve", "--host", "127.0.0.1",
               "--port", str(port)]  # fmt: skip
    with log.open("wb") as out:
        # cwd is the temp folder so that no stray .env file is read.
        process = subprocess.Popen(command, env=env, cwd=folder, stdout=out, stderr=out)
    try:
        _wait_healthy(url, process, log)
        yield seed
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def seed(live_server: Seed) -> Seed:
    return live_server


# --- pytest-playwright overrides (see TOOLCHAIN.md, "Browser tests") ---------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], live_server: Seed) -> dict[str, Any]:
    return {
        **browser_context_args,
        "viewport": {"width": 1366, "height": 768},
        "locale": "zh-CN",
        "base_url": live_server.url,
    }


@pytest.fixture
def login(page: Page, seed: Seed) -> Callable[[str], Page]:
    """Log in through the form as `username`; the page ends wherever the app sends it."""

    def do_login(username: str) -> Page:
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", seed.password)
        with page.expect_response(
            lambda r: r.url.endswith("/login") and r.request.method == "POST"
        ) as posted:
            page.click("button[type=submit]")
        assert posted.value.status == 303, f"login refused: {posted.value.status}"
        page.wait_for_load_state()
        expect(page.locator("input[name=username]")).to_have_count(0)
        return page

    return do_login


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.failed:
        return
    page = getattr(item, "funcargs", {}).get("page")
    if page is None:
        return
    folder = Path(item.config.rootpath) / "test-results"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=str(folder / f"{item.name}.png"), full_page=True)
    except Exception as exc:  # a crashed page must not hide the real failure
        report.sections.append(("screenshot", f"no screenshot: {exc}"))
