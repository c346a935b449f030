"""Shifts (交接班): the rule that a till sells only inside an open shift.

The shift service (opening, cash moves, closing, reports) builds on this module; checkout
and returns only need :func:`shift_for_register`.
"""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, select

from shouyin.errors import Conflict
from shouyin.sales.shift_models import Shift

OPEN_SHIFT = select(Shift.id).where(
    Shift.register_id == bindparam("register_id"), Shift.status == "open"
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
        raise Conflict(
            "This register has no open shift. Open a shift with the cash float first.",
            code="shift.not_open",
        )
    return int(shift_id)
