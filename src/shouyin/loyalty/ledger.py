"""The one way a member's balances change: :func:`post`.

``post`` moves the cached balances on ``member_accounts`` with a single conditional UPDATE
(``... WHERE points >= spent AND sv_principal >= spent ...``), then appends the ledger row.
The condition is what keeps balances from going negative when two tills spend the same
balance at once: on PostgreSQL the UPDATE takes the row lock and re-checks the condition
after the other transaction commits; on SQLite writers are serialised anyway. Points lots
move in the same transaction (spent oldest first, after the account row is locked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from shouyin.errors import ValidationFailed
from shouyin.loyalty import rules
from shouyin.loyalty.models import LedgerEntry, MemberAccount, PointsLot, Tier
from shouyin.shared.types import table_of

_accounts = table_of(MemberAccount)
_ledger = table_of(LedgerEntry)
_lots = table_of(PointsLot)


@dataclass(frozen=True)
class Balances:
    points: int
    growth: int
    sv_principal: int
    sv_bonus: int

    @property
    def stored_value(self) -> int:
        return self.sv_principal + self.sv_bonus


@dataclass(frozen=True)
class Change:
    """What one event does to a member's balances; spending is negative."""

    kind: str
    points: int = 0
    growth: int = 0
    sv_principal: int = 0
    sv_bonus: int = 0
    order_id: int | None = None
    ref_type: str | None = None
    ref_id: int | None = None
    store_id: int | None = None
    user_id: int | None = None
    reason: str | None = None


_APPLY = (
    update(_accounts)
    .where(
        _accounts.c.member_id == bindparam("m"),
        _accounts.c.points + bindparam("points") >= 0,
        _accounts.c.sv_principal + bindparam("sv_principal") >= 0,
        _accounts.c.sv_bonus + bindparam("sv_bonus") >= 0,
    )
    .values(
        points=_accounts.c.points + bindparam("points"),
        growth=_accounts.c.growth + bindparam("growth"),
        sv_principal=_accounts.c.sv_principal + bindparam("sv_principal"),
        sv_bonus=_accounts.c.sv_bonus + bindparam("sv_bonus"),
        updated_at=bindparam("at"),
    )
    .returning(_accounts.c.points, _accounts.c.growth, _accounts.c.sv_principal, _accounts.c.sv_bonus)
)  # fmt: skip
_INSERT_ENTRY = insert(_ledger)
_BALANCES = select(
    _accounts.c.points, _accounts.c.growth, _accounts.c.sv_principal, _accounts.c.sv_bonus
).where(_accounts.c.member_id == bindparam("m"))
_OPEN_LOTS = (
    select(_lots.c.id, _lots.c.remaining)
    .where(_lots.c.member_id == bindparam("m"), _lots.c.remaining > 0)
    # Lots that never expire are spent last; among the others, the soonest to expire first.
    .order_by(_lots.c.expires_on.is_(None), _lots.c.expires_on, _lots.c.id)
)
_TAKE_FROM_LOT = (
    update(_lots)
    .where(_lots.c.id == bindparam("lot_id"))
    .values(remaining=_lots.c.remaining - bindparam("take"))
)
_NEW_LOT = insert(_lots)


@cache
def _ensure_account(dialect_name: str) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    entry_tier = select(Tier.id).where(Tier.rank == 0, Tier.active.is_(True)).scalar_subquery()
    return (
        dialect.insert(_accounts)
        .values(member_id=bindparam("m"), tier_id=entry_tier, points=0, growth=0,
                sv_principal=0, sv_bonus=0, updated_at=bindparam("at"))
        .on_conflict_do_nothing(index_elements=[_accounts.c.member_id])
    )  # fmt: skip


def ensure_account(conn: Connection, *, member_id: int, at: datetime) -> None:
    """Open a member's account (entry tier, zero balances) unless it exists."""
    conn.execute(_ensure_account(conn.dialect.name), {"m": member_id, "at": at})


def balances(conn: Connection, *, member_id: int) -> Balances:
    row = conn.execute(_BALANCES, {"m": member_id}).first()
    return Balances(0, 0, 0, 0) if row is None else Balances(*row)


def post(conn: Connection, *, member_id: int, change: Change, at: datetime) -> Balances:
    """Apply ``change`` to the member's balances and append its ledger row.

    Raises ``points.insufficient`` or ``stored_value.insufficient`` (nothing written) when a
    balance would go below zero, including when another till spent it a moment ago.
    """
    params = {
        "m": member_id, "points": change.points, "growth": change.growth,
        "sv_principal": change.sv_principal, "sv_bonus": change.sv_bonus, "at": at,
    }  # fmt: skip
    row = conn.execute(_APPLY, params).first()
    if row is None:
        ensure_account(conn, member_id=member_id, at=at)
        row = conn.execute(_APPLY, params).first()
    if row is None:
        raise _short(conn, member_id, change)
    after = Balances(*row)
    conn.execute(_INSERT_ENTRY, _entry_row(member_id, change, at, after))
    return after


def _entry_row(member_id: int, change: Change, at: datetime, after: Balances) -> dict[str, Any]:
    return {
        "member_id": member_id, "at": at, "kind": change.kind, "points": change.points,
        "growth": change.growth, "sv_principal": change.sv_principal, "sv_bonus": change.sv_bonus,
        "points_after": after.points, "sv_principal_after": after.sv_principal,
        "sv_bonus_after": after.sv_bonus, "order_id": change.order_id,
        "ref_type": change.ref_type, "ref_id": change.ref_id, "store_id": change.store_id,
        "user_id": change.user_id, "reason": change.reason,
    }  # fmt: skip


def _short(conn: Connection, member_id: int, change: Change) -> ValidationFailed:
    held = balances(conn, member_id=member_id)
    if held.points + change.points < 0:
        return ValidationFailed(
            "The member has {held} points, fewer than the {points} asked for.",
            code="points.insufficient",
            details={"points": -change.points, "held": held.points},
        )
    return ValidationFailed(
        "The stored-value balance is not enough.",
        code="stored_value.insufficient",
        details={"amount": -(change.sv_principal + change.sv_bonus), "balance": held.stored_value},
    )


def spend_lots(conn: Connection, *, member_id: int, points: int) -> list[tuple[int, int]]:
    """Take ``points`` from the member's lots, oldest to expire first; returns (lot, taken).

    Call after :func:`post` has locked the account row, so two spends never pick the
    same lot remainder.
    """
    if points <= 0:
        return []
    open_lots = [rules.Lot(*row) for row in conn.execute(_OPEN_LOTS, {"m": member_id})]
    taken = rules.spend_lots(open_lots, points)
    conn.execute(_TAKE_FROM_LOT, [{"lot_id": lot, "take": take} for lot, take in taken])
    return taken


def add_lot(
    conn: Connection, *, member_id: int, points: int, expires_on: date | None,
    order_id: int | None, at: datetime,
) -> None:  # fmt: skip
    if points > 0:
        conn.execute(
            _NEW_LOT,
            {"member_id": member_id, "earned": points, "remaining": points,
             "expires_on": expires_on, "order_id": order_id, "created_at": at},
        )  # fmt: skip


def open_lots(conn: Connection, *, member_id: int) -> Sequence[rules.Lot]:
    return [rules.Lot(*row) for row in conn.execute(_OPEN_LOTS, {"m": member_id})]
