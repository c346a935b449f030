"""Shifts (交接班): the rule that a till sells only inside an open shift.

The shift service (opening, cash moves, closing, reports) builds on this module; checkout
and returns only need :func:`shift_for_register`.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select

from shouyin.errors import Conflict
from shouyin.sales.shift_models import Shift

# FOR SHARE on PostgreSQL (nothing on SQLite, whose writers take turns): a shift being closed
# (FOR UPDATE) makes the sale wait, and the sale then sees the shift closed, so no order
# lands in a shift whose count is already frozen.
OPEN_SHIFT = (
    select(Shift.id)
    .where(Shift.register_id == bindparam("register_id"), Shift.status == "open")
    .with_for_update(read=True)
)
STILL_OPEN = (
    select(Shift.id)
    .where(Shift.id == bindparam("shift_id"), Shift.status == "open")
    .with_for_update(read=True)
)


def require_open(conn: Connection, shift_id: int | None, *, register_id: int | None) -> int | None:
    """``shift_id`` as read with the store (statements.STORE_CONTEXT): refused at a register
    without an open shift; None for work done without a register."""
    if register_id is not None and shift_id is None:
        raise _not_open()
    # The store query cannot lock the outer-joined shift: it is locked here (see OPEN_SHIFT).
    locking = shift_id is not None and conn.dialect.name == "postgresql"
    if locking and conn.execute(STILL_OPEN, {"shift_id": shift_id}).scalar() is None:
        raise _not_open()
    return shift_id


def _not_open() -> Conflict:
    return Conflict(
        "This register has no open shift. Open a shift with the cash float first.",
        code="shift.not_open",
    )


def shift_for_register(conn: Connection, *, register_id: int | None) -> int | None:
    """The open shift of the register; a sale or return at a register without one is refused.

    Work done without a register (an API client that is not a till) has no drawer and no
    shift: None.
    """
    if register_id is None:
        return None
    shift_id = conn.execute(OPEN_SHIFT, {"register_id": register_id}).scalar()
    if shift_id is None:
        raise _not_open()
    return int(shift_id)
