"""Key rotation: re-encrypt members' personal fields under the key ring's active key.

Work goes in batches of members by id, one short transaction per batch, so a large table
never holds one long write lock and a crash loses at most one batch. Every batch is
idempotent: it only touches values whose key id is not the active one, and the blind
indexes are never changed (the index key does not rotate), so lookups keep working during
and after a rotation.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import Column, ColumnElement, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from shouyin.customers.crypto import FieldCipher
from shouyin.customers.models import Member
from shouyin.db import Database
from shouyin.shared.types import table_of

ENCRYPTED = ("card", "name", "mobile", "birthday", "address", "email")
BATCH = 1000
KID_LENGTH = 8  # KeyRing key ids are 4 random bytes in hex

members = table_of(Member)


def _column(field: str) -> Column[Any]:
    return members.c[f"{field}_enc"]


def _stale(active: str) -> ColumnElement[bool]:
    """Some personal value of the row is sealed under a key other than the active one."""
    prefix = f"{active}.%"
    return or_(*(_column(f).is_not(None) & _column(f).not_like(prefix) for f in ENCRYPTED))


def count_stale(session: Session, *, cipher: FieldCipher) -> int:
    stmt = select(func.count()).select_from(members).where(_stale(cipher.ring.active))
    return session.scalar(stmt) or 0


def key_usage(session: Session) -> Counter[str]:
    """How many stored values each key id seals, over every encrypted column."""
    usage: Counter[str] = Counter()
    for field in ENCRYPTED:
        kid = func.substr(_column(field), 1, KID_LENGTH)
        stmt = select(kid, func.count()).where(_column(field).is_not(None)).group_by(kid)
        for key_id, count in session.execute(stmt):
            usage[str(key_id)] += int(count)
    return usage


def rotate_batch(
    session: Session, *, cipher: FieldCipher, after_id: int, size: int = BATCH
) -> tuple[int, int]:
    """Re-encrypt the next ``size`` stale members after ``after_id``: (last id seen, rows)."""
    active = cipher.ring.active
    columns = [members.c.id, *(_column(f) for f in ENCRYPTED)]
    stmt = (
        select(*columns)
        .where(members.c.id > after_id, _stale(active))
        .order_by(members.c.id)
        .limit(size)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return after_id, 0
    updates = [_resealed(cipher, row._mapping) for row in rows]
    values: dict[str, Any] = {f"{f}_enc": bindparam(f"new_{f}") for f in ENCRYPTED}
    # updated_at keeps its value: a rotation is not a change to the member's profile.
    session.execute(
        update(members)
        .where(members.c.id == bindparam("member_id"))
        .values(**values, updated_at=members.c.updated_at),
        updates,
    )
    return int(rows[-1].id), len(rows)


def _resealed(cipher: FieldCipher, row: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"member_id": row["id"]}
    for field in ENCRYPTED:
        token = row[f"{field}_enc"]
        if token is not None and cipher.key_id(token) != cipher.ring.active:
            token = cipher.encrypt(field, cipher.decrypt(field, token))
        params[f"new_{field}"] = token
    return params


def rotate_all(
    db: Database,
    *,
    cipher: FieldCipher,
    size: int = BATCH,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Re-encrypt every stale member, one transaction per batch; returns the rows changed."""
    after_id, total = 0, 0
    while True:
        with db.write() as session:
            after_id, changed = rotate_batch(session, cipher=cipher, after_id=after_id, size=size)
        if not changed:
            return total
        total += changed
        if on_batch is not None:
            on_batch(changed)
