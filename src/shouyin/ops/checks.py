"""Consistency checks over the ledgers and the books (`shouyin check ledgers`, after restores).

Each check is one function returning a :class:`CheckResult`. The sums are done by the
database in one query per check, so the checks stay fast on years of orders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import ColumnElement, Select, Subquery, and_, func, or_, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from shouyin.audit import service as audit
from shouyin.inventory.models import StockLevel, StockMovement
from shouyin.loyalty.models import Coupon, LedgerEntry, MemberAccount, PointsLot
from shouyin.migrations import runner
from shouyin.sales.models import Order, OrderLine, Payment

EXAMPLES = 3  # how many offenders a failing check names


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def _examples(items: Sequence[object]) -> str:
    shown = ", ".join(str(item) for item in items[:EXAMPLES])
    return shown + (", ..." if len(items) > EXAMPLES else "")


def _count_and_examples(session: Session, query: Select[Any]) -> tuple[int, list[str]]:
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    examples = [str(x) for x in session.scalars(query.limit(EXAMPLES + 1))] if count else []
    return count, examples


def check_stock_levels(session: Session) -> CheckResult:
    """Every cached level equals the sum of its movements, and every ledger has a level."""
    sums = (
        select(
            StockMovement.store_id, StockMovement.product_id,
            func.sum(StockMovement.quantity).label("total"),
        )
        .group_by(StockMovement.store_id, StockMovement.product_id)
        .subquery()
    )  # fmt: skip
    joined = and_(
        sums.c.store_id == StockLevel.store_id, sums.c.product_id == StockLevel.product_id
    )
    wrong = select(StockLevel.store_id, StockLevel.product_id, StockLevel.on_hand, sums.c.total)
    wrong = wrong.outerjoin(sums, joined).where(
        StockLevel.on_hand != func.coalesce(sums.c.total, 0)
    )
    orphans = select(sums.c.store_id, sums.c.product_id, sums.c.total)
    orphans = orphans.outerjoin(StockLevel, joined).where(StockLevel.store_id.is_(None))
    bad = session.execute(wrong.order_by(StockLevel.store_id, StockLevel.product_id)).all()
    missing = session.execute(orphans.order_by(sums.c.store_id, sums.c.product_id)).all()
    problems = [
        f"store {r[0]} product {r[1]}: level {r[2]}, movements {r[3] or 0}" for r in bad
    ] + [f"store {r[0]} product {r[1]}: movements {r[2]}, no level row" for r in missing]
    if problems:
        return CheckResult(
            "stock_levels", False, f"{len(problems)} stock levels disagree: {_examples(problems)}"
        )
    levels = session.scalar(select(func.count()).select_from(StockLevel)) or 0
    return CheckResult("stock_levels", True, f"{levels} stock levels match their movements")


def _order_check(
    session: Session, *, name: str, condition: ColumnElement[bool], joins: Sequence[Subquery],
    what: str,
) -> CheckResult:  # fmt: skip
    query = select(Order.number)
    for sub in joins:
        query = query.outerjoin(sub, sub.c.order_id == Order.id)
    count, examples = _count_and_examples(session, query.where(condition).order_by(Order.id))
    if count:
        return CheckResult(name, False, f"{count} orders where {what} fails: {_examples(examples)}")
    orders = session.scalar(select(func.count()).select_from(Order)) or 0
    return CheckResult(name, True, f"{orders} orders: {what}")


def check_order_lines(session: Session) -> CheckResult:
    """total == sum(lines.net) and subtotal == sum(lines.list_amount)."""
    lines = (
        select(
            OrderLine.order_id, func.sum(OrderLine.net).label("net"),
            func.sum(OrderLine.list_amount).label("list_amount"),
        )
        .group_by(OrderLine.order_id)
        .subquery()
    )  # fmt: skip
    condition = or_(
        Order.total != func.coalesce(lines.c.net, 0),
        Order.subtotal != func.coalesce(lines.c.list_amount, 0),
    )
    return _order_check(
        session, name="order_lines", condition=condition, joins=[lines],
        what="total == sum(line net) and subtotal == sum(line list amount)",
    )  # fmt: skip


def check_order_payments(session: Session) -> CheckResult:
    """sum(payments.amount) == total and paid - change == total."""
    payments = (
        select(Payment.order_id, func.sum(Payment.amount).label("amount"))
        .group_by(Payment.order_id)
        .subquery()
    )
    condition = or_(
        Order.total != func.coalesce(payments.c.amount, 0),
        Order.paid - Order.change != Order.total,
    )
    return _order_check(
        session, name="order_payments", condition=condition, joins=[payments],
        what="sum(payments) == total and paid - change == total",
    )  # fmt: skip


def check_order_numbers(session: Session) -> CheckResult:
    query = select(Order.number).group_by(Order.number).having(func.count() > 1)
    count, examples = _count_and_examples(session, query.order_by(Order.number))
    if count:
        return CheckResult(
            "order_numbers", False, f"{count} order numbers used twice: {_examples(examples)}"
        )
    return CheckResult("order_numbers", True, "order numbers are unique")


def check_audit_chain(session: Session) -> CheckResult:
    result = audit.verify(session)
    if result.ok:
        return CheckResult("audit_chain", True, f"{result.checked} audit entries verified")
    return CheckResult("audit_chain", False, f"broken at entry {result.entry_id}: {result.problem}")


def check_schema(session: Session) -> CheckResult:
    current = MigrationContext.configure(session.connection()).get_current_revision()
    head = runner.head_revision()
    if current == head:
        return CheckResult("schema", True, f"schema at the newest revision {head}")
    return CheckResult(
        "schema", False,
        f"schema at revision {current}, newest is {head}: run `shouyin db upgrade`",
    )  # fmt: skip


# --- loyalty ---------------------------------------------------------------------------------

_BALANCES = ("points", "growth", "sv_principal", "sv_bonus")


def _failed(name: str, problems: Sequence[str], what: str) -> CheckResult:
    return CheckResult(name, False, f"{len(problems)} {what}: {_examples(problems)}")


def check_loyalty_balances(session: Session) -> CheckResult:
    """Every member's cached balances equal the sums of their ledger rows."""
    sums = (
        select(LedgerEntry.member_id, *(func.sum(getattr(LedgerEntry, b)).label(b) for b in _BALANCES))
        .group_by(LedgerEntry.member_id)
        .subquery()
    )  # fmt: skip
    cached = [getattr(MemberAccount, b) for b in _BALANCES]
    summed = [func.coalesce(sums.c[b], 0) for b in _BALANCES]
    wrong = (
        select(MemberAccount.member_id, *cached, *summed)
        .outerjoin(sums, sums.c.member_id == MemberAccount.member_id)
        .where(or_(*(c != s for c, s in zip(cached, summed, strict=True))))
        .order_by(MemberAccount.member_id)
    )
    orphans = (
        select(sums.c.member_id)
        .outerjoin(MemberAccount, MemberAccount.member_id == sums.c.member_id)
        .where(MemberAccount.member_id.is_(None))
        .order_by(sums.c.member_id)
    )
    problems = [_balance_problem(row) for row in session.execute(wrong)]
    problems += [f"member {m}: ledger rows but no account" for m in session.scalars(orphans)]
    if problems:
        return _failed("loyalty_balances", problems, "member balances disagree with the ledger")
    accounts = session.scalar(select(func.count()).select_from(MemberAccount)) or 0
    return CheckResult("loyalty_balances", True, f"{accounts} member accounts match their ledger")


