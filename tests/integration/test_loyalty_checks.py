"""`shouyin check ledgers` catches every way a loyalty balance can drift from its ledger, and
names the member; `shouyin loyalty ...` runs the nightly jobs by hand."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from shouyin.cli import app
from shouyin.config import get_settings
from shouyin.db import Database
from shouyin.loyalty.models import Coupon, LedgerEntry, MemberAccount, PointsLot, Tier
from shouyin.ops import checks
from shouyin.shared.clock import utcnow
from tests.integration.test_loyalty_merge import coupon_for
from tests.integration.test_points_ops import earn, register

LOYALTY_CHECKS = (
    checks.check_loyalty_balances,
    checks.check_points_lots,
    checks.check_loyalty_negative,
    checks.check_coupons,
)


def results(session: Session) -> dict[str, checks.CheckResult]:
    found = [check(session) for check in LOYALTY_CHECKS]
    return {result.name: result for result in found}


def test_consistent_accounts_pass_every_check(session: Session) -> None:
    member_id = register(session)
    earn(session, member_id, points=50, growth=10_000, sv=3_000, expires_on=date(2027, 1, 1))
    coupon_for(session, member_id)
    assert all(result.ok for result in results(session).values()), results(session)


@pytest.mark.parametrize(
    ("column", "check"),
    [
        ("points", "loyalty_balances"),
        ("growth", "loyalty_balances"),
        ("sv_principal", "loyalty_balances"),
        ("sv_bonus", "loyalty_balances"),
    ],
)
def test_a_balance_that_differs_from_its_ledger_fails_naming_the_member(
    session: Session, column: str, check: str
) -> None:
    fine, broken = register(session), register(session)
    for member_id in (fine, broken):
        earn(session, member_id, points=50, growth=10_000, sv=3_000, expires_on=date(2027, 1, 1))
    session.execute(
        update(MemberAccount)
        .where(MemberAccount.member_id == broken)
        .values({column: getattr(MemberAccount, column) + 7})
    )
    result = results(session)[check]
    assert not result.ok
    assert f"member {broken}:" in result.detail and f"member {fine}:" not in result.detail
    assert column in result.detail


def test_points_that_differ_from_their_lots_fail(session: Session) -> None:
    member_id = register(session)
    earn(session, member_id, points=50, expires_on=date(2027, 1, 1))
    session.execute(update(PointsLot).where(PointsLot.member_id == member_id).values(remaining=49))
    found = results(session)
    assert not found["points_lots"].ok and f"member {member_id}:" in found["points_lots"].detail
    assert found["loyalty_balances"].ok


def test_negative_balances_and_lots_fail(session: Session) -> None:
    member_id = register(session)
    earn(session, member_id, points=5, expires_on=date(2027, 1, 1))
    session.execute(update(PointsLot).where(PointsLot.member_id == member_id).values(remaining=-1))
    session.execute(
        update(MemberAccount).where(MemberAccount.member_id == member_id).values(points=-1)
    )
    session.add(LedgerEntry(member_id=member_id, at=utcnow(), kind="adjust", points=-6))
    session.flush()
    found = results(session)
    assert not found["loyalty_negative"].ok
    assert f"member {member_id}: a balance below zero" in found["loyalty_negative"].detail
    assert "lot" in found["loyalty_negative"].detail


def test_ledger_rows_without_an_account_fail(session: Session) -> None:
    member_id = register(session)
    session.execute(delete(MemberAccount).where(MemberAccount.member_id == member_id))
    session.add(LedgerEntry(member_id=member_id, at=utcnow(), kind="adjust", points=3))
    session.flush()
    found = results(session)["loyalty_balances"]
    assert not found.ok and f"member {member_id}: ledger rows but no account" in found.detail


def test_a_redeemed_coupon_without_an_order_fails_and_so_does_an_issued_one_with_one(
    session: Session,
) -> None:
    member_id = register(session)
    redeemed = coupon_for(session, member_id)
    session.execute(update(Coupon).where(Coupon.id == redeemed).values(status="redeemed"))
    found = results(session)["coupons"]
    code = session.scalars(select(Coupon.code).where(Coupon.id == redeemed)).one()
    assert not found.ok and code in found.detail
    session.execute(update(Coupon).where(Coupon.id == redeemed).values(status="issued"))
    assert results(session)["coupons"].ok


# --- the commands, on a SQLite file of their own ------------------------------------------


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'var' / 'shouyin.db'}"
    monkeypatch.setenv("SHOUYIN_DATABASE_URL", url)
    monkeypatch.setenv("SHOUYIN_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    assert _run("db", "upgrade")[0] == 0
    db = Database.from_url(url)
    yield db
    db.dispose()
    get_settings.cache_clear()


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, " ".join(result.output.split())  # rich wraps at 80 columns


def test_check_ledgers_exits_non_zero_and_names_the_member(shop: Database) -> None:
    with shop.write() as session:
        member_id = register(session)
        earn(session, member_id, points=20, expires_on=date(2027, 1, 1))
    code, output = _run("check", "ledgers")
    assert code == 0 and "All checks passed" in output, output
    with shop.write() as session:
        session.execute(
            update(MemberAccount).where(MemberAccount.member_id == member_id).values(points=25)
        )
    code, output = _run("check", "ledgers")
    assert code == 1 and "loyalty_balances" in output and "points_lots" in output, output
    assert f"member {member_id}:" in output


def test_the_loyalty_commands_expire_points_and_review_tiers(shop: Database) -> None:
    with shop.write() as session:
        member_id = register(session)
        earn(session, member_id, points=30, expires_on=date(2026, 1, 31))
        gold = session.scalars(select(Tier.id).where(Tier.code == "gold")).one()
        session.execute(
            update(MemberAccount).where(MemberAccount.member_id == member_id).values(tier_id=gold)
        )
    code, output = _run("loyalty", "expire-points", "--today", "2026-02-01")
    assert code == 0 and "Expired 30 points of 1 members" in output, output
    code, output = _run("loyalty", "expire-points", "--today", "2026-02-01")
    assert code == 0 and "Expired 0 points of 0 members" in output, output
    code, output = _run("loyalty", "review-tiers", "--today", "2026-02-02")
    assert code == 0 and "not the tier review day" in output, output
    code, output = _run("loyalty", "review-tiers", "--today", "2026-02-02", "--force")
    assert code == 0 and "1 moved down" in output, output
    code, output = _run("loyalty", "review-tiers", "--today", "someday")
    assert code == 2 and "YYYY-MM-DD" in output
    with shop.read() as session:
        account = session.get(MemberAccount, member_id)
        assert account is not None and account.points == 0 and account.tier_id != gold
    assert _run("check", "ledgers")[0] == 0
