"""`shouyin bench checkout-loyalty` end to end, tiny: its output, and loyalty on every order.

No timing assertions: speed targets are the bench's business, not the tests'.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from shouyin.bench import checkout
from shouyin.cli import app
from shouyin.db import Database
from shouyin.loyalty.models import Coupon, LedgerEntry, MemberAccount, PointsLot
from shouyin.sales.models import Order, Payment
from tests.integration.test_bench_checkout import METRICS

ORDERS, WARMUP = 40, 10


def _kept_sqlite(output: str) -> Path:
    """The bench database that --keep left behind (named on stderr)."""
    text = "".join(output.split())  # rich may wrap a long path
    found = re.search(r"Keptthebenchdatabase\(serverlogbesideit\):(\S+?bench\.db)", text)
    assert found, output
    return Path(found.group(1))


def test_bench_checkout_loyalty_prints_every_metric_and_sells_to_members(
    configured_url: str, backend: str
) -> None:
    args = ["bench", "checkout-loyalty", "--orders", str(ORDERS), "--concurrency", "4"]
    args += ["--products", "40", "--members", "12", "--warmup", str(WARMUP), "--keep"]
    result = CliRunner().invoke(app, args)
    if backend == "sqlite":
        kept = _kept_sqlite(result.output)
        url = f"sqlite:///{kept}"
    else:
        kept, url = None, configured_url

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert [line["metric"] for line in lines] == list(METRICS)
    for line in lines:
        assert set(line) == {"bench", "metric", "value", "unit"}
        assert line["bench"] == "checkout-loyalty"
        assert line["unit"] == METRICS[line["metric"]]
    values = {line["metric"]: line["value"] for line in lines}
    assert values["errors"] == 0 and values["non_2xx"] == 0
    assert values["statements_per_order"] > 0
    assert values["orders_per_s"] > 0 and values["p99_ms"] >= values["p50_ms"] > 0
    try:
        _check_every_order_carries_loyalty(url)
    finally:
        if kept is not None:
            shutil.rmtree(kept.parent, ignore_errors=True)


def _check_every_order_carries_loyalty(url: str) -> None:
    db = Database.from_url(url)
    try:
        with db.read() as session:
            orders = session.execute(select(Order.id, Order.member_id, Order.steps)).all()
            redeemed = session.scalar(
                select(func.count()).select_from(Coupon).where(Coupon.status == "redeemed")
            )
            sales = session.scalar(
                select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "sale")
            )
            accounts = session.execute(
                select(MemberAccount.member_id, MemberAccount.points, MemberAccount.sv_principal)
            ).all()
            card_payments = session.scalar(
                select(func.count()).select_from(Payment).where(Payment.method == "stored_value")
            )
            lots = dict(
                session.execute(
                    select(PointsLot.member_id, func.sum(PointsLot.remaining)).group_by(
                        PointsLot.member_id
                    )
                ).all()
            )
    finally:
        db.dispose()
    assert len(orders) == ORDERS + WARMUP
    assert all(member_id is not None for _, member_id, _ in orders)
    kinds = [{step["kind"] for step in steps} for _, _, steps in orders]
    assert all("tier_discount" in k for k in kinds)  # every order: 金卡
    assert sum("item_promotion" in k or "order_promotion" in k for k in kinds) >= len(orders) // 2
    with_coupon = sum("coupon" in k for k in kinds)
    assert with_coupon == (ORDERS + WARMUP + 1) // 2 == redeemed
    assert sum("points" in k for k in kinds) == with_coupon
    assert sales == len(orders)
    assert card_payments == (ORDERS + WARMUP + 3) // 4  # every fourth order
    for member_id, points, sv_principal in accounts:
        assert points == lots.get(member_id, 0) and points >= 0 and sv_principal >= 0


@pytest.mark.usefixtures("default_settings")
def test_a_refused_first_order_fails_the_bench_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checkout, "ORDERS_PATH", "/api/v1/no-such-endpoint")
    args = ["bench", "checkout-loyalty", "--orders", "5", "--products", "10", "--members", "3"]
    result = CliRunner().invoke(app, args)

    assert result.exit_code == 1
    assert "first order was answered 404" in " ".join(result.output.split())
    assert result.stdout == ""