def _balance_problem(row: Sequence[Any]) -> str:
    member_id, values = row[0], row[1:]
    n = len(_BALANCES)
    differ = [
        f"{name} {values[i]} vs ledger {values[n + i]}"
        for i, name in enumerate(_BALANCES)
        if values[i] != values[n + i]
    ]
    return f"member {member_id}: " + ", ".join(differ)


def check_points_lots(session: Session) -> CheckResult:
    """Every member's points balance equals the points left in their lots."""
    lots = (
        select(PointsLot.member_id, func.sum(PointsLot.remaining).label("remaining"))
        .group_by(PointsLot.member_id)
        .subquery()
    )
    left = func.coalesce(lots.c.remaining, 0)
    wrong = (
        select(MemberAccount.member_id, MemberAccount.points, left)
        .outerjoin(lots, lots.c.member_id == MemberAccount.member_id)
        .where(MemberAccount.points != left)
        .order_by(MemberAccount.member_id)
    )
    orphans = (
        select(lots.c.member_id, lots.c.remaining)
        .outerjoin(MemberAccount, MemberAccount.member_id == lots.c.member_id)
        .where(MemberAccount.member_id.is_(None), lots.c.remaining != 0)
    )
    problems = [f"member {m}: points {p}, lots {r}" for m, p, r in session.execute(wrong)]
    problems += [f"member {m}: lots {r}, no account" for m, r in session.execute(orphans)]
    if problems:
        return _failed("points_lots", problems, "points balances disagree with their lots")
    return CheckResult("points_lots", True, "points balances equal the points left in their lots")


def check_loyalty_negative(session: Session) -> CheckResult:
    """No balance and no lot below zero; no lot with more left than it earned."""
    accounts = select(MemberAccount.member_id).where(
        or_(*(getattr(MemberAccount, b) < 0 for b in _BALANCES))
    )
    lots = select(PointsLot.id, PointsLot.member_id).where(
        or_(PointsLot.remaining < 0, PointsLot.remaining > PointsLot.earned)
    )
    problems = [f"member {m}: a balance below zero" for m in session.scalars(accounts)]
    problems += [f"member {m}: lot {lot} out of range" for lot, m in session.execute(lots)]
    if problems:
        return _failed("loyalty_negative", problems, "balances or lots out of range")
    return CheckResult("loyalty_negative", True, "no balance or points lot below zero")


def check_coupons(session: Session) -> CheckResult:
    """A coupon is redeemed exactly when it names an order, and that order exists."""
    query = (
        select(Coupon.code)
        .outerjoin(Order, Order.id == Coupon.order_id)
        .where(
            or_(
                and_(Coupon.status == "redeemed", Coupon.order_id.is_(None)),
                and_(Coupon.status != "redeemed", Coupon.order_id.is_not(None)),
                and_(Coupon.order_id.is_not(None), Order.id.is_(None)),
            )
        )
        .order_by(Coupon.id)
    )
    count, examples = _count_and_examples(session, query)
    if count:
        return CheckResult(
            "coupons", False,
            f"{count} coupons where redeemed <=> order fails: {_examples(examples)}",
        )  # fmt: skip
    return CheckResult("coupons", True, "redeemed coupons, and only they, name an existing order")


CHECKS: tuple[Callable[[Session], CheckResult], ...] = (
    check_schema,
    check_stock_levels,
    check_order_lines,
    check_order_payments,
    check_order_numbers,
    check_loyalty_balances,
    check_points_lots,
    check_loyalty_negative,
    check_coupons,
    check_audit_chain,
)


def run_all(session: Session) -> list[CheckResult]:
    """Every check; one that cannot even run (say, a table is missing) counts as failed."""
    results = []
    for check in CHECKS:
        try:
            results.append(check(session))
        except SQLAlchemyError as exc:
            # On PostgreSQL the failed statement aborts the transaction: start a fresh one.
            session.rollback()
            name = check.__name__.removeprefix("check_")
            message = str(exc.orig if isinstance(exc, DBAPIError) else exc).splitlines()[0]
            results.append(CheckResult(name, False, f"could not run: {message}"))
    return results
